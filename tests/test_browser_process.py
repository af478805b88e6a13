"""The whole pre-interview process, running itself, with real local servers and a real browser.

Candor runs as ``python -m server`` with its real models, e-mail through an
SMTP server on loopback (aiosmtpd), WeCom through a WeCom server fake on
loopback (its documented HTTP API), and SAP SuccessFactors through an SF
fake (OAuth SAML bearer, OData upsert). HR switch on the job's rules; then,
with nobody typing:

1. resumes come in (five uploads, one weak, and one order from SuccessFactors)
   and are screened;
2. the rule invites the strong ones: by e-mail, or through WeCom for the
   candidate the bank knows there (the SMTP server and the WeCom fake hold the
   messages, and the links in them open the candidate page);
3. one candidate takes the interview in headless Chromium (fake camera and
   microphone);
4. the branch's HR group is told in WeCom (group robot) that it ended;
5. HR decide on the application's page;
6. the candidate is told the next step by e-mail (no score);
7. SuccessFactors holds the assessment report for its order;
8. the dashboard counts all of it (groups under five shown as such).
"""

from __future__ import annotations

import base64
import contextlib
import email.message
import json
import os
import re
import secrets
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.sf_fake import FakeSuccessFactors
from tests.smtp_server import SmtpServer
from tests.test_browser_e2e import CHROMIUM, EventWatcher, PageLog, candidate_starts, chromium, free_port, playwright_api
from tests.test_browser_interview import (
    HEALTH_TIMEOUT_S,
    ROOMY_ADMISSION,
    REPO,
    InterviewMedia,
    _start,
    _stop,
    first_after,
    interview_media,
)
from tests.test_screening import RESUME_ZH
from tests.test_successfactors import CLIENT_ID, ORDER_SECRET, _key_pair
from tests.wecom_fake import AES_KEY, AGENT_ID, CALLBACK_TOKEN, CORP_ID, ROBOT_KEY, SECRET, FakeWeCom

pytestmark = [pytest.mark.browser, pytest.mark.slow]
__all__ = ["interview_media"]  # a fixture

SHOTS = Path("/tmp/candor-shots/process")
JOB = "wealth_manager"
RULES = {
    "enabled": True,
    "rules": [
        # A few seconds' grace before an invite goes out: HR may stop it (and the bank may add a WeCom contact).
        {"id": "invite_strong", "on": "screened", "after": "4s", "if": 'band == "advance"', "do": "invite(channel: wecom|email)"},
        {"id": "remind_unopened", "on": "invited", "after": "48h", "if": "not opened", "do": "remind(channel: wecom|email)"},
        {"id": "tell_branch", "on": "interview.ended", "do": "notify_hr(group: branch_hr)"},
        {"id": "close_the_loop", "on": "decided", "do": ["notify_candidate(channel: wecom|email)", "sync(successfactors)"]},
    ],
}
PEOPLE = [  # (name, phone, e-mail): different people, the same strong resume
    ("王芳", "13700137001", "wangfang@example.com"),
    ("李娜", "13700137002", "lina@example.com"),
    ("刘洋", "13700137003", "liuyang@example.com"),
    ("陈静", "13700137004", "chenjing@example.com"),
]
WECOM_PERSON = ("赵磊", "13700137005", "zhaolei@example.com")
WECOM_EXTERNAL_ID = "wmEXTzhaolei0001"
WEAK = "李雷\n手机：13900001111\n邮箱：lilei@example.com\n高中\n喜欢打篮球"
ORDER_EMAIL = "zhangwei@example.com"


def resume(name: str, phone: str, mail: str) -> str:
    return RESUME_ZH.format(name=name, gender="女", age=30, birthplace="湖南长沙", marital="未婚").replace(
        "13800138000", phone).replace("candidate@example.com", mail)


