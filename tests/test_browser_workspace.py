"""The HR workspace in a real browser: resumes in, scored on the board, a candidate invited.

Headless Chromium (Playwright) against a real server on loopback
(tests/helpers.py LiveServer) with the real sentence encoder for screening
and no other model, as tests/test_applications.py builds its app. HR signs
in, opens a job's board, uploads resumes made at test time
(tests/resume_fixtures.py: a strong one as DOCX, a weak and a middling one as
text, and a broken PDF) through the drop zone's file input, and one more by
a real drop event; sees each file's result line and the cards in their
columns with their match scores; searches; opens the strong candidate's page
(the match table, a highlighted evidence span at its offsets, the
timeline); invites (the one-time link, which opens the candidate's consent
step in a fresh browser); and confirms the pool from its column, which a
person must do before anyone is rejected. Screenshots go to
/tmp/candor-shots/workspace/ for a look by eye (Chinese needs fonts-noto-cjk).
"""

from __future__ import annotations

import base64
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from events import Event, payload_from_dict
from runtime.models import Models
from scoring.encoder import SentenceEncoder
from tests.helpers import HR_TOKEN, LiveServer, make_settings
from tests.resume_fixtures import make_resume, to_docx, to_text
from tests.test_browser_e2e import CHROMIUM, SHOTS, PageLog, playwright_api

pytestmark = [pytest.mark.browser, pytest.mark.slow]

JOB = "wealth_manager"
XSS = '\n备注：<img src=x onerror="window.__xss=1"><b>粗体</b>\n'
# Seeds that screen as advance (72), pool (41) and review (64) against the shipped wealth_manager job.
STRONG, WEAK, MIDDLING = make_resume(3, "zh"), make_resume(7, "zh"), make_resume(8, "en")
BATCHED = make_resume(21, "zh")  # in a ZIP dropped later


