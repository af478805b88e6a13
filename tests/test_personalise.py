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
