"""The deployment files (deploy/compose.yaml, Dockerfile) and the local cluster (deploy/cluster.py).

No Docker engine exists here, so the compose file and the Dockerfile are checked for what an
operator would otherwise find at ``docker compose up``: pinned images, every node given the same
database, Redis and keys and its own id and URL (each node's environment is read by the real
Settings), the migration before the nodes, the server as the image's command. The local cluster is
started for real: a private PostgreSQL and Redis and two nodes (models load in each), then stopped.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import tomllib
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest
import yaml

from deploy.cluster import LocalCluster, pg_bin_dir
from server.settings import Settings

REPO = Path(__file__).resolve().parent.parent
COMPOSE = REPO / "deploy" / "compose.yaml"
ENV_EXAMPLE = REPO / "deploy" / "env.example"
DOCKERFILE = REPO / "Dockerfile"
NODES = ("candor-1", "candor-2", "candor-3")
# What must be the same on every node: one database, one Redis, one set of keys, one public URL.
SHARED = ("CANDOR_DATABASE_URL", "CANDOR_REDIS_URL", "CANDOR_SECRET_KEY", "CANDOR_MASTER_KEY_FILE",
          "CANDOR_CONTACT_KEY", "CANDOR_HR_TOKEN", "CANDOR_PUBLIC_URL", "CANDOR_MIGRATE")


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def env_example() -> dict[str, str]:
    """deploy/env.example as an operator fills it in: the blanks (passwords, keys) given a value."""
    pairs = (line.split("=", 1) for line in ENV_EXAMPLE.read_text().splitlines() if line and not line.startswith("#"))
    return {name: value or f"filled-{name.lower()}" for name, value in pairs}


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ``${NAME}``, ``${NAME:-default}``, ``${NAME:?error}`` and ``$$``, as ``docker compose`` does."""

    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group(1), match.group(2), match.group(3)
        given = env.get(name, "")
        if op == ":?" and not given:
            raise KeyError(f"{name}: {arg}")
        if op == ":-" and not given:
            return arg
        return given

    return re.sub(r"\$\$|\$\{(\w+)(?:(:[?-])([^}]*))?\}", one, value)


def node_env(service: str, env: dict[str, str]) -> dict[str, str]:
    return {k: interpolate(str(v), env) for k, v in compose()["services"][service]["environment"].items()}


def test_compose_has_postgres_redis_migrate_and_three_nodes():
    services = compose()["services"]
    assert set(services) == {"postgres", "redis", "migrate", *NODES}
    assert compose()["volumes"].keys() >= {"pgdata", "redisdata"}
    assert "pgdata:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    assert "redisdata:/data" in services["redis"]["volumes"]
    assert all("healthcheck" in services[name] for name in ("postgres", "redis"))


def test_images_are_pinned():
    services = compose()["services"]
    for name, service in services.items():
        image = service["image"]
        repo, _, tag = image.rpartition(":")
        assert repo and tag and tag != "latest", f"{name}: {image} is not pinned to a tag"
    postgres_major = int(re.match(r"(\d+)", services["postgres"]["image"].split(":")[1]).group(1))
    assert services["postgres"]["image"].startswith("postgres:") and postgres_major in (15, 16)
    assert services["redis"]["image"].startswith("redis:7")
    # The nodes and the migration run the image this repository's Dockerfile builds.
    assert {services[name]["image"] for name in (*NODES, "migrate")} == {services["migrate"]["image"]}
    assert services["migrate"]["build"]["dockerfile"] == "Dockerfile"
    assert (COMPOSE.parent / services["migrate"]["build"]["context"] / "Dockerfile").resolve() == DOCKERFILE


def test_redis_keeps_an_append_only_file():
    command = " ".join(compose()["services"]["redis"]["command"])
    assert "--appendonly yes" in command
    assert "--requirepass" in command


