"""Later outcomes and source costs, entered by HR in a real browser, and the dashboard following them.

The data is made through the real API first (the dashboard test's pipeline:
7 campus applications, 6 interviewed with reports scored 40-90, 5 advanced
and 1 rejected; 3 from liepin; 1 campus one invited and not decided). Four
of the interviewed have an on-site result recorded through the API, so the
dashboard's on-site correlation still says "需要至少5人". Then, in headless
Chromium against a real server on loopback, HR:

* enter a source cost on the dashboard (a bad amount first: refused next to
  the form, nothing sent), for all jobs and then for one job, and see the
  cost and the cost per hire in the sources table;
* open a decided application, record its outcome (a bad 12-month figure
  first: refused, nothing recorded), see it read back with who and when,
  and find it there after a reload; an undecided one says so but still has
  the card;
* go back to the dashboard, where the on-site correlation now has 5 people
  and shows its rho.

Screenshots go to /tmp/candor-shots/outcomes/ (Chinese needs fonts-noto-cjk).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from runtime.models import Models
from server.app import create_app
from tests.helpers import HR_TOKEN, LiveServer, make_settings
from tests.test_analytics_api import HR, JOB, SCORES, apply, interview, wait_state
from tests.test_browser_e2e import CHROMIUM, PageLog, playwright_api

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = Path("/tmp/candor-shots/outcomes")
ONSITE = ["fail", "pass", "fail", "pass"]  # the first four interviewed, through the API; the fifth through the page


def _models() -> Models:
    models = Models(vad=None, asr=None, face=None, encoder=None)
    models.warm = True
    return models


@pytest.fixture(scope="module")
def outcomes_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, list[str]]]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    folder = tmp_path_factory.mktemp("outcomes")
    settings = make_settings(folder, contact_key="test-contact-key")
    with TestClient(create_app(settings, models=_models(), load_models=False), base_url="http://127.0.0.1") as client:
        campus = [apply(client, seed, "campus") for seed in range(7)]
        for seed in range(10, 13):
            apply(client, seed, "liepin")
        for i, app in enumerate(campus):
            body = client.post(f"/v1/applications/{app['id']}/invite", headers=HR).json()
            if i == 6:
                continue  # invited, never interviewed, not decided
            client.post("/v1/candidate/exchange", json={"code": body["invite_url"].split("#code=")[1]})
            interview(client, body["session_id"], SCORES[i])
            wait_state(client, app["id"], "interviewed")
            for _ in range(100):
                if client.get(f"/v1/sessions/{body['session_id']}/report", headers=HR).status_code == 200:
                    break
                time.sleep(0.05)
            decided = client.post(f"/v1/applications/{app['id']}/decide", json={"decision": "reject" if i == 0 else "advance"}, headers=HR)
            assert decided.status_code == 200, decided.text
            if i < len(ONSITE):
                put = client.put(f"/v1/applications/{app['id']}/outcomes", json={"onsite": ONSITE[i]}, headers=HR)
                assert put.status_code == 200, put.text
    server = LiveServer(make_settings(folder, contact_key="test-contact-key"), _models()).start()
    yield server, [a["id"] for a in campus]
    server.stop()


def _outcome(server: LiveServer, application_id: str) -> dict[str, Any]:
    got = httpx.get(f"{server.url}/v1/applications/{application_id}/outcomes", headers=HR)
    assert got.status_code == 200, got.text
    return got.json()


async def test_hr_record_an_outcome_and_a_cost_and_the_dashboard_follows(outcomes_server: tuple[LiveServer, list[str]]) -> None:
    server, campus = outcomes_server
    expect = playwright_api.expect
    SHOTS.mkdir(parents=True, exist_ok=True)
    log = PageLog("hr")
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            page = await (await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")).new_page()
            log.attach(page)
            try:
                await page.goto(f"{server.url}/hr/dashboard")
                await page.locator("#hr-token").fill(HR_TOKEN)
                await page.get_by_role("button", name="登录").click()
                await expect(page.locator("#dashboard-view")).to_be_visible()
                await expect(page.locator("#dash-total")).to_have_text("申请 10 份")

                # Before: four on-site results, too few for a correlation; no cost entered
                validity = page.locator("#dash-validity-body")
                onsite = validity.locator(f'tr[data-job="{JOB}"][data-score="interview_score"][data-outcome="onsite"] td')
                await expect(onsite.nth(3)).to_have_text("<5")
                await expect(onsite.nth(4)).to_have_text("需要至少5人")
                campus_row = page.locator('#dash-sources-body tr[data-source="campus"] td')
                await expect(campus_row.nth(7)).to_have_text("—")
                await expect(campus_row.nth(8)).to_have_text("—")

                # A cost for all jobs: a bad amount is refused next to the form, nothing sent
                await expect(page.locator("#dash-cost-scope")).to_have_text(re.compile(r"^计入：全部岗位"))
                await expect(page.locator("#dash-cost-currency")).to_have_value("CNY")
                await page.locator("#dash-cost-source").select_option("campus")
                await page.locator("#dash-cost-amount").fill("-5")
                await page.locator("#dash-cost-save").click()
                await expect(page.locator("#dash-cost-error")).to_have_text("金额须为不小于 0 的数字，例如 6000 或 6,000.50")
                await expect(page.locator("#dash-cost-amount")).to_have_attribute("aria-invalid", "true")
                sources_card = page.locator(".card", has=page.locator("#dash-cost"))
                await sources_card.screenshot(path=str(SHOTS / "dashboard-cost-refused.png"))
                await expect(campus_row.nth(7)).to_have_text("—")
                await page.locator("#dash-cost-amount").fill("6,000")
                await page.locator("#dash-cost-save").click()
                await expect(page.locator("#dash-cost-error")).to_have_text("已保存：campus 6000 CNY（全部岗位）")
                await expect(page.locator("#dash-cost-amount")).not_to_have_attribute("aria-invalid", "true")
                await expect(campus_row.nth(7)).to_have_text("6000 CNY")
                await expect(campus_row.nth(8)).to_have_text("1200 CNY")  # 5 advanced

                # For one job: the all-jobs spend is not split by job, so the job's own figure is entered
                await page.locator("#dash-job").select_option(JOB)
                await page.locator("#dash-apply").click()
                await expect(page.locator("#dash-cost-scope")).to_have_text("计入：理财经理")
                await expect(campus_row.nth(7)).to_have_text("—")
                await page.locator("#dash-cost-source").select_option("campus")
                await page.locator("#dash-cost-amount").fill("4500")
                await page.locator("#dash-cost-save").click()
                await expect(page.locator("#dash-cost-error")).to_have_text("已保存：campus 4500 CNY（理财经理）")
                await expect(campus_row.nth(7)).to_have_text("4500 CNY")
                await expect(campus_row.nth(8)).to_have_text("900 CNY")
                await sources_card.screenshot(path=str(SHOTS / "dashboard-cost-saved.png"))
                costs = httpx.get(f"{server.url}/v1/analytics/sources", params={"job_id": JOB}, headers=HR).json()["sources"]
                assert [(s["cost"], s["currency"]) for s in costs if s["source"] == "campus"] == [(4500.0, "CNY")]

                # A decided application: the card, empty, with no "not decided" hint
                target = campus[4]
                await page.goto(f"{server.url}/hr/applications/{target}")
                await expect(page.locator("#application-view")).to_be_visible()
                card = page.locator("#outcome-card")
                await expect(card.locator("h2")).to_have_text("后续结果")
                await expect(page.locator("#oc-meta")).to_have_text("尚未记录。")
                await expect(page.locator("#oc-hint")).to_be_hidden()
                await expect(page.locator("#oc-onsite")).to_have_value("")

                # A 12-month figure that is not a number: refused, nothing recorded
                await page.locator("#oc-onsite").select_option("pass")
                await page.locator("#oc-probation").select_option("4")
                await page.locator("#oc-performance").fill("优秀")
                await page.locator("#oc-save").click()
                await expect(page.locator("#oc-error")).to_have_text("12个月绩效须为数字，例如 3.5；没有结果请留空")
                await expect(page.locator("#oc-performance")).to_have_attribute("aria-invalid", "true")
                assert _outcome(server, target)["recorded_at"] is None

                await page.locator("#oc-performance").fill("3.5")
                await page.locator("#oc-save").click()
                await expect(page.locator("#oc-error")).to_have_text("已保存。")
                await expect(page.locator("#oc-meta")).to_have_text(re.compile(r"^由 HR 记录于 \S+"))
                await expect(page.locator("#oc-performance")).to_have_value("3.5")
                stored = _outcome(server, target)
                assert (stored["onsite"], stored["probation_rating"], stored["performance_12m"], stored["recorded_by"]) == ("pass", 4, 3.5, "hr")
                await card.scroll_into_view_if_needed()
                await page.screenshot(path=str(SHOTS / "application-outcome-saved.png"))

                # A reload shows the record read from the server
                await page.reload()
                await expect(page.locator("#oc-meta")).to_have_text(re.compile(r"^由 HR 记录于"))
                await expect(page.locator("#oc-onsite")).to_have_value("pass")
                await expect(page.locator("#oc-probation")).to_have_value("4")
                await expect(page.locator("#oc-performance")).to_have_value("3.5")
                await expect(page.locator("#oc-error")).to_have_text("")

                # Clearing a field clears it on the server (the PUT is the whole record)
                await page.locator("#oc-probation").select_option("")
                await page.locator("#oc-save").click()
                await expect(page.locator("#oc-error")).to_have_text("已保存。")
                stored = _outcome(server, target)
                assert (stored["onsite"], stored["probation_rating"], stored["performance_12m"]) == ("pass", None, 3.5)

                # English
                await page.locator("#lang-toggle").click()
                await expect(card.locator("h2")).to_have_text("Later outcomes")
                await expect(page.locator("#oc-meta")).to_have_text(re.compile(r"^Recorded by HR at "))
                await expect(page.locator("#oc-error")).to_have_text("Saved.")
                await page.screenshot(path=str(SHOTS / "application-outcome-en.png"))
                await page.locator("#lang-toggle").click()

                # Not decided: the card says so, and still takes a result
                await page.goto(f"{server.url}/hr/applications/{campus[6]}")
                await expect(page.locator("#app-state")).to_have_attribute("data-state", re.compile(r"^invited"))
                await expect(page.locator("#oc-hint")).to_be_visible()
                await expect(page.locator("#oc-hint")).to_contain_text("还没有决定")
                await expect(page.locator("#oc-meta")).to_have_text("尚未记录。")
                await expect(page.locator("#oc-save")).to_be_enabled()
                await page.locator("#outcome-card").scroll_into_view_if_needed()
                await page.screenshot(path=str(SHOTS / "application-undecided.png"))

                # After: five on-site results, and the correlation shows
                # (scores 40-80 against fail, pass, fail, pass, pass: Spearman's rho 5/sqrt(75) = 0.58)
                await page.goto(f"{server.url}/hr/dashboard")
                await expect(page.locator("#dashboard-view")).to_be_visible()
                await expect(onsite.nth(3)).to_have_text("5")
                await expect(onsite.nth(4)).to_have_text("0.58")
                await expect(onsite.nth(5)).to_have_text(re.compile(r"^\[-?0\.\d\d, 0\.\d\d\]$"))
                everyone = validity.locator('tr[data-job="(all)"][data-score="interview_score"][data-outcome="onsite"] td')
                await expect(everyone.nth(4)).to_have_text("0.58")
                await expect(campus_row.nth(7)).to_have_text("6000 CNY")  # all jobs again: the all-jobs entry
                await page.locator(".card", has=validity).screenshot(path=str(SHOTS / "dashboard-validity.png"))
                assert log.errors == []
            except Exception:
                print(log.dump())
                raise
        finally:
            await browser.close()
