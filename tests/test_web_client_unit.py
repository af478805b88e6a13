"""The browser client's own unit tests, tests/web_client/*.test.js, under ``node --test``;
and the server serves every script the two pages name.

The node tests load web_client's classic scripts the way the pages do (one
global, ``window.Candor``) and test the pure helpers (common.js, whip.js, the
HR views'), that every shipped script stays ES2017 without modules, and the
pages' script order. Node is a system package (``.ci/run`` installs
``nodejs``): without it the test skips, which fails under ``CI=true``
(tests/suite_rules.py).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from tests.helpers import make_settings

ROOT = Path(__file__).resolve().parent.parent
NODE_TESTS = ROOT / "tests" / "web_client"


def test_web_client_node_tests() -> None:
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        pytest.skip("node is not installed (apt-get install nodejs)")
    files = sorted(NODE_TESTS.glob("*.test.js"))
    assert files, f"no *.test.js in {NODE_TESTS}"
    # The files by name: node 18 and 20 search a directory, node 22 takes globs.
    proc = subprocess.run(
        [node, "--test", "--test-reporter=tap", *(str(f.relative_to(ROOT)) for f in files)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"node --test failed ({proc.returncode}):\n{out[-6000:]}"
    passed = re.search(r"^# pass (\d+)$", proc.stdout, re.M)
    failed = re.search(r"^# fail (\d+)$", proc.stdout, re.M)
    assert passed and failed, f"no TAP summary from node --test:\n{out[-3000:]}"
    assert int(failed.group(1)) == 0, out[-6000:]
    assert int(passed.group(1)) >= 40, f"only {passed.group(1)} node tests ran:\n{out[-3000:]}"


def test_the_server_serves_every_script_the_pages_name(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path), models=None, load_models=False)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        for page, path in (("/interview", "candidate.html"), ("/hr", "hr.html"), ("/hr/sessions/s1", "hr.html"),
                           ("/hr/sessions", "hr.html"), ("/hr/jobs/j1", "hr.html"), ("/hr/applications/a1", "hr.html")):
            res = client.get(page)
            assert res.status_code == 200, page
            srcs = re.findall(r'<script\b[^>]*\bsrc="([^"]+)"', res.text)
            assert srcs and srcs[0] == "/static/common.js", (path, srcs)
            for src in srcs:
                script = client.get(src)
                assert script.status_code == 200, src
                assert "javascript" in script.headers["content-type"], (src, script.headers["content-type"])
                assert script.content == (ROOT / "web_client" / src.removeprefix("/static/")).read_bytes(), src