def test_every_node_shares_database_redis_and_keys_with_its_own_id_and_url():
    env = env_example()
    nodes = {name: node_env(name, env) for name in NODES}
    for key in SHARED:
        values = {nodes[name].get(key) for name in NODES}
        assert len(values) == 1 and None not in values, f"{key} differs or is missing: {values}"
    assert nodes["candor-1"]["CANDOR_DATABASE_URL"].startswith("postgresql+psycopg://candor:")
    assert nodes["candor-1"]["CANDOR_REDIS_URL"].startswith("redis://")
    assert nodes["candor-1"]["CANDOR_MIGRATE"] == "off"
    for key in ("CANDOR_NODE_ID", "CANDOR_NODE_URL", "CANDOR_PORT"):
        values = [nodes[name][key] for name in NODES]
        assert len(set(values)) == len(NODES), f"{key} not distinct: {values}"
    # Every secret a node needs comes from deploy/.env (compose refuses to start without it), and
    # env.example names each of them.
    required = set(re.findall(r"\$\{(\w+):\?", COMPOSE.read_text()))
    assert required >= {"CANDOR_DB_PASSWORD", "CANDOR_REDIS_PASSWORD", "CANDOR_SECRET_KEY", "CANDOR_CONTACT_KEY"}
    assert required <= env.keys()
    with pytest.raises(KeyError, match="CANDOR_DB_PASSWORD"):
        node_env("candor-1", {k: v for k, v in env.items() if k != "CANDOR_DB_PASSWORD"})
    # The database password given to PostgreSQL is the one in the nodes' URL.
    postgres = {k: interpolate(str(v), env) for k, v in compose()["services"]["postgres"]["environment"].items()}
    assert f":{postgres['POSTGRES_PASSWORD']}@" in nodes["candor-2"]["CANDOR_DATABASE_URL"]


def test_each_node_environment_is_read_by_the_server_settings(monkeypatch: pytest.MonkeyPatch):
    """Every CANDOR_ variable a node gets is a real setting, with a value the server accepts."""
    fields = {f"CANDOR_{name.upper()}" for name in Settings.model_fields}
    env = env_example()
    for name in NODES:
        given = node_env(name, env)
        assert set(given) <= fields, f"{name}: not settings: {set(given) - fields}"
        with monkeypatch.context() as patch:
            for key, value in given.items():
                patch.setenv(key, value)
            settings = Settings(_env_file=None)
        number = name.rsplit("-", 1)[1]
        assert settings.node_name == f"node-{number}"
        assert settings.own_url == env[f"CANDOR_NODE{number}_URL"]
        assert settings.port == 8000 + int(number)
        assert settings.redis_url is not None and settings.redis_url.get_secret_value() == given["CANDOR_REDIS_URL"]
        assert settings.master_key_file == Path("/run/secrets/master_key")
        assert settings.migrate == "off"
        assert settings.ice_servers and settings.ice_servers[0].urls[0].startswith("turns:")


