"""The interview report and the human decision (reports/, the report API).

(a) The pure builder on a synthetic event log: band, per-competency
aggregation, job match, determinism, the pending decision.
(b) End to end on a real server (no media, no models): events are published
into the session's stream on the server's loop up to ``interview.ended``;
the report is made, served as JSON and HTML, a decision is recorded, and a
real receiver verifies (Standard Webhooks) report.ready v1,
decision.recorded and report.ready v2.
"""

from __future__ import annotations

import asyncio
import json
import random
from datetime import datetime, timezone
from html import escape
from pathlib import Path
from typing import Any

import httpx
import pytest

from events import Event, payload_from_dict
from reports import SCHEMA, build_report, report_json
from reports.html import render_report
from db import BankRecord, JobRecord, SessionRecord, Store
from sinks import SinkConfig
from tests.helpers import HR_TOKEN, LiveServer, make_settings
from tests.test_sinks import SECRET, Receiver, until

HR = {"Authorization": f"Bearer {HR_TOKEN}"}
NOW = datetime(2026, 11, 26, tzinfo=timezone.utc)
QUOTE = "I asked what the money was for <and> her \"horizon\" & risk"

JOB = {
    "id": "wealth_manager",
    "title": {"zh": "理财经理", "en": "Wealth Manager"},
    "requirements": {
        "education": "bachelor",
        "min_years": 2,
        "skills": ["资产配置", "投诉处理"],
        "certificates": ["基金从业资格", "AFP"],
        "languages": ["zh", "en"],
    },
}
CANDIDATE = {
    "name": "张三",
    "education": "master",
    "years": 3,
    "skills": ["资产配置"],
    "certificates": ["AFP"],
    "languages": ["zh", "en"],
    "accommodation": False,
}


def score_payload(qid: str, overall: float, comps: list[tuple[str, float, list[tuple[str, bool]]]]) -> dict:
    return {
        "question_id": qid,
        "final": True,
        "overall": overall,
        "content": overall,
        "competencies": [
            {
                "id": cid,
                "name": {"zh": cid, "en": cid},
                "weight": 0.5,
                "score": score,
                "points": [
                    {
                        "id": pid,
                        "score": 0.8 if hit else 0.1,
                        "similarity": 0.7,
                        "evidence": [{"text": QUOTE, "start": 12.0, "end": 15.5, "similarity": 0.7}] if hit else [],
                    }
                    for pid, hit in points
                ],
            }
            for cid, score, points in comps
        ],
        "status": "answered",
        "coverage": {"covered": 1, "total": 2},
        "evidence": [],
        "affect": {"score": None, "counted": False},
        "answer": {"utterances": 1, "start": 12.0, "end": 15.5},
        "delivery": {"score": 70.0, "rate": 3.1},
        "engagement": {"score": 90.0, "presence": 1.0},
        "weights": {"content": 0.7, "delivery": 0.15, "engagement": 0.15},
        "accommodation": False,
        "explanation": {"zh": "说明", "en": "explanation"},
        "scoring_version": "test-1",
    }


def interview_events(q1: str = "q1", q2: str = "q2") -> list[tuple[str, float | None, dict]]:
    """(type, media_time, payload) of a short interview: practice and two scored questions."""
    out: list[tuple[str, float | None, dict]] = []
    t = 0.0
    for index, (qid, practice) in enumerate((("intro", True), (q1, False), (q2, False))):
        number = 0 if practice else index
        out.append(("question.started", t, {"question_id": qid, "index": index, "number": number, "practice": practice,
                                            "kind": "practice" if practice else "behavioural", "total": 3,
                                            "scored_total": 2, "prep_s": 1, "answer_s": 60, "phase": "prep",
                                            "deadline": t + 1, "text": {"zh": f"问题{index}", "en": f"Question {index}"}}))
        out.append(("answer.started", t + 1, {"question_id": qid, "index": index, "answer_ends_at": t + 61}))
        out.append(("face.metrics", t + 2, {"frames": 5, "faces_max": 1, "faces_mean": 1.0, "presence": 1.0, "yaw": 0.0,
                                            "pitch": 0.0, "roll": 0.0, "gaze_at_camera": 0.9, "newest_media_time": t + 2}))
        out.append(("transcript.final", t + 3, {"utterance_id": f"u{index}", "text": f"answer {index}", "language": "en",
                                                "start": t + 2, "end": t + 3, "words": [], "model": "whisper-base"}))
        out.append(("answer.ended", t + 4, {"question_id": qid, "index": index, "reason": "candidate_done",
                                            "start": t + 1, "end": t + 4}))
        if qid == q1:
            out.append(("score.question", t + 4, score_payload(q1, 80.0, [("needs", 80.0, [("goals", True), ("risk", True)]),
                                                                          ("suit", 60.0, [("disclose", False)])])))
        elif qid == q2:
            out.append(("score.question", t + 4, score_payload(q2, 50.0, [("suit", 40.0, [("mismatch", True), ("process", False)])])))
        out.append(("question.ended", t + 4, {"question_id": qid, "index": index, "practice": practice}))
        t += 10
    out.append(("interview.ended", t, {"questions": 3}))
    return out


