"""Issue 13: capacity is released when no longer used.

A real server (real models) and real WebRTC candidates. An idle session (no
candidate connected for ``idle_release_s``) lets go of its analyzers, tasks
and threads and leaves the registry; the candidate who comes back continues
the same interview, as after a restart: the same question, media time and
utterance numbering run on, and the answer left open was not scored. A
candidate whose process is SIGKILLed (no DELETE, no DTLS close) frees its
slot within the media-silence deadline, and a new candidate is admitted at a
capacity of one.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, AsyncIterator

import httpx
import pytest
import yaml

from benchmarks.churn import candidate_started, kill, spawn_candidate
from jobs.catalog import BANKS_DIR
from media.whip_client import WhipError, WhipPublisher
from runtime.models import Models
from server.settings import Settings
from tests.conftest import Media
from tests.helpers import HR_TOKEN, LiveServer, make_settings
from tests.test_whip import EventStream, create_session

pytestmark = pytest.mark.slow

HR = {"Authorization": f"Bearer {HR_TOKEN}"}
IDLE = {"whip_media_silence_s": 1.5, "idle_release_s": 2.0}
# aiortc's receivers decode in a thread each ("audio-decoder", "video-decoder"): the threads a connection holds.
DECODERS = ("audio-decoder", "video-decoder")


@pytest.fixture(scope="module")
def server(models: Models, tmp_path_factory: pytest.TempPathFactory) -> Any:
    live = LiveServer(make_settings(tmp_path_factory.mktemp("idle"), **IDLE), models).start()
    yield live
    live.stop()


@pytest.fixture
async def http(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        yield client


async def interview_session(http: httpx.AsyncClient) -> dict[str, Any]:
    """A session on one scored question of the shipped 理财经理 bank, no prep time, two minutes to answer."""
    data = yaml.safe_load((BANKS_DIR / "wealth_manager.yaml").read_text(encoding="utf-8"))
    question = next(q for q in data["bank"]["questions"] if q["kind"] != "practice")
    question.update(prep_s=0, answer_s=120)
    bank = {"id": "wm_idle", "job_id": "wealth_manager", "title": {"en": "One question"}, "questions": [question]}
    made = await http.post("/v1/banks", json=bank, headers=HR)
    assert made.status_code in (201, 409), made.text
    response = await http.post("/v1/sessions", json={"job_id": "wealth_manager", "bank_id": "wm_idle"}, headers=HR)
    assert response.status_code == 201, response.text
    return response.json()


def decoder_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name in DECODERS]


async def until(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        await asyncio.sleep(0.1)


async def test_an_idle_session_lets_go_of_everything_and_the_candidate_continues(
    server: LiveServer, http: httpx.AsyncClient, media: Media
) -> None:
    session = await interview_session(http)
    registry = server.candor.sessions
    ws_url = f"ws://127.0.0.1:{server.settings.port}/v1/sessions/{session['id']}/events"
    async with EventStream(ws_url) as stream:
        first = WhipPublisher(session["whip_url"], session["candidate_token"], str(media.aishell), loop=False)
        await first.start()
        try:
            await stream.wait_for(lambda s: bool(s.of_type("transcript.final")), media.aishell_s + 30, "a final")
            live = registry.get_live(session["id"])
            assert live is not None and live.graph is not None
            assert decoder_threads(), "a connection decodes in threads of its own"
            # The clip ends: the media-silence deadline ends the connection, and idle_release_s later the session goes.
            await until(lambda: registry.get_live(session["id"]) is None, media.aishell_s + 20, "the idle release")
        finally:
            await first.close(delete=False)
        await server.on_loop(registry.wait_released)
        assert live.closed and live.graph is None and live.connection is None
        assert all(t is None or t.done() for t in (live._graph_task, live._monitor_task, live._flow_task))
        assert live.scoring is not None and not live.scoring._tasks
        assert decoder_threads() == []
        assert registry.live_count() == 0
        before = list(stream.events)
        ended = [e for e in before if e["type"] == "connection.ended"]
        assert [e["payload"]["reason"] for e in ended] == ["media-timeout"]
        # The open answer was not finalised: no answer.ended, no final score, no interview.ended.
        assert not [e for e in before if e["type"] in ("answer.ended", "score.question", "interview.ended")]
        [question] = [e for e in before if e["type"] == "question.started"]
        last_time = max(e["media_time"] for e in before if e["media_time"] is not None)
        last_utterance = max(e["payload"]["utterance_id"] for e in before if e["type"] == "transcript.final")
        mark = max(e["seq"] for e in before)

        # The candidate comes back: a session rebuilt from the log carries the interview on.
        again = WhipPublisher(session["whip_url"], session["candidate_token"], str(media.aishell), loop=False, consent=None)
        await again.start()
        try:
            await stream.wait_for(
                lambda s: any(e["seq"] > mark for e in s.of_type("transcript.final")), media.aishell_s + 30, "a final after the return"
            )
        finally:
            await again.close()
    after = [e for e in stream.events if e["seq"] > mark]
    resumed = [e for e in after if e["type"] == "question.started"]
    assert resumed and resumed[0]["payload"]["question_id"] == question["payload"]["question_id"]
    assert resumed[0]["payload"]["resumed"] is True
    answer = [e for e in after if e["type"] == "answer.started"]
    assert answer and answer[0]["payload"]["resumed"] is True
    assert min(e["media_time"] for e in after if e["media_time"] is not None) >= last_time
    finals = [e for e in after if e["type"] == "transcript.final"]
    assert min(f["payload"]["utterance_id"] for f in finals) > last_utterance


async def test_a_busy_session_is_not_released(server: LiveServer, http: httpx.AsyncClient, media: Media) -> None:
    """A candidate connected (and speaking) for longer than idle_release_s keeps the session."""
    session = await create_session(http)
    publisher = WhipPublisher(session["whip_url"], session["candidate_token"], str(media.jfk), consent=None, loop=True)
    await publisher.start()
    try:
        registry = server.candor.sessions
        await until(lambda: registry.live_count() == 1, 15, "connected")
        live = registry.get_live(session["id"])
        await asyncio.sleep(IDLE["idle_release_s"] * 3)
        assert registry.get_live(session["id"]) is live and not live.closed and live.graph is not None
    finally:
        await publisher.close()


@pytest.fixture(scope="module")
def one_slot(models: Models, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Capacity one, the shipped media-silence deadline."""
    live = LiveServer(make_settings(tmp_path_factory.mktemp("one-slot"), max_live_sessions=1,
                                    whip_media_silence_s=Settings.model_fields["whip_media_silence_s"].default), models).start()
    yield live
    live.stop()


