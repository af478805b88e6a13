"""A server restart mid-session: the candidate reconnects and the session carries on.

Real WebRTC (the Python WHIP client) and real models; the second server opens
the same SQLite file, as a restarted process would.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from media.whip_client import WhipPublisher
from runtime.models import Models
from db import Store
from tests.conftest import Media
from tests.helpers import HR_TOKEN, LiveServer, make_settings
from tests.test_whip import EventStream

HR = {"Authorization": f"Bearer {HR_TOKEN}"}


async def speak(server: LiveServer, session: dict, media: Media, *, from_seq: int = 0) -> list[dict]:
    url = session["events_url"].rsplit("/v1/", 1)[1]
    async with EventStream(f"ws://127.0.0.1:{server.settings.port}/v1/{url}", from_seq=from_seq) as stream:
        publisher = WhipPublisher(session["whip_url"].replace(session["whip_url"].split("/whip/")[0], server.url),
                                  session["candidate_token"], str(media.aishell), str(media.video))
        await publisher.start()
        try:
            await stream.wait_for(
                lambda s: len([e for e in s.of_type("transcript.final") if e["seq"] >= from_seq]) >= 1,
                media.aishell_s + 20,
                "a final",
            )
        finally:
            await publisher.close()
        return list(stream.events)


@pytest.mark.slow
async def test_after_a_restart_media_time_and_utterance_ids_run_on(models: Models, tmp_path: Path, media: Media) -> None:
    first = LiveServer(make_settings(tmp_path), models).start()
    try:
        async with httpx.AsyncClient(base_url=first.url, timeout=30) as http:
            session = (await http.post("/v1/sessions", json={}, headers=HR)).json()
        before = await speak(first, session, media)
    finally:
        first.stop()
    assert any(e["type"] == "transcript.final" for e in before)
    # What the first process logged, including what it published while shutting down.
    store = Store(first.settings.database_url)
    try:
        logged = store.read_events(session["id"])
    finally:
        store.close()
    last_time = max(e.media_time for e in logged if e.media_time is not None)
    last_utterance = max(e.payload.utterance_id for e in logged if e.type == "transcript.final")
    last_seq = max(e.seq for e in logged)

    second = LiveServer(make_settings(tmp_path), models).start()  # the same database file
    try:
        after = [e for e in await speak(second, session, media, from_seq=last_seq + 1)]
    finally:
        second.stop()
    assert after and min(e["seq"] for e in after) == last_seq + 1  # the log carries on without a gap
    stamped = [e["media_time"] for e in after if e["media_time"] is not None]
    assert stamped and min(stamped) >= last_time, (min(stamped), last_time)
    finals = [e for e in after if e["type"] == "transcript.final"]
    assert finals and min(f["payload"]["utterance_id"] for f in finals) > last_utterance
    assert "广州" in "".join(f["payload"]["text"] for f in finals)
