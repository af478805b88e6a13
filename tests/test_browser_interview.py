"""The structured interview in a real browser.

Headless Chromium (fake camera and microphone, as in test_browser_e2e.py)
takes an interview that the server drives over the data channel: the
practice question, "start answering", speech, "I've finished", the next
question, a reload in the middle of a question (the question continues), and
the end (thank-you screen, hang-up). An HR watcher checks the flow events on
the event stream and an HR page shows the progress panel.

Two ways to get an interview session:

* ``test_interview_for_a_job``: the real API, ``POST /v1/sessions`` with a
  ``job_id`` (the shipped wealth_manager job and its bank). A server that
  cannot make or drive that interview fails the test.
* ``test_interview_flow_with_test_questions``: the same walk through, on a
  server whose live sessions get an :class:`interview.flow.InterviewFlow`
  with questions this file defines (a launcher wraps ``LiveSession`` for the
  session ids the test lists). It exercises the page against the server's
  real flow and control channel without waiting for the jobs API.

``test_hr_interview_view_scripted`` feeds the HR live view a scripted event
stream (progress, transcript grouped by question, provisional and final
score cards). Screenshots go to /tmp/candor-shots/.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.media_fixtures import AISHELL_WAV, OBAMA_JPG, ffmpeg_available, padded_speech_wav, portrait_y4m, require_media
from tests.test_browser_e2e import (
    CHROMIUM,
    HEALTH_TIMEOUT_S,
    REPO,
    ROOMY_ADMISSION,
    SHOTS,
    EventWatcher,
    PageLog,
    candidate_starts,
    chromium,
    free_port,
    playwright_api,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FLOW_TYPES = ("question.started", "answer.started", "answer.ended", "question.ended", "interview.ended")
NO_FLOW_WAIT_S = 20

_RUBRIC = {
    "competencies": [
        {
            "id": "suitability",
            "name": {"zh": "适当性管理", "en": "Suitability"},
            "weight": 1,
            "points": [
                {
                    "id": "risk_profile",
                    "text": {"zh": "先做风险测评", "en": "Assess the client's risk profile first"},
                    "terms": ["风险测评"],
                }
            ],
        }
    ]
}

# The questions of the flow the launcher injects (jobs.models.Question).
TEST_QUESTIONS: list[dict[str, Any]] = [
    {
        "id": "practice",
        "kind": "practice",
        "text": {"zh": "请用一两句话介绍一下您自己。", "en": "Please introduce yourself in a sentence or two."},
        "prep_s": 30,
        "answer_s": 90,
    },
    {
        "id": "retiree_high_risk",
        "kind": "situational",
        "text": {
            "zh": "一位65岁的退休客户想把全部存款买入一只高风险股票基金，您会怎么处理？",
            "en": "A 65-year-old retired client wants to put all her savings into a high-risk equity fund. "
            "What would you do?",
        },
        "prep_s": 40,
        "answer_s": 120,
        "rubric": _RUBRIC,
    },
    {
        "id": "complaint",
        "kind": "behavioural",
        "text": {
            "zh": "请讲一次您处理客户投诉的经历。",
            "en": "Tell us about a time you handled a customer complaint.",
        },
        "prep_s": 20,
        "answer_s": 60,
        "rubric": _RUBRIC,
    },
]

# Runs the real server; LiveSessions of the listed session ids get the flow.
LAUNCHER = r"""
import json, os, sys
from pathlib import Path
try:
    from interview.flow import InterviewFlow
    from jobs.models import Question
    import server.live as live
    original_init = live.LiveSession.__init__
    QUESTIONS = [Question.model_validate(q) for q in json.loads(os.environ["CANDOR_TEST_FLOW_QUESTIONS"])]
except Exception as exc:
    print(f"test flow injection unavailable: {exc!r}", flush=True)
    sys.exit(3)
LISTED = Path(os.environ["CANDOR_TEST_FLOW_SESSIONS"])

def __init__(self, record, events, *args, **kwargs):
    original_init(self, record, events, *args, **kwargs)
    try:
        listed = LISTED.read_text().split()
    except OSError:
        listed = []
    if getattr(self, "flow", None) is None and record.id in listed:
        self.flow = InterviewFlow(QUESTIONS)

