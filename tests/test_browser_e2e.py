"""End to end in a real browser: headless Chromium publishes a fake camera and
microphone (made from tests/media) to the real server over WHIP, and we
check what comes back: the server's events (transcripts, face metrics,
connections) on the HR event stream, the candidate page's live captions and
state, and the HR live page.

The server runs as a subprocess (``python -m server``) on a free loopback
port with real models; Chromium is the system one (/usr/bin/chromium) driven
by Playwright. Screenshots go to /tmp/candor-shots/ for a look by eye.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx
import jiwer
import pytest
import websockets

from tests.media_fixtures import (
    AISHELL_TEXT,
    AISHELL_WAV,
    JFK_FLAC,
    JFK_TEXT,
    OBAMA_JPG,
    ffmpeg_available,
    padded_speech_wav,
    portrait_y4m,
    require_media,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path("/tmp/candor-shots")
HEALTH_TIMEOUT_S = 150
RESULT_TIMEOUT_S = 90
ROOMY_ADMISSION = {
    "CANDOR_MAX_LIVE_SESSIONS": "32",
    "CANDOR_ADMISSION_LOOP_LAG_S": "5",
    "CANDOR_ADMISSION_BACKLOG_S": "60",
    # Chromium on this machine offers its private addresses (the default allows public ones only)
    "CANDOR_ICE_ALLOW": '["public", "private", "loopback"]',
}

playwright_api = pytest.importorskip("playwright.async_api")


# ---------------------------------------------------------------- helpers --

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def words_en(text: str) -> str:
    text = text.lower().replace("’", "'")
    text = re.sub(r"[^\w\s']", " ", text)
    return " ".join(text.split())


def chars_zh(text: str) -> str:
    return re.sub(r"[\W_]+", "", text)


def en_wer(reference: str, hypothesis: str) -> float:
    return jiwer.wer(words_en(reference), words_en(hypothesis))


def zh_cer(reference: str, hypothesis: str) -> float:
    return jiwer.cer(chars_zh(reference), chars_zh(hypothesis))


def best_window(
    texts: list[str], score: Callable[[str], float], *, joiner: str, max_len: int = 4
) -> tuple[float, str]:
    """The lowest error over runs of consecutive finals.

    The fake microphone loops the clip, and voice activity detection may cut
    one reading into a few utterances at its pauses, so a reading is one to a
    few consecutive finals.
    """
    best = (float("inf"), "")
    for i in range(len(texts)):
        for n in range(1, max_len + 1):
            if i + n > len(texts):
                break
            joined = joiner.join(texts[i : i + n]).strip()
            if not joined:
                continue
            s = score(joined)
            if s < best[0]:
                best = (s, joined)
    return best


def chromium_args(video: Path, audio: Path) -> list[str]:
    # The flags that work with Chromium's fake capture devices; Playwright adds --headless and
    # its own --user-data-dir (a fresh one per launch).
    return [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
        f"--use-file-for-fake-audio-capture={audio}",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--autoplay-policy=no-user-gesture-required",
    ]


@dataclass
class RunningServer:
    url: str
    hr_token: str
    process: subprocess.Popen
    log_path: Path

    def log_tail(self, n: int = 120) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no server log)"
        return "\n".join(lines[-n:])

    def create_session(self) -> dict[str, Any]:
        r = httpx.post(
            f"{self.url}/v1/sessions",
            headers={"Authorization": f"Bearer {self.hr_token}"},
            json={},
            timeout=10,
        )
        assert r.status_code == 201, r.text
        return r.json()


@dataclass
class Media:
    video: Path
    jfk: Path
    aishell: Path


@dataclass
class EventWatcher:
    """An HR watcher on the event stream: bearer token, resume by seq."""

    url: str
    hr_token: str
    events: list[dict[str, Any]] = field(default_factory=list)
    closes: list[Any] = field(default_factory=list)
    last_seq: int = -1
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task | None = None

    def _url(self) -> str:
        parts = urlsplit(self.url)
        query = (parts.query + "&" if parts.query else "") + urlencode({"from_seq": self.last_seq + 1})
        return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))

    async def _run(self) -> None:
        while True:
            try:
                async with websockets.connect(
                    self._url(),
                    additional_headers={"Authorization": f"Bearer {self.hr_token}"},
                    open_timeout=10,
                    max_size=None,
                ) as ws:
                    async for raw in ws:
                        event = json.loads(raw)
                        seq = int(event["seq"])
                        if seq <= self.last_seq:
                            continue
                        self.last_seq = seq
                        self.events.append(event)
                        self._changed.set()
            except asyncio.CancelledError:
                raise
            except (websockets.ConnectionClosed, OSError, asyncio.TimeoutError) as exc:
                self.closes.append(repr(exc))
            else:
                self.closes.append("closed by server")
            await asyncio.sleep(0.5)

    def start(self) -> "EventWatcher":
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == kind]

    async def wait_for(self, predicate: Callable[["EventWatcher"], Any], timeout: float, what: str) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            found = predicate(self)
            if found:
                return found
            left = deadline - time.monotonic()
            if left <= 0:
                counts: dict[str, int] = {}
                for e in self.events:
                    counts[e["type"]] = counts.get(e["type"], 0) + 1
                finals = [e["payload"].get("text") for e in self.of_type("transcript.final")]
                raise AssertionError(
                    f"timed out after {timeout:.0f} s waiting for {what}; events seen: {counts}; "
                    f"finals: {finals!r}; closes: {self.closes}; "
                    f"last face.metrics: {(self.of_type('face.metrics') or [{}])[-1].get('payload')}"
                )
            self._changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=min(left, 1.0))


def final_texts(w: EventWatcher) -> list[str]:
    return [str(e["payload"].get("text") or "") for e in w.of_type("transcript.final")]


def good_face(w: EventWatcher) -> dict[str, Any] | None:
    for e in w.of_type("face.metrics"):
        p = e["payload"]
        if p.get("faces_max") == 1 and (p.get("presence") or 0) > 0.5:
            return e
    return None


class PageLog:
    """Console messages and uncaught errors of a page, shown when a test fails."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.lines: list[str] = []
        self.errors: list[str] = []

    def attach(self, page: Any) -> None:
        page.on("console", lambda m: self.lines.append(f"[{self.name}] {m.type}: {m.text}"))
        page.on("pageerror", lambda e: self.errors.append(f"[{self.name}] {e}"))

    def dump(self) -> str:
        return "\n".join(self.lines[-60:] + self.errors)