@dataclass
class World:
    url: str
    token: str
    smtp: SmtpServer
    wecom: FakeWeCom
    sf: FakeSuccessFactors
    log: Path

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=30)

    def log_tail(self, n: int = 150) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        return "(no log)"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[World]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    workdir = tmp_path_factory.mktemp("process")
    smtp = SmtpServer().start()
    wecom = FakeWeCom().start()
    key, cert = _key_pair("bank")
    sf = FakeSuccessFactors(clients={CLIENT_ID: cert.decode()}, orders={"5001"}).start()
    port, token = free_port(), secrets.token_urlsafe(24)
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ)
    env.update(
        CANDOR_HOST="127.0.0.1",
        CANDOR_PORT=str(port),
        CANDOR_PUBLIC_URL=url,
        CANDOR_DATABASE_URL=f"sqlite:///{workdir}/candor.db",
        CANDOR_HR_TOKEN=token,
        CANDOR_CONTACT_KEY="process-test-contact-key",
        CANDOR_ORG_NAME="示例银行",
        CANDOR_FEEDBACK="next_step",
        CANDOR_SMTP_URL=smtp.url(),
        CANDOR_MAIL_FROM="示例银行招聘 <hr@bank.example.cn>",
        CANDOR_WECOM=json.dumps({
            "corp_id": CORP_ID, "agent_id": AGENT_ID, "secret": SECRET, "callback_token": CALLBACK_TOKEN,
            "callback_aes_key": AES_KEY, "api_base": wecom.url, "robots": {"branch_hr": ROBOT_KEY},
            "external_sender": "hr-zhang",
        }),
        CANDOR_SUCCESSFACTORS=json.dumps({
            "api_base": sf.url, "company_id": sf.company_id, "client_id": CLIENT_ID, "user_id": "candor_api",
            "private_key": key.decode(), "certificate": cert.decode(), "order_secret": ORDER_SECRET, "timeout_s": 10,
            "mapping": {"requisitions": {"1021": JOB}},
        }),
        **ROOMY_ADMISSION,
        PYTHONPATH=os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        PYTHONUNBUFFERED="1",
    )
    log = workdir / "server.log"
    proc = _start([sys.executable, "-m", "server"], workdir, env, log)
    found = World(url, token, smtp, wecom, sf, log)
    try:
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"server exited with {proc.returncode}:\n{found.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                pytest.fail(f"/healthz not 200 after {HEALTH_TIMEOUT_S} s:\n{found.log_tail()}")
            time.sleep(0.5)
        yield found
    finally:
        _stop(proc)
        if request.session.testsfailed:
            print(f"\n---- server log ----\n{found.log_tail(200)}\n----", file=sys.stderr)
        smtp.stop()
        wecom.stop()
        sf.stop()


