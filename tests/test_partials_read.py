"""Partials only where someone reads them (issue 13, cost per candidate).

A partial re-decodes the utterance so far: most of a speaking candidate's
CPU. Candor decodes partials only while someone reads them: the candidate's
live captions (``CANDOR_CANDIDATE_CAPTIONS=live``) or an HR watcher (an event
stream opened without ``?partials=0``); and it stretches their interval when
the ASR workers are busy. Finals are decoded as before either way.

Real server, real models, real WebRTC (the Python WHIP client) on the JFK
clip; the scheduler's busy meter on a fake clock.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from analyzers.asr.scheduler import BusyMeter, DecodeScheduler
from media.whip_client import WhipPublisher
from runtime.models import Models
from tests.conftest import Media
from tests.helpers import LiveServer, make_settings
from tests.media_fixtures import JFK_TEXT
from tests.test_analyzers_speech import wer
from tests.test_whip import SETTLE_S, EventStream, clip_done, create_session, final_texts


# ------------------------------------------------------------ the busy meter --


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_busy_meter_counts_finished_and_running_decodes_in_its_window() -> None:
    clock = Clock()
    meter = BusyMeter(2, window_s=4.0, clock=clock)
    assert meter.fraction() == 0.0
    token = meter.start()
    clock.now += 2.0
    meter.stop(token)  # one worker busy 2 s of the last 4: a quarter of two workers' time
    assert meter.fraction() == pytest.approx(0.25)
    running = meter.start()
    clock.now += 2.0  # still running: counted up to now
    assert meter.fraction() == pytest.approx((2.0 + 2.0) / 8.0)
    clock.now += 10.0  # the finished one left the window; the running one fills it
    assert meter.fraction() == pytest.approx(4.0 / 8.0)
    meter.stop(running)
    clock.now += 4.0
    assert meter.fraction() == 0.0
    for _ in range(1000):  # decodes nobody asks about do not pile up
        meter.stop(meter.start())
        clock.now += 1.0
    assert len(meter._done) <= 5


def test_partials_stretch_only_when_the_workers_are_busier_than_the_target() -> None:
    scheduler = DecodeScheduler(workers=2)
    try:
        clock = Clock()
        scheduler.meter = BusyMeter(2, window_s=4.0, clock=clock)
        assert scheduler.partial_interval(1.0, 4.0) == 1.0  # idle
        tokens = [scheduler.meter.start(), scheduler.meter.start()]
        clock.now += 4.0  # both workers busy the whole window: twice the 0.5 target
        assert scheduler.partial_interval(1.0, 4.0) == pytest.approx(4.0)
        assert scheduler.partial_interval(1.0, 3.0) == pytest.approx(3.0)  # never past the most
        assert scheduler.partial_interval(1.0, 1.0) == 1.0  # the most at the base: never stretched
        scheduler.meter.stop(tokens[0])
        clock.now += 4.0  # one of two busy: at the target, not past it
        assert scheduler.partial_interval(1.0, 4.0) == pytest.approx(1.0)
        for token in tokens[1:]:
            scheduler.meter.stop(token)
    finally:
        scheduler.close()


# ------------------------------------------------- a real interview, end to end --


@pytest.fixture(scope="module")
def final_captions_server(models: Models, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Candidates see each utterance once it is final: the candidate never reads a partial."""
    server = LiveServer(make_settings(tmp_path_factory.mktemp("server"), candidate_captions="final"), models).start()
    yield server
    server.stop()


async def speak(server: LiveServer, media: Media, *, partials: bool) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """The JFK clip over WHIP with an HR watcher (``partials``: does it read them); its events, the captions, the session."""
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        session = await create_session(http)
    stream = EventStream(session["events_url"])
    if not partials:
        stream.url = f"{session['events_url']}?partials=0&from_seq=0"
    async with stream:
        publisher = WhipPublisher(session["whip_url"], session["candidate_token"], audio_path=str(media.jfk),
                                  video_path=str(media.video))
        await publisher.start()
        started = time.monotonic()
        try:
            await stream.wait_for(clip_done(started, media.jfk_s), media.jfk_s + SETTLE_S, "the clip's last final")
            deadline = time.monotonic() + 3
            while not any(c.get("final") for c in publisher.captions) and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            session["partials_skipped"] = asr_of(server, session["id"]).partials_skipped
            session["hello"] = publisher.hello
        finally:
            await publisher.close()
        return list(stream.events), list(publisher.captions), session


def asr_of(server: LiveServer, session_id: str) -> Any:
    live = server.candor.sessions.get_live(session_id)
    assert live is not None and live.graph is not None and live.graph.asr is not None
    return live.graph.asr


@pytest.mark.slow
def test_nobody_reads_partials_so_none_is_decoded_and_the_finals_are_as_good(
    final_captions_server: LiveServer, media: Media
) -> None:
    events, captions, session = asyncio.run(speak(final_captions_server, media, partials=False))
    texts = final_texts(events)
    joined = " ".join(texts)
    assert wer(JFK_TEXT, joined) < 0.15, joined
    # Not decoded at all, not only left out of this watcher's stream: the log has none either.
    assert not [e for e in events if e["type"] == "transcript.partial"]
    logged = final_captions_server.candor.store.store.read_events(session["id"])
    assert not [e for e in logged if e.type == "transcript.partial"], "a partial was decoded for nobody"
    assert session["partials_skipped"] > 0
    # The candidate's page was told, and sent each final and nothing else.
    assert session["hello"]["captions"] == "final", session["hello"]
    assert captions and all(c["final"] is True for c in captions), captions
    assert [c["text"] for c in captions] == texts


@pytest.mark.slow
def test_an_hr_watcher_reading_partials_gets_them_while_the_candidate_sees_finals_only(
    final_captions_server: LiveServer, media: Media
) -> None:
    events, captions, _ = asyncio.run(speak(final_captions_server, media, partials=True))
    partials = [e["payload"]["text"] for e in events if e["type"] == "transcript.partial"]
    assert partials, "the HR watcher reads partials: they must be decoded"
    assert any("country" in p.lower() or "americans" in p.lower() for p in partials), partials
    assert wer(JFK_TEXT, " ".join(final_texts(events))) < 0.15
    assert captions and all(c["final"] is True for c in captions), captions


def test_the_settings_name_what_the_candidate_sees(tmp_path: Path) -> None:
    assert make_settings(tmp_path).candidate_captions == "final"  # no partial decoded for the candidate
    with pytest.raises(ValueError):
        make_settings(tmp_path, candidate_captions="sometimes")
