"""Issue 12, section 6: the bias audit over a generated population with a known disparity, checked against fairlearn.

The population goes through the real store (candidates, applications with
their timelines, interview sessions and reports, HR decisions, self-identification
rows) and the real app answers ``GET /v1/audits/bias``: its numbers must equal
fairlearn's (``MetricFrame`` with ``selection_rate``, ``demographic_parity_ratio``)
to 1e-9. The candidate's self-identification goes through its real endpoint
with the token the interview link exchanged, and never shows where HR look.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import inspect
from fairlearn.metrics import MetricFrame, demographic_parity_ratio, selection_rate
from starlette.testclient import TestClient

from applications.pipeline import apply, receive
from bias import Applicant, audit
from db import Store
from jobs.models import CandidateProfile
from server.app import create_app
from tests.helpers import HR_TOKEN, make_settings

HR = {"Authorization": f"Bearer {HR_TOKEN}"}
JOB = "wealth_manager"
AGES = ("under_25", "25_34", "35_44", "45_54", "55_plus")


@dataclass
class Person:
    """What the generator made for one application: the truth the endpoint's numbers are checked against."""

    app_id: str = ""
    sex: str | None = None  # None: no self-ID row at all
    age: str | None = None
    screened: bool = False
    match: float = 0.0
    interview: float | None = None  # None: not interviewed
    hr: bool | None = None  # None: not decided
    extra: dict[str, Any] = field(default_factory=dict)


def build_population(store: Store, *, seed: int = 12) -> list[Person]:
    """500 applications to one job: women advanced at screening 30 %, men 50 % (impact ratio 0.6).

    8 say "another" (1.6 %: under the 2 % line), 20 answered "prefer not to say" and 22 never answered (unknown: 42).
    """
    rng = np.random.default_rng(seed)
    plan = [("female", 200, 60), ("male", 250, 125), ("another", 8, 4), ("prefer_not_to_say", 20, 8), (None, 22, 9)]
    people: list[Person] = []
    at = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
    for sex, n, advanced in plan:
        for i in range(n):
            people.append(Person(sex=sex, age=None if sex is None else AGES[(i * 7 + len(people)) % 5], screened=i < advanced))
    for k, p in enumerate(people):
        p.match = float(np.round(rng.uniform(30, 95), 1))
        candidate = store.create_candidate(CandidateProfile(name=f"Applicant {k}"))
        status, received = receive(actor="hr", at=at, actor_id="hr")
        status, screened = apply(status, "screen", actor="system", at=at, outcome="advance" if p.screened else "review")
        record = store.create_application(
            job_id=JOB, job_version=1, candidate_id=candidate.id, state=status.state, outcome=status.outcome,
            source="campus", external_id=None, name=None, phone_key=None, email_key=None, score=p.match,
            resume={}, resume_text="", parsed={}, screening={}, timeline=[received.to_dict(), screened.to_dict()],
        )
        p.app_id = record.id
        if p.sex is not None:
            store.put_self_id(f"generated-{k}", application_id=record.id, candidate_id=candidate.id, sex=p.sex, age_band=p.age,
                              ethnicity=None)
        if not p.screened:
            continue
        # Invited and interviewed: a session with a report (its overall score is the interview's)
        session_id = f"s_gen_{k}"
        store.create_session(session_id=session_id, expires_at=at + timedelta(days=7), candidate_token=f"tok-{k}",
                             invite_code=f"code-{k}", candidate_id=candidate.id)
        status, invited = apply(status, "invite", actor="hr", at=at, actor_id="hr")
        assert store.move_application(record.id, expect_state="screened", state=status.state, outcome=None,
                                      entry=invited.to_dict(), session_id=session_id)
        # women's interview scores a little lower on average: a scoring-rate gap to find
        centre = 58.0 if p.sex == "female" else 66.0
        p.interview = float(np.clip(np.round(rng.normal(centre, 12), 1), 0, 100))
        store.add_report(session_id, {"overall": p.interview, "questions": []})
        if k % 3 == 0:
            continue  # not decided yet
        p.hr = bool(p.interview >= 60)
        before = status
        status, decided = apply(status, "decide", actor="hr", at=at, outcome="advance" if p.hr else "reject", actor_id="hr")
        assert store.move_application(record.id, expect_state=before.state, state=status.state, outcome=status.outcome,
                                      entry=decided.to_dict())
    return people