live.LiveSession.__init__ = __init__
from server.__main__ import main
main()
"""


# ---------------------------------------------------------------- fixtures --

@dataclass
class InterviewServer:
    url: str
    hr_token: str
    process: subprocess.Popen
    log_path: Path
    flow_list: Path
    injection: bool

    def log_tail(self, n: int = 120) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no server log)"

    def post_session(self, body: dict[str, Any]) -> httpx.Response:
        return httpx.post(
            f"{self.url}/v1/sessions", headers={"Authorization": f"Bearer {self.hr_token}"}, json=body, timeout=10
        )

    def list_for_flow(self, session_id: str) -> None:
        with open(self.flow_list, "a", encoding="utf-8") as f:
            f.write(session_id + "\n")


def _start(cmd: list[str], workdir: Path, env: dict[str, str], log_path: Path) -> subprocess.Popen:
    with open(log_path, "ab") as log_file:
        return subprocess.Popen(
            cmd, cwd=workdir, env=env, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def interview_server(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[InterviewServer]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    if not ffmpeg_available():
        pytest.skip("ffmpeg is not installed")
    require_media(AISHELL_WAV, OBAMA_JPG)
    workdir = tmp_path_factory.mktemp("candor-interview-server")
    port = free_port()
    token = secrets.token_urlsafe(24)
    url = f"http://127.0.0.1:{port}"
    flow_list = workdir / "flow-sessions.txt"
    flow_list.write_text("")
    env = dict(os.environ)
    env.update(
        CANDOR_HOST="127.0.0.1",
        CANDOR_PORT=str(port),
        CANDOR_DATABASE_URL=f"sqlite:///{workdir}/candor.db",
        CANDOR_HR_TOKEN=token,
        CANDOR_PUBLIC_URL=url,
        # These tests are about the pages: admission control (tests/test_consent.py)
        # must not turn away their sessions on a small machine, where the
        # capacity is a core or two and a session whose candidate left still
        # holds its place until it expires.
        **ROOMY_ADMISSION,
        CANDOR_TEST_FLOW_SESSIONS=str(flow_list),
        CANDOR_TEST_FLOW_QUESTIONS=json.dumps(TEST_QUESTIONS, ensure_ascii=False),
        PYTHONPATH=os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        PYTHONUNBUFFERED="1",
    )
    log_path = workdir / "server.log"
    proc = _start([sys.executable, "-c", LAUNCHER], workdir, env, log_path)
    injection = True
    server = InterviewServer(url, token, proc, log_path, flow_list, injection)
    try:
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        while True:
            code = proc.poll()
            if code == 3 and injection:
                # The server's internals moved: run it plainly; only the
                # injected-flow test skips.
                injection = False
                proc = _start([sys.executable, "-m", "server"], workdir, env, log_path)
                server = InterviewServer(url, token, proc, log_path, flow_list, injection)
                continue
            if code is not None:
                pytest.fail(f"server exited with {code}:\n{server.log_tail()}")
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"/healthz not 200 after {HEALTH_TIMEOUT_S} s:\n{server.log_tail()}")
            time.sleep(0.5)
        yield server
    finally:
        _stop(server.process)
        if request.session.testsfailed:
            print(f"\n---- server log ({log_path}) ----\n{server.log_tail(200)}\n----", file=sys.stderr)


@dataclass
class InterviewMedia:
    video: Path
    speech: Path


@pytest.fixture(scope="module")
def interview_media(tmp_path_factory: pytest.TempPathFactory) -> InterviewMedia:
    if not ffmpeg_available():
        pytest.skip("ffmpeg is not installed")
    out = tmp_path_factory.mktemp("interview-media")
    # Mandarin speech looped with 1.5 s + 3 s of silence around it: shorter
    # than the flow's long-silence limit (6 s), so an answer is not cut.
    return InterviewMedia(video=portrait_y4m(out), speech=padded_speech_wav(out, AISHELL_WAV, name="aishell.wav"))


@pytest.fixture
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


# ----------------------------------------------------------------- helpers --

def flow_events(w: EventWatcher) -> list[dict[str, Any]]:
    return [e for e in w.events if e["type"] in FLOW_TYPES]


def first_after(w: EventWatcher, kind: str, after_seq: int = -1, **match: Any) -> dict[str, Any] | None:
    for e in w.events:
        if e["type"] != kind or e["seq"] <= after_seq:
            continue
        if all(e["payload"].get(k) == v for k, v in match.items()):
            return e
    return None


def zh(text: Any) -> str:
    if isinstance(text, dict):
        return text.get("zh") or text.get("en") or ""
    return str(text or "")


def scored_label(payload: dict[str, Any]) -> str:
    number = payload.get("number")
    total = payload.get("scored_total")
    if not number:
        number = payload["index"]  # one practice question first
    if not total:
        total = payload["total"] - 1
    return f"第 {number} / {total} 题"


async def sign_in_hr(page: Any, url: str, session_id: str, token: str) -> None:
    expect = playwright_api.expect
    await page.goto(f"{url}/hr/sessions/{session_id}")
    await expect(page.locator("#signin")).to_be_visible()
    await page.locator("#hr-token").fill(token)
    await page.locator("#hr-token").press("Enter")
    await expect(page.locator("#live-view")).to_be_visible()
    await page.wait_for_function("() => window.candorHr.wsState === 'open'", timeout=15_000)


async def countdown_runs(page: Any) -> None:
    """The page's countdown reads mm:ss and goes down."""
    expect = playwright_api.expect
    await expect(page.locator("#q-clock")).to_have_text(re.compile(r"^\d\d:\d\d$"))
    first = await page.evaluate("() => window.candor.question.remaining_s")
    await page.wait_for_timeout(1500)
    second = await page.evaluate("() => window.candor.question.remaining_s")
    assert second < first, (first, second)


