"""From an application's analytics row (analytics.rows.Row) and its self-identification to an :class:`Applicant`.

The decision points, read from what Candor already keeps:

* screening: the latest ``screen`` step of the timeline: ``advance`` is selected,
  ``review`` and ``pool`` are not;
* interview: the interview report's recommendation: selected when its overall
  score is in the top band ("strong", 建议进入下一轮: ``interview_advance_at``
  and up); applications without a scored report did not reach this point;
* HR: the latest person's decision on the timeline (``decide``, or
  ``confirm_pool``, which rejects): ``advance`` is selected, ``hold`` and
  ``reject`` are not.

Scores: the screening match score and the interview's overall score (0-100).
"""

from __future__ import annotations

from typing import Any, Mapping

from analytics.rows import Row

from .audit import Applicant


def _latest(timeline: Any, actions: tuple[str, ...]) -> str | None:
    outcome = None
    for entry in timeline:
        if entry.get("action") in actions:
            outcome = entry.get("outcome")
    return outcome


def applicant(row: Row, groups: Mapping[str, str | None], *, interview_advance_at: float) -> Applicant:
    screened = _latest(row.timeline, ("screen",))
    decided = _latest(row.timeline, ("decide", "confirm_pool"))
    interview = None if row.interview_score is None else row.interview_score >= interview_advance_at
    return Applicant(
        id=row.id,
        groups=dict(groups),
        selected={
            "screening": None if screened is None else screened == "advance",
            "interview": interview,
            "hr": None if decided is None else decided == "advance",
        },
        scores={"screening_score": row.match_score, "interview_score": row.interview_score},
    )
