"""Several nodes on one database and one real Redis (issue 13): events across nodes, placement, draining.

Two Candor apps in this process, each with its own event loop and port, on
one PostgreSQL database and a redis-server, both started for the tests; real WebRTC (the
Python WHIP client) and real models. The kill -9 of a node is in
tests/test_cluster_takeover.py (child processes).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
import redis

from db import Store
from media.whip_client import WhipError, WhipPublisher
from runtime.models import Models
from tests.conftest import Media
from tests.helpers import HR_TOKEN, LiveServer, make_settings
from tests.redis_fixtures import RedisServer, flush_redis
from tests.test_whip import EventStream

HR = {"Authorization": f"Bearer {HR_TOKEN}"}


def node(tmp_path: Path, name: str, redis: str, models: Models, database_url: str, **overrides: Any) -> LiveServer:
    """A node named ``name`` on the shared database and Redis."""
    settings = make_settings(tmp_path, redis_url=redis, node_id=name, node_heartbeat_s=0.3, node_ttl_s=3.0,
                             database_url=database_url, **overrides)
    return LiveServer(settings, models).start()


@pytest.fixture
def two_nodes(models: Models, tmp_path: Path, redis_url: str, pg_url: str) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two nodes on a real PostgreSQL (tests/pg_fixtures.py: a fresh database) and a real Redis."""
    flush_redis(redis_url)
    # Candidates see finals only: partials are decoded only for HR watchers (a watcher on node b counts).
    a = node(tmp_path, "a", redis_url, models, pg_url, max_live_sessions=1, candidate_captions="final")
    try:
        b = node(tmp_path, "b", redis_url, models, pg_url, max_live_sessions=1, candidate_captions="final")
    except Exception:
        a.stop()
        raise
    try:
        yield a, b
    finally:
        b.stop()
        a.stop()


def on(server: LiveServer, url: str) -> str:
    """``url`` (a link Candor made) pointing at ``server``."""
    return server.url + "/" + url.split("/", 3)[3]


async def new_session(server: LiveServer) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        response = await http.post("/v1/sessions", json={}, headers=HR)
        assert response.status_code == 201, response.text
        return response.json()


async def nodes_seen_by(server: LiveServer) -> dict[str, dict[str, Any]]:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        response = await http.get("/v1/ops/nodes", headers=HR)
        assert response.status_code == 200, response.text
        return {n["id"]: n for n in response.json()["nodes"]}


async def connected_on(server: LiveServer, session_id: str) -> tuple[bool, bool]:
    """What HR on ``server`` read of the session's "connected": in GET /v1/sessions/{id}, and in the list."""
    async with httpx.AsyncClient(base_url=server.url, timeout=10, headers=HR) as http:
        one = (await http.get(f"/v1/sessions/{session_id}")).json()["connected"]
        listed = next(s for s in (await http.get("/v1/sessions")).json()["sessions"] if s["id"] == session_id)["connected"]
    return one, listed


async def until_nodes(server: LiveServer, check: Any, what: str, timeout: float = 15) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        seen = await nodes_seen_by(server)
        if check(seen):
            return seen
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: {seen}")
        await asyncio.sleep(0.2)


@pytest.mark.slow
async def test_a_watcher_on_node_b_follows_a_candidate_on_node_a(
    two_nodes: tuple[LiveServer, LiveServer], media: Media
) -> None:
    a, b = two_nodes
    session = await new_session(a)
    events_path = session["events_url"].split("/v1/", 1)[1]
    async with EventStream(f"ws://127.0.0.1:{b.settings.port}/v1/{events_path}") as watcher:
        publisher = WhipPublisher(on(a, session["whip_url"]), session["candidate_token"], str(media.aishell), str(media.video))
        await publisher.start()
        try:
            assert publisher.location and publisher.location.startswith(a.url) and publisher.redirects == 0
            await watcher.wait_for(lambda s: any("广州" in e["payload"]["text"] for e in s.of_type("transcript.final")),
                                   media.aishell_s + 30, "the final, on node b")
            assert watcher.of_type("face.landmarks") or watcher.of_type("face.metrics"), watcher.summary()
            # Node a decoded partials because a watcher on node b reads them (said through Redis).
            assert watcher.of_type("transcript.partial"), watcher.summary()
            # HR on node b see the candidate connected (to node a), in the session and in the list.
            assert await connected_on(b, session["id"]) == (True, True)
        finally:
            await publisher.close()
        await watcher.wait_for(lambda s: bool(s.of_type("connection.ended")), 20, "the hang-up, on node b")
        deadline = time.monotonic() + 5  # within a heartbeat or two (0.3 s here)
        while await connected_on(b, session["id"]) != (False, False):
            assert time.monotonic() < deadline, "node b still says the candidate is connected"
            await asyncio.sleep(0.2)
        seen = [e["seq"] for e in watcher.events]
    # Each event once, in order, from the first: what node b sent is the log node a wrote.
    assert seen == list(range(len(seen))), seen[:50]
    store = Store(a.settings.database_url)
    try:
        logged = [e.seq for e in store.read_events(session["id"])]
    finally:
        store.close()
    assert seen == logged[: len(seen)]
    # Node b never held the session: it only watched.
    assert b.candor.sessions.get_live(session["id"]) is None
    # The events crossed through Redis sealed: the words are not there in the clear.
    client = redis.Redis.from_url(a.settings.redis_url.get_secret_value())
    try:
        entries = client.xrange(f"candor:events:{session['id']}")
    finally:
        client.close()
    assert len(entries) >= len(seen) - 5  # the stream carries them (the database only fills gaps)
    raw = b"".join(fields[b"e"] for _, fields in entries)
    assert "广州".encode() not in raw and b"transcript" not in raw