async def take_interview(
    server: InterviewServer,
    session: dict[str, Any],
    media: InterviewMedia,
    shots: Path,
    tag: str,
    *,
    skip_without_flow: str | None,
    wait_out_last_prep: bool = False,
) -> None:
    """Walk through the interview as a candidate, with HR watching."""
    expect = playwright_api.expect
    watcher = EventWatcher(session["events_url"], server.hr_token).start()
    cand_log, hr_log = PageLog("candidate"), PageLog("hr")
    try:
        async with chromium(media.video, media.speech) as browser:
            cand_ctx = await browser.new_context(viewport={"width": 1000, "height": 900}, locale="zh-CN")
            hr_ctx = await browser.new_context(viewport={"width": 1280, "height": 1000}, locale="zh-CN")
            cand = await cand_ctx.new_page()
            hr = await hr_ctx.new_page()
            cand_log.attach(cand)
            hr_log.attach(hr)
            try:
                await sign_in_hr(hr, server.url, session["id"], server.hr_token)
                await candidate_starts(cand, session["candidate_url"])

                # -- the practice question --------------------------------
                try:
                    q0 = await watcher.wait_for(
                        lambda w: first_after(w, "question.started"), NO_FLOW_WAIT_S, "question.started"
                    )
                except AssertionError:
                    if skip_without_flow:
                        pytest.skip(skip_without_flow)
                    raise
                p0 = q0["payload"]
                assert p0["index"] == 0 and p0["practice"] is True, p0
                assert p0["resumed"] is False
                assert await cand.evaluate("() => window.candor.interview") is True
                await expect(cand.locator("#question-panel")).to_be_visible()
                await expect(cand.locator("#q-label")).to_have_text("练习题（不计分）")
                await expect(cand.locator("#q-text")).to_have_text(zh(p0["text"]))
                if p0["prep_s"] > 0:
                    await expect(cand.locator("#q-phase")).to_have_text("准备中")
                    await countdown_runs(cand)
                    await cand.screenshot(path=str(shots / f"candidate-{tag}-prep.png"), full_page=True)
                    left = await cand.evaluate("() => window.candor.question && window.candor.question.remaining_s")
                    if left is not None and left > 2:  # a short preparation time may have run out by now
                        await cand.get_by_role("button", name="开始回答").click()
                a0 = await watcher.wait_for(
                    lambda w: first_after(w, "answer.started", question_id=p0["question_id"]), 15, "answer.started"
                )
                await expect(cand.locator("#q-phase")).to_have_text("回答中")
                await expect(cand.get_by_role("button", name="回答完毕")).to_be_visible()
                await expect(cand.get_by_role("button", name="开始回答")).to_be_hidden()
                await countdown_runs(cand)

                # The fake microphone speaks; the caption shows under the question.
                await watcher.wait_for(
                    lambda w: first_after(w, "speech.start", a0["seq"]), 30, "speech.start during the answer"
                )
                await cand.wait_for_function(
                    "() => document.querySelectorAll('#caption-history li').length > 0"
                    " || document.getElementById('caption').textContent.trim().length > 0",
                    timeout=45_000,
                )
                await cand.screenshot(path=str(shots / f"candidate-{tag}-answer.png"), full_page=True)
                await cand.get_by_role("button", name="回答完毕").click()

                # -- the next question ----------------------------------------
                await expect(cand.locator("#q-between")).to_be_visible(timeout=10_000)
                await expect(cand.locator("#q-between-title")).to_contain_text("练习结束")
                await cand.screenshot(path=str(shots / f"candidate-{tag}-between.png"), full_page=True)
                q1 = await watcher.wait_for(
                    lambda w: first_after(w, "question.started", index=1), 20, "question.started for index 1"
                )
                p1 = q1["payload"]
                ended = first_after(watcher, "answer.ended", question_id=p0["question_id"])
                assert ended is not None and ended["payload"]["reason"] == "candidate_done", ended
                sequence = [(e["type"], e["payload"].get("question_id")) for e in flow_events(watcher)][:5]
                assert sequence == [
                    ("question.started", p0["question_id"]),
                    ("answer.started", p0["question_id"]),
                    ("answer.ended", p0["question_id"]),
                    ("question.ended", p0["question_id"]),
                    ("question.started", p1["question_id"]),
                ], sequence
                assert p1["practice"] is False and p1["resumed"] is False, p1

                await expect(cand.locator("#q-label")).to_have_text(scored_label(p1), timeout=10_000)
                await expect(cand.locator("#q-text")).to_have_text(zh(p1["text"]))
                await expect(cand.locator("#q-between")).to_be_hidden()
                await countdown_runs(cand)
                await cand.screenshot(path=str(shots / f"candidate-{tag}-question1.png"), full_page=True)

                # -- HR sees the same progress --------------------------------
                await expect(hr.locator("#progress")).to_be_visible()
                await expect(hr.locator("#p-label")).to_have_text(scored_label(p1))
                await expect(hr.locator("#p-text")).to_have_text(zh(p1["text"]))
                await expect(hr.locator("#p-clock")).to_have_text(re.compile(r"^\d\d:\d\d$"))
                items = hr.locator("#p-list .p-item")
                await expect(items).to_have_count(p1["total"])
                await expect(items.nth(0)).to_contain_text("候选人完成")
                await expect(items.nth(1)).to_have_class(re.compile(r"\bcurrent\b"))
                practice_rows = hr.locator(f"section.q-group[data-question-id='{p0['question_id']}'] .utt")
                await expect(practice_rows.first).to_be_visible(timeout=45_000)
                await hr.locator("#progress").screenshot(path=str(shots / f"hr-{tag}-progress.png"))
                await hr.screenshot(path=str(shots / f"hr-{tag}-live.png"), full_page=True)

                # -- a drop in the middle of the question -----------------------
                await cand.set_viewport_size({"width": 360, "height": 740})
                await cand.screenshot(path=str(shots / f"candidate-{tag}-mobile.png"), full_page=True)
                conn = [e for e in watcher.of_type("connection.started")][-1]["payload"]["connection_id"]
                before_reload = watcher.last_seq
                await cand.reload()
                await watcher.wait_for(
                    lambda w: [
                        e for e in w.of_type("connection.ended") if e["payload"]["connection_id"] == conn
                    ],
                    20,
                    "connection.ended after the reload",
                )
                # Back at the device check (the token is in sessionStorage).
                start = cand.get_by_role("button", name="继续面试")
                await expect(start).to_be_enabled(timeout=20_000)
                await start.click()
                resumed = await watcher.wait_for(
                    lambda w: first_after(w, "question.started", before_reload, question_id=p1["question_id"]),
                    30,
                    "question.started again after the reload",
                )
                assert resumed["payload"]["resumed"] is True, resumed
                assert resumed["payload"]["index"] == 1
                await cand.wait_for_function("() => window.candor.state === 'live'", timeout=30_000)
                await expect(cand.locator("#q-label")).to_have_text(scored_label(p1), timeout=10_000)
                await expect(cand.locator("#q-text")).to_have_text(zh(p1["text"]))
                assert await cand.evaluate("() => window.candor.question.question_id") == p1["question_id"]
                await countdown_runs(cand)
                await cand.screenshot(path=str(shots / f"candidate-{tag}-mobile-resumed.png"), full_page=True)
                # The question follows the page's language (falling back to the other one).
                await cand.get_by_role("button", name="English").click()
                await expect(cand.locator("#q-label")).to_have_text(re.compile(r"^Question 1 of \d+$"))
                en = p1["text"].get("en") if isinstance(p1["text"], dict) else None
                await expect(cand.locator("#q-text")).to_have_text(en or zh(p1["text"]))
                await expect(cand.get_by_role("button", name="Start answering")).to_be_visible()
                await cand.screenshot(path=str(shots / f"candidate-{tag}-mobile-en.png"), full_page=True)
                await cand.get_by_role("button", name="中文").click()

                # A drop the page notices by itself (the server hangs up): it
                # publishes again and the question goes on, not restarted.
                conn = [e for e in watcher.of_type("connection.started")][-1]["payload"]["connection_id"]
                before_drop = watcher.last_seq
                async with httpx.AsyncClient(timeout=10) as client:
                    r = await client.delete(
                        f"{server.url}/whip/{session['id']}/{conn}",
                        headers={"Authorization": f"Bearer {session['candidate_token']}"},
                    )
                assert r.status_code in (200, 204), r.text
                again = await watcher.wait_for(
                    lambda w: first_after(w, "question.started", before_drop, question_id=p1["question_id"]),
                    45,
                    "question.started again after the server hung up",
                )
                assert again["payload"]["resumed"] is True, again
                await cand.wait_for_function(
                    "id => window.candor.state === 'live' && window.candor.question"
                    " && window.candor.question.question_id === id && !window.candor.question.paused",
                    arg=p1["question_id"],
                    timeout=30_000,
                )
                await expect(cand.locator("#q-text")).to_have_text(zh(p1["text"]))
                await expect(hr.locator("#p-label")).to_have_text(scored_label(p1))
                await expect(hr.locator("#p-phase")).not_to_have_text(re.compile("暂停"))

                # -- the rest, quickly: start answering, finish ----------------
                for _ in range(p1["total"]):
                    mark = watcher.last_seq
                    current = await cand.evaluate("() => window.candor.question")
                    if current is None:
                        break
                    last = current["index"] == p1["total"] - 1
                    if current["phase"] == "prep" and wait_out_last_prep and last and current["remaining_s"] <= 25:
                        # Let the preparation time run out: the last 10 s are
                        # highlighted and the answer starts by itself.
                        await cand.wait_for_function(
                            "() => window.candor.question && window.candor.question.remaining_s <= 8", timeout=30_000
                        )
                        await expect(cand.locator("#q-timer")).to_have_class(re.compile(r"\burgent\b"))
                        await cand.screenshot(path=str(shots / f"candidate-{tag}-mobile-urgent.png"), full_page=True)
                        auto = await watcher.wait_for(
                            lambda w, m=mark, q=current["question_id"]: first_after(w, "answer.started", m, question_id=q),
                            25,
                            "answer.started when the preparation time ran out",
                        )
                        assert auto["payload"]["resumed"] is False
                        await expect(cand.locator("#q-phase")).to_have_text("回答中")
                        await expect(cand.locator("#q-timer")).not_to_have_class(re.compile(r"\burgent\b"))
                    elif current["phase"] == "prep":
                        await cand.get_by_role("button", name="开始回答").click()
                        await watcher.wait_for(
                            lambda w, m=mark, q=current["question_id"]: first_after(w, "answer.started", m, question_id=q),
                            15,
                            "answer.started",
                        )
                    done = cand.get_by_role("button", name="回答完毕")
                    await expect(done).to_be_enabled()
                    await done.click()
                    nxt = await watcher.wait_for(
                        lambda w, m=mark: first_after(w, "question.started", m) or first_after(w, "interview.ended", m),
                        15,
                        "the next question or the end",
                    )
                    if nxt["type"] == "interview.ended":
                        break
                    await cand.wait_for_function(
                        "id => window.candor.question && window.candor.question.question_id === id",
                        arg=nxt["payload"]["question_id"],
                        timeout=10_000,
                    )
                await watcher.wait_for(lambda w: first_after(w, "interview.ended"), 15, "interview.ended")

                # -- the end: thank you, hung up, no score ----------------------
                await expect(cand.locator("#step-done")).to_be_visible(timeout=15_000)
                await expect(cand.locator("#done-title")).to_have_text("面试已完成，谢谢！")
                await expect(cand.locator("#done-review")).to_contain_text("招聘人员")
                assert await cand.evaluate("() => window.candor.state") == "finished"
                body = await cand.locator("body").inner_text()
                assert "评分" not in body and "分数" not in body, body
                await watcher.wait_for(
                    lambda w: [e for e in w.of_type("connection.ended") if e["seq"] > again["seq"]],
                    20,
                    "connection.ended after the interview",
                )
                await cand.screenshot(path=str(shots / f"candidate-{tag}-done.png"), full_page=True)
                await expect(hr.locator("#p-state")).to_have_text("面试已结束")
                await hr.screenshot(path=str(shots / f"hr-{tag}-ended.png"), full_page=True)
                assert not cand_log.errors, cand_log.errors
                assert not hr_log.errors, hr_log.errors
            except BaseException as exc:
                if not isinstance(exc, pytest.skip.Exception):
                    print(cand_log.dump(), file=sys.stderr)
                    print(hr_log.dump(), file=sys.stderr)
                    counts: dict[str, int] = {}
                    for e in watcher.events:
                        counts[e["type"]] = counts.get(e["type"], 0) + 1
                    print(f"events: {counts}", file=sys.stderr)
                    print(f"flow: {[(e['type'], e['payload']) for e in flow_events(watcher)]}", file=sys.stderr)
                    with contextlib.suppress(Exception):
                        await cand.screenshot(path=str(shots / f"candidate-{tag}-failure.png"), full_page=True)
                    with contextlib.suppress(Exception):
                        await hr.screenshot(path=str(shots / f"hr-{tag}-failure.png"), full_page=True)
                raise
            finally:
                await cand_ctx.close()
                await hr_ctx.close()
    finally:
        await watcher.stop()


