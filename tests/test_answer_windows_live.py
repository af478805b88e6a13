"""Late transcripts land in the answer they were spoken in: the real pipeline, over WebRTC.

A candidate answers the first question of a three-question 理财经理 bank
with a real Mandarin answer (tests/media/answers_zh), then moves on at once:
"done", and "done" again through the rest of the bank. The server's ASR is
made slow on purpose (every final, and every speculative one, waits 5 s more), so the answer's last
transcripts arrive after the next questions have started, after the first
answer was scored, and while the interview is ending. A second candidate
drops the connection while a final is pending and comes back.

What HR would check: the first answer has the words and a score, the others
are ``no_answer`` with no quotes, no quote sits outside its answer's window,
and the report (built only after the pending finals) says so.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
import yaml

from jobs.catalog import BANKS_DIR
from media.whip_client import WhipPublisher
from tests.helpers import HR_TOKEN, LiveServer, make_settings
from tests.media_fixtures import ANSWERS_ZH, media_duration_s

pytestmark = pytest.mark.slow

AUTH = {"Authorization": f"Bearer {HR_TOKEN}"}
ANSWER = ANSWERS_ZH / "wealth_manager.complaint_nav_loss.strong.opus"
FIRST = "complaint_nav_loss"
ASR_DELAY_S = 5.0


def _wav(source: Path, out: Path, *, lead_s: float, tail_s: float) -> Path:
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-nostdin", "-y", "-i", str(source), "-af",
         f"aresample=48000,adelay={int(lead_s * 1000)}:all=1,apad=pad_dur={tail_s}", "-ac", "1", str(out)],
        check=True,
    )
    return out


def _silence(out: Path, seconds: float) -> Path:
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-nostdin", "-y", "-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono",
         "-t", str(seconds), str(out)],
        check=True,
    )
    return out


@pytest.fixture(scope="module")
def slow_asr_server(models, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server whose ASR finals each take ASR_DELAY_S longer, and which scores an ended answer after 2 s."""
    runner = models.asr

    def slowed(original: Any) -> Any:
        async def slow(fn: Any, *, stream: Any) -> Any:
            await asyncio.sleep(ASR_DELAY_S)
            return await original(fn, stream=stream)
        return slow

    with pytest.MonkeyPatch.context() as patch:
        # a final is decoded at the turn's end or, ahead of it, as a speculation at a pause: both are slow
        patch.setattr(runner, "final", slowed(runner.final))
        patch.setattr(runner, "speculation", slowed(runner.speculation))
        settings = make_settings(tmp_path_factory.mktemp("slow-asr"), answer_settle_timeout_s=2.0, answer_drain_timeout_s=60.0)
        server = LiveServer(settings, models).start()
        data = yaml.safe_load((BANKS_DIR / "wealth_manager.yaml").read_text(encoding="utf-8"))
        by_id = {q["id"]: q for q in data["bank"]["questions"]}
        questions = [by_id[FIRST]] + [q for q in data["bank"]["questions"] if q.get("rubric") and q["id"] != FIRST][:2]
        for q in questions:
            q.update(prep_s=0, answer_s=120)
        bank = {"id": "wm_three", "job_id": "wealth_manager", "title": {"en": "Three questions"}, "questions": questions}
        response = httpx.post(f"{server.url}/v1/banks", json=bank, headers=AUTH)
        assert response.status_code == 201, response.text
        try:
            yield server
        finally:
            server.stop()


async def _session(server: LiveServer) -> dict[str, Any]:
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{server.url}/v1/sessions",
            json={"job_id": "wealth_manager", "bank_id": "wm_three", "candidate": {"name": "Test Candidate"}},
            headers=AUTH,
        )
    assert response.status_code == 201, response.text
    return response.json()