async def give_consent(page: Any, *, face: bool = True) -> None:
    """Tick the notice's boxes as a candidate would under the default policy
    (pipl): the general consent, then voice (required) and face (optional)
    each on its own; "Agree" stays off until the required ones are ticked."""
    expect = playwright_api.expect
    agree = page.get_by_role("button", name="同意并继续")
    await expect(page.locator("#consent-scopes")).to_be_visible()
    await page.locator("#consent").check()
    await expect(agree).to_be_disabled()
    await page.locator("#consent-voice").check()
    if face:
        await page.locator("#consent-face").check()
    await expect(agree).to_be_enabled()


async def candidate_starts(
    page: Any,
    candidate_url: str,
    notice_shot: Path | None = None,
    check_shot: Path | None = None,
    *,
    face: bool = True,
) -> None:
    """Drive the candidate page as a person would, up to a live interview."""
    expect = playwright_api.expect
    await page.goto(candidate_url)
    # The one-time code leaves the address bar at once.
    await page.wait_for_function("() => !location.href.includes('code=')", timeout=10_000)
    await expect(page.locator("#step-notice")).to_be_visible()
    await expect(page.locator("#banner")).to_be_hidden()
    if notice_shot is not None:
        await page.screenshot(path=str(notice_shot), full_page=True)
    # Nothing is captured before consent.
    assert await page.evaluate("() => window.candor.state") in ("idle",)
    assert await page.evaluate("() => document.getElementById('preview').srcObject") is None
    await expect(page.get_by_role("button", name="同意并继续")).to_be_disabled()
    await give_consent(page, face=face)
    await page.get_by_role("button", name="同意并继续").click()
    # Device check: preview and level meter before anything is sent.
    start = page.get_by_role("button", name="开始面试")
    await expect(start).to_be_enabled(timeout=20_000)
    if face:
        await page.wait_for_function(
            "() => { const v = document.getElementById('preview'); return v.videoWidth > 0 && !v.paused; }",
            timeout=15_000,
        )
    if check_shot is not None:
        await page.wait_for_function("() => window.candor.heard", timeout=20_000)
        await page.screenshot(path=str(check_shot), full_page=True)
    await start.click()
    await page.wait_for_function("() => window.candor.state === 'live'", timeout=30_000)


