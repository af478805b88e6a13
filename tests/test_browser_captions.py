"""Captions off in a real browser: no caption box, no partial decoded, the transcript still complete.

A deployment that shows candidates no captions (``CANDOR_CANDIDATE_CAPTIONS=off``)
and an HR robot that reads finals only (``?partials=0``): headless Chromium
with a fake camera and microphone (the JFK clip) answers; the page hides its
caption box once the server's hello says so and never gets a caption, the
finals reach HR, and no ``transcript.partial`` was decoded for nobody.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import httpx
import pytest

from runtime.models import Models
from tests.helpers import HR_TOKEN, LiveServer, make_settings
from tests.test_browser_e2e import (  # noqa: F401  (fixtures)
    CHROMIUM,
    EventWatcher,
    Media,
    PageLog,
    candidate_starts,
    chromium,
    media,
    shots,
)

HR = {"Authorization": f"Bearer {HR_TOKEN}"}


@pytest.fixture
def no_captions(models: Models, tmp_path: Path) -> Iterator[LiveServer]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    server = LiveServer(make_settings(tmp_path, candidate_captions="off", consent_needs_candidate_link=True), models).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.browser
@pytest.mark.slow
async def test_with_captions_off_the_page_shows_none_and_no_partial_is_decoded(
    no_captions: LiveServer, media: Media, shots: Path  # noqa: F811
) -> None:
    server = no_captions
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        created = await http.post("/v1/sessions", json={}, headers=HR)
        assert created.status_code == 201, created.text
        session = created.json()
    watcher = EventWatcher(f"{session['events_url']}?partials=0", HR_TOKEN).start()
    try:
        async with chromium(media.video, media.jfk) as browser:
            context = await browser.new_context(viewport={"width": 420, "height": 860}, locale="zh-CN", is_mobile=True)
            page = await context.new_page()
            log = PageLog("candidate")
            log.attach(page)
            try:
                await candidate_starts(page, session["candidate_url"])
                await page.wait_for_function("() => window.candor.captionsMode === 'off'", timeout=20_000)
            except Exception:
                print(log.dump())
                raise
            assert await page.locator("#captions").is_hidden()
            assert await page.locator("#caption-title").is_hidden()
            await watcher.wait_for(
                lambda w: any("country" in e["payload"]["text"].lower() for e in w.of_type("transcript.final")),
                90, "the final with 'country'")
            await page.screenshot(path=str(shots / "candidate-captions-off.png"), full_page=True)
            assert await page.evaluate("() => window.candor.captions.length") == 0
            await page.close()
    finally:
        await watcher.stop()
    assert not watcher.of_type("transcript.partial")
    logged = server.candor.store.store.read_events(session["id"])
    assert [e for e in logged if e.type == "transcript.final"], "the finals are logged"
    assert not [e for e in logged if e.type == "transcript.partial"], "a partial was decoded that nobody reads"