def as_events(items: list[tuple[str, float | None, dict]], session_id: str = "s1") -> list[Event]:
    return [
        Event(session_id=session_id, seq=i, media_time=mt, wall_time=1000.0 + i, payload=payload_from_dict(ty, p))
        for i, (ty, mt, p) in enumerate(items)
    ]


def records() -> tuple[SessionRecord, JobRecord, BankRecord]:
    session = SessionRecord("s1", NOW, NOW, "open", "wealth_manager", 1, "wealth_manager", 2, dict(CANDIDATE))
    job = JobRecord("wealth_manager", 1, NOW, "shipped", JOB)
    bank = BankRecord("wealth_manager", 2, "wealth_manager", NOW, "shipped", {"id": "wealth_manager", "questions": []})
    return session, job, bank


# -- (a) the pure builder ------------------------------------------------------
def test_builder_scores_band_competencies_and_job_match() -> None:
    session, job, bank = records()
    report = build_report(session, job, bank, as_events(interview_events()))
    assert report["schema"] == SCHEMA
    assert report["session_id"] == "s1"
    assert report["job"] == {"id": "wealth_manager", "version": 1, "title": JOB["title"]}
    assert report["bank"] == {"id": "wealth_manager", "version": 2}
    assert report["candidate"]["name"] == "张三"
    assert report["overall"] == 65.0  # (80 + 50) / 2: each scored question weighs the same
    assert report["recommendation"]["band"] == "consider"
    assert report["questions_scored"] == 2
    assert [q["question_id"] for q in report["questions"]] == ["intro", "q1", "q2"]
    assert report["questions"][0]["practice"] and report["questions"][0]["score"] is None
    q1 = report["questions"][1]
    assert q1["answer"] == {"start": 11.0, "end": 14.0, "reason": "candidate_done"}
    assert q1["score"]["competencies"][0]["points"][0]["evidence"][0]["text"] == QUOTE
    assert [line["text"] for line in q1["transcript"]] == ["answer 1"]
    comps = {c["id"]: c for c in report["competencies"]}
    assert comps["needs"]["score"] == 80.0 and comps["needs"]["questions_scored"] == 1
    assert comps["suit"]["score"] == 50.0 and comps["suit"]["questions"] == ["q1", "q2"]
    assert report["strengths"]["competencies"][0]["id"] == "needs"
    assert {(s["question_id"], s["point_id"]) for s in report["strengths"]["points"]} == {("q1", "goals"), ("q1", "risk"), ("q2", "mismatch")}
    assert {(g["question_id"], g["point_id"]) for g in report["gaps"]} == {("q1", "disclose"), ("q2", "process")}
    match = report["job_match"]
    assert match["education"]["met"] is True and match["years"]["met"] is True
    assert match["skills"] == {"required": ["资产配置", "投诉处理"], "matched": ["资产配置"], "missing": ["投诉处理"]}
    assert match["certificates"]["missing"] == ["基金从业资格"]
    assert match["languages"]["missing"] == [] and match["met"] is False
    assert report["models"] == {"asr": ["whisper-base"], "scoring_version": ["test-1"]}
    assert report["scoring"]["weights"] == {"content": 0.7, "delivery": 0.15, "engagement": 0.15}
    assert report["timings"]["start_media"] == 0.0 and report["timings"]["end_media"] == 30.0
    assert report["decision"] == {"state": "pending_review"}


