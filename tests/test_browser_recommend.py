"""Reviewers' recommendations on the HR session page, in a real browser (issue 12, section 1).

Headless Chromium (Playwright) against a real server on loopback
(tests/helpers.py LiveServer, no speech models). A reviewer of one job signs
in with a password, opens a session of that job (no interview held: the card
shows on the session page without one), records "advance" with a note, sees
it listed with the words "advice, not a decision"; after a reload it is still
there beside another user's (recorded through the API), the card reads in
English too, and the API lists it with role reviewer. A screenshot goes to
/tmp/candor-shots/recommend/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from runtime.models import Models
from tests.helpers import HR_TOKEN, LiveServer, make_settings
from tests.test_browser_e2e import CHROMIUM, SHOTS, PageLog, playwright_api

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HR = {"Authorization": f"Bearer {HR_TOKEN}"}
JOB = "wealth_manager"
LOGIN, PASSWORD = "rev.zhou", "recommend-password-1"
NOTE = "结构清晰，<b>案例</b>具体"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    models = Models(vad=None, asr=None, face=None, encoder=None)
    models.warm = True
    settings = make_settings(tmp_path_factory.mktemp("recommend"), contact_key="test-contact-key")
    with LiveServer(settings, models, load_models=False) as running:
        yield running


async def test_a_reviewer_records_a_recommendation_on_the_session_page(server: LiveServer) -> None:
    expect = playwright_api.expect
    made = httpx.post(f"{server.url}/v1/users", headers=HR, json={
        "login": LOGIN, "display_name": "Zhou", "role": "reviewer", "password": PASSWORD, "job_ids": [JOB]})
    assert made.status_code == 201, made.text
    with httpx.Client(base_url=server.url, timeout=30) as http:
        assert http.post("/v1/hr/login", json={"login": LOGIN, "password": PASSWORD}).status_code == 204
        me = http.get("/v1/me").json()
    assert me["role"] == "reviewer" and "recommendations.write" in me["permissions"]
    assert "decisions.write" not in me["permissions"]
    reviewer_id = me["user_id"]
    session = httpx.post(f"{server.url}/v1/sessions", headers=HR,
                         json={"job_id": JOB, "candidate": {"name": "Li Wei"}})
    assert session.status_code == 201, session.text
    sid = session.json()["id"]

    shots = SHOTS / "recommend"
    shots.mkdir(parents=True, exist_ok=True)
    log = PageLog("hr")
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            page = await (await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")).new_page()
            log.attach(page)
            try:
                await page.goto(f"{server.url}/hr/sessions/{sid}")
                await expect(page.locator("#signin")).to_be_visible()
                await page.locator("#signin-login").fill(LOGIN)
                await page.locator("#signin-password").fill(PASSWORD)
                await page.get_by_role("button", name="登录").click()
                await expect(page.locator("#live-view")).to_be_visible()
                if (await page.locator("#live-session-id").text_content()) != sid:
                    await page.goto(f"{server.url}/hr/sessions/{sid}")
                card = page.locator("#recm-card")
                await expect(card).to_be_visible()
                await expect(card).to_contain_text("推荐意见")
                await expect(card).to_contain_text("不是录用决定")
                await expect(card.locator(".recm-empty")).to_be_visible()

                # Record "advance" with a note: listed, the note as text (markup stays text).
                await card.get_by_label("建议推进").check()
                await card.locator("#recm-note").fill(NOTE)
                await card.get_by_role("button", name="记录我的意见").click()
                item = card.locator(f'.recm-item[data-user="{reviewer_id}"]')
                await expect(item).to_be_visible()
                await expect(item).to_have_attribute("data-recommendation", "advance")
                await expect(item.locator(".recm-advance")).to_have_text("建议推进")
                await expect(item.locator(".recm-note")).to_have_text(NOTE)
                await expect(item).to_contain_text(reviewer_id)
                await expect(card.locator(".recm-status")).to_have_text("已记录。")
                await page.screenshot(path=str(shots / "recorded.png"), full_page=True)

                # Someone else's (the admin's token, through the API) shows beside mine after a reload.
                other = httpx.post(f"{server.url}/v1/sessions/{sid}/recommendations", headers=HR,
                                   json={"recommendation": "hold", "note": "再看一轮"})
                assert other.status_code == 201, other.text

                # Reload: still there, and my choice is preselected.
                await page.reload()
                await expect(page.locator("#recm-card .recm-item")).to_have_count(2)
                await expect(page.locator('#recm-card .recm-item[data-recommendation="hold"]')).to_contain_text("再看一轮")
                item = page.locator(f'#recm-card .recm-item[data-user="{reviewer_id}"]')
                await expect(item).to_be_visible()
                await expect(item.locator(".recm-note")).to_have_text(NOTE)
                await expect(page.locator('#recm-card input[value="advance"]')).to_be_checked()
                # In English, the same card in words.
                await page.get_by_role("button", name="English").click()
                await expect(page.locator("#recm-card h2")).to_have_text("Recommendations")
                await expect(page.locator("#recm-card")).to_contain_text("not a decision")
                await expect(item.locator(".recm-advance")).to_have_text("Advance")
                await expect(page.locator("#recm-card button[type=submit]")).to_have_text("Record my recommendation")
                assert not log.errors, log.dump()
            except Exception:
                await page.screenshot(path=str(shots / "failure.png"), full_page=True)
                print(log.dump())
                raise
        finally:
            await browser.close()

    # The API lists it, with the role it was recorded under.
    listed = httpx.get(f"{server.url}/v1/sessions/{sid}/recommendations", headers=HR)
    assert listed.status_code == 200, listed.text
    mine = [r for r in listed.json()["recommendations"] if r["user_id"] == reviewer_id]
    assert len(mine) == 1 and mine[0]["role"] == "reviewer" and mine[0]["recommendation"] == "advance"
    assert mine[0]["note"] == NOTE
