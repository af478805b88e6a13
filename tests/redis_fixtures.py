"""A real Redis for the tests of several nodes: ``redis-server`` (the Debian package) on a free loopback port.

The same starter as ``make cluster`` (deploy/cluster.py: a private server,
a password, loopback only), in a temporary folder. ``redis_url`` is
session-scoped; each test that wants a clean Redis calls
``flush_redis(url)``. No redis-server on the machine: the test skips, which
fails under ``CI=true`` (tests/suite_rules.py); .ci/run installs it.
"""

from __future__ import annotations

import itertools
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

    def __init__(self, workdir: Path, *, databases: int = 16) -> None:
        self._server = _Redis(workdir / "redis", free_port(), secrets.token_hex(16), databases=databases)

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
    """Empty the database ``url`` names (only that one)."""
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


DATABASES = 1000
_databases = itertools.count(1)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"), databases=DATABASES).start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """A database of this test's own on the run's Redis, empty."""
    url = redis_server.url.rsplit("/", 1)[0] + f"/{next(_databases) % (DATABASES - 1) + 1}"
    flush_redis(url)
    return url