# --------------------------------------------------------------- fixtures --

@pytest.fixture(scope="module")
def candor_server(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[RunningServer]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    if not ffmpeg_available():
        pytest.skip("ffmpeg is not installed")
    require_media(JFK_FLAC, AISHELL_WAV, OBAMA_JPG)
    workdir = tmp_path_factory.mktemp("candor-server")
    port = free_port()
    token = secrets.token_urlsafe(24)
    url = f"http://127.0.0.1:{port}"
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
        PYTHONPATH=os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        PYTHONUNBUFFERED="1",
    )
    log_path = workdir / "server.log"
    # The working directory is a scratch one: no .env or var/ of the checkout.
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "server"],
            cwd=workdir,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    server = RunningServer(url, token, proc, log_path)
    try:
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"server exited with {proc.returncode}:\n{server.log_tail()}")
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
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        if request.session.testsfailed:
            print(f"\n---- server log ({log_path}) ----\n{server.log_tail(200)}\n----", file=sys.stderr)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Media:
    if not ffmpeg_available():
        pytest.skip("ffmpeg is not installed")
    out = tmp_path_factory.mktemp("media")
    return Media(
        video=portrait_y4m(out),
        jfk=padded_speech_wav(out, JFK_FLAC, name="jfk.wav"),
        aishell=padded_speech_wav(out, AISHELL_WAV, name="aishell.wav"),
    )


@pytest.fixture
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


@contextlib.asynccontextmanager
async def chromium(video: Path, audio: Path):
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=chromium_args(video, audio)
        )
        try:
            yield browser
        finally:
            await browser.close()


# ------------------------------------------------------------------ tests --

async def video_frames_per_second(url: str, seconds: float) -> float:
    """Video frames the server decoded per second over ``seconds`` (its /metrics)."""

    async def count() -> float:
        async with httpx.AsyncClient(timeout=10) as client:
            text = (await client.get(f"{url}/metrics")).text
        line = next(l for l in text.splitlines() if l.startswith("candor_video_frames_decoded_total "))
        return float(line.rsplit(" ", 1)[1])

    first, started = await count(), time.monotonic()
    await asyncio.sleep(seconds)
    return (await count() - first) / (time.monotonic() - started)


