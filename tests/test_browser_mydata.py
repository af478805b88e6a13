"""The candidate's "your data" card, in a real browser (headless Chromium, as tests/test_browser_consent.py).

The candidate opens their invite link; the top bar's "我的数据" shows what
Candor holds about them (from GET /v1/me/data), in Chinese and in English;
they download it as JSON, then withdraw and have it deleted, and the HR API
then answers 410 for them. Screenshots go to /tmp/candor-shots/.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from runtime.models import Models
from tests.helpers import HR_TOKEN, LiveServer, make_settings
from tests.test_browser_e2e import CHROMIUM, SHOTS, PageLog, playwright_api

pytestmark = [pytest.mark.browser]

HR = {"Authorization": f"Bearer {HR_TOKEN}"}
NAME = "龙傲雪"
RESUME = f"""姓名：{NAME}
联系电话：13912345678      电子邮箱：longaoxue@example.com
2016.09—2020.06  上海财经大学  金融学  本科
2020年7月至今  中国银行上海分行  客户经理
【证书】银行从业资格证书
"""


@pytest.fixture(scope="module", autouse=True)
def _browser_available() -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[LiveServer]:
    models = Models(vad=None, asr=None, face=None, encoder=None)
    models.warm = True
    live = LiveServer(make_settings(tmp_path, contact_key="test-contact-key"), models, load_models=False).start()
    yield live
    live.stop()


async def invited(server: LiveServer) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.url, headers=HR, timeout=20) as http:
        app = (await http.post("/v1/applications", json={"job_id": "wealth_manager", "resume_text": RESUME})).json()
        app = (await http.post(f"/v1/applications/{app['id']}/invite")).json()
        timeline = (await http.get(f"/v1/applications/{app['id']}/timeline")).json()["entries"]
    url = next(e["details"]["candidate_url"] for e in timeline if e["action"] == "invite")
    return {"application": app, "candidate_url": url}


async def test_a_candidate_sees_downloads_and_deletes_their_data(server: LiveServer) -> None:
    expect = playwright_api.expect
    SHOTS.mkdir(parents=True, exist_ok=True)
    made = await invited(server)
    log = PageLog("mydata")
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-gpu"])
        try:
            context = await browser.new_context(viewport={"width": 900, "height": 1400}, locale="zh-CN", accept_downloads=True)
            page = await context.new_page()
            log.attach(page)
            try:
                await page.goto(made["candidate_url"])
                link = page.locator("#mydata-open")
                await expect(link).to_be_visible(timeout=15_000)
                await expect(link).to_have_text("我的数据")
                await link.click()
                card = page.locator("#step-mydata")
                await expect(card).to_be_visible()
                await expect(page.locator("#mydata-title")).to_have_text("您的个人数据")
                await expect(card).to_contain_text(NAME)
                await expect(card).to_contain_text("longaoxue@example.com")
                await expect(card).to_contain_text("已邀请面试")
                await expect(card).to_contain_text("邀请面试")
                await expect(card).to_contain_text("招聘结束后 12 个月删除")
                await page.screenshot(path=str(SHOTS / "candidate-mydata-zh.png"), full_page=True)

                await page.locator("#lang-toggle").click()
                await expect(page.locator("#mydata-title")).to_have_text("Your personal data")
                await expect(card).to_contain_text("Invited to interview")
                await page.screenshot(path=str(SHOTS / "candidate-mydata-en.png"), full_page=True)
                await page.locator("#lang-toggle").click()
                await expect(page.locator("#mydata-title")).to_have_text("您的个人数据")

                async with page.expect_download() as caught:
                    await page.get_by_role("button", name="下载 JSON").click()
                download = await caught.value
                saved = json.loads(Path(await download.path()).read_text(encoding="utf-8"))
                assert saved["candidate"]["profile"]["name"] == NAME
                assert saved["applications"][0]["id"] == made["application"]["id"]

                await page.get_by_role("button", name="撤回申请并删除我的数据").click()
                await expect(page.locator("#mydata-confirm")).to_be_visible()
                await page.screenshot(path=str(SHOTS / "candidate-mydata-confirm.png"), full_page=True)
                await page.get_by_role("button", name="确认删除").click()
                await expect(page.locator("#mydata-title")).to_have_text("您的申请已撤回，数据已删除", timeout=15_000)
                await expect(page.locator("#step-notice")).to_be_hidden()
                await expect(link).to_be_hidden()
                await page.screenshot(path=str(SHOTS / "candidate-mydata-erased.png"), full_page=True)
                assert log.errors == []
            except Exception:
                print(log.dump())
                raise
        finally:
            await browser.close()
    candidate_id = made["application"]["candidate"]["id"]
    async with httpx.AsyncClient(base_url=server.url, headers=HR) as http:
        assert (await http.get(f"/v1/candidates/{candidate_id}")).status_code == 410
        assert (await http.get(f"/v1/applications/{made['application']['id']}")).status_code == 404