def test_the_page_says_which_questions_were_not_answered_or_poorly_calibrated() -> None:
    session, job, bank = records()
    items = []
    for ty, mt, p in interview_events():
        if ty == "score.question" and p["question_id"] == "q1":
            p = {**p, "coverage": {**p["coverage"], "calibration": "narrow"}}
        if ty == "score.question" and p["question_id"] == "q2":
            p = {**p, "status": "no_answer", "overall": 0.0}
        items.append((ty, mt, p))
    page = render_report(build_report(session, job, bank, as_events(items)), version=1, session_id="s1")
    first, second = page.split("第 2 题")
    assert "评分标准难以区分强弱回答（narrow）" in first and "未作答" not in first
    assert "未作答" in second and "评分标准难以区分" not in second
    plain = render_report(build_report(session, job, bank, as_events(interview_events())), version=1, session_id="s1")
    assert "评分标准难以区分" not in plain and "未作答" not in plain


def test_a_personalised_question_is_reported_with_its_version() -> None:
    session, job, bank = records()
    items = []
    for ty, mt, p in interview_events():
        if ty == "question.started" and p["question_id"] == "q1":
            p = {**p, "alternative": "retail_sales"}
        items.append((ty, mt, p))
    report = build_report(session, job, bank, as_events(items))
    assert [q["alternative"] for q in report["questions"]] == [None, "retail_sales", None]
    page = render_report(report, version=1, session_id="s1")
    assert page.count("个性化题目") == 1 and "retail_sales" in page


def test_builder_bands() -> None:
    session, job, bank = records()
    for first, second, band in ((90, 70, "strong"), (40, 50, "not_yet"), (70, 70, "strong"), (50, 50, "consider")):
        items = [
            (ty, mt, score_payload(p["question_id"], {"q1": first, "q2": second}[p["question_id"]], []) if ty == "score.question" else p)
            for ty, mt, p in interview_events()
        ]
        assert build_report(session, job, bank, as_events(items))["recommendation"]["band"] == band


def test_builder_is_deterministic_whatever_the_input_order() -> None:
    session, job, bank = records()
    events = as_events(interview_events())
    first = report_json(build_report(session, job, bank, events))
    shuffled = list(events)
    random.Random(7).shuffle(shuffled)
    assert report_json(build_report(session, job, bank, shuffled)) == first
    assert report_json(build_report(session, job, bank, list(events))) == first
    json.loads(first)  # plain JSON


def test_builder_decision_from_the_log_and_unknown_profile() -> None:
    session, job, bank = records()
    events = as_events(interview_events() + [("decision.recorded", None, {"decision": "advance", "reason": "good", "decided_by": "hr", "decided_at": "t", "number": 1})])
    assert build_report(session, job, bank, events)["decision"]["decision"] == "advance"
    nobody = SessionRecord("s1", NOW, NOW, "open")
    report = build_report(nobody, None, None, as_events(interview_events()))
    assert report["job"] is None and report["candidate"] is None and report["job_match"]["met"] is None


# -- (b) end to end ------------------------------------------------------------
class ApiServer(LiveServer):
    """Candor without models on a loopback port (tests/helpers.py's LiveServer)."""

    def __init__(self, tmp_path: Path, **settings: Any) -> None:
        super().__init__(make_settings(tmp_path, **settings), None, load_models=False)


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
def server(tmp_path, db_url, receiver):
    s = ApiServer(tmp_path, database_url=db_url, sinks=[SinkConfig(name="hris", url=receiver.url, secret=SECRET)]).start()
    yield s
    s.stop()


