"""HTTP Range requests (RFC 9110, section 14) over bytes held in memory: one range, or the whole."""

from __future__ import annotations

import re

_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


class RangeNotSatisfiable(ValueError):
    """416: no byte of the range is in the representation."""


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The ``(first, last)`` byte positions (inclusive) a ``Range`` header asks for; None: send it whole.

    One range only (a multi-range or unparsable header is ignored, as the RFC
    allows: the whole representation is sent); a suffix ``bytes=-500`` is the
    last 500 bytes; a last position past the end is clamped.
    """
    if not header:
        return None
    m = _RANGE.match(header)
    if m is None:
        return None
    first, last = m.group(1), m.group(2)
    if first == "" and last == "":
        return None
    if first == "":  # suffix
        n = int(last)
        if n == 0 or size == 0:
            raise RangeNotSatisfiable(header)
        return max(0, size - n), size - 1
    start = int(first)
    end = int(last) if last != "" else size - 1
    if last != "" and end < start:
        return None  # invalid: ignored
    if start >= size:
        raise RangeNotSatisfiable(header)
    return start, min(end, size - 1)
