"""Recordings in a real browser: a candidate consents to recording, answers, and HR plays the answer from a quote.

Headless Chromium with a fake camera (a portrait) and a fake microphone (a
strong Mandarin answer to the wealth manager's complaint question, looped)
takes a one-question interview on a real server (``python -m server``, real
models) with the recording consent ticked. Then HR opens the session's
report page: the answer has a player, each evidence quote a "▶"; clicking
one seeks the player to the quote's media time in the answer's file and it
plays (its currentTime advances). On disk the recording is a vault blob.
Screenshot: /tmp/candor-shots/hr-recording.png.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from jobs.catalog import BANKS_DIR
from tests.media_fixtures import ANSWERS_ZH, OBAMA_JPG, ffmpeg_available, padded_speech_wav, portrait_y4m, require_media
from tests.test_browser_e2e import CHROMIUM, HEALTH_TIMEOUT_S, REPO, ROOMY_ADMISSION, SHOTS, PageLog, chromium, free_port, playwright_api

pytestmark = [pytest.mark.browser, pytest.mark.slow]

QUESTION = "complaint_nav_loss"
ANSWER = ANSWERS_ZH / f"wealth_manager.{QUESTION}.strong.opus"
WEBM_MAGIC = bytes.fromhex("1A45DFA3")


class Server:
    def __init__(self, url: str, token: str, workdir: Path, proc: subprocess.Popen, log: Path) -> None:
        self.url, self.token, self.workdir, self.proc, self.log = url, token, workdir, proc, log

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def log_tail(self, n: int = 150) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no server log)"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    if not ffmpeg_available():
        pytest.skip("ffmpeg is not installed")
    require_media(ANSWER, OBAMA_JPG)
    workdir = tmp_path_factory.mktemp("candor-recording")
    port, token = free_port(), secrets.token_urlsafe(24)
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ)
    env.update(
        CANDOR_HOST="127.0.0.1", CANDOR_PORT=str(port), CANDOR_DATABASE_URL=f"sqlite:///{workdir}/candor.db",
        CANDOR_HR_TOKEN=token, CANDOR_PUBLIC_URL=url, CANDOR_RECORDINGS_DIR=str(workdir / "recordings"),
        **ROOMY_ADMISSION,
        PYTHONPATH=os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep), PYTHONUNBUFFERED="1",
    )
    log = workdir / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "server"], cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    running = Server(url, token, workdir, proc, log)
    try:
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"server exited with {proc.returncode}:\n{running.log_tail()}")
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"/healthz not 200 after {HEALTH_TIMEOUT_S} s:\n{running.log_tail()}")
            time.sleep(0.5)
        # One question: the answer runs 40 s, longer than one loop of the fake microphone's answer (~26 s).
        data = yaml.safe_load((BANKS_DIR / "wealth_manager.yaml").read_text(encoding="utf-8"))
        question = next(q for q in data["bank"]["questions"] if q["id"] == QUESTION)
        question.update(prep_s=2, answer_s=40)
        bank = {"id": "wm_recorded", "job_id": "wealth_manager", "title": {"zh": "录音测试", "en": "Recorded"}, "questions": [question]}
        response = httpx.post(f"{url}/v1/banks", json=bank, headers=running.auth, timeout=10)
        assert response.status_code == 201, response.text
        yield running
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


async def _report(server: Server, session_id: str, timeout_s: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient(base_url=server.url, headers=server.auth) as client:
        while time.monotonic() < deadline:
            response = await client.get(f"/v1/sessions/{session_id}/report")
            if response.status_code == 200:
                return response.json()["report"]
            await asyncio.sleep(1.0)
    raise AssertionError(f"no report after {timeout_s} s:\n{server.log_tail()}")


async def test_hr_plays_an_answer_from_an_evidence_quote(server: Server, tmp_path: Path) -> None:
    expect = playwright_api.expect
    SHOTS.mkdir(parents=True, exist_ok=True)
    video = portrait_y4m(tmp_path)
    speech = padded_speech_wav(tmp_path, ANSWER, lead_s=1.0, tail_s=4.0, name="answer.wav")
    response = httpx.post(f"{server.url}/v1/sessions", headers=server.auth, timeout=10, json={
        "job_id": "wealth_manager", "bank_id": "wm_recorded", "candidate": {"name": "录音 测试"}})
    assert response.status_code == 201, response.text
    session = response.json()
    sid = session["id"]
    cand_log, hr_log = PageLog("candidate"), PageLog("hr")
    async with chromium(video, speech) as browser:
        cand = await (await browser.new_context(viewport={"width": 1000, "height": 900}, locale="zh-CN")).new_page()
        hr = await (await browser.new_context(viewport={"width": 1280, "height": 1400}, locale="zh-CN")).new_page()
        cand_log.attach(cand)
        hr_log.attach(hr)
        try:
            # -- the candidate: recording is its own, optional line, off until ticked ----------------------
            await cand.goto(session["candidate_url"])
            await expect(cand.locator("#step-notice")).to_be_visible()
            line = cand.locator("#consent-recording-line")
            await expect(line).to_be_visible()
            await expect(line).to_contain_text("可选")
            await expect(cand.locator("#consent-recording")).not_to_be_checked()
            await cand.locator("#consent").check()
            await cand.locator("#consent-voice").check()
            await cand.locator("#consent-face").check()
            await cand.locator("#consent-recording").check()
            await cand.screenshot(path=str(SHOTS / "candidate-recording-consent.png"), full_page=True)
            await cand.get_by_role("button", name="同意并继续").click()
            start = cand.get_by_role("button", name="开始面试")
            await expect(start).to_be_enabled(timeout=20_000)
            await start.click()
            await cand.wait_for_function("() => window.candor.state === 'live'", timeout=30_000)
            shown = httpx.get(f"{server.url}/v1/sessions/{sid}", headers=server.auth, timeout=10).json()
            assert shown["consent"]["recording"] is True and shown["consent"]["face"] is True, shown["consent"]

            # -- the answer runs out its time, the report is built ----------------------------------------
            report = await _report(server, sid, 150)
            (q,) = [q for q in report["questions"] if q["question_id"] == QUESTION]
            quotes = [e for c in q["score"]["competencies"] for p in c["points"] for e in p.get("evidence", [])]
            assert quotes, q["score"]

            listed: list[dict[str, Any]] = []
            for _ in range(60):  # the encoder's worker seals and stores it just after the answer ends
                listed = httpx.get(f"{server.url}/v1/sessions/{sid}/recordings", headers=server.auth, timeout=10).json()["recordings"]
                if listed:
                    break
                await asyncio.sleep(0.5)
            (rec,) = listed
            window = q["answer"]
            assert rec["answer"] == 0 and rec["question_id"] == QUESTION and rec["kinds"] == ["audio", "video"], rec
            assert rec["start"] == pytest.approx(window["start"], abs=0.05)
            assert rec["duration"] == pytest.approx(window["end"] - window["start"], abs=1.0), (rec, window)
            sealed = list((server.workdir / "recordings" / sid).iterdir())
            assert len(sealed) == 2 and all(p.read_bytes()[:3] == b"CV1" and WEBM_MAGIC not in p.read_bytes() for p in sealed)

            # -- HR: the report page has a player and a ▶ per quote --------------------------------------------
            await hr.goto(f"{server.url}/hr/sessions/{sid}")
            await hr.locator("#hr-token").fill(server.token)
            await hr.locator("#hr-token").press("Enter")
            await expect(hr.locator("#live-view")).to_be_visible()
            await expect(hr.locator("#c-recording")).to_have_text("已同意")  # the consent card says so
            card = hr.locator(f".score-card.final[data-question-id='{QUESTION}']")
            await expect(card).to_be_visible(timeout=20_000)
            player = card.locator(".rec-player")
            await expect(player).to_have_count(1, timeout=15_000)
            plays = card.locator(".ev-play")
            await expect(plays.first).to_be_visible()
            await hr.wait_for_function(
                f"() => document.querySelector(\".score-card.final[data-question-id='{QUESTION}'] .rec-player\").readyState >= 1",
                timeout=15_000,
            )
            # the last quote: furthest into the answer
            button = plays.last
            media_time = float(await button.get_attribute("data-media-time"))
            segments = rec["segments"]
            seg = [s for s in segments if s[0] <= media_time + 1e-9][-1] if any(s[0] <= media_time for s in segments) else segments[0]
            expected = max(0.0, seg[1] + (media_time - seg[0]))
            assert 0.5 < expected < rec["duration"], (expected, rec)
            await button.click()
            at = await player.evaluate("m => m.currentTime")
            assert at == pytest.approx(expected, abs=0.3), (at, expected, media_time, rec)
            await hr.wait_for_timeout(2000)
            later = await player.evaluate("m => ({t: m.currentTime, paused: m.paused, error: m.error && m.error.code})")
            assert later["error"] is None and not later["paused"], later
            assert later["t"] > at + 0.8, (at, later)  # it plays
            await hr.screenshot(path=str(SHOTS / "hr-recording.png"), full_page=True)

            # each playback is in the audit trail
            audit = httpx.get(f"{server.url}/v1/audit", params={"action": "recording.played"}, headers=server.auth, timeout=10).json()
            assert any(e["target_id"] == sid and e["details"] == {"answer": 0} for e in audit["entries"]), audit
        except BaseException:
            print(cand_log.dump(), hr_log.dump(), server.log_tail(), sep="\n----\n", file=sys.stderr)
            raise
