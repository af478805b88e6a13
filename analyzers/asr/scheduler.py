"""The decode scheduler: the ASR worker pool and its priority queue, shared by every session.

Sessions share the workers through a priority queue, not first come first
served: a final (the end of an utterance, what HR wait for) runs before any
partial, finals in the order they came, then partials oldest first. A
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
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import heapq
import itertools
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from media.frames import SAMPLE_RATE
from runtime.runner import ModelRunner

from .decode import PartialRequest, Recognition

T = TypeVar("T")

FINAL = 0  # job priorities: lower runs first
PARTIAL = 1


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

    def __init__(self, *, partial_batch: int = 1, partial_batch_span_s: float = 2.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
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

    async def partial(self, fn: Callable[[], T], *, stream: Hashable) -> T | None:
        """Run ``fn`` (a partial's decode) after the finals; ``None`` if a newer partial of ``stream`` superseded it."""
        return await self._schedule(PARTIAL, fn, stream)

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
        if len(jobs) > 1:
            self._run_partial_batch(jobs)
        elif jobs:
            self._run_job(jobs[0])

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
