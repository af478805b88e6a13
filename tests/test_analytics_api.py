"""The dashboard's API over applications made through the real API: counts, suppression under 5, CSV, outcomes, costs.

The real app on a real SQLite file; applications screened by the real
screener (content scoring off: no sentence encoder, so vocabulary and
words only); interviews driven through the sessions' real event streams, so
the reports are the real report builder's.
"""

from __future__ import annotations

import csv
import io
import math
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from starlette.testclient import TestClient

from runtime.models import Models
from server.app import create_app
from tests.helpers import HR_TOKEN, make_settings
from tests.resume_fixtures import make_resume, to_text

HR = {"Authorization": f"Bearer {HR_TOKEN}"}
JOB = "wealth_manager"
SCORES = [40.0, 50.0, 60.0, 70.0, 80.0, 90.0]  # the six interviews' scores
RATINGS = [1, 2, 1, 4, 3, 5]  # their probation ratings


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, module_db_url: str) -> Iterator[TestClient]:
    settings = make_settings(tmp_path_factory.mktemp("analytics"), database_url=module_db_url, contact_key="test-contact-key")
    models = Models(vad=None, asr=None, face=None, encoder=None)  # screening by vocabulary: no model to load
    models.warm = True
    app = create_app(settings, models=models, load_models=False)
    with TestClient(app, base_url="http://127.0.0.1") as test_client:
        yield test_client


def apply(client: TestClient, seed: int, source: str) -> dict[str, Any]:
    made = client.post("/v1/applications", json={"job_id": JOB, "resume_text": to_text(make_resume(seed, "zh" if seed % 2 else "en")), "source": source}, headers=HR)
    assert made.status_code == 201, made.text
    return made.json()


def interview(client: TestClient, session_id: str, score: float) -> None:
    """The candidate joins, answers two questions scored ``score`` each, and the interview ends."""
    from events import InterviewEnded, MediaFlowing, QuestionStarted, ScoreQuestion

    ctx = client.app.state.candor

    def started(qid: str, index: int) -> QuestionStarted:
        return QuestionStarted(question_id=qid, index=index, total=2, number=index + 1, scored_total=2, kind="behavioural",
                               practice=False, text={"zh": "问题", "en": "question"}, prep_s=5, answer_s=60, phase="answer", deadline=60)

    def scored(qid: str) -> ScoreQuestion:
        return ScoreQuestion(question_id=qid, status="answered", overall=score, content=score, competencies=(), coverage={},
                             evidence=(), delivery={}, engagement={}, affect={}, weights={}, accommodation=False, answer={},
                             explanation={}, scoring_version="test")

    async def run() -> None:
        events = await ctx.events_for(session_id)
        events.publish(0.0, MediaFlowing(connection_id="c1"))
        for index, qid in enumerate(("q_intro", "q_case")):
            events.publish(10.0 + index * 60, started(qid, index))
            events.publish(60.0 + index * 60, scored(qid))
        events.publish(130.0, InterviewEnded(questions=2))
        await events.flush()

    client.portal.call(run)


def wait_state(client: TestClient, application_id: str, state: str) -> None:
    for _ in range(200):
        if client.get(f"/v1/applications/{application_id}", headers=HR).json()["state"] == state:
            return
        time.sleep(0.05)
    raise AssertionError(f"{application_id} never became {state}")


@pytest.fixture(scope="module")
def made(client: TestClient) -> dict[str, Any]:
    """10 applications: 7 from campus (invited; 6 interviewed, of whom 5 advanced and 1 rejected), 3 from liepin (screened only)."""
    campus = [apply(client, seed, "campus") for seed in range(7)]
    liepin = [apply(client, seed, "liepin") for seed in range(10, 13)]
    interviewed = []
    for i, app in enumerate(campus):
        body = client.post(f"/v1/applications/{app['id']}/invite", headers=HR).json()
        assert body["state"] == "invited", body
        if i == 6:
            continue  # invited, never opened the link
        code = body["invite_url"].split("#code=")[1]
        assert client.post("/v1/candidate/exchange", json={"code": code}).status_code == 200  # opened
        interview(client, body["session_id"], SCORES[i])
        wait_state(client, app["id"], "interviewed")
        for _ in range(100):  # and its report is written
            if client.get(f"/v1/sessions/{body['session_id']}/report", headers=HR).status_code == 200:
                break
            time.sleep(0.05)
        interviewed.append(app)
    for i, app in enumerate(interviewed):
        decision = "reject" if i == 0 else "advance"
        assert client.post(f"/v1/applications/{app['id']}/decide", json={"decision": decision}, headers=HR).status_code == 200
    return {"campus": campus, "liepin": liepin, "interviewed": interviewed}


