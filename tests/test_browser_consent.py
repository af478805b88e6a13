"""Consent per the deployment's policy profile, in a real browser.

Headless Chromium with a fake camera and microphone (as in
test_browser_e2e.py) against in-process servers sharing one set of real
models (tests/helpers.py LiveServer): the default ``pipl`` profile, where
voice and face are consented to separately and declining the face means an
audio-only interview, and the ``eu`` profile, one consent and no emotion
inference. The HR page's "New session" form makes a session for a job with a
candidate profile. Screenshots go to /tmp/candor-shots/.
"""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from runtime.models import Models
from tests import test_browser_e2e as e2e
from tests.helpers import HR_TOKEN, LiveServer, make_settings
from tests.media_fixtures import AISHELL_WAV, JFK_FLAC, OBAMA_JPG, require_media
from tests.test_browser_e2e import (
    CHROMIUM,
    EventWatcher,
    Media,
    PageLog,
    chromium,
    final_texts,
    good_face,
    playwright_api,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# The fake camera and microphone files, and the screenshot folder, of test_browser_e2e.py.
media = e2e.media
shots = e2e.shots

HR = {"Authorization": f"Bearer {HR_TOKEN}"}
RESULT_TIMEOUT_S = 60


@pytest.fixture(scope="module", autouse=True)
def _browser_available() -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    require_media(JFK_FLAC, AISHELL_WAV, OBAMA_JPG)


# These tests are about the pages; admission control (tests/test_consent.py)
# must not turn their sessions away on a small machine.
ROOMY = {"max_live_sessions": 32, "admission_loop_lag_s": 5.0, "admission_backlog_s": 60.0}


@pytest.fixture(scope="module")
def live_server(models: Models, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The default policy profile (pipl)."""
    server = LiveServer(make_settings(tmp_path_factory.mktemp("pipl"), **ROOMY), models).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def eu_server(models: Models, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(make_settings(tmp_path_factory.mktemp("eu"), policy="eu", **ROOMY), models).start()
    yield server
    server.stop()


async def new_session(server: LiveServer, body: dict[str, Any] | None = None) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        r = await http.post("/v1/sessions", json=body or {}, headers=HR)
    assert r.status_code == 201, r.text
    return r.json()


def counts(w: EventWatcher) -> dict[str, int]:
    out: dict[str, int] = {}
    for e in w.events:
        out[e["type"]] = out.get(e["type"], 0) + 1
    return out


def spoken(w: EventWatcher) -> list[str]:
    return [t for t in final_texts(w) if t.strip()]


async def test_pipl_without_face_consent_publishes_audio_only(
    live_server: LiveServer, media: Media, shots: Any
) -> None:
    """Voice yes, face no: the camera never opens, the offer carries audio only,
    speech is transcribed and no face is analysed. The first WHIP POST meets a
    full server (503, Retry-After: 2): the page says so and tries again by
    itself. Withdrawing the consent ends the interview on the page."""
    expect = playwright_api.expect
    session = await new_session(live_server)
    watcher = EventWatcher(session["events_url"], HR_TOKEN).start()
    log = PageLog("candidate-audio-only")
    whip_posts: list[str] = []

    async def busy_once(route: Any) -> None:
        whip_posts.append(route.request.method)
        if route.request.method == "POST" and len(whip_posts) == 1:
            await route.fulfill(
                status=503,
                headers={"Retry-After": "2", "Content-Type": "application/problem+json"},
                body='{"type": "https://candor.invalid/problems/server-busy", "title": "Server busy", '
                '"status": 503, "detail": "too many interviews right now"}',
            )
        else:
            await route.fallback()

    try:
        async with chromium(media.video, media.jfk) as browser:
            context = await browser.new_context(viewport={"width": 1000, "height": 900}, locale="zh-CN")
            page = await context.new_page()
            log.attach(page)
            await page.route(re.compile(r"/whip/[^/]+$"), busy_once)
            try:
                await page.goto(session["candidate_url"])
                await expect(page.locator("#consent-scopes")).to_be_visible()
                await expect(page.locator("#notice-emotion")).to_contain_text("面部表情")
                await expect(page.locator("#consent-face-notice")).to_contain_text("只使用音频")
                await page.locator("#consent").check()
                await page.locator("#consent-voice").check()
                await page.screenshot(path=str(shots / "candidate-consent-pipl.png"), full_page=True)
                await page.get_by_role("button", name="同意并继续").click()

                start = page.get_by_role("button", name="开始面试")
                await expect(start).to_be_enabled(timeout=20_000)
                await expect(page.locator("#preview-placeholder")).to_have_text("仅音频：摄像头不会开启")
                assert await page.evaluate("() => window.candor.trackKinds") == ["audio"]
                assert await page.evaluate("() => window.candor.video") is False
                assert await page.evaluate("() => document.getElementById('preview').srcObject") is None
                await page.screenshot(path=str(shots / "candidate-check-audio-only.png"), full_page=True)
                await start.click()

                # The full server: said plainly, with the time until the next try.
                await expect(page.locator("#live-detail")).to_contain_text(
                    re.compile(r"服务器繁忙，\d+ 秒后自动重试"), timeout=10_000
                )
                await page.screenshot(path=str(shots / "candidate-server-busy.png"), full_page=True)
                await page.wait_for_function("() => window.candor.state === 'live'", timeout=30_000)
                assert len([m for m in whip_posts if m == "POST"]) == 2, whip_posts
                assert await page.evaluate("() => window.candor.senderKinds") == ["audio"]

                given = await watcher.wait_for(lambda w: w.of_type("consent.given"), 10, "consent.given")
                payload = given[0]["payload"]
                assert payload["policy"] == "pipl", payload
                assert payload["voice"] is True and payload["face"] is False, payload
                await watcher.wait_for(spoken, RESULT_TIMEOUT_S, "a transcript.final from the fake microphone")
                await watcher.wait_for(lambda w: w.of_type("media.flowing"), 5, "media.flowing")
                seen = counts(watcher)
                print(f"\naudio only: {seen}; finals: {spoken(watcher)!r}")
                assert not watcher.of_type("face.metrics"), seen
                assert not watcher.of_type("expression.metrics"), seen

                # Withdraw (confirm first): the page ends; the server stops.
                connection = watcher.of_type("connection.started")[-1]["payload"]["connection_id"]
                await page.get_by_role("button", name="撤回同意").click()
                await expect(page.locator("#withdraw-confirm")).to_be_visible()
                await page.get_by_role("button", name="确认撤回").click()
                await expect(page.locator("#step-done")).to_be_visible(timeout=10_000)
                await expect(page.locator("#done-title")).to_have_text("您已撤回同意")
                assert await page.evaluate("() => window.candor.state") == "finished"
                await watcher.wait_for(lambda w: w.of_type("consent.withdrawn"), 10, "consent.withdrawn")
                await watcher.wait_for(
                    lambda w: [e for e in w.of_type("connection.ended") if e["payload"]["connection_id"] == connection],
                    15,
                    "connection.ended after the withdrawal",
                )
                await page.screenshot(path=str(shots / "candidate-withdrawn.png"), full_page=True)
                assert not log.errors, log.errors
            except BaseException:
                print(log.dump(), file=sys.stderr)
                raise
            finally:
                await context.close()
    finally:
        await watcher.stop()


async def test_pipl_agree_needs_the_general_and_the_voice_consent(
    live_server: LiveServer, media: Media, shots: Any
) -> None:
    expect = playwright_api.expect
    session = await new_session(live_server)
    log = PageLog("candidate-consent-boxes")
    async with chromium(media.video, media.jfk) as browser:
        context = await browser.new_context(locale="zh-CN")
        page = await context.new_page()
        log.attach(page)
        try:
            await page.goto(session["candidate_url"])
            agree = page.get_by_role("button", name="同意并继续")
            general, voice, face = page.locator("#consent"), page.locator("#consent-voice"), page.locator("#consent-face")
            await expect(page.locator("#consent-scopes")).to_be_visible()
            await expect(agree).to_be_disabled()
            await face.check()
            await expect(agree).to_be_disabled()  # face is optional, and not enough
            await general.check()
            await expect(agree).to_be_disabled()  # voice is required
            await general.uncheck()
            await voice.check()
            await expect(agree).to_be_disabled()  # so is the general consent
            await general.check()
            await expect(agree).to_be_enabled()
            await face.uncheck()
            await expect(agree).to_be_enabled()  # declining the face is fine
            # Every text has its English.
            await page.get_by_role("button", name="English").click()
            await expect(page.locator("#consent-text")).to_contain_text("a person makes the decision")
            await expect(page.locator("#consent-face-notice")).to_contain_text("audio only")
            await expect(page.get_by_role("button", name="Agree and continue")).to_be_enabled()
            await page.screenshot(path=str(shots / "candidate-consent-pipl-en.png"), full_page=True)
            # Nothing was sent before the click: no consent recorded yet.
            async with httpx.AsyncClient(base_url=live_server.url, timeout=10) as http:
                r = await http.get(f"/v1/sessions/{session['id']}", headers=HR)
            assert r.status_code == 200, r.text
            assert r.json()["policy"] == "pipl" and r.json()["consent"] is None, r.json()
            assert not log.errors, log.errors
        finally:
            await context.close()


async def test_eu_one_consent_and_no_emotion_inference(eu_server: LiveServer, media: Media, shots: Any) -> None:
    expect = playwright_api.expect
    session = await new_session(eu_server)
    watcher = EventWatcher(session["events_url"], HR_TOKEN).start()
    log = PageLog("candidate-eu")
    try:
        async with chromium(media.video, media.jfk) as browser:
            context = await browser.new_context(viewport={"width": 1000, "height": 900}, locale="zh-CN")
            page = await context.new_page()
            log.attach(page)
            try:
                await page.goto(session["candidate_url"])
                await expect(page.locator("#step-notice")).to_be_visible()
                await expect(page.locator("#consent-scopes")).to_be_hidden()
                await expect(page.locator("#notice-emotion")).to_contain_text("不进行任何情绪识别")
                await expect(page.locator("#consent-text")).to_contain_text("摄像头和麦克风")
                agree = page.get_by_role("button", name="同意并继续")
                await expect(agree).to_be_disabled()
                await page.locator("#consent").check()
                await expect(agree).to_be_enabled()
                await page.screenshot(path=str(shots / "candidate-consent-eu.png"), full_page=True)
                await agree.click()
                start = page.get_by_role("button", name="开始面试")
                await expect(start).to_be_enabled(timeout=20_000)
                await page.wait_for_function(
                    "() => { const v = document.getElementById('preview'); return v.videoWidth > 0; }",
                    timeout=15_000,
                )
                await start.click()
                await page.wait_for_function("() => window.candor.state === 'live'", timeout=30_000)
                assert sorted(await page.evaluate("() => window.candor.senderKinds")) == ["audio", "video"]

                given = await watcher.wait_for(lambda w: w.of_type("consent.given"), 10, "consent.given")
                payload = given[0]["payload"]
                assert payload["policy"] == "eu", payload
                assert (payload["voice"], payload["face"], payload["emotion"]) == (True, True, False), payload
                await watcher.wait_for(good_face, RESULT_TIMEOUT_S, "face.metrics with one face present")
                await watcher.wait_for(spoken, RESULT_TIMEOUT_S, "a transcript.final")
                await asyncio.sleep(1.0)  # a few more metric windows
                seen = counts(watcher)
                print(f"\neu: {seen}")
                assert len(watcher.of_type("face.metrics")) >= 2, seen
                assert not watcher.of_type("expression.metrics"), seen
                # Voice features may be measured; no arousal is inferred.
                assert all(e["payload"].get("arousal") is None for e in watcher.of_type("voice.affect")), seen

                # Consent withdrawn elsewhere (the HR-issued candidate token):
                # the server hangs up, WHIP answers 403 consent-required, and
                # the page stops and asks again instead of retrying.
                async with httpx.AsyncClient(base_url=eu_server.url, timeout=10) as http:
                    r = await http.delete(
                        f"/v1/sessions/{session['id']}/consent",
                        headers={"Authorization": f"Bearer {session['candidate_token']}"},
                    )
                assert r.status_code == 204, r.text
                await expect(page.locator("#step-notice")).to_be_visible(timeout=20_000)
                await expect(page.locator("#banner-text")).to_contain_text("继续面试需要您的同意")
                await expect(page.locator("#consent")).not_to_be_checked()
                assert await page.evaluate("() => window.candor.trackKinds") == []
                await page.locator("#consent").check()
                await agree.click()
                await expect(start).to_be_enabled(timeout=20_000)
                await expect(page.locator("#banner")).to_be_hidden()
                await watcher.wait_for(lambda w: len(w.of_type("consent.given")) == 2, 10, "consent.given again")
                assert not log.errors, log.errors
            except BaseException:
                print(log.dump(), file=sys.stderr)
                raise
            finally:
                await context.close()
    finally:
        await watcher.stop()


async def test_hr_new_session_for_a_job_with_a_candidate_profile(
    live_server: LiveServer, media: Media, shots: Any
) -> None:
    expect = playwright_api.expect
    log = PageLog("hr-new-session")
    async with chromium(media.video, media.jfk) as browser:
        context = await browser.new_context(viewport={"width": 1280, "height": 1000}, locale="zh-CN")
        hr = await context.new_page()
        log.attach(hr)
        try:
            await hr.goto(f"{live_server.url}/hr/sessions")
            await hr.locator("#hr-token").fill(HR_TOKEN)
            await hr.locator("#hr-token").press("Enter")
            await expect(hr.locator("#list-view")).to_be_visible()
            await hr.get_by_role("button", name="新建会话").click()
            form = hr.locator("#new-session-form")
            await expect(form).to_be_visible()
            await expect(hr.locator("#ns-job option[value='wealth_manager']")).to_have_count(1)
            await hr.locator("#ns-job").select_option("wealth_manager")

            # A job without the candidate's name: said next to the name.
            await hr.get_by_role("button", name="创建链接").click()
            await expect(hr.locator("#ns-name-error")).to_contain_text("必须填写候选人姓名")
            await expect(hr.locator("#ns-name")).to_have_class(re.compile(r"\binvalid\b"))
            await expect(hr.locator("#new-session-result")).to_be_hidden()
            await form.screenshot(path=str(shots / "hr-new-session-name-missing.png"))

            # The server's 422 lands next to its field too.
            await hr.locator("#ns-name").fill("张三")
            await hr.locator("#ns-years").fill("-1")
            await hr.get_by_role("button", name="创建链接").click()
            await expect(hr.locator("#ns-years-error")).not_to_be_empty()
            await expect(hr.locator("#ns-name-error")).to_be_empty()
            await expect(hr.locator("#new-session-result")).to_be_hidden()

            await hr.locator("#ns-years").fill("3")
            await hr.locator("#ns-education").select_option("master")
            await hr.locator("#ns-skills").fill("资产配置, 客户服务")
            await hr.locator("#ns-certificates").fill("基金从业资格，AFP")
            await hr.locator("#ns-languages").fill("zh, en")
            await hr.get_by_role("button", name="创建链接").click()
            link = hr.locator("#candidate-link")
            await expect(link).to_have_value(re.compile(r"/interview#code=."))
            await expect(form).to_be_hidden()
            await expect(hr.locator("#ns-years-error")).to_be_empty()
            await hr.screenshot(path=str(shots / "hr-new-session-link.png"), full_page=True)
            watch = await hr.locator("#watch-new").get_attribute("href")
            session_id = watch.rstrip("/").rsplit("/", 1)[-1]

            async with httpx.AsyncClient(base_url=live_server.url, timeout=10) as http:
                r = await http.get(f"/v1/sessions/{session_id}", headers=HR)
                assert r.status_code == 200, r.text
                s = r.json()
                assert s["job_id"] == "wealth_manager", s
                cand = s["candidate"]
                assert cand["name"] == "张三" and cand["education"] == "master" and cand["years"] == 3, cand
                assert cand["skills"] == ["资产配置", "客户服务"], cand
                assert cand["certificates"] == ["基金从业资格", "AFP"], cand
                assert cand["languages"] == ["zh", "en"] and cand["accommodation"] is False, cand
                # The candidate opens the link and consents to voice only.
                code = (await link.input_value()).split("#code=", 1)[1]
                ex = await http.post("/v1/candidate/exchange", json={"code": code})
                assert ex.status_code == 200, ex.text
                token = ex.json()["token"]
                c = await http.post(
                    f"/v1/sessions/{session_id}/consent",
                    json={"voice": True, "face": False},
                    headers={"Authorization": f"Bearer {token}"},
                )
                assert c.status_code == 200, c.text

            # The live view shows the policy and that consent.
            await hr.locator("#watch-new").click()
            await expect(hr.locator("#live-view")).to_be_visible()
            await expect(hr.locator("#live-session-who")).to_contain_text("张三")
            await expect(hr.locator("#c-policy")).to_contain_text("PIPL")
            await expect(hr.locator("#c-voice")).to_have_text("已同意")
            await expect(hr.locator("#c-face")).to_have_text("未同意（仅音频）")
            await expect(hr.locator("#c-emotion")).to_contain_text("开启")
            await expect(hr.locator("#event-log li[data-type='consent.given']")).to_have_count(1)
            await hr.get_by_role("button", name="English").click()
            await expect(hr.locator("#c-face")).to_have_text("not given (audio only)")
            await hr.screenshot(path=str(shots / "hr-consent-live.png"), full_page=True)
            assert not log.errors, log.errors
        except BaseException:
            print(log.dump(), file=sys.stderr)
            raise
        finally:
            await context.close()
