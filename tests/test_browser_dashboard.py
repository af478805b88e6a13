"""The recruiting dashboard in a real browser: charts drawn, numbers in the tables, small groups hidden.

The data is made through the real API first (tests/test_analytics_api.py's
pipeline: 10 applications, 7 invited, 6 interviewed with reports, 5
advanced; 3 from a source too small to show; later outcomes recorded), on a
SQLite file that a real server on loopback then serves to headless Chromium
(Playwright). HR signs in, opens /hr/dashboard, and sees the funnel, the
histograms and the per-question chart drawn (ECharts canvases), the tables'
numbers, "<5" where a group is too small, and "需要至少5人" where a
correlation has fewer than 5 pairs. A screenshot goes to /tmp/dashboard.png
(Chinese needs fonts-noto-cjk) for a look by eye.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from runtime.models import Models
from server.app import create_app
from tests.helpers import HR_TOKEN, LiveServer, make_settings
from tests.test_analytics_api import HR, JOB, RATINGS, SCORES, apply, interview, wait_state
from tests.test_browser_e2e import CHROMIUM, PageLog, playwright_api

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCREENSHOT = Path("/tmp/dashboard.png")


def _models() -> Models:
    models = Models(vad=None, asr=None, face=None, encoder=None)
    models.warm = True
    return models


@pytest.fixture(scope="module")
def dashboard_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    folder = tmp_path_factory.mktemp("dashboard")
    settings = make_settings(folder, contact_key="test-contact-key")
    with TestClient(create_app(settings, models=_models(), load_models=False), base_url="http://127.0.0.1") as client:
        campus = [apply(client, seed, "campus") for seed in range(7)]
        for seed in range(10, 13):
            apply(client, seed, "liepin")
        for i, app in enumerate(campus):
            body = client.post(f"/v1/applications/{app['id']}/invite", headers=HR).json()
            if i == 6:
                continue
            client.post("/v1/candidate/exchange", json={"code": body["invite_url"].split("#code=")[1]})
            interview(client, body["session_id"], SCORES[i])
            wait_state(client, app["id"], "interviewed")
            for _ in range(100):
                if client.get(f"/v1/sessions/{body['session_id']}/report", headers=HR).status_code == 200:
                    break
                time.sleep(0.05)
            client.post(f"/v1/applications/{app['id']}/decide", json={"decision": "reject" if i == 0 else "advance"}, headers=HR)
            client.put(f"/v1/applications/{app['id']}/outcomes", json={"probation_rating": RATINGS[i], **({"onsite": "pass"} if i < 2 else {})}, headers=HR)
        client.put("/v1/analytics/sources/campus/cost", json={"cost": 6000, "currency": "CNY", "job_id": JOB}, headers=HR)
    server = LiveServer(make_settings(folder, contact_key="test-contact-key"), _models()).start()
    yield server
    server.stop()


async def test_the_dashboard_draws_its_charts_and_hides_small_groups(dashboard_server: LiveServer) -> None:
    expect = playwright_api.expect
    log = PageLog("hr")
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            page = await (await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")).new_page()
            log.attach(page)
            try:
                await page.goto(f"{dashboard_server.url}/hr/dashboard")
                await page.locator("#hr-token").fill(HR_TOKEN)
                await page.get_by_role("button", name="登录").click()
                await expect(page.locator("#nav-dashboard")).to_be_visible()
                await page.locator("#nav-dashboard").click()
                await page.wait_for_url(re.compile(r"/hr/dashboard$"))
                await expect(page.locator("#dashboard-view")).to_be_visible()
                await expect(page.locator("#dash-total")).to_have_text("申请 10 份")

                # The funnel: drawn, and its table's numbers
                funnel = page.locator("#dash-funnel-body")
                await expect(funnel.locator('tr[data-stage="applied"] td').nth(1)).to_have_text("10")
                await expect(funnel.locator('tr[data-stage="invited"] td').nth(1)).to_have_text("7")
                await expect(funnel.locator('tr[data-stage="invited"] td').nth(4)).to_have_text("<5")  # 3 dropped
                await expect(funnel.locator('tr[data-stage="advanced"] td').nth(2)).to_have_text("83.3%")
                await expect(page.locator("#dash-pass-rate")).to_contain_text("83.3%")
                for chart in ("dash-funnel", "dash-hist-match", "dash-hist-interview", "dash-questions"):
                    canvas = page.locator(f"#{chart} canvas")
                    await expect(canvas).to_have_count(1)
                    box = await canvas.bounding_box()
                    assert box and box["width"] > 200 and box["height"] > 100, chart
                # something was painted: the funnel's canvas is not blank
                painted = await page.locator("#dash-funnel canvas").evaluate(
                    "c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
                    " let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }"
                )
                assert painted > 1000

                sources = page.locator("#dash-sources-body")
                await expect(sources.locator('tr[data-source="campus"] td').nth(1)).to_have_text("7")
                await expect(sources.locator('tr[data-source="campus"] td').nth(8)).to_have_text("1200 CNY")
                await expect(sources.locator('tr[data-source="liepin"] td').nth(1)).to_have_text("<5")
                await expect(page.locator('#dash-stages-body tr[data-stage="applied"] td').nth(1)).to_have_text("10")
                await expect(page.locator('#dash-stages-body tr[data-stage="applied"] td').nth(2)).to_have_text("<1 分钟")
                await expect(page.locator('#dash-invites-body tr[data-figure="opened"] td').nth(2)).to_have_text("85.7%")
                validity = page.locator("#dash-validity-body")
                probation = validity.locator(f'tr[data-job="{JOB}"][data-score="interview_score"][data-outcome="probation_rating"] td')
                await expect(probation.nth(0)).to_have_text("理财经理")  # the job's title
                await expect(probation.nth(3)).to_have_text("6")
                await expect(probation.nth(4)).to_have_text("0.84")
                await expect(probation.nth(5)).to_have_text(re.compile(r"^\[-?0\.\d\d, 0\.\d\d\]$"))
                onsite = validity.locator(f'tr[data-job="{JOB}"][data-score="interview_score"][data-outcome="onsite"] td')
                await expect(onsite.nth(4)).to_have_text("需要至少5人")
                await expect(onsite.nth(3)).to_have_text("<5")

                # A job picked: the CSV links follow the filter
                await page.locator("#dash-job").select_option(JOB)
                await page.locator("#dash-apply").click()
                await expect(page.locator("#dash-csv-sources")).to_have_attribute("href", f"/v1/analytics/sources?job_id={JOB}&format=csv")
                raw = await page.evaluate("async u => Array.from(new Uint8Array(await (await fetch(u)).arrayBuffer()))",
                                          f"/v1/analytics/sources?job_id={JOB}&format=csv")
                csv = bytes(raw)
                assert csv.startswith(b"\xef\xbb\xbfsource,") and b"\r\ncampus,7," in csv  # the BOM, for Excel
                await page.screenshot(path=str(SCREENSHOT), full_page=True)

                # English
                await page.locator("#lang-toggle").click()
                await expect(onsite.nth(4)).to_have_text("Needs at least 5 people")
                await expect(page.locator("#dash-pass-rate")).to_contain_text("Interview pass rate")
                assert log.errors == []
            except Exception:
                print(log.dump())
                raise
        finally:
            await browser.close()