async def test_report_decision_and_sink_end_to_end(server: ApiServer, receiver: Receiver) -> None:
    async with httpx.AsyncClient(base_url=server.url, headers=HR, timeout=10) as client:
        r = await client.post("/v1/sessions", json={"job_id": "wealth_manager", "candidate": CANDIDATE})
        assert r.status_code == 201, r.text
        session = r.json()
        sid = session["id"]
        # nothing yet
        assert (await client.get(f"/v1/sessions/{sid}/report")).status_code == 404
        r = await client.post(f"/v1/sessions/{sid}/decision", json={"decision": "advance"})
        assert r.status_code == 409, r.text

        async def drive() -> None:
            events = await server.candor.sessions.events_for(sid)
            for ty, mt, payload in interview_events("persuade_client", "elderly_high_risk"):
                events.publish(mt, payload_from_dict(ty, payload))

        await server.on_loop(drive)
        async with asyncio.timeout(10):
            while (r := await client.get(f"/v1/sessions/{sid}/report")).status_code == 404:
                await asyncio.sleep(0.05)
        assert r.status_code == 200, r.text
        assert r.headers["etag"] == '"1"'
        body = r.json()
        assert body["version"] == 1 and body["session_id"] == sid
        report = body["report"]
        assert report["schema"] == SCHEMA and report["overall"] == 65.0
        assert report["job"]["id"] == "wealth_manager" and report["bank"]["version"] == session["bank_version"]
        assert report["decision"] == {"state": "pending_review"}
        strength = next(s for s in report["strengths"]["points"] if s["point_id"] == "goals")
        assert strength["evidence"][0]["text"] == QUOTE

        page = await client.get(f"/v1/sessions/{sid}/report", headers={"Accept": "text/html"})
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert escape(QUOTE) in page.text and QUOTE not in page.text
        assert "Candor recommends; a person decides" in page.text
        assert f"/v1/sessions/{sid}/decision" in page.text
        assert (await client.get(f"/v1/sessions/{sid}/report?format=html")).text == page.text

        # a rebuild with nothing new adds no version
        r = await client.post(f"/v1/sessions/{sid}/report/rebuild")
        assert r.status_code == 200 and r.json()["version"] == 1

        bad = await client.post(f"/v1/sessions/{sid}/decision", json={"decision": "maybe"})
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "decision"

        r = await client.post(f"/v1/sessions/{sid}/decision", json={"decision": "advance", "reason": "clear & <strong>"})
        assert r.status_code == 201, r.text
        assert r.json()["number"] == 1 and r.json()["report_version"] == 2
        r = await client.get(f"/v1/sessions/{sid}/report")
        assert r.json()["version"] == 2
        decision = r.json()["report"]["decision"]
        assert decision["state"] == "decided" and decision["decision"] == "advance" and decision["reason"] == "clear & <strong>"
        assert (await client.get(f"/v1/sessions/{sid}/report?version=1")).json()["report"]["decision"]["state"] == "pending_review"
        html_v2 = (await client.get(f"/v1/sessions/{sid}/report?format=html")).text
        assert "clear &amp; &lt;strong&gt;" in html_v2

        # the form from the page: 303 back to it
        r = await client.post(f"/v1/sessions/{sid}/decision", data={"decision": "hold", "reason": "wait"})
        assert r.status_code == 303 and r.headers["location"] == f"/v1/sessions/{sid}/report?format=html"

        # the decision is on the event stream (and so in the log)
        logged = await server.on_loop(lambda: server.candor.store.run(server.candor.store.store.read_events, sid))
        assert [e.payload.decision for e in logged if e.type == "decision.recorded"] == ["advance", "hold"]

    expected = {("report.ready", 1), ("decision.recorded", 1), ("report.ready", 2), ("decision.recorded", 2), ("report.ready", 3)}

    def got() -> set[tuple[str, int]]:
        return {(b["type"], b["data"].get("version") or b["data"].get("number")) for b in receiver.processed.values()}

    await until(lambda: got() == expected, timeout=15)
    assert receiver.rejected == []  # every signature verified
    ids = [r.webhook_id for r in receiver.received]
    assert len(set(ids)) == len(expected)  # one distinct webhook-id each
    by_type = {(b["type"], b["data"].get("version") or b["data"].get("number")): b["data"] for b in receiver.processed.values()}
    assert by_type[("report.ready", 1)]["report"]["decision"] == {"state": "pending_review"}
    assert by_type[("report.ready", 2)]["report"]["decision"]["decision"] == "advance"
    assert by_type[("decision.recorded", 1)]["decision"] == "advance"
    assert by_type[("decision.recorded", 1)]["session_id"] == sid


