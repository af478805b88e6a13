"""Several nodes in a real browser: the candidate page's offer follows a 307 to another node.

Headless Chromium with a fake camera and microphone opens the interview link
on node A (the public URL, as behind a load balancer). Node A is draining, so
its WHIP answers 307 to node B's own URL: the browser's fetch posts the same
offer there (a cross-origin redirect drops the Authorization header; the
ticket in the Location stands for it), node B answers, the media flows to
node B, and the candidate's captions come back from it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from runtime.models import Models
from tests.helpers import HR_TOKEN, LiveServer, make_settings
from tests.redis_fixtures import flush_redis
from tests.test_browser_e2e import CHROMIUM, Media, PageLog, candidate_starts, chromium, media  # noqa: F401  (fixture)

HR = {"Authorization": f"Bearer {HR_TOKEN}"}


@pytest.fixture
def public_and_other(models: Models, tmp_path: Path, redis_url: str, pg_url: str) -> Iterator[tuple[LiveServer, LiveServer]]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    flush_redis(redis_url)
    common = dict(redis_url=redis_url, database_url=pg_url, node_heartbeat_s=0.3, node_ttl_s=3.0, consent_needs_candidate_link=True)
    a_settings = make_settings(tmp_path, node_id="a", **common)
    public = a_settings.base_url
    b_settings = make_settings(tmp_path, node_id="b", **common)
    # Both nodes' links point to the public URL (node a here); node b is reached at its own URL.
    b_settings = b_settings.model_copy(update={"public_url": public, "node_url": f"http://127.0.0.1:{b_settings.port}"})
    a = LiveServer(a_settings, models).start()
    try:
        b = LiveServer(b_settings, models).start()
    except Exception:
        a.stop()
        raise
    try:
        yield a, b
    finally:
        b.stop()
        a.stop()


@pytest.mark.browser
@pytest.mark.slow
async def test_the_candidate_page_follows_a_307_to_the_node_with_room(
    public_and_other: tuple[LiveServer, LiveServer], media: Media  # noqa: F811
) -> None:
    a, b = public_and_other
    async with httpx.AsyncClient(base_url=a.url, timeout=30) as http:
        assert (await http.post("/v1/ops/drain", json={"draining": True}, headers=HR)).status_code == 200
        created = await http.post("/v1/sessions", json={}, headers=HR)
        assert created.status_code == 201, created.text
        session = created.json()
    assert session["candidate_url"].startswith(a.url)
    async with chromium(media.video, media.jfk) as browser:
        context = await browser.new_context(viewport={"width": 1000, "height": 900}, locale="zh-CN")
        page = await context.new_page()
        log = PageLog("candidate")
        log.attach(page)
        requests: list[str] = []
        page.on("response", lambda r: requests.append(f"{r.request.method} {r.url.split('?')[0]} -> {r.status}"))
        try:
            await candidate_starts(page, session["candidate_url"])
        except Exception:
            print(log.dump(), *requests[-20:], sep="\n")
            raise
        assert any(r.startswith(f"POST {b.url}/whip/") and r.endswith("201") for r in requests), requests
        assert page.url.startswith(a.url)  # the page stays on the public URL; only the offer moved
        live = b.candor.sessions.get_live(session["id"])
        assert live is not None and live.connection is not None, "node b serves the candidate"
        assert a.candor.sessions.get_live(session["id"]) is None
        # The captions come back over node b's data channel.
        await page.wait_for_function(
            "() => window.candor.captions.some(c => c.final && /country/i.test(c.text))", timeout=90_000)
        # Hanging up reaches node b too (the Location was resolved against node b's URL).
        await page.close()
    # The page's hang-up on exit went to node b's URL: the connection ends there.
    for _ in range(100):
        live = b.candor.sessions.get_live(session["id"])
        if live is None or live.connection is None:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("node b still holds a connection after the page closed")