def until(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = predicate()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def mails_to(smtp: SmtpServer, address: str) -> list[email.message.EmailMessage]:
    return [m for m in list(smtp.messages) if address in str(m["To"])]


def text_of(mail: email.message.EmailMessage) -> str:
    return mail.get_body(preferencelist=("plain",)).get_content()


def link_in(text: str) -> str:
    found = re.search(r"https?://\S+#code=[\w\-]+", text)
    assert found, text
    return found.group(0)


async def interview(page: Any, watcher: EventWatcher, shots: Path) -> None:
    """Answer every question briefly, as a hurried candidate would, until the interview ends."""
    expect = playwright_api.expect
    await watcher.wait_for(lambda w: first_after(w, "question.started"), 60, "the first question")
    # The server's event can be ahead of the page on a busy machine: wait until the page shows the question too.
    await page.wait_for_function("() => window.candor.question", timeout=30_000)
    for _ in range(12):
        mark = watcher.last_seq
        current = await page.evaluate("() => window.candor.question")
        if current is None:
            break
        if current["phase"] == "prep":
            await page.get_by_role("button", name="开始回答").click()
            await watcher.wait_for(
                lambda w, m=mark, q=current["question_id"]: first_after(w, "answer.started", m, question_id=q), 15, "answer.started"
            )
        await watcher.wait_for(lambda w, m=mark: first_after(w, "speech.start", m), 30, "the candidate speaking")
        await page.wait_for_timeout(4000)  # a few seconds of the answer
        done = page.get_by_role("button", name="回答完毕")
        await expect(done).to_be_enabled()
        await done.click()
        nxt = await watcher.wait_for(
            lambda w, m=mark: first_after(w, "question.started", m) or first_after(w, "interview.ended", m),
            30, "the next question or the end",
        )
        if nxt["type"] == "interview.ended":
            break
        await page.wait_for_function(
            "id => window.candor.question && window.candor.question.question_id === id",
            arg=nxt["payload"]["question_id"], timeout=10_000,
        )
    await watcher.wait_for(lambda w: first_after(w, "interview.ended"), 30, "interview.ended")
    await expect(page.locator("#step-done")).to_be_visible(timeout=15_000)
    await page.screenshot(path=str(shots / "candidate-done.png"), full_page=True)


async def test_the_process_runs_itself(world: World, interview_media: InterviewMedia) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    expect = playwright_api.expect
    async with chromium(interview_media.video, interview_media.speech) as browser:
        # -- 0. HR switch the job's rules on, on its board page ----------------------------
        hr_ctx = await browser.new_context(viewport={"width": 1280, "height": 1000}, locale="zh-CN")
        hr = await hr_ctx.new_page()
        hr_log = PageLog("hr")
        hr_log.attach(hr)
        await hr.goto(f"{world.url}/hr/jobs/{JOB}")
        await expect(hr.locator("#signin")).to_be_visible()
        await hr.locator("#hr-token").fill(world.token)
        await hr.locator("#hr-token").press("Enter")
        await expect(hr.locator("#automation-status")).to_have_text(re.compile("未启用"), timeout=15_000)  # shipped: off
        await hr.locator("#automation-panel summary").click()
        await hr.locator("#automation-toggle").click()  # the shipped rules, on in one click...
        await expect(hr.locator("#automation-status")).to_have_text(re.compile("已启用"), timeout=10_000)
        await expect(hr.locator("#automation-toggle")).to_have_text("停用规则")
        await expect(hr.locator("#automation-yaml")).to_have_value(re.compile(r"enabled: true"))
        # ...then HR's own: a grace of a few seconds before invites, WeCom first.
        await hr.locator("#automation-yaml").fill(yaml.safe_dump(RULES, allow_unicode=True, sort_keys=False))
        await hr.locator("#automation-save").click()
        await expect(hr.locator("#automation-saved")).to_contain_text("已保存为第", timeout=10_000)
        await expect(hr.locator("#automation-status")).to_have_text(re.compile("已启用"))
        await expect(hr.locator("#automation-rules li")).to_have_count(len(RULES["rules"]))
        await hr.locator("#preview-template").select_option("invite")
        await hr.locator("#preview-run").click()
        await expect(hr.locator("#preview-subject")).to_have_text("示例银行｜理财经理 AI预面试邀请")
        await hr.locator("#automation-panel").screenshot(path=str(SHOTS / "hr-rules.png"))
        # A mistake is refused with the rule named, and nothing is saved.
        await hr.locator("#automation-yaml").fill("enabled: true\nrules:\n  - id: oops\n    on: screened\n    if: scor > 70\n    do: invite\n")
        await hr.locator("#automation-save").click()
        await expect(hr.locator("#automation-error")).to_contain_text("oops")
        await expect(hr.locator("#automation-rules li")).to_have_count(len(RULES["rules"]))
        await run_the_process(world, browser, hr, interview_media)
        assert not hr_log.errors, hr_log.errors
        await hr_ctx.close()


async def run_the_process(world: World, browser: Any, hr: Any, interview_media: InterviewMedia) -> None:
    expect = playwright_api.expect
    with world.api() as api:

        # -- 1. resumes in ------------------------------------------------------------
        order = {"orderId": 5001, "jobReqId": "1021", "applicationId": "88001",
                 "candidate": {"firstName": "伟", "lastName": "张", "email": ORDER_EMAIL},
                 "resumeText": resume("张伟", "13800138000", ORDER_EMAIL)}
        basic = base64.b64encode(f"successfactors:{ORDER_SECRET}".encode()).decode()
        ordered = httpx.post(f"{world.url}/v1/successfactors/orders", json=order,
                             headers={"Authorization": f"Basic {basic}"}, timeout=60)
        assert ordered.status_code == 201, ordered.text
        order_app = ordered.json()["applicationId"]
        uploaded: dict[str, str] = {}
        for name, phone, mail in [*PEOPLE, WECOM_PERSON]:
            made = api.post("/v1/applications", json={"job_id": JOB, "resume_text": resume(name, phone, mail), "source": "campus"})
            assert made.status_code == 201, made.text
            assert made.json()["outcome"] == "advance", made.json()["screening"]["score"]
            uploaded[name] = made.json()["id"]
        # The bank knows 赵磊 on WeCom: HR add the contact within the rule's grace.
        contact = api.put(f"/v1/applications/{uploaded[WECOM_PERSON[0]]}/contacts", json={"wecom_external": WECOM_EXTERNAL_ID})
        assert contact.status_code == 200, contact.text
        weak = api.post("/v1/applications", json={"job_id": JOB, "resume_text": WEAK}).json()
        assert weak["outcome"] == "pool"

        # -- 2. invites go out by themselves ------------------------------------------------
        until(lambda: len(world.smtp.messages) >= 5, 60, "five invite e-mails")
        for _, _, mail in PEOPLE:
            (invite,) = mails_to(world.smtp, mail)
            assert "AI预面试邀请" in str(invite["Subject"]) and "#code=" in text_of(invite)
        (order_invite,) = mails_to(world.smtp, ORDER_EMAIL)
        assert not mails_to(world.smtp, WECOM_PERSON[2]) and not mails_to(world.smtp, "lilei@example.com")
        external = until(lambda: world.wecom.sent("externalcontact/add_msg_template"), 30, "the WeCom invite")
        assert len(external) == 1 and external[0]["external_userid"] == [WECOM_EXTERNAL_ID]
        wecom_link = link_in(external[0]["text"]["content"])
        assert api.get(f"/v1/applications/{weak['id']}").json()["state"] == "screened"

        # The WeCom candidate's link works (opened, not taken: that candidate comes back later).
        other = await browser.new_context(locale="zh-CN")
        page = await other.new_page()
        await page.goto(wecom_link)
        await expect(page.locator("#step-notice")).to_be_visible(timeout=15_000)
        await other.close()

        # -- 3. the ordered candidate takes the interview from the e-mail's link ------------
        order_link = link_in(text_of(order_invite))
        application = api.get(f"/v1/applications/{order_app}").json()
        session_id = application["session_id"]
        watcher = EventWatcher(f"{world.url.replace('http', 'ws')}/v1/sessions/{session_id}/events", world.token).start()
        cand_ctx = await browser.new_context(viewport={"width": 420, "height": 860}, locale="zh-CN")
        cand = await cand_ctx.new_page()
        log = PageLog("candidate")
        log.attach(cand)
        try:
            await candidate_starts(cand, order_link)
            await interview(cand, watcher, SHOTS)
        except BaseException:
            print(log.dump(), file=sys.stderr)
            raise
        finally:
            await watcher.stop()
            await cand_ctx.close()

        # -- 4. the branch's HR group hears it ended ---------------------------------
        robot = until(lambda: world.wecom.sent("webhook/send"), 60, "the WeCom group message")
        assert "张伟" in robot[0]["markdown"]["content"] and "完成了AI预面试" in robot[0]["markdown"]["content"]
        until(lambda: api.get(f"/v1/applications/{order_app}").json()["state"] == "interviewed", 30, "interviewed")

        # -- 5. HR decide on the application's page ---------------------------------------
        await hr.goto(f"{world.url}/hr/applications/{order_app}")
        await expect(hr.locator("#app-state")).to_have_attribute("data-state", "interviewed", timeout=15_000)
        await hr.locator("#app-decision").select_option("advance")
        await hr.locator("#app-decide").click()
        await expect(hr.locator("#app-state")).to_have_attribute("data-state", "decided/advance", timeout=15_000)

        # -- 6. the candidate hears the next step ------------------------------------------
        told = until(lambda: [m for m in mails_to(world.smtp, ORDER_EMAIL) if "面试结果" in str(m["Subject"])], 60,
                     "the decision e-mail")
        body = text_of(told[0])
        assert "进入下一轮" in body and not re.search(r"\d+\s*分", body)

        # -- 7. SuccessFactors holds the assessment report ---------------------------------
        reports = until(lambda: world.sf.reports("5001"), 60, "the report in SuccessFactors")
        assert reports[-1]["status"] == "Completed"
        components = {r["scoreComponent"] for r in reports[-1]["assessmentReportDetail"]}
        assert {"Score", "HR Decision"} <= components, components

        # The application's page shows every action and its deliveries.
        await hr.reload()
        await expect(hr.locator("#app-actions li[data-state='done']")).to_have_count(4, timeout=15_000)
        await expect(hr.locator("#app-actions .delivery-delivered").first).to_be_visible()
        timeline = [e["action"] for e in api.get(f"/v1/applications/{order_app}/timeline").json()["entries"]]
        for step in ("invite", "open", "start_interview", "end_interview", "decide", "message_out", "automation", "sync"):
            assert step in timeline, (step, timeline)
        await hr.screenshot(path=str(SHOTS / "hr-application.png"), full_page=True)

        # -- 8. the dashboard counts it ------------------------------------------------------
        funnel = {s["stage"]: s for s in api.get(f"/v1/analytics/funnel?job_id={JOB}").json()["stages"]}
        assert funnel["applied"]["n"] == 7 and funnel["screened"]["n"] == 7 and funnel["invited"]["n"] == 6
        assert funnel["interviewed"].get("suppressed") and funnel["interviewed"]["n"] is None  # one person: not shown
        await hr.goto(f"{world.url}/hr/dashboard")
        await expect(hr.locator("canvas").first).to_be_visible(timeout=15_000)
        await hr.screenshot(path=str(SHOTS / "hr-dashboard.png"), full_page=True)
