"""Personalised questions: which version a candidate is asked, and why (interview/personalise.py)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from interview.personalise import personalise, replay
from jobs.catalog import BANKS_DIR, load_file
from jobs.models import CandidateProfile, Question

BANK = load_file(BANKS_DIR / "wealth_manager.yaml").bank
BASE = next(q for q in BANK.questions if q.rubric is not None)
OTHER = next(q for q in BANK.questions if q.rubric is not None and q.id != BASE.id)
SALES = {"zh": "请描述一次你提升客户销售额的经历。", "en": "Describe a time you grew a client's sales."}
LEARNING = {"zh": "请描述一次你学习新技能的经历。", "en": "Describe a time you learned a new skill."}


def question() -> Question:
    data = BASE.model_dump()
    data["text"] = LEARNING
    data["alternatives"] = [
        {"id": "retail_sales", "when": {"has_experience_in": ["零售", "retail", "销售"], "min_years": 1},
         "text": SALES, "rubric": OTHER.rubric.model_dump()},
        {"id": "certified", "when": {"has_certificate": ["AFP", "CFP"]}, "text": {"zh": "请讲一次你做理财规划的经历。"},
         "rubric": OTHER.rubric.model_dump()},
    ]
    return Question.model_validate(data)


def profile(**kw) -> CandidateProfile:
    return CandidateProfile(name="张三", **kw)


def test_a_retail_candidate_gets_the_sales_question_and_the_reason() -> None:
    retail = profile(years=3.5, experience=["2019.07-至今 招商银行 零售银行部 客户经理"])
    (asked,), (choice,) = personalise([question()], retail)
    assert asked.text.zh == SALES["zh"] and asked.alternative == "retail_sales" and asked.id == BASE.id
    assert asked.rubric == OTHER.rubric and not asked.alternatives
    assert choice.alternative == "retail_sales"
    assert any("零售" in r and "招商银行" in r for r in choice.reasons) and "min_years: 3.5 >= 1" in choice.reasons


def test_without_the_experience_the_question_is_asked_as_written_and_says_why() -> None:
    student = profile(years=0.0, experience=["2025.07-2025.09 某科技公司 数据分析实习生"])
    (asked,), (choice,) = personalise([question()], student)
    assert asked.text.zh == LEARNING["zh"] and asked.alternative is None and asked.rubric == BASE.rubric
    assert choice.alternative is None
    assert any(r.startswith("retail_sales: has_experience_in: none of") for r in choice.reasons)
    # no profile at all: as written
    (asked,), (choice,) = personalise([question()], None)
    assert asked.alternative is None and choice.reasons == ("no candidate profile: asked as written",)


def test_the_first_alternative_that_fits_wins_and_a_restart_asks_the_same() -> None:
    planner = profile(years=0.5, certificates=["AFP"], experience=["零售客户经理"])  # retail, but under a year
    asked, choices = personalise([question(), OTHER], planner)
    assert [q.alternative for q in asked] == ["certified", None]
    assert [c.to_dict()["alternative"] for c in choices] == ["certified"]  # only questions with alternatives
    assert replay([question(), OTHER], [c.to_dict() for c in choices]) == asked


def test_the_name_never_decides() -> None:
    a = personalise([question()], CandidateProfile(name="零售", years=0.0))[0]
    assert a[0].alternative is None  # the name is not work history


def test_bad_alternatives_are_refused_with_the_field() -> None:
    data = question().model_dump()
    data["alternatives"][1]["id"] = "retail_sales"
    with pytest.raises(ValidationError, match="unique"):
        Question.model_validate(data)
    data = question().model_dump()
    data["alternatives"][0]["when"] = {}
    with pytest.raises(ValidationError, match="at least one"):
        Question.model_validate(data)


def test_a_session_asks_the_candidates_version_and_the_report_says_which(tmp_path, db_url) -> None:  # noqa: ANN001
    """Through the API: a bank version with alternatives, a session for a retail candidate, its log and report."""
    from starlette.testclient import TestClient

    from server.app import create_app
    from tests.helpers import HR_TOKEN, make_settings

    hr = {"Authorization": f"Bearer {HR_TOKEN}"}
    bank = BANK.model_dump(mode="json")
    bank["questions"] = [q.model_dump(mode="json") for q in BANK.questions if q.id != BASE.id] + [question().model_dump(mode="json")]
    with TestClient(create_app(make_settings(tmp_path, database_url=db_url), models=None, load_models=False), base_url="http://127.0.0.1") as client:
        current = client.get(f"/v1/banks/{BANK.id}", headers=hr)
        put = client.put(f"/v1/banks/{BANK.id}", json=bank, headers={**hr, "If-Match": current.headers["etag"]})
        assert put.status_code in (200, 201), put.text
        retail = {"name": "王芳", "years": 4, "experience": ["工商银行 零售业务部 客户经理"]}
        session = client.post("/v1/sessions", json={"job_id": "wealth_manager", "candidate": retail}, headers=hr)
        assert session.status_code == 201, session.text
        session_id = session.json()["id"]
        ctx = client.app.state.candor

        def logged_events(sid: str) -> list:  # the log as written (the writer flushes in the background)
            client.portal.call(ctx.writer.flush)
            return ctx.store.store.read_events(sid)

        logged = logged_events(session_id)
        created = logged[0].payload
        assert [a["alternative"] for a in created.alternatives] == ["retail_sales"]
        assert "王芳" not in str(created.to_dict())  # the reasons quote the work history, never the name
        flow, _ = client.portal.call(ctx.sessions._flow_for, ctx.store.store.get_session(session_id), logged)
        asked = next(q for q in flow.questions if q.id == BASE.id)
        assert asked.alternative == "retail_sales" and asked.text.zh == SALES["zh"]
        started = flow.start(0.0)
        while not any(e.payload.question_id == BASE.id for e in started if e.type == "question.started"):
            started = flow.ready(1.0) + flow.done(2.0)
        event = next(e for e in started if e.type == "question.started" and e.payload.question_id == BASE.id)
        assert event.payload.alternative == "retail_sales" and event.payload.text["zh"] == SALES["zh"]
        free = client.post("/v1/sessions", json={"job_id": "wealth_manager"}, headers=hr).json()
        plain = logged_events(free["id"])[0].payload
        assert [a["alternative"] for a in plain.alternatives] == [None]  # no profile: asked as written
        scores = client.get(f"/v1/banks/{BANK.id}/scores", headers=hr)
        assert scores.status_code == 200 and scores.json() == {"bank_id": BANK.id, "interviews": 0, "questions": []}
        assert client.get("/v1/banks/nope/scores", headers=hr).status_code == 404
