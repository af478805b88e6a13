"""Issue 13: the sign-in and link failure limits are shared by every node through Redis.

Two :class:`~server.limits.SharedFailures` on one real redis-server (each with
its own client, as two nodes have) count as one; then two real Candor apps
(no models) on one database and one Redis, HR sign-ins spread over both.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import AsyncIterator, Callable

import httpx
import pytest
import redis
from redis.asyncio import Redis

from server.limits import SharedFailures
from tests.helpers import HR_TOKEN, free_port
from tests.redis_fixtures import flush_redis
from tests.test_accounts import PASSWORD, add_user, from_address
from tests.test_hardening_limits import ApiServer

SECRET = "test-secret-key"
KEYS = [("hr-login", "address", "203.0.113.7"), ("hr-login", "account", "chen.jie")]

Node = Callable[..., SharedFailures]


@pytest.fixture
async def nodes(redis_url: str) -> AsyncIterator[Node]:
    """Makes a node's limit: each on its own Redis client, all on the same clean Redis."""
    flush_redis(redis_url)
    clients: list[Redis] = []

    def make(limit: int = 10, window_s: float = 900.0, secret: str = SECRET) -> SharedFailures:
        clients.append(Redis.from_url(redis_url))
        return SharedFailures(clients[-1], secret, limit, window_s)

    yield make
    for client in clients:
        await client.aclose()


async def test_failures_on_two_nodes_count_as_one(nodes: Node) -> None:
    a, b = nodes(), nodes()
    for _ in range(6):
        assert await a.retry_after(KEYS) is None
        await a.failed(KEYS)
    for i in range(4):
        assert await b.retry_after(KEYS) is None, "node b let fewer than the limit through"
        assert await b.failed(KEYS) == 7 + i  # the count it reports is the shared one
    for node in (a, b):  # the 11th try is refused on either node, until the oldest leaves the 15 minutes
        wait = await node.retry_after(KEYS)
        assert wait is not None and 895 <= wait <= 901
    assert await b.retry_after([("hr-login", "account", "sun.yu")]) is None  # another account is not limited
    assert await a.retry_after([KEYS[0]]) is not None and await a.retry_after([KEYS[1]]) is not None


async def test_the_window_slides(nodes: Node) -> None:
    a, b = nodes(limit=3, window_s=2.0), nodes(limit=3, window_s=2.0)
    await a.failed(KEYS)
    await b.failed(KEYS)
    await asyncio.sleep(1.0)
    await a.failed(KEYS)
    assert await b.retry_after(KEYS) in (1, 2)  # ~1 s until the first leaves the window: whole seconds, rounded up
    await asyncio.sleep(1.2)  # the first two have left the window, the third has not
    assert await b.retry_after(KEYS) is None
    assert await b.failed(KEYS) == 2, "the count reset instead of sliding"
    assert await a.failed(KEYS) == 3
    assert await a.retry_after(KEYS) == 1  # ~0.8 s until the third leaves


async def test_redis_keeps_neither_logins_nor_addresses_and_forgets_them(nodes: Node, redis_url: str) -> None:
    a = nodes()
    await a.failed(KEYS)
    await a.failed([("exchange", "code", "K7Q-ONE-TIME-CODE")])
    client = redis.Redis.from_url(redis_url)
    try:
        keys = [key.decode() for key in client.scan_iter(count=1000)]
        assert len(keys) == 3
        for key in keys:
            assert key.startswith("candor:fail:")
            for secret in ("chen", "jie", "203.0.113", "hr-login", "K7Q", "exchange"):
                assert secret not in key
            for member in client.zrange(key, 0, -1):
                assert b"chen" not in member and b"203.0" not in member
            assert 0 < client.pttl(key) <= 900_000  # gone with the window, not kept for ever
        other_secret = nodes(secret="another-secret")
        assert other_secret.redis_key(KEYS[1]) != a.redis_key(KEYS[1])  # a keyed digest, not a plain hash
    finally:
        client.close()


async def test_redis_unreachable_falls_back_to_this_nodes_own_count(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="server.limits")
    gone = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1)
    try:
        limit = SharedFailures(gone, SECRET, 3, 900)
        for i in range(3):
            assert await limit.retry_after(KEYS) is None  # sign-in still works: fail open, not closed
            assert await limit.failed(KEYS) == i + 1
        wait = await limit.retry_after(KEYS)
        assert wait is not None and 895 <= wait <= 901  # ...but this node still limits on its own
    finally:
        await gone.aclose()
    errors = [r for r in caplog.records if r.name == "server.limits" and r.levelno == logging.ERROR]
    assert len(errors) == 1 and "Redis unreachable" in errors[0].getMessage()  # once per outage, not per request
    assert not any("chen" in r.getMessage() or "203.0" in r.getMessage() for r in caplog.records)


def test_failed_sign_ins_and_exchanges_spread_over_two_nodes_are_limited_as_one(tmp_path: Path, redis_url: str) -> None:
    flush_redis(redis_url)
    with ApiServer(tmp_path, redis_url=redis_url, node_id="a") as a, ApiServer(tmp_path, redis_url=redis_url, node_id="b") as b:
        add_user(a, "chen.jie")
        add_user(a, "sun.yu")
        for i in range(10):  # five guesses on each node, each from another address (the load balancer spreads them)
            node = (a, b)[i % 2]
            with from_address(node, f"127.0.0.{i + 2}") as http:
                assert http.post("/v1/hr/login", json={"login": "chen.jie", "password": f"guess-{i}"}).status_code == 401
        for node in (a, b):
            with from_address(node, "127.0.0.20") as http:
                locked = http.post("/v1/hr/login", json={"login": "chen.jie", "password": PASSWORD})  # even the right one
                assert locked.status_code == 429, f"node {node.settings.node_id} let an 11th try through"
                assert 800 < int(locked.headers["Retry-After"]) <= 901
                assert http.post("/v1/hr/login", json={"login": "sun.yu", "password": PASSWORD}).status_code == 204
        for i in range(10):  # bad interview-link codes from one address, alternating nodes
            with from_address((a, b)[i % 2], "127.0.0.30") as http:
                assert http.post("/v1/candidate/exchange", json={"code": f"guess-{i}"}).status_code == 404
        for node in (a, b):
            with from_address(node, "127.0.0.30") as http:
                assert http.post("/v1/candidate/exchange", json={"code": "another"}).status_code == 429
        failed = httpx.get(f"{b.url}/v1/audit", params={"action": "hr.sign_in_failed"},
                           headers={"Authorization": f"Bearer {HR_TOKEN}"}).json()["entries"]
        assert len(failed) == 12 and {e["details"]["status"] for e in failed} == {401, 429}
    client = redis.Redis.from_url(redis_url)
    try:
        keys = [key.decode() for key in client.scan_iter(match="candor:fail:*")]
        assert len(keys) == 22  # sign-ins: ten addresses and the account (a refusal is no failure); exchanges: one address, ten codes
        assert not any("chen" in key or "127.0.0" in key for key in keys)
    finally:
        client.close()