async def test_candidate_english_speech_and_face(candor_server: RunningServer, media: Media, shots: Path) -> None:
    session = candor_server.create_session()
    watcher = EventWatcher(session["events_url"], candor_server.hr_token).start()
    log = PageLog("candidate")
    try:
        async with chromium(media.video, media.jfk) as browser:
            context = await browser.new_context(viewport={"width": 1000, "height": 900}, locale="zh-CN")
            page = await context.new_page()
            log.attach(page)
            try:
                await candidate_starts(
                    page, session["candidate_url"], shots / "candidate-notice.png", shots / "candidate-check.png"
                )
                assert "code=" not in page.url
                assert session["candidate_url"].split("#", 1)[1] not in await page.evaluate("() => location.href")

                started = await watcher.wait_for(
                    lambda w: w.of_type("connection.started"), 30, "connection.started"
                )
                first_connection = started[0]["payload"]["connection_id"]

                def jfk_heard(w: EventWatcher):
                    s, text = best_window(final_texts(w), lambda t: en_wer(JFK_TEXT, t), joiner=" ")
                    return (s, text) if s < 0.15 else None

                wer, text = await watcher.wait_for(jfk_heard, RESULT_TIMEOUT_S, "a JFK transcript with WER < 0.15")
                print(f"\nJFK: WER {wer:.3f}: {text!r}")
                face = await watcher.wait_for(good_face, RESULT_TIMEOUT_S, "face.metrics with one face present")
                print(f"face.metrics: {face['payload']}")
                # The camera runs at 15 fps; the page caps what it sends at the server's sampling rate
                # (CANDOR_VIDEO_FPS, 5): every frame sent is decoded on the server, used or not.
                sent_fps = await video_frames_per_second(candor_server.url, 6.0)
                print(f"video frames decoded: {sent_fps:.1f}/s")
                assert 3.0 <= sent_fps <= 6.0, sent_fps
                counts: dict[str, int] = {}
                for e in watcher.events:
                    counts[e["type"]] = counts.get(e["type"], 0) + 1
                print(f"events so far: {counts}")

                # The live caption came back on the data channel.
                await page.wait_for_function("() => window.candor.captions.length > 0", timeout=30_000)
                await page.wait_for_function(
                    "() => document.querySelectorAll('#caption-history li').length > 0", timeout=30_000
                )
                captions = await page.evaluate("() => window.candor.captions.map(c => c.text)")
                assert any(c.strip() for c in captions), captions
                # By default the candidate sees each utterance once it is final (CANDOR_CANDIDATE_CAPTIONS=final).
                assert await page.evaluate("() => window.candor.captions.every(c => c.final)"), captions
                assert (await page.locator("#caption-title").inner_text()).strip() == "识别出的回答"
                await page.screenshot(path=str(shots / "candidate-live.png"), full_page=True)

                # A drop: the server hangs up this connection; the page
                # publishes again by itself with the same token.
                r = httpx.delete(
                    f"{candor_server.url}/whip/{session['id']}/{first_connection}",
                    headers={"Authorization": f"Bearer {session['candidate_token']}"},
                    timeout=10,
                )
                assert r.status_code in (200, 204), r.text
                second = await watcher.wait_for(
                    lambda w: [
                        e for e in w.of_type("connection.started")
                        if e["payload"]["connection_id"] != first_connection
                    ],
                    45,
                    "a new connection after the drop",
                )
                second_connection = second[0]["payload"]["connection_id"]
                await page.wait_for_function("() => window.candor.state === 'live'", timeout=30_000)

                # Finish hangs up with DELETE on the WHIP resource.
                await page.get_by_role("button", name="结束面试").click()
                await page.get_by_role("button", name="确认结束").click()
                await page.wait_for_function("() => window.candor.state === 'finished'", timeout=15_000)
                await playwright_api.expect(page.locator("#step-done")).to_be_visible()
                await watcher.wait_for(
                    lambda w: [
                        e for e in w.of_type("connection.ended")
                        if e["payload"]["connection_id"] == second_connection
                    ],
                    20,
                    "connection.ended after Finish",
                )
                await page.screenshot(path=str(shots / "candidate-done.png"), full_page=True)
                assert not log.errors, log.errors
            except BaseException:
                print(log.dump(), file=sys.stderr)
                with contextlib.suppress(Exception):
                    await page.screenshot(path=str(shots / "candidate-failure.png"), full_page=True)
                raise
            finally:
                await context.close()
    finally:
        await watcher.stop()


async def test_candidate_mandarin_speech(candor_server: RunningServer, media: Media, shots: Path) -> None:
    session = candor_server.create_session()
    watcher = EventWatcher(session["events_url"], candor_server.hr_token).start()
    log = PageLog("candidate-zh")
    try:
        async with chromium(media.video, media.aishell) as browser:
            context = await browser.new_context(viewport={"width": 420, "height": 860}, locale="zh-CN", is_mobile=True)
            page = await context.new_page()
            log.attach(page)
            try:
                await candidate_starts(page, session["candidate_url"])

                def aishell_heard(w: EventWatcher):
                    s, text = best_window(final_texts(w), lambda t: zh_cer(AISHELL_TEXT, t), joiner="", max_len=2)
                    return (s, text) if s < 0.3 else None

                cer, text = await watcher.wait_for(aishell_heard, RESULT_TIMEOUT_S, "an AISHELL transcript with CER < 0.3")
                print(f"\nAISHELL: CER {cer:.3f}: {text!r}")
                await page.wait_for_function("() => window.candor.captions.length > 0", timeout=30_000)
                await page.screenshot(path=str(shots / "candidate-live-mobile-zh.png"), full_page=True)
                assert not log.errors, log.errors
            except BaseException:
                print(log.dump(), file=sys.stderr)
                raise
            finally:
                await context.close()
    finally:
        await watcher.stop()


