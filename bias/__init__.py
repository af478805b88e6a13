"""Bias audit: selection and scoring rates and impact ratios by self-identified group (NYC LL144 form).

Pure and synchronous: :func:`audit` takes plain :class:`Applicant` rows (their
self-identified categories, whether they advanced at each decision point,
their scores) and returns a :class:`BiasAudit`; :mod:`bias.html` renders it as
a page; :mod:`bias.counterfactual` checks that the scores do not move when only
the voice, the name, the sex or the age changes (``python -m bias counterfactual``).
Self-identification is stored apart (``db/selfid.py``) and is never an input to
any score. docs/bias.md says what is measured and how to read it.
"""

from .audit import (
    CSV_COLUMNS,
    DECISION_POINTS,
    FOUR_FIFTHS,
    MIN_SHARE,
    SCORES,
    Applicant,
    BiasAudit,
    GroupRate,
    Measure,
    Table,
    audit,
)
from .categories import AGE_BANDS, CHOICES, DECLINED, ETHNICITY, SEX, UNKNOWN, known

__all__ = [
    "AGE_BANDS",
    "Applicant",
    "BiasAudit",
    "CHOICES",
    "CSV_COLUMNS",
    "DECISION_POINTS",
    "DECLINED",
    "ETHNICITY",
    "FOUR_FIFTHS",
    "GroupRate",
    "MIN_SHARE",
    "Measure",
    "SCORES",
    "SEX",
    "Table",
    "UNKNOWN",
    "audit",
    "known",
]
