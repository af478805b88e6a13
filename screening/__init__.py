"""Screening applications against a job: explained job-match scores (see match.py)."""

from .match import (
    SCREENING_VERSION,
    Evidence,
    Item,
    Qualifications,
    Row,
    Screener,
    ScreeningResult,
    SkillThresholds,
    decide,
    word_coverage,
)

__all__ = [
    "SCREENING_VERSION",
    "Evidence",
    "Item",
    "Qualifications",
    "Row",
    "Screener",
    "ScreeningResult",
    "SkillThresholds",
    "decide",
    "word_coverage",
]