@pytest.mark.slow
async def test_a_full_node_sends_the_offer_to_one_with_room_then_503_when_all_are_full(
    two_nodes: tuple[LiveServer, LiveServer], media: Media
) -> None:
    a, b = two_nodes
    first, second, third = [await new_session(a) for _ in range(3)]
    publishers: list[WhipPublisher] = []

    def publisher(session: dict[str, Any], server: LiveServer, **kw: Any) -> WhipPublisher:
        p = WhipPublisher(on(server, session["whip_url"]), session["candidate_token"], str(media.jfk), None, loop=True, **kw)
        publishers.append(p)
        return p

    try:
        one = publisher(first, a)
        await one.start()
        assert one.redirects == 0 and one.location.startswith(a.url)
        await until_nodes(a, lambda n: n["a"]["live"] == 1 and not n["a"]["accepting"], "node a full")
        # Node a is at its capacity of 1: the offer posted to it is served by node b, with the same body.
        two = publisher(second, a)
        await two.start()
        assert two.redirects == 1 and two.location.startswith(b.url), two.location
        assert b.candor.sessions.get_live(second["id"]) is not None
        await until_nodes(a, lambda n: n["b"]["live"] == 1 and not n["b"]["accepting"], "node b full")
        # Both full: 503 with Retry-After, and nobody holds the session.
        with pytest.raises(WhipError) as refused:
            await publisher(third, a).start()
        assert refused.value.status == 503, refused.value.body
        async with httpx.AsyncClient(timeout=30) as http:
            again = await http.post(on(b, third["whip_url"]), content="v=0\r\n",
                                    headers={"Authorization": f"Bearer {third['candidate_token']}", "Content-Type": "application/sdp"})
        assert again.status_code in (400, 503)  # a malformed offer or full: never a session half-made
        assert a.candor.sessions.get_live(third["id"]) is None and b.candor.sessions.get_live(third["id"]) is None
        # A reconnect goes back to the node holding the session's analyzers, whichever node it reaches.
        back = publisher(first, b, consent=None)
        await back.start()
        assert back.redirects == 1 and back.location.startswith(a.url), back.location
    finally:
        for p in publishers:
            await p.close()


@pytest.mark.slow
async def test_a_forged_or_foreign_ticket_is_refused(two_nodes: tuple[LiveServer, LiveServer]) -> None:
    a, b = two_nodes
    mine, other = await new_session(a), await new_session(a)
    ticket = a.candor.nodes.tickets.issue(other["id"])
    async with httpx.AsyncClient(timeout=30) as http:
        for bad in (ticket, ticket[:-2] + "xx", "nonsense"):
            response = await http.post(on(b, mine["whip_url"]) + f"?ticket={bad}", content="v=0\r\n",
                                       headers={"Content-Type": "application/sdp"})
            assert response.status_code == 401, response.text
            assert "ticket" in response.json()["detail"]


@pytest.mark.slow
async def test_a_draining_node_sends_new_candidates_elsewhere_and_keeps_its_own(
    two_nodes: tuple[LiveServer, LiveServer], media: Media
) -> None:
    a, b = two_nodes
    staying, arriving = await new_session(a), await new_session(a)
    publishers: list[WhipPublisher] = []
    try:
        before = WhipPublisher(on(a, staying["whip_url"]), staying["candidate_token"], str(media.jfk), None, loop=True)
        publishers.append(before)
        await before.start()
        async with httpx.AsyncClient(base_url=a.url, timeout=10) as http:
            drained = await http.post("/v1/ops/drain", json={"draining": True}, headers=HR)
            assert drained.status_code == 200 and drained.json()["draining"] is True
        await until_nodes(b, lambda n: n["a"]["draining"] and not n["a"]["accepting"], "node a draining, seen by b")
        # A new candidate goes to node b ...
        new = WhipPublisher(on(a, arriving["whip_url"]), arriving["candidate_token"], str(media.jfk), None, loop=True)
        publishers.append(new)
        await new.start()
        assert new.redirects == 1 and new.location.startswith(b.url)
        # ... while the candidate interviewed on node a, dropped and back (through node b), stays on node a.
        await before.close()
        back = WhipPublisher(on(b, staying["whip_url"]), staying["candidate_token"], str(media.jfk), None, loop=True, consent=None)
        publishers.append(back)
        await back.start()
        assert back.redirects == 1 and back.location.startswith(a.url), back.location
    finally:
        for p in publishers:
            await p.close()


@pytest.mark.slow
async def test_with_redis_down_a_node_still_serves_the_candidates_that_reach_it(
    models: Models, tmp_path: Path, media: Media, pg_url: str
) -> None:
    own = RedisServer(tmp_path).start()  # this test's own Redis, stopped halfway
    a = node(tmp_path, "a", own.url, models, pg_url)
    try:
        session = await new_session(a)
        own.stop()
        # Consent and the offer still work: the node decides alone (logged), the interview goes on.
        p = WhipPublisher(on(a, session["whip_url"]), session["candidate_token"], str(media.jfk), None)
        await p.start()
        try:
            assert p.location.startswith(a.url)
            live = a.candor.sessions.get_live(session["id"])
            assert live is not None and live.connection is not None
        finally:
            await p.close()
    finally:
        a.stop()
        own.stop()
