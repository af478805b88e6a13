"""Date ranges in resume text, and the years of experience they add up to.

Pure functions over text: :func:`find_ranges` finds every date range a
Chinese or English resume writes (``2019.07-至今``, ``2019/07 – 2022/03``,
``2019年7月 - 2022年3月``, ``2019-07 ~ 2021-12``, ``Jul 2019 – Present``,
``July 2019 - Mar 2022``, ``07/2019 - 03/2022``, ``2019 - 2021``, ``2019/7 -- 2021/3``,
and open ones: ``Since 2020``, ``2019年7月起``) with its
character span, and :func:`union_months` adds up intervals once each, so
overlapping jobs are not counted twice. "至今", "现在", "Present", "Now" mean
``today``, which callers pass in (tests fix it).

A month is an integer ``year * 12 + (month - 1)``; an interval runs from its
start month to its end month (``2019.07-2022.03`` is 32 months). A year
without a month starts in January and ends in January (``2019 - 2021`` is 24
months).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

# Offsets stay valid: normalize() maps one character to one character.
_FULLWIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
_DASHES = {ord(c): "-" for c in "‐‑‒–—―−﹣－～~〜"}  # every dash and tilde reads as a range separator
_SPACES = {ord(c): " " for c in "\u3000\u00a0\u2002\u2003\u2009\u202f"}
_TABLE = {**_FULLWIDTH, **_SPACES, **_DASHES}


def normalize(text: str) -> str:
    """Full-width ASCII to ASCII, odd spaces to spaces, dashes and tildes to ``-``; same length."""
    out = text.translate(_TABLE)
    assert len(out) == len(text)
    return out


MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}

_YEAR = r"(?:19[5-9]\d|20[0-4]\d)"
_MON = r"(?:0?[1-9]|1[0-2])"
_EN_MON = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
# One date: year + month in any of the usual ways, an English month, MM/YYYY, or a year alone.
_DATE = (
    rf"(?:(?P<{{p}}y1>{_YEAR})\s*(?:[./-]|年)\s*(?P<{{p}}m1>{_MON})(?!\d)(?:\s*月)?"
    rf"|(?P<{{p}}mn>{_EN_MON})\s*[,-]?\s*(?P<{{p}}y2>{_YEAR})"  # "Jul 2019", "July, 2019", "Jul-2019"
    rf"|(?P<{{p}}m3>{_MON})\s*[/.]\s*(?P<{{p}}y3>{_YEAR})"
    rf"|(?P<{{p}}y4>{_YEAR})(?:\s*年)?)"
)
_PRESENT = r"(?:至今|迄今|现在|目前|今|present|now|current(?:ly)?|today|to date|till now|date)"
_SEP = r"(?:-+|至|到|to|until|till)"  # "2019/7 -- 2021/3" (51job) has two hyphens
RANGE_RE = re.compile(
    rf"(?<![\d.])(?P<start>{_DATE.format(p='s')})\s*(?:起\s*)?(?:"
    rf"(?:{_SEP}\s*)?(?P<present>{_PRESENT})(?![a-z])"
    rf"|{_SEP}\s*(?P<end>{_DATE.format(p='e')})(?![\d])"
    rf")",
    re.IGNORECASE,
)
# An open range written from its start only: "Since 2020", "since Mar 2021", "2019年7月起", "2019.07起至今" is RANGE_RE's.
SINCE_RE = re.compile(
    rf"(?<![a-z])(?:since|from)\s+(?P<start>{_DATE.format(p='s')})(?![\d])(?!\s*(?:-|至|到|to\b|until\b|till\b))"
    rf"|(?<![\d.])(?P<start2>{_DATE.format(p='t')})\s*(?:起|以来)(?!\s*(?:-|至|到))",
    re.IGNORECASE,
)
# A single date, e.g. a graduation date ("2018.06", "June 2018", "2018年6月毕业").
DATE_RE = re.compile(rf"(?<![\d.])(?P<date>{_DATE.format(p='s')})(?![\d])", re.IGNORECASE)


@dataclass(frozen=True)
class DateRange:
    """``start``/``end`` as months (``year * 12 + month - 1``); ``end`` is today's month when ``present``."""

    start: int
    end: int
    present: bool
    start_pos: int
    end_pos: int
    month_known: bool  # False for "2019 - 2021"

    @property
    def months(self) -> int:
        return max(0, self.end - self.start)

    @property
    def end_year(self) -> int:
        return self.end // 12


def month_index(year: int, month: int) -> int:
    return year * 12 + month - 1


def _month(m: re.Match[str], p: str) -> tuple[int | None, bool]:
    """(month index, whether a month was written) of the date with group prefix ``p``."""
    g = m.groupdict()
    if g.get(f"{p}y1"):
        return month_index(int(g[f"{p}y1"]), int(g[f"{p}m1"])), True
    if g.get(f"{p}y2"):
        return month_index(int(g[f"{p}y2"]), MONTHS[g[f"{p}mn"][:3].lower()]), True
    if g.get(f"{p}y3"):
        return month_index(int(g[f"{p}y3"]), int(g[f"{p}m3"])), True
    if g.get(f"{p}y4"):
        return month_index(int(g[f"{p}y4"]), 1), False
    return None, False


def find_ranges(text: str, today: dt.date, *, max_future_years: int = 0) -> list[DateRange]:
    """Every date range in ``text`` (already :func:`normalize` d or not), in order.

    A range that ends before it starts, or ends more than ``max_future_years``
    after ``today`` (education may end in the future: pass a few years), is
    not a range and is left out.
    """
    text = normalize(text)
    now = month_index(today.year, today.month)
    out: list[DateRange] = []
    for m in RANGE_RE.finditer(text):
        start, start_known = _month(m, "s")
        if start is None:
            continue
        if m.group("present"):
            end, end_known, present = now, True, True
        else:
            end, end_known = _month(m, "e")
            present = False
            if end is None:
                continue
        if end < start or start > now + 12 * max_future_years or end > now + 12 * max_future_years:
            continue
        out.append(DateRange(start, end, present, m.start(), m.end(), start_known and end_known))
    for m in SINCE_RE.finditer(text):
        if any(r.start_pos < m.end() and m.start() < r.end_pos for r in out):
            continue
        start, start_known = _month(m, "s") if m.group("start") else _month(m, "t")
        if start is None or start > now:
            continue
        out.append(DateRange(start, now, True, m.start(), m.end(), start_known))
    out.sort(key=lambda r: r.start_pos)
    return out


def find_dates(text: str) -> list[tuple[int, int, int]]:
    """Every single date in ``text``: (month index, start, end)."""
    text = normalize(text)
    out = []
    for m in DATE_RE.finditer(text):
        month, _ = _month(m, "s")
        if month is not None:
            out.append((month, m.start(), m.end()))
    return out


def union_months(intervals: list[tuple[int, int]]) -> int:
    """The months covered by the union of ``[start, end)`` intervals (overlaps counted once)."""
    total = 0
    cur_start = cur_end = None
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if cur_end is None or start > cur_end:
            if cur_end is not None:
                total += cur_end - cur_start
            cur_start, cur_end = start, end
        else:
            cur_end = max(cur_end, end)
    if cur_end is not None:
        total += cur_end - cur_start
    return total


def years(intervals: list[tuple[int, int]]) -> float:
    """The union of the intervals in years, to one decimal."""
    return round(union_months(intervals) / 12, 1)