async def test_hr_signs_in_creates_session_and_watches(candor_server: RunningServer, media: Media, shots: Path) -> None:
    expect = playwright_api.expect
    hr_log, cand_log = PageLog("hr"), PageLog("candidate")
    async with chromium(media.video, media.jfk) as browser:
        hr_ctx = await browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN")
        cand_ctx = await browser.new_context(viewport={"width": 1000, "height": 900}, locale="zh-CN")
        hr = await hr_ctx.new_page()
        cand = await cand_ctx.new_page()
        hr_log.attach(hr)
        cand_log.attach(cand)
        try:
            await hr.goto(f"{candor_server.url}/hr")
            await expect(hr.locator("#signin")).to_be_visible()
            await hr.screenshot(path=str(shots / "hr-signin.png"))
            await hr.locator("#hr-token").fill("not-the-token")
            await hr.get_by_role("button", name="登录").click()
            await expect(hr.locator("#signin-error")).not_to_be_empty()
            await hr.locator("#hr-token").fill(candor_server.hr_token)
            await hr.get_by_role("button", name="登录").click()
            # /hr opens on the jobs (the workspace); the sessions are one link away.
            await expect(hr.locator("#jobs-view")).to_be_visible()
            await hr.locator("#nav-sessions").click()
            await hr.wait_for_url(re.compile(r"/hr/sessions$"))
            await expect(hr.locator("#list-view")).to_be_visible()
            # The cookie is HttpOnly: the page's script cannot read it.
            assert "candor" not in await hr.evaluate("() => document.cookie")

            # "New session" opens the form; free talk (no job) needs nothing else.
            await hr.get_by_role("button", name="新建会话").click()
            await expect(hr.locator("#new-session-form")).to_be_visible()
            await expect(hr.locator("#ns-job")).to_have_value("")
            await hr.get_by_role("button", name="创建链接").click()
            await expect(hr.locator("#new-session-form")).to_be_hidden()
            link = hr.locator("#candidate-link")
            await expect(link).to_have_value(re.compile(r"/interview#code=."))
            candidate_url = await link.input_value()
            await expect(hr.locator("#sessions-body tr")).not_to_have_count(0)
            await hr.screenshot(path=str(shots / "hr-list.png"), full_page=True)

            # The first event stream connection is cut after three events with
            # 4001 ("too slow"), as the server does to a lagging watcher; the page
            # must come back with from_seq = last seen + 1.
            ws_urls: list[str] = []
            cut_after: list[int] = []

            async def route_events(ws: Any) -> None:
                ws_urls.append(ws.url)
                server = ws.connect_to_server()
                if len(ws_urls) > 1:
                    return  # later connections pass straight through

                async def from_server(message: Any) -> None:
                    if cut_after:
                        return
                    ws.send(message)
                    seen.append(json.loads(message)["seq"])
                    if len(seen) == 3:
                        cut_after.append(seen[-1])
                        await ws.close(code=4001, reason="test: too slow")
                        await server.close(code=1000, reason="test")

                seen: list[int] = []
                server.on_message(from_server)

            await hr.route_web_socket(re.compile(r"/v1/sessions/[^/]+/events"), route_events)

            await hr.get_by_role("link", name="查看实时画面").click()
            await hr.wait_for_url(re.compile(r"/hr/sessions/[^/]+$"))
            await expect(hr.locator("#live-view")).to_be_visible()
            await hr.wait_for_function("() => window.candorHr.wsState === 'open'", timeout=15_000)

            await candidate_starts(cand, candidate_url)
            # The live view shows the policy and the consent (consent.given).
            await expect(hr.locator("#c-policy")).to_contain_text("PIPL")
            await expect(hr.locator("#c-voice")).to_have_text("已同意")
            await expect(hr.locator("#c-face")).to_have_text("已同意")
            await expect(hr.locator("#event-log li[data-type='consent.given']")).to_have_count(1)

            final = hr.locator("#transcript .utt.final .utt-text")
            await expect(final.first).not_to_be_empty(timeout=RESULT_TIMEOUT_S * 1000)
            await expect(hr.locator("#m-presence")).not_to_have_text("—", timeout=30_000)
            await expect(hr.locator("#event-log li[data-type='connection.started']")).to_have_count(1)
            assert cut_after, "the first event stream was never cut"
            assert len(ws_urls) >= 2, ws_urls
            assert f"from_seq={cut_after[0] + 1}" in ws_urls[1], (cut_after, ws_urls)
            assert "token" not in " ".join(ws_urls).lower()
            # A second final so that the screenshot shows a transcript forming.
            await expect(final).not_to_have_count(1, timeout=45_000)
            texts = await final.all_inner_texts()
            print(f"\nHR page finals: {texts!r}")
            await hr.screenshot(path=str(shots / "hr-live.png"), full_page=True)

            # The live view resumes after a reload without duplicating lines.
            texts = await final.all_inner_texts()
            count = len(texts)
            await hr.reload()
            await hr.wait_for_function("() => window.candorHr.wsState === 'open'", timeout=15_000)
            # The history comes back event by event: wait until it holds what the page showed, then
            # check that those lines are the same ones, once each, in the same order.
            await hr.wait_for_function(
                "n => document.querySelectorAll('#transcript .utt.final .utt-text').length >= n",
                arg=count, timeout=15_000)
            after = await final.all_inner_texts()
            assert after[:count] == texts, (texts, after)
            assert not hr_log.errors, hr_log.errors
            assert not cand_log.errors, cand_log.errors
        except BaseException:
            print(hr_log.dump(), file=sys.stderr)
            print(cand_log.dump(), file=sys.stderr)
            with contextlib.suppress(Exception):
                await hr.screenshot(path=str(shots / "hr-failure.png"), full_page=True)
            raise
        finally:
            await cand_ctx.close()
            await hr_ctx.close()