async def test_report_needs_hr_and_a_session(server: ApiServer) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        assert (await client.get("/v1/sessions/nope/report")).status_code == 401
        assert (await client.get("/v1/sessions/nope/report", headers=HR)).status_code == 404
        assert (await client.post("/v1/sessions/nope/decision", headers=HR, json={"decision": "hold"})).status_code == 404
        spec = (await client.get("/openapi.json")).json()
        assert "/v1/sessions/{session_id}/report" in spec["paths"] and "/v1/sessions/{session_id}/decision" in spec["paths"]


async def test_a_report_lost_to_a_crash_is_built_at_the_next_start(tmp_path: Path, db_url: str, receiver: Receiver) -> None:
    """The process died between interview.ended and the report: the next start builds it."""
    sinks = [SinkConfig(name="hris", url=receiver.url, secret=SECRET)]
    first = ApiServer(tmp_path, database_url=db_url, sinks=sinks).start()
    try:
        async with httpx.AsyncClient(base_url=first.url, headers=HR, timeout=10) as client:
            created = await client.post("/v1/sessions", json={"job_id": "wealth_manager", "candidate": CANDIDATE})
            sid = created.json()["id"]
    finally:
        first.stop()
    # The events the dead process had logged, without the report it never wrote.
    store = Store(first.settings.database_url)
    try:
        seq = store.last_seq(sid) + 1
        store.append_events(
            Event(session_id=sid, seq=seq + i, media_time=mt, wall_time=1_700_000_000.0 + i, payload=payload_from_dict(ty, payload))
            for i, (ty, mt, payload) in enumerate(interview_events("persuade_client", "elderly_high_risk"))
        )
        assert store.get_report(sid) is None
        assert store.sessions_without_report() == [sid]
    finally:
        store.close()

    second = ApiServer(tmp_path, database_url=db_url, sinks=sinks).start()
    try:
        async with httpx.AsyncClient(base_url=second.url, headers=HR, timeout=10) as client:
            async with asyncio.timeout(10):
                while (r := await client.get(f"/v1/sessions/{sid}/report")).status_code == 404:
                    await asyncio.sleep(0.05)
            assert r.json()["version"] == 1 and r.json()["report"]["overall"] == 65.0
        async with asyncio.timeout(10):
            while not any(body.get("type") == "report.ready" for body in receiver.processed.values()):
                await asyncio.sleep(0.05)
    finally:
        second.stop()


def test_a_banks_scores_are_grouped_per_question_and_version() -> None:
    from reports.distribution import score_distribution

    session, job, bank = records()
    reports = []
    for i, (first, alternative) in enumerate([(80, "retail_sales"), (60, "retail_sales"), (40, None), (20, None)]):
        items = []
        for ty, mt, p in interview_events():
            if ty == "question.started" and p["question_id"] == "q1" and alternative:
                p = {**p, "alternative": alternative}
            if ty == "score.question":
                p = score_payload(p["question_id"], first if p["question_id"] == "q1" else 50.0, [])
                if i == 3 and p["question_id"] == "q2":
                    p = {**p, "status": "no_answer", "overall": 0.0}
            items.append((ty, mt, p))
        reports.append(build_report(session, job, bank, as_events(items)))
    rows = {(r["question_id"], r["alternative"]): r for r in score_distribution(reports)}
    assert set(rows) == {("q1", "retail_sales"), ("q1", None), ("q2", None)}
    assert rows[("q1", "retail_sales")]["answers"] == 2 and rows[("q1", "retail_sales")]["mean"] == 70.0
    assert rows[("q1", None)]["median"] == 30.0 and rows[("q1", None)]["min"] == 20.0
    assert rows[("q2", None)]["answers"] == 3 and rows[("q2", None)]["no_answer"] == 1  # unanswered: not a 0 in the mean
