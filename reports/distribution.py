"""A bank's question scores across its interviews, per version asked (personalised questions).

A personalised question is asked in several versions (jobs/banks/README.md,
"Personalised questions"); each is scored on its own rubric, so its scores
are only comparable with the same version's. This groups the latest report
of every session that ran the bank by question and version.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def _quantile(values: list[float], q: float) -> float:
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def score_distribution(reports: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per (question, version): answers scored, unanswered, and the overall scores' spread."""
    groups: dict[tuple[str, str | None], dict[str, Any]] = {}
    for report in reports:
        for question in report.get("questions") or []:
            if question.get("practice") or question.get("score") is None:
                continue
            key = (str(question["question_id"]), question.get("alternative"))
            group = groups.setdefault(key, {"scores": [], "no_answer": 0})
            if question.get("status") == "no_answer":
                group["no_answer"] += 1
                continue
            overall = question["score"].get("overall")
            if overall is not None:
                group["scores"].append(float(overall))
    rows = []
    for (question_id, alternative), group in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        scores = sorted(group["scores"])
        row: dict[str, Any] = {
            "question_id": question_id,
            "alternative": alternative,
            "answers": len(scores),
            "no_answer": group["no_answer"],
        }
        if scores:
            row.update(
                mean=round(sum(scores) / len(scores), 1),
                min=scores[0],
                p25=round(_quantile(scores, 0.25), 1),
                median=round(_quantile(scores, 0.5), 1),
                p75=round(_quantile(scores, 0.75), 1),
                max=scores[-1],
            )
        rows.append(row)
    return rows