def _zip(files: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


@pytest.fixture(scope="module")
def workspace_server(encoder: SentenceEncoder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    models = Models(vad=None, asr=None, face=None, encoder=encoder)
    models.warm = True
    settings = make_settings(tmp_path_factory.mktemp("workspace"), contact_key="test-contact-key")
    server = LiveServer(settings, models).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def resumes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("resumes")
    files = {
        "strong": (f"{STRONG.truth.name}.docx", to_docx(STRONG)),
        # The resume is the candidate's text: markup in it must stay text on the page.
        "weak": (f"{WEAK.truth.name}.txt", (to_text(WEAK) + XSS).encode()),
        "middling": ("middling-resume.txt", to_text(MIDDLING).encode()),
        "broken": ("broken.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\nthis is not a PDF body at all\n"),
        "batch": ("campus.zip", _zip({f"{BATCHED.truth.name}.txt": to_text(BATCHED).encode(), "empty.pdf": b""})),
    }
    paths = {}
    for key, (name, data) in files.items():
        path = out / name
        path.write_bytes(data)
        paths[key] = path
    return paths


def shots_dir() -> Path:
    d = SHOTS / "workspace"
    d.mkdir(parents=True, exist_ok=True)
    return d


def card(page, column: str, name: str):
    return page.locator(f'[data-col="{column}"] .app-card', has=page.locator(".app-name", has_text=name))


async def test_upload_score_invite_and_confirm_the_pool(workspace_server: LiveServer, resumes: dict[str, Path]) -> None:
    expect = playwright_api.expect
    shots = shots_dir()
    hr_log, cand_log = PageLog("hr"), PageLog("candidate")
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            hr_ctx = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            hr = await hr_ctx.new_page()
            hr_log.attach(hr)
            try:
                # Sign in: /hr is the jobs, each counted.
                await hr.goto(f"{workspace_server.url}/hr")
                await expect(hr.locator("#signin")).to_be_visible()
                await hr.locator("#hr-token").fill(HR_TOKEN)
                await hr.get_by_role("button", name="登录").click()
                await expect(hr.locator("#jobs-view")).to_be_visible()
                row = hr.locator(f'#jobs-body tr[data-job="{JOB}"]')
                await expect(row).to_contain_text("理财经理")
                await row.get_by_role("link", name="打开看板").click()
                await hr.wait_for_url(re.compile(rf"/hr/jobs/{JOB}$"))
                await expect(hr.locator("#board-view")).to_be_visible()
                await expect(hr.locator("#board-title")).to_contain_text("理财经理")

                # Four files through the drop zone's input: three scored, one refused with its reason.
                await hr.locator("#upload-input").set_input_files(
                    [str(resumes[k]) for k in ("strong", "weak", "middling", "broken")]
                )
                results = hr.locator("#upload-results li")
                await expect(results).to_have_count(4, timeout=60_000)
                await expect(hr.locator("#upload-label")).to_contain_text("已完成 4 份", timeout=30_000)
                await expect(hr.locator("#upload-label")).to_contain_text("3 份新申请")
                assert await hr.locator("#upload-bar-fill").evaluate("n => n.style.width") == "100%"
                await expect(results.nth(0)).to_have_attribute("data-kind", "ok")
                await expect(results.nth(3)).to_have_attribute("data-kind", "error")
                await expect(results.nth(3)).to_contain_text("broken.pdf")
                await expect(results.nth(3)).to_contain_text("未读取")

                # The cards, in their columns, with their match scores.
                strong = card(hr, "screened/advance", STRONG.truth.name)
                weak = card(hr, "screened/pool", WEAK.truth.name)
                middling = card(hr, "screened/review", MIDDLING.truth.name)
                for c in (strong, weak, middling):
                    await expect(c).to_have_count(1)
                    await expect(c.locator(".score-badge")).to_contain_text(re.compile(r"匹配 \d+"))
                await expect(hr.locator('[data-col="screened/advance"] .col-count')).to_have_text("1")
                await expect(hr.locator('[data-col="screened/pool"] .col-count')).to_have_text("1")
                await hr.screenshot(path=str(shots / "board-uploaded.png"), full_page=True)

                # A real drop: the same middling resume again is a duplicate, not a second card.
                data = base64.b64encode(resumes["middling"].read_bytes()).decode()
                await hr.evaluate(
                    """(b64) => {
                        const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
                        const dt = new DataTransfer();
                        dt.items.add(new File([bytes], 'again.txt', { type: 'text/plain' }));
                        const zone = document.getElementById('drop-zone');
                        zone.dispatchEvent(new DragEvent('dragenter', { dataTransfer: dt, bubbles: true, cancelable: true }));
                        zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
                    }""",
                    data,
                )
                await expect(results).to_have_count(1, timeout=30_000)
                await expect(results.nth(0)).to_have_attribute("data-kind", "duplicate", timeout=30_000)
                await expect(middling).to_have_count(1)
                await expect(middling.locator(".app-dups")).to_be_visible()
                # ...and its page lists the attempt: when, from where, which file.
                board_url = hr.url
                await middling.locator(".app-name").click()
                await hr.wait_for_url(re.compile(r"/hr/applications/app_"))
                await expect(hr.locator("#dups-card")).to_be_visible()
                await expect(hr.locator("#dups li")).to_have_count(1)
                await expect(hr.locator("#dups li").first).to_contain_text("again.txt")
                await hr.goto(board_url)
                await expect(hr.locator(".app-card")).to_have_count(3)

                # Search narrows the board; clearing it brings everyone back.
                await hr.locator("#board-search").fill(STRONG.truth.name)
                await expect(hr.locator(".app-card")).to_have_count(1)
                await hr.locator("#board-search").fill("")
                await expect(hr.locator(".app-card")).to_have_count(3)

                # The strong candidate's page: match table, evidence marked in the resume's own text.
                await strong.locator(".app-name").click()
                await hr.wait_for_url(re.compile(r"/hr/applications/app_"))
                await expect(hr.locator("#application-view")).to_be_visible()
                await expect(hr.locator("#app-name")).to_have_text(STRONG.truth.name)
                await expect(hr.locator("#match-body tr.match-row")).not_to_have_count(0)
                await expect(hr.locator("#match-body tr.match-row.active")).to_have_count(1)
                marks = hr.locator("#resume-text mark.evidence")
                await expect(marks.first).to_be_visible()
                app_id = hr.url.rsplit("/", 1)[1]
                # The marks are the evidence of the selected row, at its offsets in the text.
                check = await hr.evaluate(
                    """async (id) => {
                        const app = await (await fetch('/v1/applications/' + id)).json();
                        const resume = await (await fetch('/v1/applications/' + id + '/resume')).json();
                        const i = Number(document.querySelector('#match-body tr.match-row.active').dataset.row);
                        const ev = app.screening.rows[i].evidence;
                        const marks = [...document.querySelectorAll('#resume-text mark')].map(m => m.textContent);
                        return { ev: ev.map(e => resume.text.slice(e.start, e.end)), marks,
                                 whole: document.getElementById('resume-text').textContent === resume.text };
                    }""",
                    app_id,
                )
                assert check["whole"], "the resume text shows whole, marks included"
                assert check["marks"] and all(any(e in m for m in check["marks"]) for e in check["ev"]), check
                # Another row with evidence moves the marks.
                other = hr.locator("#match-body tr.match-row:not(.active)[data-status='met']").first
                await other.click()
                await expect(hr.locator("#match-body tr.match-row.active")).to_have_count(1)
                await expect(hr.locator("#timeline li")).to_have_count(2)
                await hr.screenshot(path=str(shots / "candidate-page.png"), full_page=True)

                # Invite: the one-time link shows, the timeline has the step.
                await hr.locator("#app-invite").click()
                link = hr.locator("#app-invite-link")
                await expect(link).to_have_value(re.compile(r"/interview#code=."), timeout=15_000)
                invite_url = await link.input_value()
                await expect(hr.locator("#timeline li[data-action='invite']")).to_have_count(1)
                await expect(hr.locator("#app-state")).to_contain_text("已邀约")
                await expect(hr.locator("#app-invite")).to_be_hidden()
                await hr.screenshot(path=str(shots / "candidate-invited.png"), full_page=True)

                # The link works: the candidate's page exchanges the code and shows its consent step.
                cand_ctx = await browser.new_context(viewport={"width": 1000, "height": 900}, locale="zh-CN")
                cand = await cand_ctx.new_page()
                cand_log.attach(cand)
                await cand.goto(invite_url)
                await cand.wait_for_function("() => !location.href.includes('code=')", timeout=10_000)
                await expect(cand.locator("#step-notice")).to_be_visible()
                await expect(cand.locator("#consent-scopes")).to_be_visible()
                await expect(cand.locator("#banner")).to_be_hidden()
                await cand.screenshot(path=str(shots / "candidate-link-consent.png"), full_page=True)
                await cand_ctx.close()

                # A report made for the session (rebuilt from its event log, here only the interview's end:
                # a session whose interview never ended has nothing to report, issue 12) shows on the page.
                session_id = await hr.evaluate(
                    "async (id) => (await (await fetch('/v1/applications/' + id)).json()).session_id", app_id
                )
                store = workspace_server.candor.store.store
                store.append_events([Event(session_id=session_id, seq=store.last_seq(session_id) + 1, media_time=0.0,
                                           wall_time=time.time(), payload=payload_from_dict("interview.ended", {"questions": 0}))])
                made = await hr.evaluate(
                    "async (sid) => (await fetch('/v1/sessions/' + sid + '/report/rebuild', {method: 'POST'})).status",
                    session_id,
                )
                assert made in (200, 201), made
                await hr.reload()
                await expect(hr.locator("#report-card")).to_be_visible()
                await expect(hr.locator("#report-link")).to_have_attribute("href", re.compile(r"/report\?format=html$"))
                await expect(hr.locator("#app-invite-link")).to_have_value(invite_url)
                await hr.screenshot(path=str(shots / "candidate-report.png"))

                # Back on the board: invited; the pool confirmed by a person, from its column.
                await hr.locator("#app-back").click()
                await expect(hr.locator("#board-view")).to_be_visible()
                await expect(card(hr, "invited", STRONG.truth.name)).to_have_count(1)
                await expect(hr.locator("#pool-confirm")).to_contain_text("确认淘汰池（1）")
                await hr.locator("#pool-confirm").click()
                await expect(card(hr, "decided", WEAK.truth.name)).to_have_count(1)
                await expect(hr.locator('[data-col="screened/pool"] .app-card')).to_have_count(0)
                await expect(hr.locator("#bulk-result")).to_contain_text("1 人成功")

                # Bulk select: the middling candidate withdrawn with the bulk bar.
                await middling.locator(".app-select").check()
                await expect(hr.locator("#bulk-count")).to_have_text("已选 1 人")
                await hr.locator("#bulk-withdraw").click()
                await expect(card(hr, "withdrawn", MIDDLING.truth.name)).to_have_count(1)
                await hr.screenshot(path=str(shots / "board-after.png"), full_page=True)

                # The weak candidate's page: the markup in the resume shows as text, nothing runs.
                await card(hr, "decided", WEAK.truth.name).locator(".app-name").click()
                await expect(hr.locator("#application-view")).to_be_visible()
                await expect(hr.locator("#resume-text")).to_contain_text('<img src=x onerror="window.__xss=1">')
                await expect(hr.locator("#resume-text img, #resume-text b")).to_have_count(0)
                assert await hr.evaluate("() => window.__xss") is None
                await expect(hr.locator("#timeline li[data-action='confirm_pool']")).to_have_count(1)
                await hr.go_back()
                await expect(hr.locator("#board-view")).to_be_visible()

                # A ZIP of resumes: one upload, then a line per file as the server reads them.
                await hr.locator("#upload-input").set_input_files(str(resumes["batch"]))
                zipped = hr.locator("#upload-results li")
                await expect(zipped).to_have_count(2, timeout=60_000)
                await expect(hr.locator("#upload-label")).to_contain_text("已完成 2 份", timeout=30_000)
                await expect(zipped.nth(0)).to_contain_text("campus.zip ›")
                kinds = sorted([await zipped.nth(i).get_attribute("data-kind") for i in range(2)])
                assert kinds == ["error", "ok"], kinds
                await expect(hr.locator("#upload-results li[data-kind='error']")).to_contain_text("empty.pdf")
                await expect(card(hr, "screened/" + "advance", BATCHED.truth.name).or_(
                    card(hr, "screened/review", BATCHED.truth.name)).or_(card(hr, "screened/pool", BATCHED.truth.name))).to_have_count(1)

                # English labels, same board.
                await hr.locator("#lang-toggle").click()
                await expect(hr.locator('[data-col="invited"] .col-title')).to_have_text("Invited")
                await hr.screenshot(path=str(shots / "board-en.png"), full_page=True)
                await hr.locator("#lang-toggle").click()

                # The jobs count what the board shows; the sessions list still works.
                await hr.locator("#nav-jobs").click()
                await expect(row.locator("td").nth(1)).to_have_text("4")  # three, and one from the ZIP
                await hr.screenshot(path=str(shots / "jobs.png"), full_page=True)
                await hr.locator("#nav-sessions").click()
                await expect(hr.locator("#list-view")).to_be_visible()
                await expect(hr.locator("#sessions-body tr")).to_have_count(1)
                assert not hr_log.errors, hr_log.errors
                assert not cand_log.errors, cand_log.errors
            except BaseException:
                print(hr_log.dump(), file=sys.stderr)
                print(cand_log.dump(), file=sys.stderr)
                await hr.screenshot(path=str(shots / "failure.png"), full_page=True)
                raise
            finally:
                await hr_ctx.close()
        finally:
            await browser.close()
