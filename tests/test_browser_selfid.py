"""The voluntary self-identification step after the interview, in a real browser (issue 12, section 6).

Headless Chromium with the fake camera and microphone of test_browser_e2e.py
against Candor on loopback (no models: the step is about the page and the
API, not the analysis). The candidate opens their link, consents, and the
interview ends (``Candor.candidate.finish()``, what the "结束面试" button and
the server's interview_ended call; the live interview has its own browser
tests). The finished page then asks, optionally, for sex and age band (no
ethnicity under pipl), explains why, and records the answer with the token
the link exchanged; "skip" records nothing. HR's view of the application
never shows it. Screenshots go to /tmp/candor-shots/.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest

from applications.pipeline import apply, receive
from db import Store
from jobs.models import CandidateProfile
from tests import test_browser_e2e as e2e
from tests.helpers import HR_TOKEN, LiveServer, make_settings
from tests.test_browser_e2e import CHROMIUM, PageLog, chromium, playwright_api

pytestmark = [pytest.mark.browser]

media = e2e.media
shots = e2e.shots
HR = {"Authorization": f"Bearer {HR_TOKEN}"}


@pytest.fixture(scope="module", autouse=True)
def _browser_available() -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(make_settings(tmp_path_factory.mktemp("selfid")), None, load_models=False) as live:
        yield live


def invited(server: LiveServer) -> tuple[dict[str, Any], str]:
    """A screened application invited to an interview (its session), as HR's invite makes it."""
    store: Store = server.candor.store.store
    candidate = store.create_candidate(CandidateProfile(name="林晓雨"))
    at = datetime.now(timezone.utc)
    status, received = receive(actor="hr", at=at, actor_id="hr")
    status, screened = apply(status, "screen", actor="system", at=at, outcome="advance")
    record = store.create_application(
        job_id="wealth_manager", job_version=1, candidate_id=candidate.id, state=status.state, outcome=status.outcome,
        source="campus", external_id=None, name="林晓雨", phone_key=None, email_key=None, score=80.0, resume={},
        resume_text="", parsed={}, screening={}, timeline=[received.to_dict(), screened.to_dict()],
    )
    session = httpx.post(f"{server.url}/v1/sessions", json={}, headers=HR).json()
    status, entry = apply(status, "invite", actor="hr", at=at, actor_id="hr")
    assert store.move_application(record.id, expect_state="screened", state=status.state, outcome=None,
                                  entry=entry.to_dict(), session_id=session["id"])
    return session, record.id


async def finished_page(browser: Any, session: dict[str, Any], log: PageLog) -> Any:
    expect = playwright_api.expect
    context = await browser.new_context(viewport={"width": 900, "height": 1100}, locale="zh-CN")
    page = await context.new_page()
    log.attach(page)
    await page.goto(session["candidate_url"])
    await page.locator("#consent").check()
    await page.locator("#consent-voice").check()
    await page.get_by_role("button", name="同意并继续").click()
    await expect(page.get_by_role("button", name="开始面试")).to_be_visible(timeout=20_000)
    await page.evaluate("() => Candor.candidate.finish()")  # the interview ends
    await expect(page.locator("#step-done")).to_be_visible()
    return page


async def test_the_candidate_answers_or_skips_and_hr_never_see_it(server: LiveServer, media: Any, shots: Any) -> None:
    expect = playwright_api.expect
    store: Store = server.candor.store.store
    answering, app_id = invited(server)
    skipping, skipped_app = invited(server)
    log = PageLog("candidate-selfid")
    async with chromium(media.video, media.jfk) as browser:
        try:
            page = await finished_page(browser, answering, log)
            step = page.locator("#selfid")
            await expect(step).to_be_visible(timeout=10_000)
            await expect(step.locator("h2")).to_contain_text("可跳过")
            await expect(step).to_contain_text("招聘人员看不到，也不会用于对您的任何评估")
            legends = await step.locator("legend").all_inner_texts()
            assert legends == ["性别", "年龄段"], legends  # pipl: no ethnicity
            await expect(step.get_by_label("不愿透露").first).to_be_visible()
            await page.screenshot(path=str(shots / "candidate-selfid.png"), full_page=True)

            await page.locator("#lang-toggle").click()  # the step follows the page's language
            await expect(step.locator("h2")).to_contain_text("you can skip this")
            await expect(step).to_contain_text("HR never see it")
            await page.locator("#lang-toggle").click()

            await step.get_by_label("女").check()
            await step.get_by_label("35–44 岁").check()
            await step.get_by_role("button", name="提交").click()
            await expect(page.locator("#selfid-status")).to_contain_text("谢谢", timeout=10_000)
            await expect(page.locator("#selfid-form")).to_be_hidden()
            answer = store.self_ids_for_applications([app_id])[app_id]
            assert (answer.sex, answer.age_band, answer.ethnicity) == ("female", "35_44", None)
            await page.screenshot(path=str(shots / "candidate-selfid-thanks.png"), full_page=True)

            # another candidate skips: nothing is recorded
            other = await finished_page(browser, skipping, log)
            await expect(other.locator("#selfid")).to_be_visible(timeout=10_000)
            await other.locator("#selfid").get_by_role("button", name="跳过").click()
            await expect(other.locator("#selfid-status")).to_contain_text("已跳过")
            assert store.self_ids_for_applications([skipped_app]) == {}
            assert not store.self_id_answered(skipping["id"])
            assert not log.errors, log.errors
        except BaseException:
            print(log.dump(), file=sys.stderr)
            raise

    async with httpx.AsyncClient(base_url=server.url, headers=HR) as http:
        seen = (await http.get(f"/v1/applications/{app_id}")).text + (await http.get(f"/v1/applications/{app_id}/timeline")).text
    assert "35_44" not in seen and "female" not in seen
    # the audit counts her
    async with httpx.AsyncClient(base_url=server.url, headers=HR) as http:
        body = (await http.get("/v1/audits/bias?job_id=wealth_manager")).json()
    sex = next(t for t in body["decision_points"][0]["tables"] if t["category"] == "sex")
    assert [(g["group"], g["applicants"]) for g in sex["groups"]] == [("female", 1)] and sex["unknown"] == 1
