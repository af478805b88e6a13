"""Selection rates, scoring rates and impact ratios per category and intersection (pure, synchronous).

The definitions are NYC Local Law 144's (DCWP rules, 6 RCNY 5-300 and 5-301):

* selection rate: the share of a category's applicants who were selected to
  move forward at a decision point (selected / applicants);
* scoring rate: the share of a category's applicants whose score is above the
  median score of the whole sample (every applicant scored at that point,
  unknown category included);
* impact ratio: a category's selection (or scoring) rate divided by the rate of
  the most selected (highest scoring) category;
* a category under 2 % of the data used (``min_share``) may be left out of the
  impact ratios: it is still listed, with its applicants and rate, and marked
  ``excluded``;
* applicants of unknown category (no answer, "prefer not to say") are never a
  group of their own and never in a ratio, but always counted.

A ratio under ``threshold`` (0.8: the EEOC's four-fifths rule, 29 CFR
1607.4(D)) is flagged. The numbers are descriptive: a flag is a reason to look
closer, not a finding of discrimination, and small groups swing widely.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from itertools import product
from typing import Any, Iterable, Mapping, Sequence

from .categories import CHOICES, LABELS, UNKNOWN, known, label

MIN_SHARE = 0.02
FOUR_FIFTHS = 0.8

# decision point -> what "selected" means there
DECISION_POINTS: Mapping[str, str] = {
    "screening": "Screening advance 简历筛选通过",
    "interview": "Interview advance 面试建议进入下一轮",
    "hr": "HR advance 人工决定进入下一轮",
}
SCORES: Mapping[str, str] = {
    "screening_score": "Screening match score 简历匹配分",
    "interview_score": "Interview score 面试总分",
}


@dataclass(frozen=True)
class Applicant:
    """One application: its self-identified categories (None: unknown), what happened at each point, its scores."""

    id: str
    groups: Mapping[str, str | None]  # "sex" -> "female", "age_band" -> None (unknown)
    selected: Mapping[str, bool | None] = field(default_factory=dict)  # decision point -> advanced (None: not reached)
    scores: Mapping[str, float | None] = field(default_factory=dict)  # score name -> value (None: not scored)


@dataclass(frozen=True)
class GroupRate:
    group: str
    label: str
    applicants: int
    selected: int  # selected, or scored above the median
    rate: float | None
    impact_ratio: float | None  # None: excluded, or no group was selected at all
    excluded: bool  # under min_share of the data: left out of the impact ratios
    flagged: bool  # impact ratio under the threshold

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.group, "label": self.label, "applicants": self.applicants, "selected": self.selected,
            "rate": self.rate, "impact_ratio": self.impact_ratio, "excluded": self.excluded, "flagged": self.flagged,
        }


@dataclass(frozen=True)
class Table:
    """One category (or intersection) at one decision point or score."""

    category: str  # "sex", "age_band", "sex*age_band"
    label: str
    applicants: int  # everyone at this point, unknown included
    unknown: int
    excluded_applicants: int
    reference: str | None  # the most selected (highest scoring) group the ratios are taken against
    groups: tuple[GroupRate, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "category": self.category, "label": self.label, "applicants": self.applicants, "unknown": self.unknown,
            "excluded": {"groups": sum(1 for g in self.groups if g.excluded), "applicants": self.excluded_applicants},
            "reference": self.reference, "groups": [g.to_dict() for g in self.groups],
        }


@dataclass(frozen=True)
class Measure:
    """A decision point (selection rates) or a score (scoring rates), with a table per category."""

    id: str
    kind: str  # "selection" | "scoring"
    label: str
    applicants: int
    selected: int
    median: float | None  # scoring: the sample's median score
    tables: tuple[Table, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "kind": self.kind, "label": self.label, "applicants": self.applicants,
            "selected": self.selected, "median": self.median, "tables": [t.to_dict() for t in self.tables],
        }


@dataclass(frozen=True)
class BiasAudit:
    applicants: int
    unknown: Mapping[str, int]  # category -> applicants of unknown category, over everyone in the audit
    categories: tuple[str, ...]
    min_share: float
    threshold: float
    measures: tuple[Measure, ...]

    def flags(self) -> list[dict[str, Any]]:
        return [
            {"measure": m.id, "category": t.category, "group": g.group, "label": g.label, "impact_ratio": g.impact_ratio}
            for m in self.measures for t in m.tables for g in t.groups if g.flagged
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "applicants": self.applicants,
            "unknown": dict(self.unknown),
            "categories": list(self.categories),
            "min_share": self.min_share,
            "threshold": self.threshold,
            "decision_points": [m.to_dict() for m in self.measures if m.kind == "selection"],
            "scores": [m.to_dict() for m in self.measures if m.kind == "scoring"],
            "flags": self.flags(),
        }

    def csv_rows(self) -> list[list[Any]]:
        """One row per group (and one for the unknown count) of every table: the LL144 summary as a sheet."""
        rows: list[list[Any]] = [list(CSV_COLUMNS)]
        for m in self.measures:
            for t in m.tables:
                for g in t.groups:
                    rows.append([m.id, m.kind, m.median, t.category, g.group, g.label, g.applicants, g.selected,
                                 g.rate, g.impact_ratio, g.excluded, g.flagged])
                rows.append([m.id, m.kind, m.median, t.category, UNKNOWN, "Unknown 未知", t.unknown, None, None, None,
                             True, False])
        return rows


CSV_COLUMNS = ("measure", "kind", "median", "category", "group", "label", "applicants", "selected", "rate",
               "impact_ratio", "excluded", "flagged")


def _group_of(applicant: Applicant, category: str) -> str | None:
    parts = category.split("*")
    values = [known(p, applicant.groups.get(p)) for p in parts]
    if any(v is None for v in values):
        return None
    return "*".join(values)  # type: ignore[arg-type]


def _order(category: str) -> list[str]:
    parts = category.split("*")
    return ["*".join(combo) for combo in product(*(CHOICES[p] for p in parts))]


def _table(category: str, members: Sequence[tuple[Applicant, bool]], min_share: float, threshold: float) -> Table:
    total = len(members)
    counts: dict[str, list[int]] = {}
    unknown = 0
    for applicant, hit in members:
        group = _group_of(applicant, category)
        if group is None:
            unknown += 1
            continue
        c = counts.setdefault(group, [0, 0])
        c[0] += 1
        c[1] += int(hit)
    excluded = {g for g, (n, _) in counts.items() if total and n / total < min_share}
    rates = {g: s / n for g, (n, s) in counts.items()}
    included = {g: r for g, r in rates.items() if g not in excluded}
    best = max(included.values(), default=0.0)
    reference = None
    if best > 0:
        reference = next(g for g in _order(category) if included.get(g) == best)
    groups = []
    for g in _order(category):
        if g not in counts:
            continue
        n, s = counts[g]
        ratio = None if g in excluded or best <= 0 else rates[g] / best
        groups.append(GroupRate(g, label(category, g), n, s, rates[g], ratio, g in excluded,
                                ratio is not None and ratio < threshold))
    cat_label = LABELS["category"].get(category) or " × ".join(LABELS["category"].get(p, p) for p in category.split("*"))
    return Table(category, cat_label, total, unknown, sum(counts[g][0] for g in excluded), reference, tuple(groups))


def audit(
    applicants: Iterable[Applicant],
    *,
    categories: Sequence[str] = ("sex", "age_band"),
    intersections: Sequence[Sequence[str]] = (("sex", "age_band"),),
    min_share: float = MIN_SHARE,
    threshold: float = FOUR_FIFTHS,
) -> BiasAudit:
    """The audit over ``applicants``: every decision point and score, per category and intersection."""
    people = list(applicants)
    names = [*categories, *("*".join(i) for i in intersections)]
    measures: list[Measure] = []
    for point, point_label in DECISION_POINTS.items():
        members = [(a, bool(a.selected[point])) for a in people if a.selected.get(point) is not None]
        measures.append(Measure(point, "selection", point_label, len(members), sum(h for _, h in members), None,
                                tuple(_table(c, members, min_share, threshold) for c in names)))
    for score, score_label in SCORES.items():
        scored = [(a, float(a.scores[score])) for a in people if a.scores.get(score) is not None]  # type: ignore[arg-type]
        median = statistics.median(v for _, v in scored) if scored else None
        members = [(a, v > median) for a, v in scored] if median is not None else []
        measures.append(Measure(score, "scoring", score_label, len(members), sum(h for _, h in members), median,
                                tuple(_table(c, members, min_share, threshold) for c in names)))
    unknown = {c: sum(1 for a in people if known(c, a.groups.get(c)) is None) for c in categories}
    return BiasAudit(len(people), unknown, tuple(categories), min_share, threshold, tuple(measures))
