"""The dashboard's figures over :class:`~analytics.rows.Row`: plain functions, no I/O.

Every figure follows the suppression rule (:mod:`analytics.suppress`): a
group of 1-4 people is ``null`` with ``"suppressed": true``, and so is any
rate, mean or quantile made from one. docs/analytics.md explains each.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from . import suppress
from .rows import Cost, Row

FUNNEL = ("applied", "screened", "invited", "interviewed", "advanced")
# The states an application stays in for a while (decided and withdrawn are where it ends).
STAGES = ("applied", "screened", "invited", "interviewing", "interviewed")
MOVES = frozenset({"receive", "screen", "invite", "start_interview", "end_interview", "confirm_pool", "decide", "withdraw"})
BIN_WIDTH = 10
BINS = tuple((lo, lo + BIN_WIDTH) for lo in range(0, 100, BIN_WIDTH))  # [0,10) ... [90,100]
QUANTILES = (10, 25, 50, 75, 90)
NO_SOURCE = "(none)"


# -- what an application's timeline says ---------------------------------------------
def _did(row: Row, action: str) -> bool:
    return any(e.get("action") == action for e in row.timeline)


def _last_decision(row: Row) -> str | None:
    decisions = [e.get("outcome") for e in row.timeline if e.get("action") == "decide"]
    return decisions[-1] if decisions else None


def reached(row: Row) -> dict[str, bool]:
    """Which funnel stages the application reached, each only through the ones before it."""
    screened = _did(row, "screen")
    invited = screened and _did(row, "invite")
    interviewed = invited and _did(row, "end_interview")
    advanced = interviewed and _last_decision(row) == "advance"
    return {"applied": True, "screened": screened, "invited": invited, "interviewed": interviewed, "advanced": advanced}


def _at(entry: Mapping[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(str(entry.get("at")))
    except ValueError:
        return None


def _quantiles(values: Sequence[float]) -> dict[str, float | None]:
    if suppress.small(len(values)) or not values:
        return {f"p{q}": None for q in QUANTILES}
    out = np.percentile(np.asarray(values, dtype=float), QUANTILES)  # linear interpolation (numpy's default)
    return {f"p{q}": round(float(v), 2) for q, v in zip(QUANTILES, out)}


def _mean(values: Sequence[float]) -> float | None:
    return suppress.value(len(values), round(float(np.mean(values)), 2) if values else None)


def _counted(n: int, **figures: Any) -> dict[str, Any]:
    out = suppress.count(n)
    out.update(figures)
    return out


# -- the funnel -------------------------------------------------------------------------
def funnel(rows: Iterable[Row]) -> dict[str, Any]:
    """Applied → screened → invited → interviewed → advanced, with conversion and drop-off per stage, and the interview pass rate.

    A stage counts the applications that reached it through every stage
    before it (one advanced without an interview is counted apart, in
    ``advanced_without_interview``). ``conversion`` is this stage's count over
    the one before; ``dropped`` is how many stopped before it.
    """
    rows = list(rows)
    counts = dict.fromkeys(FUNNEL, 0)
    skipped = 0
    decided = advanced = 0  # among the interviewed
    for row in rows:
        got = reached(row)
        for stage in FUNNEL:
            counts[stage] += got[stage]
        if got["interviewed"] and _did(row, "decide"):
            decided += 1
            advanced += got["advanced"]
        if not got["interviewed"] and _last_decision(row) == "advance":
            skipped += 1
    stages = []
    previous: int | None = None
    for stage in FUNNEL:
        n = counts[stage]
        item = {"stage": stage, **suppress.count(n), "conversion": None, "drop_off": None, "dropped": None}
        if previous is not None:
            conversion = suppress.rate(n, previous)
            dropped = previous - n
            item["conversion"] = conversion
            item["drop_off"] = None if conversion is None else round(1 - conversion, 4)
            hidden = suppress.small(n) or suppress.small(previous) or suppress.small(dropped)
            item["dropped"] = None if hidden else dropped
            if hidden:
                item["dropped_suppressed"] = True
        stages.append(item)
        previous = n
    return {
        "stages": stages,
        "advanced_without_interview": suppress.count(skipped),
        "interview_pass_rate": {"rate": suppress.rate(advanced, decided), "advanced": suppress.count(advanced), "decided": suppress.count(decided)},
    }


# -- score distributions -------------------------------------------------------------------
def histogram(values: Iterable[float]) -> dict[str, Any]:
    """Counts in fixed bins of 10 over 0-100 (the last bin holds 100); a bin of 1-4 is suppressed."""
    counts = [0] * len(BINS)
    scores = [min(max(float(v), 0.0), 100.0) for v in values]
    for v in scores:
        counts[min(int(v // BIN_WIDTH), len(BINS) - 1)] += 1
    return {
        **suppress.count(len(scores)),
        "mean": _mean(scores),
        **_quantiles(scores),
        "bins": [{"from": lo, "to": hi, **suppress.count(n)} for (lo, hi), n in zip(BINS, counts)],
    }


def histograms(rows: Iterable[Row]) -> dict[str, Any]:
    """The match scores' and the interview scores' distributions."""
    rows = list(rows)
    return {
        "match": histogram(r.match_score for r in rows if r.match_score is not None),
        "interview": histogram(r.interview_score for r in rows if r.interview_score is not None),
    }


def questions(rows: Iterable[Row]) -> list[dict[str, Any]]:
    """Per question (and personalised version): n, mean and p10/p25/p50/p75/p90 of its scores.

    No min or max: each is one person's score.
    """
    by_key: dict[tuple[str, str | None], list[float]] = defaultdict(list)
    for row in rows:
        for key, score in row.question_scores.items():
            if score is not None:
                by_key[key].append(float(score))
    out = []
    for (question_id, alternative), scores in sorted(by_key.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        out.append({"question_id": question_id, "alternative": alternative, **suppress.count(len(scores)),
                    "mean": _mean(scores), **_quantiles(scores)})
    return out


# -- sources ---------------------------------------------------------------------------------
def source_cost(costs: Iterable[Cost], source: str, job_id: str | None) -> tuple[float | None, str | None]:
    """The spend on ``source``: for one job, its own entry; across jobs, the all-jobs entry, else the jobs' entries summed (one currency)."""
    mine = [c for c in costs if c.source == source]
    if job_id is not None:
        chosen = [c for c in mine if c.job_id == job_id]
    else:
        general = [c for c in mine if c.job_id is None]
        chosen = general or mine
    if not chosen or len({c.currency for c in chosen}) != 1:
        return None, None
    return round(sum(c.cost for c in chosen), 2), chosen[0].currency


