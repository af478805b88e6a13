"""What the figures are computed from: one :class:`Row` per application."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping, Sequence


@dataclass(frozen=True)
class Outcome:
    """What happened after the pre-interview, recorded later by HR or an HR system."""

    onsite: str | None = None  # "pass" | "fail"
    probation_rating: int | None = None  # 1-5
    performance_12m: float | None = None


@dataclass(frozen=True)
class Row:
    """One application: where it came from, its scores, its timeline and its later outcome."""

    id: str
    job_id: str
    source: str | None
    created_at: datetime
    state: str
    outcome: str | None  # the state's outcome (screened: advance|review|pool; decided: advance|hold|reject)
    match_score: float | None = None  # the screening match score, 0-100
    interview_score: float | None = None  # the latest report's overall, 0-100
    # (question id, alternative or None) -> that question's overall score, 0-100
    question_scores: Mapping[tuple[str, str | None], float] = field(default_factory=dict)
    timeline: Sequence[Mapping[str, Any]] = ()  # ApplicationEventRow.entry dicts, in order
    later: Outcome | None = None


@dataclass(frozen=True)
class Cost:
    """Money spent on a source: for one job, or (job_id None) across all jobs."""

    source: str
    job_id: str | None
    cost: float
    currency: str
