"""The self-identification categories a candidate may choose from, and how unknown answers are counted.

Sex and age band are asked everywhere; ethnicity only where the deployment's
policy profile allows it (``server/policy.py``: ``Policy.ethnicity_self_id``).
Every question is optional: "prefer not to say" (:data:`DECLINED`) and no answer
at all both count as *unknown* in the audit (never a group of their own, never
in an impact ratio, always counted: 6 RCNY 5-301(b)).
"""

from __future__ import annotations

from typing import Mapping

DECLINED = "prefer_not_to_say"
UNKNOWN = "unknown"

SEX = ("female", "male", "another")
AGE_BANDS = ("under_25", "25_34", "35_44", "45_54", "55_plus")
# The EEO-1 race/ethnicity categories that LL144 audits use (6 RCNY 5-301 refers to the EEO-1 Component 1 report).
ETHNICITY = (
    "hispanic_or_latino",
    "white",
    "black_or_african_american",
    "native_hawaiian_or_pacific_islander",
    "asian",
    "american_indian_or_alaska_native",
    "two_or_more_races",
)

CHOICES: Mapping[str, tuple[str, ...]] = {"sex": SEX, "age_band": AGE_BANDS, "ethnicity": ETHNICITY}

LABELS: Mapping[str, Mapping[str, str]] = {
    "sex": {"female": "Female 女", "male": "Male 男", "another": "Another 其他"},
    "age_band": {"under_25": "Under 25", "25_34": "25-34", "35_44": "35-44", "45_54": "45-54", "55_plus": "55+"},
    "ethnicity": {
        "hispanic_or_latino": "Hispanic or Latino",
        "white": "White",
        "black_or_african_american": "Black or African American",
        "native_hawaiian_or_pacific_islander": "Native Hawaiian or Other Pacific Islander",
        "asian": "Asian",
        "american_indian_or_alaska_native": "American Indian or Alaska Native",
        "two_or_more_races": "Two or More Races",
    },
    "category": {"sex": "Sex 性别", "age_band": "Age band 年龄段", "ethnicity": "Race/ethnicity 族裔"},
}


def known(category: str, value: str | None) -> str | None:
    """The value if it is one of the category's groups; None for unknown (no answer, declined, or not a choice)."""
    return value if value in CHOICES.get(category, ()) else None


def label(category: str, group: str) -> str:
    """A group's display name; an intersection's parts joined with " × "."""
    if category in LABELS:
        return LABELS[category].get(group, group)
    parts = category.split("*")
    values = group.split("*")
    if len(parts) == len(values):
        return " × ".join(LABELS.get(c, {}).get(v, v) for c, v in zip(parts, values))
    return group