def sources(rows: Iterable[Row], costs: Iterable[Cost] = (), job_id: str | None = None) -> list[dict[str, Any]]:
    """Per source: applications, interviewed, pass rate, mean match and interview scores, advanced, cost per advanced.

    A source with 1-4 applications is one suppressed row (its name stays: a
    name is not a person). Cost per hire is the entered cost over the
    applications advanced (the last decision is advance), shown only where a
    cost is entered and at least 5 were advanced.
    """
    costs = list(costs)
    groups: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        groups[row.source or NO_SOURCE].append(row)
    out = []
    for source, group in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        n = len(group)
        cost, currency = source_cost(costs, source, job_id)
        if suppress.small(n):
            out.append({"source": source, "applications": None, "suppressed": True, "interviewed": None, "pass_rate": None,
                        "mean_match_score": None, "mean_interview_score": None, "advanced": None,
                        "cost": cost, "currency": currency, "cost_per_hire": None, "suppressed_fields": []})
            continue
        got = [reached(r) for r in group]
        interviewed = [r for r, g in zip(group, got) if g["interviewed"]]
        decided = [r for r in interviewed if _did(r, "decide")]
        passed = sum(1 for r in decided if _last_decision(r) == "advance")
        hires = sum(1 for r in group if _last_decision(r) == "advance")
        match = [r.match_score for r in group if r.match_score is not None]
        interview = [r.interview_score for r in group if r.interview_score is not None]
        item = {
            "source": source,
            "applications": n,
            "interviewed": None if suppress.small(len(interviewed)) else len(interviewed),
            "pass_rate": suppress.rate(passed, len(decided)),
            "mean_match_score": _mean(match),
            "mean_interview_score": _mean(interview),
            "advanced": None if suppress.small(hires) else hires,
            "cost": cost,
            "currency": currency,
            "cost_per_hire": round(cost / hires, 2) if cost is not None and hires and not suppress.small(hires) else None,
        }
        # which figures are null because a group under them had 1-4 people
        hidden = {
            "interviewed": suppress.small(len(interviewed)),
            "pass_rate": suppress.small(passed) or suppress.small(len(decided)),
            "mean_match_score": suppress.small(len(match)),
            "mean_interview_score": suppress.small(len(interview)),
            "advanced": suppress.small(hires),
            "cost_per_hire": cost is not None and suppress.small(hires),
        }
        item["suppressed"] = False
        item["suppressed_fields"] = [k for k, v in hidden.items() if v]
        out.append(item)
    return out


# -- time in stage -----------------------------------------------------------------------------
def stay_times(row: Row) -> list[tuple[str, float]]:
    """(state, seconds) for every state the application entered and then left (notes do not move it)."""
    out: list[tuple[str, float]] = []
    state: str | None = None
    since: datetime | None = None
    for entry in row.timeline:
        if entry.get("action") not in MOVES:
            continue
        at, to = _at(entry), entry.get("to")
        if at is None or not isinstance(to, str):
            continue
        if state is None:
            state, since = to, at
        elif to != state:
            if since is not None:
                out.append((state, max((at - since).total_seconds(), 0.0)))
            state, since = to, at
    return out


def stages(rows: Iterable[Row]) -> list[dict[str, Any]]:
    """Time in each stage (seconds): p50 and p90 over the applications that entered it and left."""
    times: dict[str, list[float]] = {s: [] for s in STAGES}
    for row in rows:
        for state, seconds in stay_times(row):
            if state in times:
                times[state].append(seconds)
    out = []
    for stage in STAGES:
        values = times[stage]
        q = _quantiles(values)
        out.append({"stage": stage, **suppress.count(len(values)), "p50_s": q["p50"], "p90_s": q["p90"]})
    return out


# -- invites --------------------------------------------------------------------------------------
def invites(rows: Iterable[Row]) -> dict[str, Any]:
    """Of the invited: how many opened the link, started and completed the interview, and the rates."""
    invited = opened = started = completed = 0
    for row in rows:
        if not _did(row, "invite"):
            continue
        invited += 1
        opened += _did(row, "open")
        started += _did(row, "start_interview")
        completed += _did(row, "end_interview")
    return {
        "invited": suppress.count(invited),
        "opened": suppress.count(opened),
        "started": suppress.count(started),
        "completed": suppress.count(completed),
        "open_rate": suppress.rate(opened, invited),
        "start_rate": suppress.rate(started, invited),
        "completion_rate": suppress.rate(completed, invited),
    }
