"""The retry schedule of a delivery: a pure core, no I/O, no clock of its own.

After each attempt :func:`next_step` says what becomes of the delivery:
``delivered``, ``pending`` again at a later time, ``failed`` (the sink
refused it: a 4xx other than 408 and 429, or a redirect; retrying will not
help) or ``dead`` (still failing at the end of the horizon).

The delay before attempt n+1 is "full jitter" (uniform between 0 and
``min(cap, base * 2**(n-1))``), never shorter than what the sink asked for
with ``Retry-After``. The last retry falls at the horizon itself, so a sink
that comes back just before it still gets the message.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"
DEAD = "dead"
STATES = (PENDING, DELIVERED, FAILED, DEAD)


@dataclass(frozen=True)
class Backoff:
    base_s: float = 1.0
    cap_s: float = 300.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Full jitter before the retry that follows attempt ``attempt`` (1-based)."""
        ceiling = min(self.cap_s, self.base_s * 2 ** min(max(attempt - 1, 0), 62))
        return rng.uniform(0.0, ceiling)


def retryable(status: int | None) -> bool:
    """No status (connection error, time-out), 408, 429 and 5xx are retried."""
    return status is None or status in (408, 429) or status >= 500


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """``Retry-After`` as seconds from ``now``: delta-seconds or an HTTP-date."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - now).total_seconds())


@dataclass(frozen=True)
class Step:
    state: str
    next_attempt_at: datetime | None = None


def next_step(
    *,
    status: int | None,
    retry_after: str | None,
    attempt: int,
    now: datetime,
    expires_at: datetime,
    backoff: Backoff,
    rng: random.Random,
) -> Step:
    """What follows attempt ``attempt`` that got ``status`` (None: no answer)."""
    if status is not None and 200 <= status < 300:
        return Step(DELIVERED)
    if not retryable(status):
        return Step(FAILED)
    if now >= expires_at:
        return Step(DEAD)
    delay = backoff.delay(attempt, rng)
    asked = parse_retry_after(retry_after, now) if status in (429, 503) else None
    if asked is not None:
        if now + timedelta(seconds=asked) > expires_at:
            return Step(DEAD)  # the sink asked us to wait past the horizon
        return Step(PENDING, min(now + timedelta(seconds=max(delay, asked)), expires_at))
    return Step(PENDING, min(now + timedelta(seconds=delay), expires_at))
