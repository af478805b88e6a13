"""Issue 13: a connection that never connects, or a candidate who vanishes, frees its slot within seconds.

A real server (real models) with short deadlines, and real aiortc peers: one
that posts an offer and never answers ICE (blocked UDP, no TURN), one that
sends a short recording and then nothing (a browser killed without goodbye:
its RTP stops at once). Each connection must end with its reason, the slot
freed, and the session still open to the candidate's next offer.
"""

from __future__ import annotations

import asyncio
import time
import wave
from pathlib import Path
from typing import Any, AsyncIterator

import httpx
import numpy as np
import pytest

from media.whip_client import WhipPublisher
from runtime.models import Models
from tests.helpers import LiveServer, make_settings
from tests.test_whip import bare_peer, create_session, post_offer

DEADLINES = {"whip_connect_timeout_s": 1.5, "whip_first_media_timeout_s": 3.0, "whip_media_silence_s": 1.5}


@pytest.fixture(scope="module")
def server(models: Models, tmp_path_factory: pytest.TempPathFactory) -> Any:
    live = LiveServer(make_settings(tmp_path_factory.mktemp("deadlines"), **DEADLINES), models).start()
    yield live
    live.stop()


@pytest.fixture
async def http(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        yield client


def tone_wav(path: Path, seconds: float) -> Path:
    t = np.arange(int(48000 * seconds)) / 48000
    samples = (0.2 * np.sin(2 * np.pi * 220 * t) * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(48000)
        out.writeframes(samples.tobytes())
    return path


async def ended(server: LiveServer, session_id: str, timeout: float = 15.0) -> list[dict[str, Any]]:
    """The session's connection.ended events, once there is one."""
    store = server.app.state.candor.store.store
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = [e for e in store.read_events(session_id) if str(e.type) == "connection.ended"]
        if events:
            return [e.payload.to_dict() for e in events]
        await asyncio.sleep(0.2)
    raise AssertionError(f"no connection.ended in {timeout} s")


def live_connections(server: LiveServer) -> int:
    return server.app.state.candor.sessions.live_count()


async def test_an_offer_whose_ice_never_completes_is_ended_and_frees_its_slot(server: LiveServer, http: httpx.AsyncClient) -> None:
    session = await create_session(http)
    async with bare_peer() as pc:  # never takes the answer: the server's checks go unanswered
        started = time.monotonic()
        answered = await post_offer(http, session, pc)
        assert answered.status_code == 201, answered.text
        assert live_connections(server) >= 1
        [event] = await ended(server, session["id"])
        took = time.monotonic() - started
    assert event["reason"] == "ice-timeout", event
    assert DEADLINES["whip_connect_timeout_s"] <= took < DEADLINES["whip_connect_timeout_s"] + 4, took
    assert live_connections(server) == 0


async def test_a_candidate_whose_media_stops_is_ended_and_can_come_back(server: LiveServer, http: httpx.AsyncClient,
                                                                        tmp_path: Path) -> None:
    session = await create_session(http)
    clip = tone_wav(tmp_path / "tone.wav", 2.0)
    publisher = WhipPublisher(session["whip_url"], session["candidate_token"], audio_path=str(clip), consent=None)
    await publisher.start()
    try:
        [event] = await ended(server, session["id"], timeout=20)
        store = server.app.state.candor.store.store
        types = [str(e.type) for e in store.read_events(session["id"])]
        assert "media.flowing" in types  # it did connect and send: the silence after it ended it
        assert event["reason"] == "media-timeout", event
        assert live_connections(server) == 0
    finally:
        await publisher.close(delete=False)
    # The session stays open: the candidate's next offer is taken.
    again = WhipPublisher(session["whip_url"], session["candidate_token"], audio_path=str(clip), consent=None, loop=True)
    await again.start()
    try:
        deadline = time.monotonic() + 15
        while live_connections(server) != 1 and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        assert live_connections(server) == 1
    finally:
        await again.close()