async def test_a_killed_candidate_frees_the_only_slot_within_seconds(one_slot: LiveServer, media: Media) -> None:
    silence_s = one_slot.settings.whip_media_silence_s
    assert silence_s <= 5.0  # the default: a vanished candidate's slot frees within a few seconds
    registry = one_slot.candor.sessions
    async with httpx.AsyncClient(base_url=one_slot.url, timeout=30) as http:
        first = await create_session(http)
        child = spawn_candidate(first["whip_url"], first["candidate_token"], media.aishell)
        try:
            assert await candidate_started(child)
            await until(lambda: registry.live_count() == 1, 20, "the first candidate connected")
            second = await create_session(http, consent=False)
            refused = WhipPublisher(second["whip_url"], second["candidate_token"], str(media.jfk))
            with pytest.raises(WhipError) as full:
                await refused.start()
            assert full.value.status == 503  # the slot is taken
            await asyncio.sleep(2)  # speaking
            killed = time.monotonic()
            kill(child)  # SIGKILL: no DELETE, no DTLS close
            await until(lambda: registry.live_count() == 0, silence_s + 5, "the killed candidate's slot freed")
            held = time.monotonic() - killed
        finally:
            kill(child)
        assert held <= silence_s + 3, held
        newcomer = WhipPublisher(second["whip_url"], second["candidate_token"], str(media.jfk), loop=True)
        await newcomer.start()
        try:
            await until(lambda: registry.live_count() == 1, 20, "the new candidate connected")
        finally:
            await newcomer.close()
