"""Do the scores predict anything? Spearman rank correlations of the scores with the later outcomes.

For each job (and all jobs together), each score (the screening match score,
the interview's overall score) against each later outcome (on-site result as
pass 1 / fail 0, probation rating 1-5, 12-month performance): Spearman's rho
over the applications that have both, its n, and a 95% confidence interval.

The interval is Fisher's z transform with the Bonett-Wright (2000) standard
error for Spearman's rho: z = atanh(rho), se = sqrt((1 + rho²/2) / (n - 3)),
CI = tanh(z ± 1.96·se). It is wide at small n (at n = 5 and rho = 0 it runs
from about -0.88 to +0.88): docs/analytics.md says more. Fewer than 5 pairs
show nothing (the suppression rule); rho of exactly ±1 or a score or outcome
with no spread has no interval (``note`` says why).
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any, Iterable, Sequence

import numpy as np

from . import suppress
from .rows import Row

Z_95 = 1.959963984540054  # the standard normal's 97.5th percentile
SCORES = ("match_score", "interview_score")
OUTCOMES = ("onsite", "probation_rating", "performance_12m")
ALL_JOBS = "(all)"


def _ranks(values: Sequence[float]) -> np.ndarray:
    """Ranks 1..n, ties given their average rank."""
    a = np.asarray(values, dtype=float)
    order = np.argsort(a, kind="mergesort")
    ranks = np.empty(len(a), dtype=float)
    sorted_a = a[order]
    i = 0
    while i < len(a):
        j = i
        while j + 1 < len(a) and sorted_a[j + 1] == sorted_a[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spearman(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Spearman's rho (Pearson's r of the average ranks); None when either side has no spread or n < 2."""
    if len(x) != len(y):
        raise ValueError("x and y differ in length")
    if len(x) < 2:
        return None
    rx, ry = _ranks(x), _ranks(y)
    dx, dy = rx - rx.mean(), ry - ry.mean()
    denominator = math.sqrt(float((dx * dx).sum() * (dy * dy).sum()))
    if denominator == 0:
        return None
    return float((dx * dy).sum() / denominator)


def fisher_ci(rho: float, n: int, z_crit: float = Z_95) -> tuple[float, float] | None:
    """The Fisher-z interval with the Bonett-Wright variance (1 + rho²/2)/(n - 3); None for n <= 3 or |rho| = 1."""
    if n <= 3 or abs(rho) >= 1:
        return None
    z = math.atanh(rho)
    se = math.sqrt((1 + rho * rho / 2) / (n - 3))
    return math.tanh(z - z_crit * se), math.tanh(z + z_crit * se)


def _outcome_value(row: Row, outcome: str) -> float | None:
    later = row.later
    if later is None:
        return None
    if outcome == "onsite":
        return {"pass": 1.0, "fail": 0.0}.get(later.onsite or "")
    value = getattr(later, outcome)
    return None if value is None else float(value)


def correlation(pairs: Sequence[tuple[float, float]]) -> dict[str, Any]:
    """rho, n and the 95% CI of (score, outcome) pairs, under the suppression rule."""
    n = len(pairs)
    out: dict[str, Any] = {**suppress.count(n), "rho": None, "ci_low": None, "ci_high": None, "note": None}
    if n < suppress.MIN_GROUP:
        out["note"] = "needs at least 5"
        return out
    rho = spearman([p[0] for p in pairs], [p[1] for p in pairs])
    if rho is None:
        out["note"] = "no spread"
        return out
    out["rho"] = round(rho, 4)
    ci = fisher_ci(rho, n)
    if ci is None:
        out["note"] = "rho is ±1: no interval"
    else:
        out["ci_low"], out["ci_high"] = round(ci[0], 4), round(ci[1], 4)
    return out


def validity(rows: Iterable[Row]) -> list[dict[str, Any]]:
    """One row per (job, score, outcome): all jobs together first, then each job."""
    by_job: dict[str, list[Row]] = defaultdict(list)
    everyone: list[Row] = []
    for row in rows:
        by_job[row.job_id].append(row)
        everyone.append(row)
    groups = [(ALL_JOBS, everyone)] + sorted(by_job.items())
    out = []
    for job_id, group in groups:
        for score in SCORES:
            for outcome in OUTCOMES:
                pairs = []
                for row in group:
                    s, o = getattr(row, score), _outcome_value(row, outcome)
                    if s is not None and o is not None:
                        pairs.append((float(s), o))
                out.append({"job_id": job_id, "score": score, "outcome": outcome, **correlation(pairs)})
    return out