def test_the_funnel_counts_through_the_real_pipeline_and_hides_small_drops(client: TestClient, made: dict[str, Any]) -> None:
    body = client.get(f"/v1/analytics/funnel?job_id={JOB}", headers=HR).json()
    assert body["applications"] == 10 and body["min_group"] == 5 and body["job_id"] == JOB
    stages = {s["stage"]: s for s in body["stages"]}
    assert [stages[s]["n"] for s in ("applied", "screened", "invited", "interviewed", "advanced")] == [10, 10, 7, 6, 5]
    assert stages["invited"]["conversion"] == 0.7 and stages["invited"]["dropped"] is None  # 3 stopped: not shown
    assert stages["interviewed"]["conversion"] == round(6 / 7, 4) and stages["advanced"]["conversion"] == round(5 / 6, 4)
    assert body["interview_pass_rate"]["rate"] == round(5 / 6, 4)
    assert client.get("/v1/analytics/funnel").status_code == 401


def test_sources_hide_a_source_of_3_and_divide_the_cost_by_the_advanced(client: TestClient, made: dict[str, Any]) -> None:
    put = client.put("/v1/analytics/sources/campus/cost", json={"cost": 5000, "currency": "CNY", "job_id": JOB}, headers=HR)
    assert put.status_code == 200 and put.json()["cost"] == 5000
    again = client.put("/v1/analytics/sources/campus/cost", json={"cost": 6000, "job_id": JOB}, headers=HR)
    assert again.json()["cost"] == 6000  # replaced, not added
    bad = client.put("/v1/analytics/sources/campus/cost", json={"cost": -1, "currency": "rmb"}, headers=HR)
    assert bad.status_code == 422 and {e["field"] for e in bad.json()["errors"]} == {"cost", "currency"}
    rows = {s["source"]: s for s in client.get(f"/v1/analytics/sources?job_id={JOB}", headers=HR).json()["sources"]}
    campus = rows["campus"]
    assert campus["applications"] == 7 and campus["interviewed"] == 6 and campus["advanced"] == 5
    assert campus["pass_rate"] == round(5 / 6, 4) and campus["cost_per_hire"] == 1200.0
    assert campus["mean_interview_score"] == round(sum(SCORES) / 6, 2)
    liepin = rows["liepin"]
    assert liepin["suppressed"] is True and liepin["applications"] is None and liepin["mean_match_score"] is None
    # the same as CSV: a BOM, a header, an empty cell for the hidden number
    answer = client.get(f"/v1/analytics/sources?job_id={JOB}&format=csv", headers=HR)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    assert answer.content.startswith(b"\xef\xbb\xbfsource,applications,")
    lines = {line["source"]: line for line in csv.DictReader(io.StringIO(answer.text.removeprefix("\ufeff")))}
    assert lines["campus"]["applications"] == "7" and lines["campus"]["cost_per_hire"] == "1200.0"
    assert lines["liepin"]["applications"] == "" and lines["liepin"]["suppressed"] == "true"
    by_accept = client.get("/v1/analytics/sources", headers={**HR, "Accept": "text/csv"})
    assert by_accept.headers["content-type"].startswith("text/csv")


def test_scores_stages_and_invites(client: TestClient, made: dict[str, Any]) -> None:
    scores = client.get(f"/v1/analytics/scores?job_id={JOB}", headers=HR).json()
    assert scores["interview"]["n"] == 6 and scores["match"]["n"] == 10
    bins = {b["from"]: b for b in scores["interview"]["bins"]}
    assert bins[40] == {"from": 40, "to": 50, "n": None, "suppressed": True}  # one interview scored 40
    assert bins[0]["n"] == 0
    questions = {q["question_id"]: q for q in scores["questions"]}
    assert questions["q_intro"]["n"] == 6 and questions["q_intro"]["p50"] == 65.0  # median of 40..90
    stages = {s["stage"]: s for s in client.get(f"/v1/analytics/stages?job_id={JOB}", headers=HR).json()["stages"]}
    assert stages["applied"]["n"] == 10 and stages["screened"]["n"] == 7 and stages["interviewing"]["n"] == 6
    assert stages["interviewed"]["n"] == 6 and stages["applied"]["p90_s"] >= stages["applied"]["p50_s"] >= 0
    invites = client.get(f"/v1/analytics/invites?job_id={JOB}", headers=HR).json()
    assert invites["invited"] == {"n": 7} and invites["opened"] == {"n": 6} and invites["completed"] == {"n": 6}
    assert invites["open_rate"] == round(6 / 7, 4) and invites["completion_rate"] == round(6 / 7, 4)


