"""How many failed sign-ins and code exchanges a key may have: in this process, or shared by every node.

A key is a tuple such as ``("hr-login", "account", "alice")`` or ``("exchange",
"address", "1.2.3.4")``; at most ``limit`` failures per key in a sliding
``window_s``, then ``Retry-After`` until the oldest of them leaves the window.

* :class:`FailureLimit` is the pure core, on a given clock: one box.
* :class:`LocalFailures` is the routes' async interface (:class:`Failures`) over it.
* :class:`SharedFailures` keeps the count in Redis (issue 13): with several nodes
  behind a load balancer, spreading guesses over the nodes must not give N times
  the attempts, nor reset the count. One sorted set per key, scored by Redis's own
  clock (``TIME``, the same for every node); the key is an HMAC of the tuple under
  ``CANDOR_SECRET_KEY``, so logins and addresses never reach Redis in the clear.
"""

from __future__ import annotations

import collections
import hashlib
import hmac
import logging
import secrets
import time
from typing import Callable, Hashable, Iterable, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


class FailureLimit:
    """At most ``limit`` failures per key in ``window_s``; pure, on the given clock."""

    def __init__(self, limit: int = 10, window_s: float = 900.0, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._max_keys = max_keys
        self._failures: dict[Hashable, collections.deque[float]] = {}

    def _recent(self, key: Hashable, now: float) -> collections.deque[float] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.window_s:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times

    def retry_after(self, keys: Iterable[Hashable]) -> int | None:
        """Seconds until the most limited key may fail again; None when none is at its limit."""
        now = self._clock()
        waits = []
        for key in keys:
            times = self._recent(key, now)
            if times is not None and len(times) >= self.limit:
                waits.append(times[len(times) - self.limit] + self.window_s - now)
        return max(1, int(max(waits)) + 1) if waits else None

    def failed(self, keys: Iterable[Hashable]) -> int:
        """Count a failure against each key; the most failures any of them has now."""
        now = self._clock()
        if len(self._failures) >= self._max_keys:
            for key in list(self._failures)[: self._max_keys // 10]:
                self._recent(key, now)
        most = 0
        for key in keys:
            times = self._recent(key, now)
            if times is None:
                times = self._failures[key] = collections.deque(maxlen=self.limit * 2)
            times.append(now)
            most = max(most, len(times))
        return most


class Failures(Protocol):
    """What the sign-in and exchange routes ask: may these keys try, and count a failure against them."""

    limit: int

    async def retry_after(self, keys: Iterable[Hashable]) -> int | None:
        """Seconds until the most limited key may fail again; None when none is at its limit."""

    async def failed(self, keys: Iterable[Hashable]) -> int:
        """Count a failure against each key; the most failures any of them has now."""


class LocalFailures:
    """This process's own count (one box): :class:`FailureLimit` behind the async interface."""

    def __init__(self, core: FailureLimit) -> None:
        self.core = core
        self.limit = core.limit

    async def retry_after(self, keys: Iterable[Hashable]) -> int | None:
        return self.core.retry_after(keys)

    async def failed(self, keys: Iterable[Hashable]) -> int:
        return self.core.failed(keys)


# Both scripts: KEYS are the digested keys; ARGV[1] the window in microseconds, ARGV[2] the limit.
# Times are Redis's TIME in microseconds (exact in a double until the year 2255).
_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
"""
# Microseconds until the most limited key may fail again (its limit-th newest failure leaves the window), or -1.
_RETRY_AFTER = _NOW + """
local wait = -1
for _, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local n = redis.call('ZCARD', key)
  if n >= limit then
    local oldest = redis.call('ZRANGE', key, n - limit, n - limit, 'WITHSCORES')
    local w = tonumber(oldest[2]) + window - now
    if w > wait then wait = w end
  end
end
return wait
"""
# Add this failure (ARGV[3]: a member unique to the call) to each key, keep at most 2 x limit of the newest
# (as the in-process deque does), let the key expire with the window; the most failures any key has now.
_FAILED = _NOW + """
local most = 0
for _, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  redis.call('ZADD', key, now, ARGV[3])
  local n = redis.call('ZCARD', key)
  if n > 2 * limit then
    redis.call('ZREMRANGEBYRANK', key, 0, n - 2 * limit - 1)
    n = 2 * limit
  end
  redis.call('PEXPIRE', key, math.ceil(window / 1000))
  if n > most then most = n end
end
return most
"""


class SharedFailures:
    """The count every node shares, in Redis; this process's own count when Redis cannot be reached.

    Redis down fails *open* to the process's limit rather than closed: a sign-in page that refuses everyone
    while Redis blips is an outage for every HR user and candidate, whereas an attacker gains at most the
    per-node limit on each node for as long as Redis is away, and the error is logged for the operators.
    Every failure is counted here as well as in Redis, so the fallback starts from this node's recent failures.
    """

    def __init__(
        self, redis: Redis, secret_key: str, limit: int = 10, window_s: float = 900.0, *,
        prefix: str = "candor:", local: FailureLimit | None = None,
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self.local = local or FailureLimit(limit, window_s)
        self.prefix = prefix
        self.redis_down = False
        # A key of its own, derived from CANDOR_SECRET_KEY: the digests are useless for anything else.
        self._digest_key = hmac.new(secret_key.encode(), b"candor failure limit", hashlib.sha256).digest()
        self._retry_after = redis.register_script(_RETRY_AFTER)
        self._failed = redis.register_script(_FAILED)

    def redis_key(self, key: Hashable) -> str:
        """Where a key's failures are in Redis: a keyed digest of it, never the login or address itself."""
        digest = hmac.new(self._digest_key, repr(key).encode(), hashlib.sha256).hexdigest()[:32]
        return f"{self.prefix}fail:{digest}"

    def _args(self) -> list[int]:
        return [int(self.window_s * 1_000_000), self.limit]

    async def retry_after(self, keys: Iterable[Hashable]) -> int | None:
        keys = list(keys)
        try:
            wait_us = int(await self._retry_after(keys=[self.redis_key(k) for k in keys], args=self._args()))
        except RedisError as error:
            self._down(error)
            return self.local.retry_after(keys)
        self._up()
        return max(1, wait_us // 1_000_000 + 1) if wait_us >= 0 else None

    async def failed(self, keys: Iterable[Hashable]) -> int:
        keys = list(keys)
        most_here = self.local.failed(keys)
        try:
            most = int(await self._failed(keys=[self.redis_key(k) for k in keys], args=[*self._args(), secrets.token_hex(8)]))
        except RedisError as error:
            self._down(error)
            return most_here
        self._up()
        return most

    def _down(self, error: RedisError) -> None:
        """Log once per outage (the keys are never logged: they hold logins and addresses)."""
        if not self.redis_down:
            log.error("failure limit: Redis unreachable (%s); each node counts on its own until it is back", type(error).__name__)
        self.redis_down = True

    def _up(self) -> None:
        if self.redis_down:
            log.warning("failure limit: Redis reachable again; the count is shared by every node")
        self.redis_down = False
