"""Admission control: refuse a new session's media when the machine is full.

A session that is already live (a reconnect, a second connection) is always
let back in: it holds its resources already. A new one is refused, with 503
and ``Retry-After``, when any of these holds:

* the live sessions reach the capacity (``max_live_sessions``, or
  ``sessions_per_core`` x CPU cores when that is 0: the capacity the load
  benchmark measured, see benchmarks/README.md);
* the event loop's p99 lag over the last 10 s is over ``admission_loop_lag_s``
  (the loop serves every session's media and events: once it lags, adding a
  session makes everyone late), counting only a lag that at least
  ``admission_loop_lag_samples`` wakes reached: one stall, which any caller
  might cause, does not refuse everyone for the next 10 s (issue 12);
* the largest audio backlog of any session is over ``admission_backlog_s``
  (an analyzer has fallen behind real time).

:class:`LoopLagMonitor` measures the loop's lag: it sleeps a fixed interval
and records how much later than asked it woke up.
"""

from __future__ import annotations

import asyncio
import collections
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from .context import Context


class LoopLagMonitor:
    """Samples event-loop lag every ``interval_s``; keeps the last ``window_s``."""

    def __init__(
        self, *, interval_s: float = 0.1, window_s: float = 10.0, observe: Callable[[float], None] | None = None
    ) -> None:
        self.interval_s = interval_s
        self._samples: collections.deque[tuple[float, float]] = collections.deque()
        self._window_s = window_s
        self._observe = observe
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="loop-lag")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    def add(self, at: float, lag: float) -> None:
        self._samples.append((at, lag))
        while self._samples and self._samples[0][0] < at - self._window_s:
            self._samples.popleft()
        if self._observe is not None:
            self._observe(lag)

    def p99(self, since: float | None = None, *, sustained: int = 1) -> float:
        """p99 lag over the window (0 with no samples); only samples after ``since`` (perf_counter) if given.

        With ``sustained`` = n, a lag counts only when at least n samples reached it: one stall (a
        single late wake, whoever caused it) is not an overloaded loop, which lags wake after wake.
        """
        lags = sorted(lag for at, lag in self._samples if since is None or at >= since)
        if not lags:
            return 0.0
        index = min(len(lags) - 1, int(0.99 * len(lags)), max(0, len(lags) - sustained))
        return lags[index]

    async def _run(self) -> None:
        while True:
            asked = time.perf_counter()
            await asyncio.sleep(self.interval_s)
            woke = time.perf_counter()
            self.add(woke, max(0.0, woke - asked - self.interval_s))


@dataclass(frozen=True)
class Load:
    live_sessions: int
    loop_lag_p99_s: float
    audio_backlog_s: float


@dataclass(frozen=True)
class Refusal:
    reason: str
    retry_after_s: int


class Admission:
    def __init__(
        self,
        *,
        max_live_sessions: int = 0,
        sessions_per_core: float = 2.0,
        loop_lag_s: float = 0.1,
        backlog_s: float = 2.0,
        retry_after_s: int = 30,
        cpu_count: int | None = None,
    ) -> None:
        cores = cpu_count if cpu_count is not None else (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
        self.capacity = max_live_sessions or max(1, int(sessions_per_core * cores))
        self.loop_lag_s = loop_lag_s
        self.backlog_s = backlog_s
        self.retry_after_s = retry_after_s
        # Drained for a release (POST /v1/ops/drain): no new session; the live ones finish.
        self.draining = False

    def check(self, load: Load) -> Refusal | None:
        """None when a new session may start, else why not."""
        if self.draining:
            return Refusal("this server is draining for a release", self.retry_after_s)
        if load.live_sessions >= self.capacity:
            return Refusal(f"this server is at its capacity of {self.capacity} live interviews", self.retry_after_s)
        if load.loop_lag_p99_s > self.loop_lag_s:
            return Refusal(
                f"this server is overloaded (event loop p99 lag {load.loop_lag_p99_s * 1000:.0f} ms)", self.retry_after_s
            )
        if load.audio_backlog_s > self.backlog_s:
            return Refusal(
                f"this server is overloaded (analysis {load.audio_backlog_s:.1f} s behind real time)", self.retry_after_s
            )
        return None


def current_load(ctx: "Context") -> Load:
    """This node's load now, as admission judges it (the WHIP route and the node's heartbeat)."""
    return Load(
        live_sessions=ctx.sessions.live_count(),
        # the model loading's start-up stalls do not count against the first candidates
        loop_lag_p99_s=ctx.loop_lag.p99(since=ctx.models.ready_at, sustained=ctx.settings.admission_loop_lag_samples),
        audio_backlog_s=ctx.sessions.audio_backlog_s(),
    )


def node_load(ctx: "Context") -> dict:
    """This node's load as it tells others (cluster/node.py NodeInfo, ``GET /v1/ops/nodes``): live, capacity,
    whether it would take a new session now, draining."""
    return {
        "live": ctx.sessions.live_count(),
        "capacity": ctx.admission.capacity,
        "accepting": ctx.models.ready.is_set() and ctx.admission.check(current_load(ctx)) is None,
        "draining": ctx.admission.draining,
    }
