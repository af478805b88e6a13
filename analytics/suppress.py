"""Small groups are never shown by their number.

Any group of 1-4 people (a histogram bin, a source, a funnel stage, a job)
is shown as ``null`` with ``"suppressed": true``; so is every figure made
from such a group (a rate whose numerator or denominator is 1-4, a mean or
a quantile over 1-4 scores, a correlation over fewer than 5 pairs). Zero is
shown: an empty group tells nothing about a person.
"""

from __future__ import annotations

from typing import Any

MIN_GROUP = 5


def small(n: int | None) -> bool:
    """True when ``n`` people are too few to show (1-4)."""
    return n is not None and 0 < n < MIN_GROUP


def count(n: int) -> dict[str, Any]:
    """``{"n": n}``, or ``{"n": None, "suppressed": True}`` for 1-4."""
    return {"n": None, "suppressed": True} if small(n) else {"n": n}


def rate(numerator: int, denominator: int) -> float | None:
    """numerator / denominator, rounded to 4 places; None when either is 1-4 or the denominator is 0."""
    if denominator == 0 or small(numerator) or small(denominator):
        return None
    return round(numerator / denominator, 4)


def value(n: int, figure: float | None) -> float | None:
    """A figure made from ``n`` people: None when they are 1-4."""
    return None if small(n) or figure is None else figure