async def test_candidate_link_is_one_time_and_survives_reload(
    candor_server: RunningServer, media: Media, shots: Path
) -> None:
    expect = playwright_api.expect
    session = candor_server.create_session()
    async with chromium(media.video, media.jfk) as browser:
        first = await browser.new_context(locale="zh-CN")
        second = await browser.new_context(locale="zh-CN")
        try:
            page = await first.new_page()
            await page.goto(session["candidate_url"])
            await page.wait_for_function("() => !location.href.includes('code=')", timeout=10_000)
            await expect(page.locator("#step-notice")).to_be_visible()
            # A reload keeps the exchanged token (sessionStorage), not the code.
            await page.reload()
            await expect(page.locator("#step-notice")).to_be_visible()
            await expect(page.locator("#banner")).to_be_hidden()
            await give_consent(page)
            # The language toggle switches every string.
            await page.get_by_role("button", name="English").click()
            await expect(page.get_by_role("button", name="Agree and continue")).to_be_visible()
            await page.screenshot(path=str(shots / "candidate-notice-en.png"), full_page=True)

            # The same link a second time (another browser): refused, said so.
            other = await second.new_page()
            await other.goto(session["candidate_url"])
            await expect(other.locator("#banner")).to_be_visible(timeout=10_000)
            await expect(other.locator("#banner-text")).to_contain_text("面试链接无效或已被使用")
            await expect(other.locator("#consent")).to_be_disabled()
            assert "code=" not in other.url
            await other.screenshot(path=str(shots / "candidate-used-link.png"), full_page=True)
        finally:
            await second.close()
            await first.close()


async def test_candidate_sees_why_when_camera_is_refused(
    candor_server: RunningServer, media: Media, shots: Path
) -> None:
    expect = playwright_api.expect
    session = candor_server.create_session()
    async with playwright_api.async_playwright() as pw:
        # No --use-fake-ui-for-media-stream: headless Chromium turns the
        # permission prompt down, as a candidate pressing "Block" would.
        args = [a for a in chromium_args(media.video, media.jfk) if a != "--use-fake-ui-for-media-stream"]
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args)
        try:
            context = await browser.new_context(locale="zh-CN")
            page = await context.new_page()
            await page.goto(session["candidate_url"])
            await give_consent(page)
            await page.get_by_role("button", name="同意并继续").click()
            msg = page.locator("#device-msg")
            await expect(msg).to_contain_text("权限被拒绝", timeout=15_000)
            await expect(page.get_by_role("button", name="重试")).to_be_visible()
            await expect(page.get_by_role("button", name="开始面试")).to_be_disabled()
            await page.screenshot(path=str(shots / "candidate-denied.png"), full_page=True)
            await context.close()
        finally:
            await browser.close()