def test_outcomes_are_recorded_and_the_validity_figure_relates_them_to_the_scores(client: TestClient, made: dict[str, Any]) -> None:
    first = made["interviewed"][0]["id"]
    assert client.get(f"/v1/applications/{first}/outcomes", headers=HR).json()["recorded_at"] is None
    for i, app in enumerate(made["interviewed"]):
        body = {"probation_rating": RATINGS[i], "performance_12m": 3.5}
        if i < 3:
            body["onsite"] = "pass" if i % 2 else "fail"
        answer = client.put(f"/v1/applications/{app['id']}/outcomes", json=body, headers=HR)
        assert answer.status_code == 200, answer.text
        assert answer.json()["probation_rating"] == RATINGS[i] and answer.json()["recorded_by"] == "hr"
    shown = client.get(f"/v1/applications/{first}/outcomes", headers=HR).json()
    assert (shown["onsite"], shown["probation_rating"], shown["performance_12m"]) == ("fail", 1, 3.5)
    assert client.put(f"/v1/applications/{first}/outcomes", json={"probation_rating": 6}, headers=HR).status_code == 422
    assert client.put(f"/v1/applications/{first}/outcomes", json={"mood": "good"}, headers=HR).status_code == 422
    assert client.put("/v1/applications/app_nope/outcomes", json={}, headers=HR).status_code == 404
    rows = client.get(f"/v1/analytics/validity?job_id={JOB}", headers=HR).json()["correlations"]
    by = {(r["job_id"], r["score"], r["outcome"]): r for r in rows}
    probation = by[(JOB, "interview_score", "probation_rating")]
    # scores rank 1..6; ratings 1, 2, 1, 4, 3, 5 rank 1.5, 3, 1.5, 5, 4, 6: rho = 14.5 / sqrt(17.5 * 17)
    assert probation["n"] == 6 and probation["rho"] == round(14.5 / math.sqrt(17.5 * 17), 4)
    assert -1 < probation["ci_low"] < probation["rho"] < probation["ci_high"] <= 1
    onsite = by[(JOB, "interview_score", "onsite")]
    assert onsite["n"] is None and onsite["suppressed"] and onsite["rho"] is None  # only 3 on-site results
    assert by[(JOB, "interview_score", "performance_12m")]["note"] == "no spread"  # all 3.5


def test_filters_and_bad_queries(client: TestClient, made: dict[str, Any]) -> None:
    today = datetime.now(timezone.utc).date()  # the filter's days are UTC days
    yesterday = (today - timedelta(days=1)).isoformat()
    empty = client.get(f"/v1/analytics/funnel?to={yesterday}", headers=HR).json()
    assert empty["applications"] == 0 and empty["stages"][0]["n"] == 0
    window = client.get(f"/v1/analytics/funnel?from={yesterday}&to={(today + timedelta(days=1)).isoformat()}", headers=HR).json()
    assert window["applications"] == 10
    assert client.get(f"/v1/analytics/funnel?from={today.isoformat()}", headers=HR).json()["applications"] == 10
    assert client.get(f"/v1/analytics/funnel?from={(today + timedelta(days=1)).isoformat()}", headers=HR).json()["applications"] == 0
    assert client.get("/v1/applications/app_nope/outcomes", headers=HR).status_code == 404
    assert client.get("/v1/analytics/funnel?from=2026-13-01", headers=HR).status_code == 422
    backwards = client.get("/v1/analytics/funnel?from=2026-02-01&to=2026-01-01", headers=HR)
    assert backwards.status_code == 422 and backwards.json()["errors"][0]["field"] == "to"
    assert client.get("/v1/analytics/funnel?job_id=no_such_job", headers=HR).status_code == 422
    assert client.get("/v1/analytics/funnel?format=xml", headers=HR).status_code == 422
    other = client.get("/v1/analytics/funnel?job_id=risk_manager", headers=HR).json()
    assert other["applications"] == 0
    assert "/v1/analytics/validity" in client.get("/openapi.json").json()["paths"]