async def _collect_until_ended(ws: Any, events: list[dict[str, Any]], timeout_s: float = 150.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not any(e["type"] == "interview.ended" for e in events):
            events.append(json.loads(await ws.recv()))


async def _wait_for(ws: Any, events: list[dict[str, Any]], kind: str, timeout_s: float = 60.0) -> dict[str, Any]:
    async with asyncio.timeout(timeout_s):
        while True:
            found = [e for e in events if e["type"] == kind]
            if found:
                return found[-1]
            events.append(json.loads(await ws.recv()))


async def _report(server: LiveServer, session_id: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.url, headers=AUTH) as client:
        for _ in range(100):
            response = await client.get(f"/v1/sessions/{session_id}/report")
            if response.status_code == 200:
                return response.json()["report"]
            await asyncio.sleep(0.2)
    raise AssertionError(f"no report: {response.status_code} {response.text}")


def _quotes(score: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for c in score.get("competencies", []) for p in c["points"] for e in p["evidence"]]


def _check(events: list[dict[str, Any]], report: dict[str, Any]) -> dict[str, Any]:
    scores = [e for e in events if e["type"] == "score.question"]
    finals = [e for e in events if e["type"] == "transcript.final"]
    ended_at = next(i for i, e in enumerate(events) if e["type"] == "interview.ended")
    assert finals, "nothing was recognised"
    # the slow finals came after the candidate moved on ...
    first_ended = next(e for e in events if e["type"] == "answer.ended" and e["payload"]["question_id"] == FIRST)
    assert finals[-1]["wall_time"] > first_ended["wall_time"] + 1.0
    # ... and every one of them is in the log before interview.ended (the report waited)
    assert all(events.index(f) < ended_at for f in finals)
    last = {s["payload"]["question_id"]: s["payload"] for s in scores}
    assert set(last) == {q["question_id"] for q in report["questions"]}
    first = last[FIRST]
    assert first["status"] == "answered" and first["content"] > 20, first
    windows = {e["payload"]["question_id"]: e["payload"] for e in events if e["type"] == "answer.ended"}
    for qid, score in last.items():
        window = windows[qid]
        for quote in _quotes(score):  # no quote under a question whose window it was not said in
            assert window["start"] - 1e-6 <= quote["start"] and quote["end"] <= window["end"] + 0.5, (qid, quote, window)
        if qid != FIRST:
            assert score["status"] == "no_answer" and score["overall"] == 0 and not _quotes(score), score
    # the report: the answer's words under the first question only; unanswered ones shown so
    by_id = {q["question_id"]: q for q in report["questions"]}
    said = "".join(line["text"] for line in by_id[FIRST]["transcript"])
    assert len(said) > 40, by_id[FIRST]["transcript"]
    for qid, question in by_id.items():
        if qid != FIRST:
            assert question["status"] == "no_answer" and question["score"]["overall"] == 0
    words = [line["text"] for q in report["questions"] for line in q["transcript"]]
    assert len(words) == len(set(words)), "a transcript line counted twice"
    assert report["overall"] == pytest.approx(round(sum(s["overall"] for s in last.values()) / 3, 1), abs=0.051)
    return first


async def test_late_finals_stay_in_their_answer_while_the_candidate_clicks_through(slow_asr_server, tmp_path) -> None:
    server = slow_asr_server
    spoken_s = media_duration_s(ANSWER)
    audio = _wav(ANSWER, tmp_path / "answer.wav", lead_s=1.0, tail_s=40.0)
    session = await _session(server)
    publisher = WhipPublisher(session["whip_url"], session["candidate_token"], str(audio), None)
    events: list[dict[str, Any]] = []
    async with websockets.connect(session["events_url"], additional_headers=AUTH) as ws:
        await publisher.start()
        try:
            await _wait_for(ws, events, "answer.started")
            await publisher.channel_open.wait()
            # speak the whole answer, then move on at once, through the whole bank
            await asyncio.sleep(1.0 + spoken_s + 1.2)
            for _ in range(3):
                publisher.send_control({"type": "done"})
                await asyncio.sleep(0.4)
            await _collect_until_ended(ws, events)
        finally:
            await publisher.close()
    report = await _report(server, session["id"])
    first = _check(events, report)
    revisions = [e["payload"]["revision"] for e in events if e["type"] == "score.question" and e["payload"]["question_id"] == FIRST]
    assert revisions[-1] >= 1, "the first answer was not scored again when its late words came"
    assert report["questions"][0]["score"]["revision"] == first["revision"]


async def test_a_reconnect_while_a_final_is_pending_keeps_the_words_in_their_answer(slow_asr_server, tmp_path) -> None:
    server = slow_asr_server
    spoken_s = media_duration_s(ANSWER)
    audio = _wav(ANSWER, tmp_path / "answer.wav", lead_s=1.0, tail_s=40.0)
    quiet = _silence(tmp_path / "quiet.wav", 60.0)
    session = await _session(server)
    events: list[dict[str, Any]] = []
    async with websockets.connect(session["events_url"], additional_headers=AUTH) as ws:
        first = WhipPublisher(session["whip_url"], session["candidate_token"], str(audio), None)
        await first.start()
        try:
            await _wait_for(ws, events, "answer.started")
            await asyncio.sleep(1.0 + spoken_s + 0.8)
        finally:
            await first.close()  # the connection drops while the last final is being decoded
        await _wait_for(ws, events, "connection.ended")
        again = WhipPublisher(session["whip_url"], session["candidate_token"], str(quiet), None, consent=None)
        await again.start()
        try:
            await again.channel_open.wait()
            while not any(e["type"] == "answer.started" and e["payload"].get("resumed") for e in events):
                events.append(json.loads(await asyncio.wait_for(ws.recv(), 30)))
            for _ in range(3):
                again.send_control({"type": "done"})
                await asyncio.sleep(0.4)
            await _collect_until_ended(ws, events)
        finally:
            await again.close()
    report = await _report(server, session["id"])
    _check(events, report)
