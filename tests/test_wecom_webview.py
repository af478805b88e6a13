"""The candidate page in WeCom's webview, in a real browser (headless Chromium).

WeCom's in-app browser (user agent with ``wxwork``) often lacks
``getUserMedia``: the page then shows the "open in the system browser" step
with the link, one-time code and all, ready to copy, instead of a broken
page; the copied link still works in a real browser (the code was not used).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers import HR_TOKEN, LiveServer, make_settings
from tests.test_browser_e2e import CHROMIUM, playwright_api
from tests.test_contacts import vocabulary_models

pytestmark = [pytest.mark.browser]

HR = {"Authorization": f"Bearer {HR_TOKEN}"}
WECOM_UA = (
    "Mozilla/5.0 (Linux; Android 12; V2049A; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 "
    "Chrome/120.0.0.0 Mobile Safari/537.36 wxwork/4.1.0 MicroMessenger/7.0.1 NetType/WIFI Language/zh"
)
NO_MEDIA = "delete Navigator.prototype.mediaDevices;"


@pytest.fixture(scope="module", autouse=True)
def _browser_available() -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[LiveServer]:
    live = LiveServer(make_settings(tmp_path), vocabulary_models()).start()
    yield live
    live.stop()


async def test_wecom_webview_without_camera_shows_the_system_browser_step(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        made = await http.post("/v1/sessions", json={}, headers=HR)
    assert made.status_code == 201, made.text
    url = made.json()["candidate_url"]
    assert "#code=" in url
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        try:
            wecom = await browser.new_context(user_agent=WECOM_UA, locale="zh-CN")
            await wecom.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
            await wecom.add_init_script(NO_MEDIA)
            page = await wecom.new_page()
            await page.goto(url)
            step = page.locator("#step-webview")
            await step.wait_for(state="visible", timeout=15000)
            assert await page.locator("#webview-title").inner_text() == "请在系统浏览器中打开"
            assert "企业微信" in await page.locator("#webview-text").inner_text()
            assert await page.locator("#step-notice").is_hidden()
            assert await page.locator("#stage").is_hidden()
            link = await page.locator("#webview-link").input_value()
            assert link == url  # the one-time code travels with it, unused
            await page.locator("#webview-copy").click()
            await page.locator("#webview-copy-status").filter(has_text="已复制").wait_for(timeout=5000)
            assert await page.evaluate("navigator.clipboard.readText()") == url
            assert await page.evaluate("window.candor.step") == "webview"
            # The language toggle translates the step too.
            await page.locator("#lang-toggle").click()
            assert await page.locator("#webview-title").inner_text() == "Open this in your system browser"
            await wecom.close()

            # The system browser: the same link opens the interview (the code is exchanged there).
            system = await browser.new_context(locale="zh-CN")
            page = await system.new_page()
            await page.goto(link)
            await page.locator("#step-notice").wait_for(state="visible", timeout=15000)
            assert await page.locator("#banner").is_hidden()
            assert await page.locator("#step-webview").count() == 0
            await system.close()
        finally:
            await browser.close()


async def test_wecom_webview_with_camera_goes_on_as_usual(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        url = (await http.post("/v1/sessions", json={}, headers=HR)).json()["candidate_url"]
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        try:
            context = await browser.new_context(user_agent=WECOM_UA)
            page = await context.new_page()
            await page.goto(url)
            await page.locator("#step-notice").wait_for(state="visible", timeout=15000)
            assert await page.locator("#step-webview").count() == 0
        finally:
            await browser.close()