async def test_hr_live_view_renders_a_scripted_stream(candor_server: RunningServer, media: Media, shots: Path) -> None:
    """The live view's rendering rules, with events the test chooses: partials
    replace each other in grey, a final takes their place in black with its
    media times, face metrics and other events land in their panels, an old
    seq is ignored and close code 4401 brings back the sign-in."""
    expect = playwright_api.expect
    log = PageLog("hr-scripted")
    routes: list[Any] = []

    def ev(seq: int, kind: str, payload: dict[str, Any], media_time: float | None = None) -> str:
        return json.dumps(
            {"type": kind, "session_id": "scripted", "seq": seq, "media_time": media_time,
             "wall_time": time.time(), "payload": payload}
        )

    async with chromium(media.video, media.jfk) as browser:
        context = await browser.new_context(viewport={"width": 1280, "height": 760}, locale="zh-CN")
        page = await context.new_page()
        log.attach(page)
        try:
            await page.route_web_socket(re.compile(r"/v1/sessions/[^/]+/events"), lambda ws: routes.append(ws))
            await page.goto(f"{candor_server.url}/hr/sessions/scripted")
            await expect(page.locator("#signin")).to_be_visible()
            await page.locator("#hr-token").fill(candor_server.hr_token)
            await page.locator("#hr-token").press("Enter")
            await expect(page.locator("#live-view")).to_be_visible()
            await page.wait_for_function("() => window.candorHr.wsState === 'open'", timeout=10_000)
            assert routes and "from_seq=0" in routes[0].url
            ws = routes[0]

            ws.send(ev(1, "session.created", {}))
            ws.send(ev(2, "connection.started", {"connection_id": "c-1"}, 0.0))
            ws.send(ev(3, "speech.start", {"utterance_id": 7}, 1.0))
            ws.send(ev(4, "transcript.partial",
                       {"text": "hello wor", "stable": "hello", "unstable": "wor", "language": "en", "utterance_id": 7}, 1.6))
            ws.send(ev(5, "transcript.partial",
                       {"text": "hello world", "stable": "hello", "unstable": "world", "language": "en", "utterance_id": 7}, 2.1))
            rows = page.locator("#transcript .utt")
            await expect(rows).to_have_count(1)
            await expect(rows.first).to_have_class(re.compile(r"\bpartial\b"))
            await expect(rows.first.locator(".utt-text")).to_have_text("hello world")
            await expect(page.locator("#speaking")).not_to_be_empty()
            grey = await rows.first.locator(".unstable").evaluate("e => getComputedStyle(e).color")
            assert grey != "rgb(27, 31, 36)", grey
            await page.screenshot(path=str(shots / "hr-scripted-partial.png"))

            ws.send(ev(6, "transcript.final",
                       {"text": "Hello, world.", "language": "en", "start": 1.0, "end": 2.5,
                        "words": [], "utterance_id": 7}, 2.5))
            ws.send(ev(7, "speech.end", {"utterance_id": 7}, 2.5))
            ws.send(ev(8, "face.metrics",
                       {"frames": 5, "faces_max": 1, "faces_mean": 1.0, "presence": 0.8, "yaw": 12.34,
                        "pitch": -3.21, "roll": 0.5, "gaze_at_camera": 0.75, "newest_media_time": 3.0}, 3.0))
            ws.send(ev(9, "face.multiple", {"state": "start", "faces": 2}, 3.2))
            ws.send(ev(10, "session.error", {"message": "asr fell behind"}, 3.3))
            ws.send(ev(6, "transcript.final", {"text": "a replayed old event", "utterance_id": 99}, 2.5))
            await expect(rows).to_have_count(1)
            await expect(rows.first).to_have_class(re.compile(r"\bfinal\b"))
            await expect(rows.first.locator(".utt-text")).to_have_text("Hello, world.")
            await expect(rows.first.locator(".utt-time")).to_have_text("00:01.0–00:02.5")
            await expect(page.locator("#speaking")).to_be_empty()
            await expect(page.locator("#m-presence")).to_have_text("80%")
            await expect(page.locator("#m-faces")).to_have_text("1 / 1.00")
            await expect(page.locator("#m-yaw")).to_have_text("12.3°")
            await expect(page.locator("#m-gaze")).to_have_text("75%")
            await expect(page.locator("#flag-multiple")).to_be_visible()
            await expect(page.locator("#event-log li.error")).to_contain_text("asr fell behind")
            await expect(page.locator("#event-log li[data-type='face.multiple']")).to_have_count(1)
            assert await page.evaluate("() => window.candorHr.lastSeq") == 10
            await page.screenshot(path=str(shots / "hr-scripted-final.png"))

            # Not authorised any more: the sign-in comes back.
            await ws.close(code=4401, reason="sign in")
            await expect(page.locator("#signin")).to_be_visible()
            assert await page.evaluate("() => window.candorHr.wsState") == "signed-out"
            assert not log.errors, log.errors
        except BaseException:
            print(log.dump(), file=sys.stderr)
            raise
        finally:
            await context.close()
