"""A real Redis for the tests of several nodes: ``redis-server`` (the Debian package) on a free loopback port.

The same starter as ``make cluster`` (deploy/cluster.py: a private server,
a password, loopback only), in a temporary folder. ``redis_url`` is
session-scoped; each test that wants a clean Redis calls
``flush_redis(url)``. No redis-server on the machine: the test skips, which
fails under ``CI=true`` (tests/suite_rules.py); .ci/run installs it.
"""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path
from typing import Iterator

import pytest
import redis

from deploy.cluster import RedisServer as _Redis
from tests.helpers import free_port


class RedisServer:
    """A private redis-server for a test (or the run), in ``workdir``."""

    def __init__(self, workdir: Path) -> None:
        self._server = _Redis(workdir / "redis", free_port(), secrets.token_hex(16))

    @property
    def url(self) -> str:
        return self._server.url

    def start(self) -> "RedisServer":
        if shutil.which("redis-server") is None:
            pytest.skip("redis-server is not installed (apt install redis-server)")
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()


def flush_redis(url: str) -> None:
    client = redis.Redis.from_url(url)
    try:
        client.flushall()
    finally:
        client.close()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server.url
    server.stop()
