"""Recruiting analytics: the dashboard's figures over plain rows (no database here).

:mod:`analytics.rows` is what one application brings (its job, source,
scores, timeline and later outcomes); :mod:`analytics.figures` makes the
funnel, histograms, per-question spreads, sources, time in stage and invite
rates; :mod:`analytics.validity` the rank correlations of the scores with the
later outcomes; :mod:`analytics.suppress` the rule that no group of 1-4
people is ever shown by its number. :mod:`analytics.tables` writes any figure as
CSV. docs/analytics.md says what each figure means.
"""

from .figures import funnel, histograms, invites, questions, sources, stages
from .rows import Cost, Outcome, Row
from .suppress import MIN_GROUP
from .validity import spearman, validity

__all__ = [
    "Cost",
    "MIN_GROUP",
    "Outcome",
    "Row",
    "funnel",
    "histograms",
    "invites",
    "questions",
    "sources",
    "spearman",
    "stages",
    "validity",
]