@pytest.fixture()
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(make_settings(tmp_path), load_models=False)
    with TestClient(app, base_url="http://127.0.0.1") as test_client:
        yield test_client


@pytest.fixture()
def population(client: TestClient) -> list[Person]:
    return build_population(client.app.state.candor.store.store)


def _table(measure: dict[str, Any], category: str) -> dict[str, Any]:
    return next(t for t in measure["tables"] if t["category"] == category)


def _groups(table: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {g["group"]: g for g in table["groups"]}


def _frame(people: list[Person], selected: list[bool], *, by: str) -> tuple[pd.Series, pd.Series, pd.DataFrame]:
    """y (0/1) and the sensitive features of the people of known, included category (the endpoint's ratio population)."""
    rows = []
    for p, hit in zip(people, selected):
        sex = p.sex if p.sex in ("female", "male") else None  # "another" is under 2 %: excluded; the rest unknown
        age = p.age if p.age in AGES else None
        if sex is None or (by == "sex*age_band" and age is None):
            continue
        rows.append({"y": int(hit), "sex": sex, "age_band": age})
    df = pd.DataFrame(rows)
    features = df[["sex"]] if by == "sex" else df[["sex", "age_band"]]
    return df["y"], df["y"], features


def test_the_audit_finds_the_known_disparity_and_fairlearn_agrees(client: TestClient, population: list[Person]) -> None:
    answer = client.get(f"/v1/audits/bias?job_id={JOB}", headers=HR)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["applicants"] == 500
    assert body["unknown"]["sex"] == 42  # 20 declined + 22 never answered: always shown
    points = {m["id"]: m for m in body["decision_points"]}
    assert set(points) == {"screening", "interview", "hr"}

    sex = _table(points["screening"], "sex")
    groups = _groups(sex)
    assert sex["applicants"] == 500 and sex["unknown"] == 42
    assert (groups["female"]["applicants"], groups["female"]["selected"]) == (200, 60)
    assert (groups["male"]["applicants"], groups["male"]["selected"]) == (250, 125)
    assert groups["female"]["rate"] == pytest.approx(0.30, abs=1e-12)
    assert groups["male"]["rate"] == pytest.approx(0.50, abs=1e-12)
    assert groups["female"]["impact_ratio"] == pytest.approx(0.60, abs=1e-12) and groups["female"]["flagged"] is True
    assert groups["male"]["impact_ratio"] == 1.0 and groups["male"]["flagged"] is False
    assert sex["reference"] == "male"
    # "another": 8 of 500 = 1.6 % < 2 %: listed with its count and rate, left out of the ratios
    assert groups["another"]["excluded"] is True and groups["another"]["applicants"] == 8
    assert groups["another"]["rate"] == pytest.approx(0.5) and groups["another"]["impact_ratio"] is None
    assert sex["excluded"] == {"groups": 1, "applicants": 8}
    assert {"measure": "screening", "category": "sex", "group": "female", "label": groups["female"]["label"],
            "impact_ratio": groups["female"]["impact_ratio"]} in body["flags"]

    # every decision point and the intersection, against fairlearn
    truths = {
        "screening": (population, [p.screened for p in population]),
        "interview": ([p for p in population if p.interview is not None],
                      [p.interview >= 70 for p in population if p.interview is not None]),
        "hr": ([p for p in population if p.hr is not None], [bool(p.hr) for p in population if p.hr is not None]),
    }
    checked = 0
    for point, (people, selected) in truths.items():
        assert points[point]["applicants"] == len(people)
        for category in ("sex", "sex*age_band"):
            table = _table(points[point], category)
            y_true, y_pred, features = _frame(people, selected, by=category)
            frame = MetricFrame(metrics=selection_rate, y_true=y_true, y_pred=y_pred, sensitive_features=features)
            ours = {g: v for g, v in _groups(table).items() if not v["excluded"]}
            theirs = frame.by_group
            top = theirs.max()
            for key, rate in theirs.items():
                group = key if isinstance(key, str) else "*".join(key)
                if group not in ours:  # an intersection under 2 % of the table: excluded on our side
                    assert _groups(table)[group]["excluded"], (point, group)
                    continue
                assert ours[group]["rate"] == pytest.approx(rate, abs=1e-9), (point, group)
                if len(ours) == len(theirs):
                    assert ours[group]["impact_ratio"] == pytest.approx(rate / top, abs=1e-9), (point, group)
                checked += 1
            if len(ours) == len(theirs):
                ratio = demographic_parity_ratio(y_true, y_pred, sensitive_features=features)
                assert min(g["impact_ratio"] for g in ours.values()) == pytest.approx(ratio, abs=1e-9), (point, category)
    assert checked >= 3 * (2 + 5)

    # scoring rates: share above the whole sample's median, women's gap found, fairlearn agrees
    scores = {m["id"]: m for m in body["scores"]}
    interviewed = [p for p in population if p.interview is not None]
    median = statistics.median(p.interview for p in interviewed)  # type: ignore[type-var]
    assert scores["interview_score"]["median"] == pytest.approx(median)
    above = [p.interview > median for p in interviewed]  # type: ignore[operator]
    y_true, y_pred, features = _frame(interviewed, above, by="sex")
    frame = MetricFrame(metrics=selection_rate, y_true=y_true, y_pred=y_pred, sensitive_features=features)
    table = _groups(_table(scores["interview_score"], "sex"))
    for group in ("female", "male"):
        assert table[group]["rate"] == pytest.approx(frame.by_group[group], abs=1e-9)
    assert table["female"]["impact_ratio"] == pytest.approx(demographic_parity_ratio(y_true, y_pred, sensitive_features=features), abs=1e-9)
    assert table["female"]["impact_ratio"] < 0.8 and table["female"]["flagged"]
    match = {m["id"]: m for m in body["scores"]}["screening_score"]
    assert match["applicants"] == 500 and match["median"] == pytest.approx(statistics.median(p.match for p in population))


def test_csv_and_html_exports_and_the_audit_trail(client: TestClient, population: list[Person]) -> None:
    today = datetime.now(timezone.utc).date()  # the applications were received today
    span = f"from={today - timedelta(days=30)}&to={today}"
    exported = client.get(f"/v1/audits/bias?job_id={JOB}&{span}&format=csv", headers=HR)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    text = exported.content.decode("utf-8")
    assert text.startswith("\ufeff")
    lines = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert lines[0][0].startswith("# Candor bias audit") and "applicants=500" in lines[0] and "unknown_sex=42" in lines[0]
    header, rows = lines[1], [dict(zip(lines[1], r)) for r in lines[2:]]
    assert header[:5] == ["measure", "kind", "median", "category", "group"]
    female = next(r for r in rows if (r["measure"], r["category"], r["group"]) == ("screening", "sex", "female"))
    assert (int(female["applicants"]), int(female["selected"])) == (200, 60)
    assert float(female["rate"]) == pytest.approx(0.3) and float(female["impact_ratio"]) == pytest.approx(0.6)
    assert female["flagged"] == "True"
    unknown = next(r for r in rows if (r["measure"], r["category"], r["group"]) == ("screening", "sex", "unknown"))
    assert int(unknown["applicants"]) == 42

    page = client.get(f"/v1/audits/bias?job_id={JOB}", headers={**HR, "Accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Bias audit" in page.text and "under 0.8" in page.text and "excluded (&lt;2%)" in page.text
    assert "<script" not in page.text and "format=csv" in page.text

    outside = client.get(f"/v1/audits/bias?job_id={JOB}&from={today + timedelta(days=1)}", headers=HR).json()
    assert outside["applicants"] == 0 and outside["flags"] == []
    assert client.get("/v1/audits/bias?job_id=other_job", headers=HR).json()["applicants"] == 0

    trail = client.get("/v1/audit?target_type=job", headers=HR).json()["entries"]
    actions = [(e["action"], e["details"].get("count")) for e in trail]
    assert ("bias.exported", 500) in actions and ("bias.viewed", 500) in actions and ("bias.viewed", 0) in actions


def test_only_hr_reads_the_audit_and_bad_queries_are_4xx(client: TestClient) -> None:
    assert client.get("/v1/audits/bias").status_code == 401
    assert client.get("/v1/audits/bias", headers={"Authorization": "Bearer nope"}).status_code == 401
    for query in ("format=pdf", "from=yesterday", "from=2026-12-02&to=2026-12-01", "job_id=" + "x" * 65):
        answer = client.get(f"/v1/audits/bias?{query}", headers=HR)
        assert answer.status_code == 422, (query, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")


def _session_with_application(client: TestClient) -> tuple[dict[str, Any], str, str]:
    """An HR session for a screened application (as an invite makes it), and the candidate's exchanged token."""
    store: Store = client.app.state.candor.store.store
    candidate = store.create_candidate(CandidateProfile(name="欧阳明轩"))
    at = datetime.now(timezone.utc)
    status, received = receive(actor="hr", at=at, actor_id="hr")
    status, screened = apply(status, "screen", actor="system", at=at, outcome="advance")
    record = store.create_application(
        job_id=JOB, job_version=1, candidate_id=candidate.id, state=status.state, outcome=status.outcome, source="campus",
        external_id=None, name="欧阳明轩", phone_key=None, email_key=None, score=80.0, resume={}, resume_text="",
        parsed={}, screening={}, timeline=[received.to_dict(), screened.to_dict()],
    )
    session = client.post("/v1/sessions", json={}, headers=HR).json()
    status, invited = apply(status, "invite", actor="hr", at=at, actor_id="hr")
    assert store.move_application(record.id, expect_state="screened", state=status.state, outcome=None,
                                  entry=invited.to_dict(), session_id=session["id"])
    code = session["candidate_url"].split("#code=", 1)[1]
    token = client.post("/v1/candidate/exchange", json={"code": code}).json()["token"]
    return session, record.id, token


def test_self_identification_is_the_candidates_and_never_reaches_hr(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, policy="eu"), load_models=False)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        session, app_id, token = _session_with_application(client)
        url = f"/v1/sessions/{session['id']}/self-id"
        mine = {"Authorization": f"Bearer {token}"}
        asked = client.get(url, headers=mine).json()
        assert asked["answered"] is False and "ethnicity" in asked["asked"]  # eu: asked, optional
        assert asked["asked"]["sex"][-1] == "prefer_not_to_say" and "HR never see it" in asked["purpose"]["en"]

        answer = {"sex": "another", "age_band": "55_plus", "ethnicity": "native_hawaiian_or_pacific_islander"}
        hr_copy = client.post(url, json=answer, headers={"Authorization": f"Bearer {session['candidate_token']}"})
        assert hr_copy.status_code == 403 and hr_copy.json()["type"].endswith("candidate-self-id-only")
        assert client.post(url, json=answer, headers=HR).status_code == 401
        assert client.post(url, json={**answer, "sex": "f"}, headers=mine).status_code == 422
        assert client.post(url, json={**answer, "name": "x"}, headers=mine).status_code == 422
        assert client.post(url, json=answer, headers=mine).status_code == 204
        assert client.get(url, headers=mine).json() == {**asked, "answered": True}  # that it was answered, never what

        # the audit counts it...
        audit_body = client.get("/v1/audits/bias", headers=HR).json()
        screening = {m["id"]: m for m in audit_body["decision_points"]}["screening"]
        assert _groups(_table(screening, "ethnicity"))["native_hawaiian_or_pacific_islander"]["applicants"] == 1
        assert _groups(_table(screening, "sex*age_band"))["another*55_plus"]["selected"] == 1

        # ...and nothing HR, recruiters, reviewers or the sinks read carries it
        store: Store = client.app.state.candor.store.store
        ctx = client.app.state.candor

        async def report() -> None:  # what the interview's end does: the report, built and queued for the sinks
            async with ctx.reports.lock:
                await ctx.reports.write(session["id"])

        client.portal.call(report)  # type: ignore[union-attr]
        built = client.get(f"/v1/sessions/{session['id']}/report", headers=HR)
        assert built.status_code == 200 and built.json()["session_id"] == session["id"]
        application = client.get(f"/v1/applications/{app_id}", headers=HR)
        assert application.status_code == 200
        candidate_id = application.json()["candidate"]["id"]
        seen = [
            application.text,
            client.get(f"/v1/applications/{app_id}/timeline", headers=HR).text,
            client.get(f"/v1/applications?job_id={JOB}", headers=HR).text,
            client.get(f"/v1/candidates/{candidate_id}", headers=HR).text,
            client.get(f"/v1/sessions/{session['id']}", headers=HR).text,
            client.get(f"/v1/sessions/{session['id']}/report", headers=HR).text,
            client.get(f"/v1/sessions/{session['id']}/report?format=html", headers=HR).text,
            client.get("/v1/audit", headers=HR).text,
            repr([e.payload for e in store.read_events(session["id"], 0)]),
        ]
        for text in seen:
            for value in ("55_plus", "native_hawaiian", "self_id\": {", "age_band\": \""):
                assert value not in text, (value, text[:200])
        # stored apart: no other table of the database holds it (events, outbox, applications, audit log...)
        with store.engine.connect() as db:
            for table in inspect(store.engine).get_table_names():
                if table == "self_identifications":
                    continue
                rows = repr(db.exec_driver_sql(f'SELECT * FROM "{table}"').fetchall())
                assert "55_plus" not in rows and "native_hawaiian" not in rows, table

        # the candidate takes it back
        assert client.delete(url, headers=mine).status_code == 204
        assert client.get(url, headers=mine).json()["answered"] is False
        screening = {m["id"]: m for m in client.get("/v1/audits/bias", headers=HR).json()["decision_points"]}["screening"]
        assert _table(screening, "sex")["unknown"] == 1


def test_pipl_never_asks_ethnicity(client: TestClient) -> None:
    session, _, token = _session_with_application(client)
    url = f"/v1/sessions/{session['id']}/self-id"
    mine = {"Authorization": f"Bearer {token}"}
    assert "ethnicity" not in client.get(url, headers=mine).json()["asked"]
    refused = client.post(url, json={"ethnicity": "asian"}, headers=mine)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "ethnicity"
    assert client.post(url, json={}, headers=mine).status_code == 204  # skipping everything is an answer too
    assert "ethnicity" not in client.get("/v1/audits/bias", headers=HR).json()["categories"]


def test_the_core_on_its_own() -> None:
    people = [Applicant(str(i), {"sex": "female" if i % 2 else "male", "age_band": None},
                        {"screening": i % 4 == 0}, {"interview_score": float(i)}) for i in range(40)]
    result = audit(people)
    table = result.measures[0].tables[0]
    rates = {g.group: g.rate for g in table.groups}
    assert rates == {"female": 0.0, "male": 0.5}
    assert {g.group: g.impact_ratio for g in table.groups} == {"female": 0.0, "male": 1.0}
    assert result.unknown == {"sex": 0, "age_band": 40}
    # nobody selected: no ratio to take, nothing flagged
    nobody = audit([Applicant(str(i), {"sex": "female"}, {"screening": False}) for i in range(5)])
    assert nobody.measures[0].tables[0].groups[0].impact_ratio is None and nobody.flags() == []
    # an exactly four-fifths ratio is not under it
    edge = audit([Applicant(str(i), {"sex": "female" if i < 10 else "male"}, {"screening": (i < 4) or (10 <= i < 15)})
                  for i in range(20)])
    female = edge.measures[0].tables[0].groups[0]
    assert female.impact_ratio == pytest.approx(0.8) and not female.flagged


def test_decision_points_come_from_the_timeline_and_the_report() -> None:
    from analytics.rows import Row
    from bias.rows import applicant

    at = datetime(2026, 12, 1, tzinfo=timezone.utc)

    def row(timeline: list[dict[str, Any]], interview: float | None = None) -> Row:
        return Row(id="a", job_id=JOB, source=None, created_at=at, state="x", outcome=None, match_score=55.0,
                   interview_score=interview, timeline=timeline)

    rescreened = applicant(row([{"action": "screen", "outcome": "advance"}, {"action": "screen", "outcome": "review"}]),
                           {"sex": "male"}, interview_advance_at=70.0)
    assert rescreened.selected == {"screening": False, "interview": None, "hr": None}  # the latest screening counts
    pooled = applicant(row([{"action": "screen", "outcome": "pool"}, {"action": "confirm_pool", "outcome": "reject"}]),
                       {}, interview_advance_at=70.0)
    assert pooled.selected["hr"] is False  # a person confirmed the pool: rejected
    decided = applicant(row([{"action": "screen", "outcome": "advance"}, {"action": "decide", "outcome": "hold"},
                             {"action": "decide", "outcome": "advance"}], interview=70.0), {}, interview_advance_at=70.0)
    assert decided.selected == {"screening": True, "interview": True, "hr": True}
    assert decided.scores == {"screening_score": 55.0, "interview_score": 70.0}
    assert applicant(row([], interview=69.9), {}, interview_advance_at=70.0).selected["interview"] is False