# ------------------------------------------------------------------- tests --

async def test_interview_for_a_job(interview_server: InterviewServer, interview_media: InterviewMedia, shots: Path) -> None:
    r = interview_server.post_session({"job_id": "wealth_manager", "candidate": {"name": "测试候选人"}})
    assert r.status_code == 201, r.text
    session = r.json()
    assert session["job_id"] == "wealth_manager", session
    await take_interview(interview_server, session, interview_media, shots, "job", skip_without_flow=None)


async def test_interview_flow_with_test_questions(
    interview_server: InterviewServer, interview_media: InterviewMedia, shots: Path
) -> None:
    if not interview_server.injection:
        pytest.skip("the launcher could not give sessions a test flow (server.live.LiveSession changed)")
    r = interview_server.post_session({})
    assert r.status_code == 201, r.text
    session = r.json()
    interview_server.list_for_flow(session["id"])
    await take_interview(
        interview_server, session, interview_media, shots, "interview", skip_without_flow=None, wait_out_last_prep=True
    )


async def test_hr_interview_view_scripted(
    interview_server: InterviewServer, interview_media: InterviewMedia, shots: Path
) -> None:
    """Progress panel, transcript grouped by answer window, score cards
    (provisional replaced by final, a late provisional ignored), pause on a
    drop, the language switch, and tolerance of odd payloads."""
    expect = playwright_api.expect
    log = PageLog("hr-interview-scripted")
    routes: list[Any] = []
    seq = iter(range(1, 1000))

    def ev(kind: str, payload: Any, media_time: float | None = None) -> str:
        return json.dumps(
            {"type": kind, "session_id": "scripted", "seq": next(seq), "media_time": media_time,
             "wall_time": time.time(), "payload": payload},
            ensure_ascii=False,
        )

    practice = {"zh": "请用一两句话介绍一下您自己。", "en": "Please introduce yourself."}
    q1_text = {"zh": "一位退休客户想全部买入高风险基金，您会怎么做？", "en": "A retired client wants only high-risk funds. What do you do?"}
    q2_text = {"en": "Tell us about a complaint you handled."}  # English only: zh falls back

    def started(qid: str, index: int, number: int, text: dict, mt: float, prep: int, answer: int, **extra: Any) -> str:
        payload = {"question_id": qid, "index": index, "total": 3, "number": number, "scored_total": 2,
                   "kind": "practice" if number == 0 else "situational", "practice": number == 0, "text": text,
                   "prep_s": prep, "answer_s": answer, "phase": "prep", "deadline": mt + prep, "resumed": False}
        payload.update(extra)
        return ev("question.started", payload, mt)

    def score(overall: float, quote: str, start: float, end: float) -> dict[str, Any]:
        return {
            "question_id": "q1", "overall": overall, "content": overall - 2,
            "competencies": [
                {"id": "suitability", "name": {"zh": "适当性管理", "en": "Suitability"}, "score": overall,
                 "points": [{"id": "risk_profile", "score": overall,
                             "evidence": [{"text": quote, "start": start, "end": end}]}]},
                {"id": "communication", "name": {"zh": "沟通表达", "en": "Communication"}, "score": 55,
                 "points": [{"id": "clear", "score": 55, "evidence": []}, {"id": "odd"}]},
                {"name": None},
            ],
            "delivery": {"score": 70, "wpm": 180}, "engagement": {"score": 80},
            "explanation": {"zh": "提到了风险测评，但没有说明后续的产品匹配。", "en": "Mentions risk profiling, not product matching."},
        }

    async with chromium(interview_media.video, interview_media.speech) as browser:
        context = await browser.new_context(viewport={"width": 1280, "height": 1100}, locale="zh-CN")
        page = await context.new_page()
        log.attach(page)
        try:
            await page.route_web_socket(re.compile(r"/v1/sessions/[^/]+/events"), lambda ws: routes.append(ws))
            await page.goto(f"{interview_server.url}/hr/sessions/scripted")
            await page.locator("#hr-token").fill(interview_server.hr_token)
            await page.locator("#hr-token").press("Enter")
            await page.wait_for_function("() => window.candorHr.wsState === 'open'", timeout=10_000)
            ws = routes[0]

            ws.send(ev("session.created", {}))
            ws.send(ev("consent.given", {"policy": "pipl", "voice": True, "face": True, "emotion": True,
                                         "given_at": "2026-11-26T09:00:00+00:00"}))
            ws.send(ev("connection.started", {"connection_id": "c-1"}, 0.0))
            ws.send(ev("media.flowing", {"connection_id": "c-1"}, 0.02))
            ws.send(ev("expression.metrics", {"frames": 3, "probabilities": {"angry": 0.01, "disgust": 0.0, "fear": 0.02,
                    "happy": 0.2, "sad": 0.05, "surprise": 0.1, "neutral": 0.62}, "dominant": "neutral",
                    "newest_media_time": 0.5}, 0.5))
            ws.send(ev("transcript.final", {"utterance_id": 1, "text": "喂，能听到吗？", "start": 0.2, "end": 1.0}, 1.0))
            ws.send(ev("voice.affect", {"utterance_id": 1, "start": 0.2, "end": 1.0, "voiced_share": 0.7,
                                        "pitch_hz": {"mean": 180.0, "std": 20.0, "p10": 150.0, "p90": 210.0},
                                        "pitch_range_st": 5.6, "intensity_db": {"mean": 62.0, "std": 4.0},
                                        "arousal": 0.43}, 1.0))
            # Free talk so far: no progress panel, no headings.
            await expect(page.locator("#transcript .utt")).to_have_count(1)
            # Consent and emotion context land in their panels, not in the event log.
            await expect(page.locator("#c-policy")).to_contain_text("PIPL")
            await expect(page.locator("#c-face")).to_have_text("已同意")
            await expect(page.locator("#c-emotion")).to_contain_text("开启")
            await expect(page.locator("#m-expression")).to_have_text("平静 62%")
            await expect(page.locator("#m-arousal")).to_have_text("0.43")
            await expect(page.locator("#event-log li[data-type='expression.metrics']")).to_have_count(0)
            await expect(page.locator("#progress")).to_be_hidden()
            await expect(page.locator("#transcript .q-group-head:visible")).to_have_count(0)

            ws.send(started("practice", 0, 0, practice, 2.0, 20, 60))
            ws.send(ev("transcript.final", {"utterance_id": 2, "text": "嗯，让我想一想。", "start": 3.0, "end": 4.0}, 4.0))
            ws.send(ev("answer.started", {"question_id": "practice", "index": 0, "answer_ends_at": 66.0,
                                          "resumed": False}, 6.0))
            ws.send(ev("transcript.final", {"utterance_id": 3, "text": "我叫张三，毕业于复旦大学金融系。",
                                            "start": 6.8, "end": 10.0}, 10.0))
            ws.send(ev("answer.ended", {"question_id": "practice", "index": 0, "reason": "candidate_done",
                                        "start": 6.0, "end": 11.0}, 11.0))
            ws.send(ev("question.ended", {"question_id": "practice", "index": 0, "practice": True}, 11.0))
            ws.send(started("q1", 1, 1, q1_text, 11.0, 30, 90))
            await expect(page.locator("#progress")).to_be_visible()
            await expect(page.locator("#p-label")).to_have_text("第 1 / 2 题")
            await expect(page.locator("#p-phase")).to_have_text("准备中")
            await expect(page.locator("#p-text")).to_have_text(q1_text["zh"])
            await expect(page.locator("#p-clock")).to_have_text(re.compile(r"^00:(2\d|30)$"))
            items = page.locator("#p-list .p-item")
            await expect(items).to_have_count(3)
            await expect(items.nth(0)).to_contain_text("练习")
            await expect(items.nth(0)).to_contain_text("已结束 · 候选人完成")
            await expect(items.nth(1)).to_contain_text("准备中")
            await expect(items.nth(2)).to_contain_text("未开始")

            ws.send(ev("answer.started", {"question_id": "q1", "index": 1, "answer_ends_at": 104.0,
                                          "resumed": False}, 14.0))
            ws.send(ev("transcript.partial", {"utterance_id": 4, "text": "首先我会", "stable": "首先", "unstable": "我会",
                                              "start": 15.0}, 15.5))
            ws.send(ev("transcript.final", {"utterance_id": 4, "text": "首先我会给客户做风险测评。",
                                            "start": 15.0, "end": 20.0}, 20.0))
            ws.send(ev("score.provisional", score(60, "首先我会给客户做风险测评", 15.0, 20.0), 20.5))
            await expect(page.locator("#p-phase")).to_have_text("回答中")
            await expect(page.locator("#p-clock")).to_have_text(re.compile(r"^01:2\d$"))
            card = page.locator("section.q-group[data-question-id='q1'] .score-card")
            await expect(card).to_have_count(1)
            await expect(card).to_have_class(re.compile(r"\bprovisional\b"))
            await expect(card.locator(".score-overall")).to_have_text("60")
            await expect(card).to_contain_text("暂定")
            await page.screenshot(path=str(shots / "hr-scripted-interview-provisional.png"), full_page=True)

            ws.send(ev("transcript.final", {"utterance_id": 5, "text": "然后再推荐适合她的产品。",
                                            "start": 21.0, "end": 24.0}, 24.0))
            ws.send(ev("answer.ended", {"question_id": "q1", "index": 1, "reason": "time_limit",
                                        "start": 14.0, "end": 30.0}, 30.0))
            ws.send(ev("question.ended", {"question_id": "q1", "index": 1, "practice": False}, 30.0))
            # A final transcript after the answer ended still lands under its question.
            ws.send(ev("transcript.final", {"utterance_id": 6, "text": "以上就是我的回答。",
                                            "start": 25.0, "end": 29.5}, 31.0))
            ws.send(started("q2", 2, 2, q2_text, 30.0, 15, 60))
            final = score(78, "首先我会给客户做风险测评", 15.0, 20.0)
            final["weights"] = {"content": 0.7, "delivery": 0.2, "engagement": 0.1, "emotion": 0}
            final["affect"] = {"expression": {"frames": 40, "dominant": "neutral",
                                              "shares": {"neutral": 0.62, "happy": 0.3, "sad": 0.08}},
                               "voice": {"utterances": 3, "arousal_mean": 0.41}, "score": 55.0, "counted": False}
            ws.send(ev("score.question", final, 32.0))
            ws.send(ev("score.provisional", score(40, "late", 15.0, 20.0), 33.0))  # after the final: ignored
            ws.send(ev("score.question", {"overall": 50}, 33.5))  # no question_id: logged only
            ws.send(ev("connection.ended", {"connection_id": "c-1", "reason": "failed"}, 34.0))

            await expect(page.locator("#p-label")).to_have_text("第 2 / 2 题")
            await expect(page.locator("#p-text")).to_have_text(q2_text["en"])
            await expect(page.locator("#p-phase")).to_have_text("已暂停（候选人断线）")
            await expect(items.nth(1)).to_contain_text("已结束 · 时间到")
            await expect(items.nth(1).locator(".p-score")).to_have_text("78")
            await expect(items.nth(2)).to_contain_text("已暂停")

            pre = page.locator("section.q-group.pre")
            await expect(pre.locator(".utt")).to_have_count(1)
            await expect(pre.locator(".q-group-head")).to_be_visible()
            practice_rows = page.locator("section.q-group[data-question-id='practice'] .utt")
            await expect(practice_rows).to_have_count(2)
            await expect(practice_rows.nth(0)).to_have_class(re.compile(r"\boutside\b"))
            await expect(practice_rows.nth(1)).not_to_have_class(re.compile(r"\boutside\b"))
            q1_rows = page.locator("section.q-group[data-question-id='q1'] .utt .utt-text")
            await expect(q1_rows).to_have_text(["首先我会给客户做风险测评。", "然后再推荐适合她的产品。", "以上就是我的回答。"])
            await expect(page.locator("section.q-group[data-question-id='q1'] .q-group-meta")).to_contain_text(
                "回答 00:14.0–00:30.0"
            )

            await expect(card).to_have_count(1)
            await expect(card).to_have_class(re.compile(r"\bfinal\b"))
            await expect(card.locator(".score-overall")).to_have_text("78")
            await expect(card.locator(".comp-name")).to_have_text(["适当性管理", "沟通表达", "—"])
            await expect(card.locator(".comp-val").first).to_have_text("78")
            await expect(card.locator(".ev-quote")).to_have_text(["“首先我会给客户做风险测评”"])
            await expect(card.locator(".ev-time")).to_have_text(["00:15.0–00:20.0"])
            await expect(card.locator(".score-expl")).to_have_text("提到了风险测评，但没有说明后续的产品匹配。")
            await expect(card.locator(".score-subs")).to_contain_text("表达 70")
            # Emotion context: one line each, marked as not scored.
            affect = card.locator(".score-affect")
            await expect(affect).to_have_count(2)
            await expect(affect.nth(0)).to_contain_text("面部表情：平静 62%")
            await expect(affect.nth(1)).to_contain_text("语气唤醒度均值：0.41（3 段）")
            await expect(affect.nth(0)).to_contain_text("参考，不计分")
            width = await card.locator(".comp-fill").first.evaluate("e => e.style.width")
            assert width == "78%", width
            await page.screenshot(path=str(shots / "hr-scripted-interview.png"), full_page=True)

            # English: every label and the question texts switch.
            await page.get_by_role("button", name="English").click()
            await expect(page.locator("#p-label")).to_have_text("Question 2 of 2")
            await expect(page.locator("#p-phase")).to_have_text("paused (candidate disconnected)")
            await expect(items.nth(1)).to_contain_text(q1_text["en"])
            await expect(card.locator(".comp-name").first).to_have_text("Suitability")
            await expect(card.locator(".score-expl")).to_have_text("Mentions risk profiling, not product matching.")
            await page.get_by_role("button", name="中文").click()

            # The candidate is back: the question resumes; then the end.
            ws.send(ev("connection.started", {"connection_id": "c-2"}, 34.0))
            ws.send(ev("media.flowing", {"connection_id": "c-2"}, 34.02))
            ws.send(started("q2", 2, 2, q2_text, 34.1, 15, 60, deadline=46.0, resumed=True))
            await expect(page.locator("#p-phase")).to_have_text("准备中")
            await expect(page.locator("#event-log li[data-type='question.started']").first).to_contain_text("继续")
            ws.send(ev("answer.started", {"question_id": "q2", "index": 2, "answer_ends_at": 100.0, "resumed": False}, 36.0))
            ws.send(ev("answer.ended", {"question_id": "q2", "index": 2, "reason": "no_answer", "start": 36.0,
                                        "end": 51.0}, 51.0))
            ws.send(ev("question.ended", {"question_id": "q2", "index": 2, "practice": False}, 51.0))
            ws.send(ev("interview.ended", {"questions": 3}, 51.0))
            await expect(page.locator("#p-state")).to_have_text("面试已结束")
            await expect(page.locator("#p-label")).to_have_text("面试已结束")
            await expect(items.nth(2)).to_contain_text("未作答")
            await page.locator("#progress").screenshot(path=str(shots / "hr-scripted-progress-ended.png"))
            questions = await page.evaluate("() => window.candorHr.questions")
            assert [q["reason"] for q in questions] == ["candidate_done", "time_limit", "no_answer"], questions
            assert not log.errors, log.errors
        except BaseException:
            print(log.dump(), file=sys.stderr)
            raise
        finally:
            await context.close()
