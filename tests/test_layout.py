"""The packages' import direction: only the app (and its tests and benchmarks) import ``server``."""

from __future__ import annotations

import ast
from pathlib import Path

from server.app import RESOURCES, create_app
from tests.helpers import make_settings

ROOT = Path(__file__).resolve().parent.parent
LIBRARIES = ("db", "sinks", "channels", "jobs", "scoring", "analyzers", "reports", "interview", "events", "runtime", "media", "analytics", "audit", "vault", "bias", "recordings", "migrations", "cluster")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_no_library_package_imports_server() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for package in LIBRARIES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "server" in _imports(path)
    ]
    assert offenders == []


def test_every_resource_contributes_operations_to_the_one_table(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path), load_models=False)
    ctx = app.state.candor
    table = [op for resource in RESOURCES for op in resource(ctx).operations()]
    assert all(resource(ctx).operations() for resource in RESOURCES)
    documented = {(method.upper(), path) for path, item in ctx.openapi_document["paths"].items() for method in item}
    assert documented == {(op.method, op.path) for op in table}
    ctx.store.close()
