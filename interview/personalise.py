"""Which version of each question a candidate is asked (千人千面), and why.

A bank question may carry alternatives, each with a condition on the
candidate's parsed profile (``has_experience_in``, ``min_years``,
``has_certificate``); the first alternative whose every condition holds is
asked instead of the question's own text, scored on its own rubric. Without a
profile, or when none fits, the question is asked as written. The choice and
its reason are recorded with the session, so HR see why a candidate got the
question they got and reports compare like with like.

Only the profile's work history, skills, years and certificates are read,
never the name or anything personal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jobs.models import Alternative, CandidateProfile, Condition, Question


@dataclass(frozen=True)
class Choice:
    question_id: str
    alternative: str | None  # None: the question as written
    reasons: tuple[str, ...]  # what held (for the chosen alternative) or why none fitted

    def to_dict(self) -> dict[str, Any]:
        return {"question_id": self.question_id, "alternative": self.alternative, "reasons": list(self.reasons)}


def _held(condition: Condition, profile: CandidateProfile) -> tuple[bool, list[str]]:
    """Whether every condition holds, and a reason per condition (what matched, or what was missing)."""
    ok, reasons = True, []
    if condition.has_experience_in:
        seen = [*profile.experience, *profile.skills]
        found = [(word, text) for word in condition.has_experience_in for text in seen if word.casefold() in text.casefold()]
        if found:
            word, text = found[0]
            reasons.append(f"has_experience_in: {word!r} in {text!r}")
        else:
            ok = False
            reasons.append(f"has_experience_in: none of {', '.join(condition.has_experience_in)}")
    if condition.min_years is not None:
        years = profile.years
        if years is not None and years >= condition.min_years:
            reasons.append(f"min_years: {years:g} >= {condition.min_years:g}")
        else:
            ok = False
            reasons.append(f"min_years: {'unknown' if years is None else f'{years:g}'} < {condition.min_years:g}")
    if condition.has_certificate:
        held = {c.casefold() for c in profile.certificates}
        found_cert = next((c for c in condition.has_certificate if c.casefold() in held), None)
        if found_cert is not None:
            reasons.append(f"has_certificate: {found_cert}")
        else:
            ok = False
            reasons.append(f"has_certificate: none of {', '.join(condition.has_certificate)}")
    return ok, reasons


def choose(question: Question, profile: CandidateProfile | None) -> tuple[Question, Choice]:
    """The question to ask this candidate (an alternative, or the question itself) and why."""
    if not question.alternatives:
        return question, Choice(question.id, None, ())
    if profile is None:
        return question, Choice(question.id, None, ("no candidate profile: asked as written",))
    missed: list[str] = []
    for alternative in question.alternatives:
        ok, reasons = _held(alternative.when, profile)
        if ok:
            return as_asked(question, alternative), Choice(question.id, alternative.id, tuple(reasons))
        missed += [f"{alternative.id}: {r}" for r in reasons if "none of" in r or "<" in r]
    return question, Choice(question.id, None, tuple(missed))


def as_asked(question: Question, alternative: Alternative) -> Question:
    """The question with the alternative's text and rubric, marked with the alternative's id."""
    return question.model_copy(
        update={"text": alternative.text, "rubric": alternative.rubric, "alternatives": [], "alternative": alternative.id}
    )


def personalise(
    questions: Sequence[Question], profile: CandidateProfile | None
) -> tuple[list[Question], list[Choice]]:
    """Every question as this candidate is asked it, and the choices (one per question with alternatives)."""
    asked, choices = [], []
    for question in questions:
        chosen, choice = choose(question, profile)
        asked.append(chosen)
        if question.alternatives:
            choices.append(choice)
    return asked, choices


def replay(questions: Sequence[Question], choices: Sequence[dict[str, Any]]) -> list[Question]:
    """The questions a session asks, from the choices recorded when it was created (a restart asks the same)."""
    by_id = {c["question_id"]: c.get("alternative") for c in choices}
    out = []
    for question in questions:
        wanted = by_id.get(question.id)
        alternative = next((a for a in question.alternatives if a.id == wanted), None)
        out.append(as_asked(question, alternative) if alternative is not None else question)
    return out
