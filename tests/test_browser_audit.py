"""The auditor's view of the HR page (/hr/audit) in a real browser.

A real Candor on loopback (no speech models); an auditor is made through
the real API (POST /v1/users with the HR token), and the HR token reads the
trail 105 times first so that it has more than one page. Headless Chromium
(Playwright) signs in with the auditor's login and password, as a person
would, and lands on the audit view: no jobs or sessions in the nav, the
newest 100 entries with their own sign-in among them, "next page" for the
older ones, a filter by action, a CSV link with that filter that answers
the matching entries, "verify chain" that says intact, and the bias audit's
"open report" link that points at /v1/audits/bias with the job and dates
and opens a 200 HTML page in a new tab; in English too; a reload keeps
the view; an entry edited in the database file is named by "verify"; a
recruiter has no audit view in the nav. A screenshot goes to
/tmp/candor-audit-trail.png and /tmp/candor-audit.png (Chinese needs fonts-noto-cjk) for a look by eye.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from runtime.models import Models
from tests.helpers import HR_TOKEN, LiveServer, make_settings
from tests.test_browser_e2e import CHROMIUM, PageLog, playwright_api

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HR = {"Authorization": f"Bearer {HR_TOKEN}"}
PASSWORD = "auditor-view-password-1"
SCREENSHOT = Path("/tmp/candor-audit.png")


def _models() -> Models:
    models = Models(vad=None, asr=None, face=None, encoder=None)
    models.warm = True
    return models


@pytest.fixture(scope="module")
def audit_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    folder = tmp_path_factory.mktemp("auditview")
    with LiveServer(make_settings(folder, contact_key="test-contact-key"), _models(), load_models=False) as server:
        yield server


async def test_an_auditor_reads_and_verifies_the_trail_and_opens_the_bias_report(audit_server: LiveServer) -> None:
    url = audit_server.url
    folder = Path(audit_server.settings.database_url.removeprefix("sqlite:///")).parent
    made = httpx.post(f"{url}/v1/users", headers=HR, timeout=30, json={
        "login": "audit.qian", "display_name": "钱审计", "role": "auditor", "password": PASSWORD})
    assert made.status_code == 201, made.text
    auditor_id = made.json()["user"]["id"]
    recruiter = httpx.post(f"{url}/v1/users", headers=HR, timeout=30, json={
        "login": "rec.sun", "display_name": "孙招聘", "role": "recruiter", "password": PASSWORD, "job_ids": []})
    assert recruiter.status_code == 201, recruiter.text
    with httpx.Client(base_url=url, headers=HR, timeout=30) as admin:
        jobs = admin.get("/v1/jobs").json()["jobs"]
        for _ in range(105):  # audit.view entries: more than one page of 100
            assert admin.get("/v1/audit", params={"limit": 1}).status_code == 200
    job_id = jobs[0]["id"]
    page_answer = httpx.get(f"{url}/hr/audit", timeout=30)  # served like the other HR paths, under the same CSP
    assert page_answer.status_code == 200 and "audit-view" in page_answer.text
    assert "script-src 'self'" in page_answer.headers["Content-Security-Policy"]

    expect = playwright_api.expect
    log = PageLog("hr")
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            context = await browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
            page = await context.new_page()
            log.attach(page)
            await page.goto(f"{url}/hr")
            await expect(page.locator("#signin")).to_be_visible()
            await page.locator("#signin-login").fill("audit.qian")
            await page.locator("#signin-password").fill(PASSWORD)
            await page.get_by_role("button", name="登录").click()

            # An auditor lands on the audit view; no candidate data in the nav.
            await expect(page.locator("#audit-view")).to_be_visible()
            assert urlsplit(page.url).path == "/hr/audit"
            await expect(page.locator("#nav-audit")).to_be_visible()
            await expect(page.locator("#nav-audit")).to_have_class("active")
            await expect(page.locator("#nav-jobs")).to_be_hidden()
            await expect(page.locator("#nav-sessions")).to_be_hidden()
            await expect(page.locator("#nav-users")).to_be_hidden()
            await expect(page.locator("#me-badge")).to_contain_text("审计员")

            # The newest page: 100 entries, newest first, with the auditor's own sign-in.
            rows = page.locator("#audit-body tr[data-entry]")
            await expect(rows).to_have_count(100)
            sign_in = page.locator("#audit-body tr[data-entry]", has_text="hr.sign_in")
            await expect(sign_in.first).to_contain_text(auditor_id)
            await expect(sign_in.first).to_contain_text("审计员")
            first_ids = [int(i) for i in await rows.evaluate_all("rs => rs.map(r => r.getAttribute('data-entry'))")]
            assert first_ids == sorted(first_ids, reverse=True)
            await page.screenshot(path=str(SCREENSHOT.with_name("candor-audit-trail.png")))

            # Next page: older entries only, then back to the newest.
            await expect(page.locator("#audit-next")).to_be_visible()
            await page.locator("#audit-next").click()
            await expect(page.locator("#audit-newest")).to_be_visible()
            await expect(rows.first).not_to_have_attribute("data-entry", str(first_ids[0]))
            older = [int(i) for i in await rows.evaluate_all("rs => rs.map(r => r.getAttribute('data-entry'))")]
            assert older and max(older) < min(first_ids)
            await page.locator("#audit-newest").click()
            await expect(page.locator("#audit-newest")).to_be_hidden()

            # Filter by action: only sign-ins (the HR token's calls are not sign-ins).
            await page.locator("#audit-f-action").fill("hr.sign_in")
            await page.locator("#audit-apply").click()
            await expect(rows).to_have_count(1)
            await expect(rows.first.locator("td.audit-action")).to_have_text("hr.sign_in")
            await expect(rows.first).to_contain_text(auditor_id)
            await expect(page.locator("#audit-next")).to_be_hidden()

            # The CSV link carries the filter and answers those entries.
            csv_href = await page.locator("#audit-csv").get_attribute("href")
            assert parse_qs(urlsplit(csv_href).query) == {"action": ["hr.sign_in"], "format": ["csv"]}
            csv = await page.request.get(f"{url}{csv_href}")
            assert csv.status == 200
            assert csv.headers["content-type"].startswith("text/csv")
            lines = (await csv.text()).lstrip("\ufeff").strip().splitlines()
            assert len(lines) == 2 and ",hr.sign_in," in lines[1] and auditor_id in lines[1]

            # Verify the chain.
            await page.locator("#audit-verify").click()
            result = page.locator("#audit-verify-result")
            await expect(result).to_contain_text("哈希链完整")
            await expect(result).to_have_class("pill ok")

            # The bias audit: the job and dates go into the report's link; it opens a page.
            await expect(page.locator("#bias-audit")).to_be_visible()
            await page.locator("#bias-job").select_option(job_id)
            await page.locator("#bias-from").fill("2026-01-01")
            await page.locator("#bias-to").fill("2026-12-31")
            open_href = await page.locator("#bias-open").get_attribute("href")
            assert urlsplit(open_href).path == "/v1/audits/bias"
            assert parse_qs(urlsplit(open_href).query) == {
                "job_id": [job_id], "from": ["2026-01-01"], "to": ["2026-12-31"], "format": ["html"]}
            csv_bias = await page.locator("#bias-csv").get_attribute("href")
            assert parse_qs(urlsplit(csv_bias).query)["format"] == ["csv"]
            async with context.expect_page() as opened:
                await page.locator("#bias-open").click()
            report = await opened.value
            await report.wait_for_load_state()
            assert urlsplit(report.url).path == "/v1/audits/bias"
            assert await report.title() == "Bias audit · Candor"
            fetched = await page.request.get(f"{url}{open_href}")
            assert fetched.status == 200
            assert fetched.headers["content-type"].startswith("text/html")
            await report.close()

            # The summary from the JSON: the applicants counted.
            await page.locator("#bias-run").click()
            await expect(page.locator("#bias-summary")).to_contain_text("申请 0 份")
            await page.screenshot(path=str(SCREENSHOT), full_page=True)

            # In English too.
            await page.locator("#lang-toggle").click()
            await expect(page.locator("#nav-audit")).to_have_text("Audit")
            await expect(page.locator("#audit-verify")).to_have_text("Verify chain")
            await expect(page.locator("#me-badge")).to_contain_text("Auditor")
            await expect(result).to_contain_text("Chain intact")
            await expect(page.locator("#bias-summary")).to_contain_text("0 applications")
            await page.screenshot(path=str(SCREENSHOT.with_name("candor-audit-en.png")), full_page=True)

            # Someone edits an entry in the database file behind Candor's back: verify names it.
            with sqlite3.connect(folder / "candor.db") as db:
                db.execute("UPDATE audit_log SET target_id = 'someone_else' WHERE id = 2")
            await page.locator("#audit-verify").click()
            await expect(result).to_have_class("pill bad")
            await expect(result).to_contain_text("Entry 2 does not verify")
            await expect(result).to_contain_text("(1 entries before it check out)")

            # A reload with the cookie opens the view again (no sign-in form).
            await page.reload()
            await expect(page.locator("#audit-view")).to_be_visible()
            await expect(page.locator("#audit-body tr[data-entry]").first).to_be_visible()
            await expect(page.locator("#signin")).to_be_hidden()

            # A recruiter has no audit view in the nav.
            other = await (await browser.new_context(locale="zh-CN")).new_page()
            log.attach(other)
            await other.goto(f"{url}/hr")
            await other.locator("#signin-login").fill("rec.sun")
            await other.locator("#signin-password").fill(PASSWORD)
            await other.get_by_role("button", name="登录").click()
            await expect(other.locator("#jobs-view")).to_be_visible()
            await expect(other.locator("#nav-jobs")).to_be_visible()
            await expect(other.locator("#nav-audit")).to_be_hidden()
        finally:
            await browser.close()
    assert log.errors == [], log.dump()
    assert not [line for line in log.lines if "Content Security Policy" in line], log.dump()

    # What the auditor did in the page is on the trail too.
    with httpx.Client(base_url=url, headers=HR, timeout=30) as admin:
        mine = admin.get("/v1/audit", params={"actor": auditor_id, "limit": 500}).json()["entries"]
    actions = {e["action"] for e in mine}
    assert {"hr.sign_in", "audit.view", "audit.export", "audit.verify", "bias.viewed"} <= actions
