"""The decode scheduler: the ASR worker pool and its priority queue, shared by every session.

Sessions share the workers through a priority queue, not first come first
served: a final (the end of an utterance, what HR wait for) runs before any
partial, finals in the order they came, then speculations (a final decoded
at a pause, before the turn is known to end there: void when the speaker goes
on), then partials oldest first. A speculation whose turn did end where it
assumed is promoted to a final (:meth:`DecodeScheduler.promote`). A
partial is skipped (its caller gets ``None``) when a newer partial for the
same stream is queued behind it: nobody needs the older preview.

``partial_batch`` > 1 (a prototype, off by default): when a worker takes a
partial and other sessions' partials are queued behind it, it decodes up to
``partial_batch`` of them in one call (:meth:`DecodeScheduler.recognize_batch`,
which the runner provides), taking only utterances within
``partial_batch_span_s`` of the first one's length (a batch is padded to its
longest). Finals always run alone, with word timings.

``workers`` > 1 (with a model loaded with as many workers): that many
decodes run at once, each taking the best queued job when it is free, so a
final need not wait for a partial that is already decoding.

Partials stretch under load: the scheduler measures how busy its workers
were over the last few seconds (:meth:`DecodeScheduler.busy`), and
:meth:`DecodeScheduler.partial_interval` lengthens every session's partial
interval once that passes ``partial_busy_target``, up to the session's
most. A final is never delayed this way, and it waits
less behind partials that are already decoding.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import heapq
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from media.frames import SAMPLE_RATE
from runtime.runner import ModelRunner

from .decode import PartialRequest, Recognition

T = TypeVar("T")

FINAL = 0  # job priorities: lower runs first
SPECULATION = 1
PARTIAL = 2
BUSY_WINDOW_S = 4.0  # how far back busy() looks


class BusyMeter:
    """How much of the last ``window_s`` seconds ``workers`` threads spent decoding (0..1).

    Decodes still running count up to now, so a long final shows at once,
    not only when it ends.
    """

    def __init__(self, workers: int, *, window_s: float = BUSY_WINDOW_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.workers = max(1, workers)
        self.window_s = window_s
        self._clock = clock
        self._lock = threading.Lock()
        self._done: deque[tuple[float, float]] = deque()  # (start, end) of finished decodes
        self._running: dict[int, float] = {}  # token -> start
        self._tokens = itertools.count()

    def start(self) -> int:
        with self._lock:
            token = next(self._tokens)
            self._running[token] = self._clock()
            return token

    def stop(self, token: int) -> None:
        with self._lock:
            start = self._running.pop(token, None)
            if start is not None:
                now = self._clock()
                self._done.append((start, now))
                self._forget_before(now - self.window_s)  # bounded even when nobody asks

    def _forget_before(self, since: float) -> None:
        while self._done and self._done[0][1] <= since:
            self._done.popleft()

    def fraction(self) -> float:
        now = self._clock()
        since = now - self.window_s
        with self._lock:
            self._forget_before(since)
            busy = sum(end - max(start, since) for start, end in self._done)
            busy += sum(now - max(start, since) for start in self._running.values())
        return min(1.0, busy / (self.window_s * self.workers))


@dataclass(order=True)
class _Job:
    priority: int
    seq: int
    fn: Callable[[], Any] = field(compare=False)
    stream: Hashable = field(compare=False)
    request: PartialRequest | None = field(compare=False, default=None)
    stale: bool = field(compare=False, default=False)  # a newer partial of its stream was queued
    future: concurrent.futures.Future[Any] = field(compare=False, default_factory=concurrent.futures.Future)


class DecodeScheduler(ModelRunner):
    """Runs decodes on the runner's worker threads, finals first (see the module's docstring).

    ``call`` still runs a function directly, in executor order.
    """

    name = "asr"

    def __init__(
        self,
        *,
        partial_batch: int = 1,
        partial_batch_span_s: float = 2.0,
        partial_busy_target: float = 0.5,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.meter = BusyMeter(self.workers)
        self.partial_busy_target = partial_busy_target
        self.partial_batch = max(1, int(partial_batch))
        self.partial_batch_span_s = partial_batch_span_s
        self._jobs: list[_Job] = []  # a heap: (priority, arrival)
        self._jobs_lock = threading.Lock()
        self._seq = itertools.count()
        self._newest_partial: dict[Hashable, int] = {}  # stream -> seq of its newest queued partial
        self._closed = False
        self.skipped_partials = 0
        self.batched_partials = 0

    def recognize_batch(self, requests: Sequence[PartialRequest]) -> list[Recognition]:
        """Decode several partials in one call (blocking; on a worker thread), one result each, in order."""
        raise NotImplementedError(f"{type(self).__name__} does not batch partials")

    # -- scheduling -------------------------------------------------------
    async def final(self, fn: Callable[[], T], *, stream: Hashable) -> T:
        """Run ``fn`` (a final's decode) on the worker before any queued partial."""
        return await self._schedule(FINAL, fn, stream)

    async def speculation(self, fn: Callable[[], T], *, stream: Hashable) -> T:
        """Run ``fn`` (a final's decode at a pause) after the finals and before the partials.

        Cancelling the awaiting task takes the decode off the queue if it has not started.
        """
        return await self._schedule(SPECULATION, fn, stream)

    def promote(self, stream: Hashable) -> bool:
        """``stream``'s queued speculations run as finals from now on (their turn ended); whether one was queued."""
        with self._jobs_lock:
            found = False
            for job in self._jobs:
                if job.stream == stream and job.priority == SPECULATION:
                    job.priority = FINAL
                    found = True
            if found:
                heapq.heapify(self._jobs)
            return found

    async def partial(self, fn: Callable[[], T], *, stream: Hashable) -> T | None:
        """Run ``fn`` (a partial's decode) after the finals; ``None`` if a newer partial of ``stream`` superseded it."""
        return await self._schedule(PARTIAL, fn, stream)

    def busy(self) -> float:
        """The workers' busy fraction over the last few seconds (0..1)."""
        return self.meter.fraction()

    def partial_interval(self, base_s: float, most_s: float) -> float:
        """A session's partial interval now: ``base_s``, stretched up to ``most_s`` once the workers are busier than the target.

        At the target busy fraction the interval is ``base_s``; it grows with
        the square of the excess (twice as busy as the target: four times as
        long), up to ``most_s``. The square makes it give way quickly: a
        final that finds every worker on a partial waits for one.
        """
        if most_s <= base_s:
            return base_s
        ratio = self.busy() / max(1e-6, self.partial_busy_target)
        return base_s if ratio <= 1.0 else min(most_s, base_s * ratio * ratio)

    @property
    def queued(self) -> int:
        """Decodes waiting for the worker (all sessions)."""
        with self._jobs_lock:
            return len(self._jobs)

    async def _schedule(
        self, priority: int, fn: Callable[[], Any], stream: Hashable, request: PartialRequest | None = None
    ) -> Any:
        job = _Job(priority, next(self._seq), fn, stream, request)
        with self._jobs_lock:
            if self._closed:
                raise RuntimeError("asr runner is closed")
            heapq.heappush(self._jobs, job)
            if priority == PARTIAL:
                self._newest_partial[stream] = job.seq
            # One token per job: whichever job is best when the worker is free runs.
            self._executor.submit(self._run_next)
        started = time.perf_counter()
        try:
            return await asyncio.wrap_future(job.future)
        finally:
            if self._observe is not None:
                self._observe(self.name, time.perf_counter() - started)

    def _run_next(self) -> None:
        """Take the best queued job (and, batching, the partials behind it) and run it on the worker thread."""
        with self._jobs_lock:
            if not self._jobs:
                return
            taken = [self._take(heapq.heappop(self._jobs))]
            if self.partial_batch > 1 and taken[0].request is not None and self._jobs:
                taken += self._take_similar_partials(taken[0].request)
        jobs: list[_Job] = []
        for job in taken:
            if not job.future.set_running_or_notify_cancel():
                continue  # its caller went away
            if job.stale:
                self.skipped_partials += 1
                job.future.set_result(None)
                continue
            jobs.append(job)
        if not jobs:
            return
        token = self.meter.start()
        try:
            if len(jobs) > 1:
                self._run_partial_batch(jobs)
            else:
                self._run_job(jobs[0])
        finally:
            self.meter.stop(token)

    def _take_similar_partials(self, first: PartialRequest) -> list[_Job]:
        """Queued, current partials of about ``first``'s length, oldest first (lock held).

        A batch is padded to its longest utterance, so only utterances within
        ``partial_batch_span_s`` of the first one's length join it: mixing a
        1 s partial with a 20 s one costs more than it saves.
        """
        length = len(first.audio) / SAMPLE_RATE
        candidates = sorted(
            (
                job
                for job in self._jobs
                if job.priority == PARTIAL
                and job.request is not None
                and self._newest_partial.get(job.stream) == job.seq
                and abs(len(job.request.audio) / SAMPLE_RATE - length) <= self.partial_batch_span_s
            ),
            key=lambda job: job.seq,
        )[: self.partial_batch - 1]
        if candidates:
            chosen = {id(job) for job in candidates}
            self._jobs = [job for job in self._jobs if id(job) not in chosen]
            heapq.heapify(self._jobs)
        return [self._take(job) for job in candidates]

    def _take(self, job: _Job) -> _Job:
        """Note whether a newer partial of the job's stream is queued (lock held; job off the heap)."""
        if job.priority == PARTIAL:
            newest = self._newest_partial.get(job.stream)
            if newest == job.seq:
                del self._newest_partial[job.stream]
            job.stale = newest is not None and newest != job.seq
        return job

    @staticmethod
    def _run_job(job: _Job) -> None:
        try:
            result = job.fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            job.future.set_exception(exc)
        else:
            job.future.set_result(result)

    def _run_partial_batch(self, jobs: list[_Job]) -> None:
        try:
            results = self.recognize_batch([job.request for job in jobs if job.request is not None])
        except BaseException as exc:  # noqa: BLE001 - handed to every caller of the batch
            for job in jobs:
                job.future.set_exception(exc)
            return
        self.batched_partials += len(jobs)
        for job, result in zip(jobs, results):
            job.future.set_result(result)

    def close(self) -> None:
        with self._jobs_lock:
            self._closed = True
            jobs, self._jobs = self._jobs, []
            self._newest_partial.clear()
        for job in jobs:
            if job.future.set_running_or_notify_cancel():
                job.future.set_exception(RuntimeError("asr runner closed before this decode ran"))
        super().close()