def test_migrate_runs_once_before_the_nodes():
    services = compose()["services"]
    migrate = services["migrate"]
    assert migrate["command"][-2:] == ["server", "migrate"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert set(SHARED[:1]) <= set(migrate["environment"])
    for name in NODES:
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
        assert "command" not in services[name]  # the image's CMD: the server
    assert services["migrate"]["environment"]["CANDOR_DATABASE_URL"] == services["candor-1"]["environment"]["CANDOR_DATABASE_URL"]


def dockerfile_instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    text = path.read_text().replace("\\\n", " ")
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def test_dockerfile_runs_the_server_with_every_package_it_imports():
    instructions = dockerfile_instructions()
    (base,) = [arg for op, arg in instructions if op == "FROM"]
    assert ":" in base and not base.endswith(":latest")
    (cmd,) = [arg for op, arg in instructions if op == "CMD"]
    assert json.loads(cmd)[-2:] == ["-m", "server"]
    copied = {arg.split()[0].split("/")[0] for op, arg in instructions if op == "COPY"}
    packages = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    missing = {name.split(".")[0] for name in packages} - copied
    assert not missing, f"the image lacks packages the server imports: {sorted(missing)}"
    assert "web_client" in copied
    # The image's requirements are the repository's pins, torch from the CPU index.
    run = " ".join(arg for op, arg in instructions if op == "RUN")
    assert "-r requirements.txt -c constraints.txt" in run and "--no-deps -r requirements-nodeps.txt" in run
    assert "download.pytorch.org/whl/cpu" in DOCKERFILE.read_text()
    assert any(op == "USER" and arg.strip() != "root" for op, arg in instructions)


def test_the_gpu_image_has_every_package_the_server_imports_too():
    copied = {arg.split()[0].split("/")[0] for op, arg in dockerfile_instructions(REPO / "Dockerfile.gpu") if op == "COPY"}
    packages = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    missing = {name.split(".")[0] for name in packages} - copied
    assert not missing, f"Dockerfile.gpu lacks packages the server imports: {sorted(missing)}"


# -- the local cluster, started for real ---------------------------------------------------------


def _needs_servers() -> None:
    try:
        pg_bin_dir()
    except RuntimeError as exc:
        pytest.skip(str(exc))
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")


def _get(url: str, token: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    with urllib.request.urlopen(request, timeout=10) as reply:
        return reply.status, reply.read()


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def cluster_root() -> Iterator[Path]:
    """A folder the ``postgres`` user can reach too (pytest's tmp_path is closed to others: 0700)."""
    folder = Path(tempfile.mkdtemp(prefix="candor-cluster-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow
def test_local_cluster_starts_postgres_redis_and_nodes_and_stops_them(cluster_root: Path):
    _needs_servers()
    cluster = LocalCluster(cluster_root, nodes=2, base_port=0, env={"CANDOR_WARMUP": "false"},
                           healthy_timeout_s=180)
    try:
        cluster.start()
        for number, url in enumerate(cluster.node_urls, start=1):
            assert _get(url + "/healthz")[0] == 200
            assert b"candor_sessions_live" in _get(url + "/metrics")[1]
            assert cluster.node_env(cluster.node(number))["CANDOR_NODE_URL"] == url
        assert cluster.database_url.startswith("postgresql+psycopg://")
        # The schema was migrated once, before the nodes: it is at this release's head.
        check = subprocess.run([sys.executable, "-m", "server", "migrate", "--check", "--database-url", cluster.database_url],
                               cwd=REPO, capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        # One database behind both nodes: a session HR makes on node 1 is listed by node 2.
        request = urllib.request.Request(cluster.entry_url + "/v1/sessions", data=b"{}", method="POST",
                                         headers={"Authorization": f"Bearer {cluster.hr_token}",
                                                  "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as reply:
            session_id = json.loads(reply.read())["id"]
        status, body = _get(cluster.node_urls[1] + f"/v1/sessions/{session_id}", cluster.hr_token)
        assert status == 200 and json.loads(body)["id"] == session_id
        # Redis keeps an append-only file.
        assert (cluster.root / "redis" / "appendonlydir").is_dir()

        # A node killed without warning comes back on its port.
        cluster.kill(2)
        assert not _listening(cluster.node(2).port)
        cluster.restart(2)
        assert _get(cluster.node_urls[1] + "/healthz")[0] == 200
    finally:
        cluster.stop()
    for node in cluster.nodes:
        assert not node.running and not _listening(node.port)
    assert cluster.postgres is not None and not (cluster.postgres.data / "postmaster.pid").exists()
    assert not _listening(cluster.postgres.port)
    assert cluster.redis is not None and cluster.redis.process is None and not _listening(cluster.redis.port)
    # A second start reuses the data and the keys it was sealed with: the session is still there.
    again = LocalCluster(cluster_root, nodes=1, base_port=0, env={"CANDOR_WARMUP": "false"},
                         healthy_timeout_s=180)
    try:
        again.start()
        assert again.secrets == cluster.secrets
        assert _get(again.entry_url + f"/v1/sessions/{session_id}", again.hr_token)[0] == 200
    finally:
        again.stop()
