"""A node stopped (SIGTERM, a release) while candidates are mid-answer: its sessions close together, in time.

Real WebRTC (the Python WHIP client), real Mandarin answers, real models; the
server's ASR is made slow on purpose (every final, and every speculative one,
waits ASR_DELAY_S more), as under load. What an operator checks: the node is
gone within its grace period (``CANDOR_SHUTDOWN_TIMEOUT_S``), and what each
candidate said before the stop has its final in the event log (the node that
takes the session over, or HR's report, carries on from there).

Closing the sessions one after another took at least ASR_DELAY_S each (each
waited for its own last final while the others kept streaming), up to 30 s
each with no bound for the whole.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from db import Store
from media.whip_client import WhipPublisher
from tests.helpers import HR_TOKEN, LiveServer, make_settings
from tests.media_fixtures import ANSWERS_ZH

pytestmark = pytest.mark.slow

AUTH = {"Authorization": f"Bearer {HR_TOKEN}"}
ANSWERS = [ANSWERS_ZH / f"wealth_manager.{name}.strong.opus" for name in ("asset_allocation", "elderly_high_risk", "persuade_client")]
ASR_DELAY_S = 6.0
SPOKEN_BEFORE_STOP_S = 12.0


def _wav(source: Path, out: Path) -> Path:
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-nostdin", "-y", "-i", str(source), "-af", "aresample=48000", "-ac", "1", str(out)],
        check=True,
    )
    return out


def _slowed(original: Any, delay_s: float) -> Any:
    async def slow(fn: Any, *, stream: Any) -> Any:
        await asyncio.sleep(delay_s)
        return await original(fn, stream=stream)
    return slow


@pytest.fixture
def slow_asr(models) -> Iterator[Any]:
    """Make the shared ASR runner's finals (and speculative finals) ``delay_s`` slower for this test."""
    with pytest.MonkeyPatch.context() as patch:
        def slow(delay_s: float) -> None:
            patch.setattr(models.asr, "final", _slowed(models.asr.final, delay_s))
            patch.setattr(models.asr, "speculation", _slowed(models.asr.speculation, delay_s))
        yield slow


async def _candidates_speaking(server: LiveServer, tmp_path: Path) -> tuple[list[dict[str, Any]], list[WhipPublisher]]:
    """Three candidates, each streaming a real answer of 34-42 s, SPOKEN_BEFORE_STOP_S into it."""
    sessions, publishers = [], []
    async with httpx.AsyncClient(base_url=server.url, headers=AUTH) as http:
        for i, answer in enumerate(ANSWERS):
            response = await http.post("/v1/sessions", json={})
            assert response.status_code == 201, response.text
            session = response.json()
            publisher = WhipPublisher(session["whip_url"], session["candidate_token"], str(_wav(answer, tmp_path / f"{i}.wav")), None)
            await publisher.start()
            sessions.append(session)
            publishers.append(publisher)
    await asyncio.sleep(SPOKEN_BEFORE_STOP_S)
    return sessions, publishers


async def _speak_then_stop(server: LiveServer, tmp_path: Path) -> tuple[list[dict[str, Any]], float]:
    """The candidates speak, then the node is stopped mid-answer: their sessions and how long the stop took."""
    publishers: list[WhipPublisher] = []
    try:
        sessions, publishers = await _candidates_speaking(server, tmp_path)
        started = time.monotonic()
        await asyncio.to_thread(server.stop)
        assert not server.thread.is_alive(), "the server did not stop"
        return sessions, time.monotonic() - started
    finally:
        server.stop()
        for publisher in publishers:
            await publisher.close(delete=False)


def _logged(server: LiveServer, session_id: str) -> list[Any]:
    store = Store(server.settings.database_url)
    try:
        return store.read_events(session_id)
    finally:
        store.close()


async def test_a_stopped_node_closes_its_sessions_together_and_keeps_their_last_words(models, slow_asr, tmp_path) -> None:
    slow_asr(ASR_DELAY_S)
    server = LiveServer(make_settings(tmp_path, shutdown_timeout_s=30.0), models).start()
    sessions, took = await _speak_then_stop(server, tmp_path)
    # one after another: at least 3 x ASR_DELAY_S (18 s); together: one delay and the decodes (10 s here)
    assert took < 2.5 * ASR_DELAY_S, f"the stop took {took:.1f} s"
    for session in sessions:
        events = _logged(server, session["id"])
        flowing = next(e for e in events if e.type == "media.flowing")
        ended = next(e for e in events if e.type == "connection.ended")
        finals = [e.payload for e in events if e.type == "transcript.final"]
        assert finals, f"no final for {session['id']}"
        # the words said up to the stop have their finals: the last one ends at most a pause before the stop
        said_until = ended.media_time
        assert said_until - flowing.media_time > SPOKEN_BEFORE_STOP_S - 2, (flowing.media_time, said_until)
        assert finals[-1].end > said_until - 3.0, (finals[-1], said_until)
        assert sum(len(f.text) for f in finals) > 2.5 * SPOKEN_BEFORE_STOP_S, [f.text for f in finals]  # Mandarin: ~4 characters a second


async def test_a_stop_is_bounded_when_the_analyzers_cannot_finish(models, slow_asr, tmp_path, caplog) -> None:
    slow_asr(120.0)  # no final comes before the deadline
    server = LiveServer(make_settings(tmp_path, shutdown_timeout_s=6.0), models).start()
    with caplog.at_level(logging.WARNING, logger="server.live"):
        sessions, took = await _speak_then_stop(server, tmp_path)
    # the sessions had 4 s of the 6, the reports and the rest what was left; before, 30 s per session
    assert took < 6.0 + 4.0, f"the stop took {took:.1f} s"
    assert "did not finish within" in caplog.text
    for session in sessions:  # what was written before the stop is kept, and the connection's end
        types = {e.type for e in _logged(server, session["id"])}
        assert {"media.flowing", "connection.ended"} <= types, types
