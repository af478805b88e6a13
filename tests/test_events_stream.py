"""The HR event stream (``/v1/sessions/{id}/events``) against a real server.

No media: sessions are made over HTTP (which publishes ``session.created``)
and further events are published straight into the session's
:class:`~server.eventlog.SessionEvents` on the server's own event loop (the
server runs in another thread), so the tests choose how many events there
are and how fast they come.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import time
from typing import Any, Awaitable, Callable, TypeVar

import httpx
import msgpack
import pytest
import websockets

from events import SpeechStart, TranscriptFinal, TranscriptPartial, Word
from server.eventlog import SessionEvents
from tests.helpers import HR_TOKEN, LiveServer

T = TypeVar("T")
HR = {"Authorization": f"Bearer {HR_TOKEN}"}
TICK = "transcript.partial"  # the stream's most frequent event


# ---------------------------------------------------------------- helpers --


def server_loop(server: LiveServer) -> asyncio.AbstractEventLoop:
    # The event writer's task lives on the loop uvicorn runs the app on.
    return server.candor.writer._task.get_loop()


async def on_server(server: LiveServer, work: Callable[[], Awaitable[T]]) -> T:
    """Run ``work()`` on the server's event loop and wait without blocking ours."""
    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work(), server_loop(server)))


async def publish(
    server: LiveServer,
    session_id: str,
    count: int,
    *,
    batch: int | None = None,
    pause_s: float = 0.0,
    pad: int = 0,
    start: int = 0,
) -> float:
    """Publish ``count`` tick events, ``batch`` at a time with a pause between.

    Returns the seconds spent inside ``publish()`` itself: what a session
    would be held up by.
    """

    # Random padding: the stream is deflate-compressed, so "xxx..." would
    # shrink to nothing on the wire.
    pads = [base64.b64encode(os.urandom(pad * 3 // 4)).decode() for _ in range(count)] if pad else [""] * count

    async def work() -> float:
        events = await server.candor.sessions.events_for(session_id)
        assert isinstance(events, SessionEvents)
        busy = 0.0
        for n, i in enumerate(range(start, start + count)):
            t0 = time.perf_counter()
            tick = TranscriptPartial(
                utterance_id=i, text=pads[n], stable="", unstable="", language="zh", start=0.0, audio_end=i / 100
            )
            events.publish(i / 100, tick)
            busy += time.perf_counter() - t0
            if batch and (i + 1 - start) % batch == 0:
                await asyncio.sleep(pause_s)
        return busy

    return await on_server(server, work)


async def new_session(server: LiveServer) -> str:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        response = await http.post("/v1/sessions", json={}, headers=HR)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def events_url(server: LiveServer, session_id: str, **query: Any) -> str:
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    return f"ws://127.0.0.1:{server.settings.port}/v1/sessions/{session_id}/events" + (f"?{qs}" if qs else "")


def connect(url: str, headers: dict[str, str] | None = HR, **kwargs: Any) -> Any:
    return websockets.connect(url, additional_headers=headers, open_timeout=10, max_size=None, **kwargs)


async def read_until(ws: Any, last_seq: int, timeout: float = 20.0) -> list[dict[str, Any]]:
    """JSON events from ``ws`` up to and including ``last_seq``."""
    out: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        while not out or out[-1]["seq"] < last_seq:
            out.append(json.loads(await ws.recv()))
    return out


async def close_code(ws: Any, timeout: float = 10.0) -> int | None:
    """Read until the server closes; the close code it sent."""
    with pytest.raises(websockets.ConnectionClosed) as closed:
        async with asyncio.timeout(timeout):
            while True:
                await ws.recv()
    return closed.value.rcvd.code if closed.value.rcvd else None


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


async def metric(server: LiveServer, name: str) -> float:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        text = (await http.get("/metrics")).text
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


# ------------------------------------------------------------ from_seq --


async def test_from_seq_replays_the_log_then_goes_live(live_server: LiveServer) -> None:
    sid = await new_session(live_server)  # seq 0: session.created
    await publish(live_server, sid, 50)  # seqs 1..50
    async with connect(events_url(live_server, sid, from_seq=20)) as ws:
        replayed = await read_until(ws, 50)
        assert [e["seq"] for e in replayed] == list(range(20, 51))
        assert [e["payload"]["utterance_id"] for e in replayed] == list(range(19, 50))
        await publish(live_server, sid, 10, start=50)  # seqs 51..60, live
        live = await read_until(ws, 60)
        assert [e["seq"] for e in live] == list(range(51, 61))
        assert all(e["type"] == TICK and e["session_id"] == sid for e in replayed + live)
    async with connect(events_url(live_server, sid)) as ws:  # from the start by default
        everything = await read_until(ws, 60)
        assert [e["seq"] for e in everything] == list(range(61))
        assert everything[0]["type"] == "session.created"


async def test_resuming_watcher_misses_nothing_and_gets_no_duplicates(live_server: LiveServer) -> None:
    sid = await new_session(live_server)
    total = 600  # seqs 1..600 after session.created; about 2 s of publishing
    publishing = asyncio.ensure_future(publish(live_server, sid, total, batch=5, pause_s=0.015))
    seen: list[int] = []
    reconnects = 0
    async with asyncio.timeout(60):
        while not seen or seen[-1] < total:
            async with connect(events_url(live_server, sid, from_seq=seen[-1] + 1 if seen else 0)) as ws:
                reconnects += 1
                for _ in range(37):  # a short look, then away again mid-stream
                    event = json.loads(await ws.recv())
                    seen.append(event["seq"])
                    if event["seq"] == total:
                        break
            await asyncio.sleep(0.03)
    await publishing
    assert seen == list(range(total + 1)), [s for a, s in zip(seen, seen[1:]) if s != a + 1][:10]
    assert reconnects > 5


async def test_bad_from_seq_means_from_the_start(live_server: LiveServer) -> None:
    sid = await new_session(live_server)
    await publish(live_server, sid, 3)
    async with connect(events_url(live_server, sid, from_seq="abc")) as ws:
        assert [e["seq"] for e in await read_until(ws, 3)] == [0, 1, 2, 3]


# -------------------------------------------------------------- msgpack --


async def test_msgpack_frames_carry_the_same_events(live_server: LiveServer) -> None:
    sid = await new_session(live_server)

    async def varied() -> None:
        events = await live_server.candor.sessions.events_for(sid)
        heard = TranscriptFinal(
            utterance_id=1, text="广州市房地产中介协会分析", language="zh", start=0.0, end=2.5, words=(), language_probability=None
        )
        events.publish(None, heard)
        words = (Word(" ask", 1.25, 1.5, 0.875),)
        events.publish(12.3456789, TranscriptFinal(utterance_id=2, text="ask", language="en", start=1.25, end=1.5, words=words))
        events.publish(0.0, SpeechStart(utterance_id=3))

    await on_server(live_server, varied)
    async with (
        connect(events_url(live_server, sid)) as as_json,
        connect(events_url(live_server, sid, format="msgpack")) as as_msgpack,
    ):
        from_json = await read_until(as_json, 3)
        frames = [await as_msgpack.recv() for _ in range(4)]
    assert all(isinstance(f, bytes) for f in frames)
    from_msgpack = [msgpack.unpackb(f, raw=False) for f in frames]
    assert from_msgpack == from_json
    assert from_json[2]["media_time"] == 12.346
    assert from_json[1]["payload"]["text"] == "广州市房地产中介协会分析"


# ----------------------------------------------------------------- auth --


async def test_no_auth_is_accepted_then_closed_4401(live_server: LiveServer) -> None:
    sid = await new_session(live_server)
    async with connect(events_url(live_server, sid), headers=None) as ws:
        assert await close_code(ws) == 4401


async def test_wrong_bearer_is_closed_4401(live_server: LiveServer) -> None:
    sid = await new_session(live_server)
    async with connect(events_url(live_server, sid), headers={"Authorization": "Bearer wrong"}) as ws:
        assert await close_code(ws) == 4401


async def test_token_in_the_query_string_is_not_accepted(live_server: LiveServer) -> None:
    sid = await new_session(live_server)
    async with connect(events_url(live_server, sid, token=HR_TOKEN), headers=None) as ws:
        assert await close_code(ws) == 4401


async def test_unknown_session_is_closed_4404(live_server: LiveServer) -> None:
    async with connect(events_url(live_server, "no-such-session")) as ws:
        assert await close_code(ws) == 4404


async def test_hr_cookie_from_login_authenticates_the_stream(live_server: LiveServer) -> None:
    sid = await new_session(live_server)
    async with httpx.AsyncClient(base_url=live_server.url, timeout=10) as http:
        wrong = await http.post("/v1/hr/login", json={"token": "wrong"})
        assert wrong.status_code == 401
        assert wrong.headers["content-type"].startswith("application/problem+json")
        assert "set-cookie" not in wrong.headers

        login = await http.post("/v1/hr/login", json={"token": HR_TOKEN})
        assert login.status_code == 204, login.text
        set_cookie = login.headers["set-cookie"]
        attributes = {a.strip().split("=")[0].lower() for a in set_cookie.split(";")[1:]}
        assert {"httponly", "samesite", "path", "max-age"} <= attributes, set_cookie
        assert "samesite=strict" in set_cookie.lower()
        cookie = login.cookies["candor_hr"]
        assert cookie and HR_TOKEN not in cookie

        # The cookie works for the REST API too (the client keeps it).
        assert (await http.get("/v1/sessions")).status_code == 200

        form = await http.post("/v1/hr/login", data={"token": HR_TOKEN})
        assert form.status_code == 204
        # A new sign-in in the same browser ends the one before (server/auth.py): the newer cookie is the one.
        older, cookie = cookie, form.cookies["candor_hr"]
        assert cookie != older

    async with connect(events_url(live_server, sid), headers={"Cookie": f"candor_hr={cookie}"}) as ws:
        first = json.loads(await ws.recv())
        assert first["type"] == "session.created" and first["seq"] == 0
    async with connect(events_url(live_server, sid), headers={"Cookie": f"candor_hr={older}"}) as ws:
        assert await close_code(ws) == 4401
    forged = cookie[:-4] + ("AAAA" if not cookie.endswith("AAAA") else "BBBB")
    async with connect(events_url(live_server, sid), headers={"Cookie": f"candor_hr={forged}"}) as ws:
        assert await close_code(ws) == 4401


# ---------------------------------------------------------- slow watcher --

SLOW_TOTAL = 3000  # three times the watcher queue (1000)


def stalling_socket(server: LiveServer) -> socket.socket:
    """A client socket with a tiny receive buffer, for a watcher that stops reading.

    With a one-frame client queue and no reads, the server's sends back up
    into the watcher's queue once the socket buffers are full (a few MB:
    hence 3 KB events, and no compression).
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.settings.port))
    sock.setblocking(False)
    return sock


async def drain_until_closed(ws: Any, timeout: float = 20.0) -> tuple[list[int], int | None]:
    """Read what is left; the seqs read and the close code the server sent."""
    seqs: list[int] = []
    try:
        async with asyncio.timeout(timeout):
            while True:
                seqs.append(json.loads(await ws.recv())["seq"])
    except websockets.ConnectionClosed as closed:
        return seqs, closed.rcvd.code if closed.rcvd else None


async def test_slow_watcher_is_dropped_and_never_holds_up_the_session(live_server: LiveServer) -> None:
    sid = await new_session(live_server)
    total = SLOW_TOTAL
    dropped_before = await metric(live_server, "candor_watchers_dropped_total")

    events = live_server.candor.sessions._events[sid]
    async with (
        connect(events_url(live_server, sid), sock=stalling_socket(live_server), max_queue=1, compression=None) as slow,
        connect(events_url(live_server, sid), compression=None) as fast,
    ):
        assert json.loads(await fast.recv())["seq"] == 0
        await until(lambda: events.watcher_count == 2)
        started = time.monotonic()
        publishing = asyncio.ensure_future(publish(live_server, sid, total, batch=100, pause_s=0.02, pad=3000))
        received = await read_until(fast, total, timeout=30)
        busy = await publishing
        wall = time.monotonic() - started

        assert [e["seq"] for e in received] == list(range(1, total + 1))
        # 30 pauses of 20 ms are most of it; publish() itself never waited.
        assert busy < 0.5, busy
        assert wall < 10, wall

        # Now the slow watcher reads: what it was sent, in order, then 4001.
        got, code = await drain_until_closed(slow)
        assert code == 4001
        assert got == list(range(len(got))), got[:5]
        assert len(got) < total
    assert await metric(live_server, "candor_watchers_dropped_total") == dropped_before + 1
    # Both unsubscribed: nothing of theirs is left in the session.
    await until(lambda: events.watcher_count == 0)


# --------------------------------------------------------- many watchers --


async def test_many_watchers_see_the_same_events_in_order(live_server: LiveServer) -> None:
    sid = await new_session(live_server)
    urls = [events_url(live_server, sid)] * 4 + [events_url(live_server, sid, format="msgpack")]
    sockets = [await connect(url) for url in urls]
    try:
        for ws in sockets:  # every one is subscribed before anything is published
            first = await ws.recv()
            assert (msgpack.unpackb(first) if isinstance(first, bytes) else json.loads(first))["seq"] == 0
        assert await metric(live_server, "candor_watchers") >= 5
        publishing = asyncio.ensure_future(publish(live_server, sid, 500, batch=50, pause_s=0.01))

        async def drain(ws: Any) -> list[dict[str, Any]]:
            out: list[dict[str, Any]] = []
            async with asyncio.timeout(20):
                while not out or out[-1]["seq"] < 500:
                    raw = await ws.recv()
                    out.append(msgpack.unpackb(raw) if isinstance(raw, bytes) else json.loads(raw))
            return out

        streams = await asyncio.gather(*(drain(ws) for ws in sockets))
        await publishing
    finally:
        for ws in sockets:
            await ws.close()
    assert [e["seq"] for e in streams[0]] == list(range(1, 501))
    for other in streams[1:]:
        assert other == streams[0]


async def test_stalled_watcher_is_let_go_without_reading_again(live_server: LiveServer) -> None:
    """A watcher that stops reading altogether is unsubscribed and counted as
    dropped at once, not when (if ever) its blocked send completes."""
    sid = await new_session(live_server)
    dropped_before = await metric(live_server, "candor_watchers_dropped_total")
    events = live_server.candor.sessions._events[sid]
    async with (
        connect(events_url(live_server, sid), sock=stalling_socket(live_server), max_queue=1, compression=None) as slow,
        connect(events_url(live_server, sid), compression=None) as fast,
    ):
        assert json.loads(await fast.recv())["seq"] == 0
        await until(lambda: events.watcher_count == 2)
        watchers = set(events._watchers)
        publishing = asyncio.ensure_future(publish(live_server, sid, SLOW_TOTAL, batch=100, pause_s=0.02, pad=3000))
        await read_until(fast, SLOW_TOTAL, timeout=30)
        await publishing
        if sum(w.overflowed.is_set() for w in watchers) != 1:
            pytest.fail("precondition: exactly the stalled watcher overflowed")
        # The stalled watcher has not read a byte more: the server lets it go anyway.
        deadline = time.monotonic() + 3
        while events.watcher_count > 1 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        still_subscribed = events.watcher_count
        dropped = await metric(live_server, "candor_watchers_dropped_total")
        await drain_until_closed(slow)  # let the connection end either way
    assert still_subscribed == 1
    assert dropped == dropped_before + 1
