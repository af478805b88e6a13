"""Dynamic batching of one model's requests across sessions.

A :class:`Batcher` sits in front of a shared :class:`~runtime.runner.ModelRunner`.
Each session ``await batcher.submit(item)``; the batcher gathers requests
until it holds ``max_batch`` of them or ``max_wait_s`` has passed since the
first of them arrived, whichever comes first, then runs one blocking
``fn(items) -> results`` through ``call`` (the runner's executor: never the
event loop) and hands each caller its own result, in the order submitted.

* While a batch runs, new requests queue up and go out together as the next
  batch: the busier the model, the larger the batches, and an idle model adds
  at most ``max_wait_s`` of latency (``0``: take what is queued, no waiting).
* One batch at a time per event loop, so a stream that submits its next item
  only after the last one returned keeps its order and its state consistent.
* A failure of ``fn`` (or a wrong number of results) is raised to every
  caller of that batch; the next batch runs as usual.
* A caller cancelled while waiting leaves the others alone: a request not yet
  taken is dropped from its batch; one already running is run and its result
  discarded.
* :meth:`close` fails every request not yet taken with :class:`BatcherClosed`
  and refuses new ones.

The batcher holds no task while idle, and keeps one lane per event loop (the
process has one loop in production; tests and tools may use several over a
shared runner), so it is safe to create before any loop runs.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)

ItemT = TypeVar("ItemT")
ResultT = TypeVar("ResultT")

CallFn = Callable[..., Awaitable[Any]]


class BatcherClosed(RuntimeError):
    """The batcher was closed before this request ran (not retryable here)."""

    retryable = False


@dataclass
class _Request:
    item: Any
    future: asyncio.Future[Any]
    arrived: float  # loop.time()


@dataclass
class _Lane:
    """The requests of one event loop, and the task that batches them."""

    loop: asyncio.AbstractEventLoop
    pending: deque[_Request] = field(default_factory=deque)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    worker: asyncio.Task[None] | None = None


@dataclass
class BatchStats:
    """Counts for metrics and benchmarks: batches run, items in them, largest."""

    batches: int = 0
    items: int = 0
    largest: int = 0
    failed_batches: int = 0

    @property
    def mean_batch(self) -> float:
        return self.items / self.batches if self.batches else 0.0


class Batcher(Generic[ItemT, ResultT]):
    """Gathers ``submit`` calls into batches for one blocking batch function.

    ``fn`` takes a list of items and returns a sequence of results of the same
    length, in the same order. ``call(fn, items)`` runs it off the event loop
    and returns an awaitable (a :class:`~runtime.runner.ModelRunner`'s
    ``call``); without one, the loop's default executor is used.
    """

    def __init__(
        self,
        fn: Callable[[list[ItemT]], Sequence[ResultT]],
        *,
        call: CallFn | None = None,
        max_batch: int = 32,
        max_wait_s: float = 0.0,
        name: str = "batcher",
    ) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, not {max_batch}")
        if max_wait_s < 0:
            raise ValueError(f"max_wait_s must be >= 0, not {max_wait_s}")
        self._fn = fn
        self._call = call
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        self.name = name
        self.stats = BatchStats()
        self._lanes: dict[asyncio.AbstractEventLoop, _Lane] = {}
        self._lock = threading.Lock()  # lanes are touched from each loop's thread and by close()
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def pending(self) -> int:
        """Requests waiting to be taken into a batch (all loops)."""
        with self._lock:
            return sum(len(lane.pending) for lane in self._lanes.values())

    async def submit(self, item: ItemT) -> ResultT:
        """Queue ``item`` and wait for its result (raises what its batch raised)."""
        if self._closed:
            raise BatcherClosed(f"{self.name}: closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[ResultT] = loop.create_future()
        with self._lock:
            lane = self._lanes.get(loop)
            if lane is None:
                lane = self._lanes[loop] = _Lane(loop)
            lane.pending.append(_Request(item, future, loop.time()))
            if lane.worker is None:
                lane.worker = loop.create_task(self._work(lane), name=f"batcher:{self.name}")
        lane.arrived.set()
        # Cancelling this await cancels ``future``; the worker skips it.
        return await future

    def close(self) -> None:
        """Refuse new requests and fail those not yet taken into a batch.

        Safe from any thread; a batch already running finishes and delivers.
        """
        self._closed = True
        with self._lock:
            lanes = list(self._lanes.values())
        for lane in lanes:
            if lane.loop.is_closed():
                continue
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is lane.loop:
                self._fail_pending(lane)
            else:
                try:
                    lane.loop.call_soon_threadsafe(self._fail_pending, lane)
                except RuntimeError:  # the loop closed meanwhile
                    pass

    # -- internals --------------------------------------------------------
    def _fail_pending(self, lane: _Lane) -> None:
        with self._lock:
            requests = list(lane.pending)
            lane.pending.clear()
        for request in requests:
            if not request.future.done():
                request.future.set_exception(BatcherClosed(f"{self.name}: closed before this request ran"))
        lane.arrived.set()  # a worker waiting out the window wakes and finds nothing

    async def _work(self, lane: _Lane) -> None:
        loop = lane.loop
        batch: list[_Request] = []
        try:
            while True:
                with self._lock:
                    while lane.pending and lane.pending[0].future.done():
                        lane.pending.popleft()  # cancelled before it was taken
                    if not lane.pending:
                        lane.worker = None
                        if lane.loop in self._lanes and self._lanes[lane.loop] is lane:
                            del self._lanes[lane.loop]
                        return
                    deadline = lane.pending[0].arrived + self.max_wait_s
                await self._gather(lane, deadline)
                batch = self._take(lane)
                if batch:
                    await self._run(batch)
                batch = []
        except asyncio.CancelledError:
            # The loop is shutting down (or someone cancelled the worker):
            # nobody will serve these requests, so say so.
            error = BatcherClosed(f"{self.name}: batcher stopped")
            with self._lock:
                left = batch + list(lane.pending)
                lane.pending.clear()
                lane.worker = None
                if self._lanes.get(loop) is lane:
                    del self._lanes[loop]
            for request in left:
                if not request.future.done():
                    request.future.set_exception(error)
            raise

    async def _gather(self, lane: _Lane, deadline: float) -> None:
        """Wait until the batch is full or the window after its first request is over."""
        loop = lane.loop
        while True:
            with self._lock:
                live = sum(1 for r in lane.pending if not r.future.done())
            remaining = deadline - loop.time()
            if live >= self.max_batch or remaining <= 0 or live == 0:
                return
            lane.arrived.clear()
            try:
                async with asyncio.timeout(remaining):
                    await lane.arrived.wait()
            except TimeoutError:
                return

    def _take(self, lane: _Lane) -> list[_Request]:
        batch: list[_Request] = []
        with self._lock:
            while lane.pending and len(batch) < self.max_batch:
                request = lane.pending.popleft()
                if not request.future.done():
                    batch.append(request)
        return batch

    async def _run(self, batch: list[_Request]) -> None:
        items = [request.item for request in batch]
        started = time.perf_counter()
        try:
            if self._call is not None:
                results = await self._call(self._fn, items)
            else:
                results = await asyncio.get_running_loop().run_in_executor(None, self._fn, items)
            results = list(results)
            if len(results) != len(batch):
                raise RuntimeError(f"{self.name}: batch of {len(batch)} items returned {len(results)} results")
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - handed to every caller of the batch
            self.stats.failed_batches += 1
            log.warning("%s: batch of %d failed: %r", self.name, len(batch), exc)
            for request in batch:
                if not request.future.done():
                    request.future.set_exception(exc)
            return
        finally:
            self.stats.batches += 1
            self.stats.items += len(batch)
            self.stats.largest = max(self.stats.largest, len(batch))
        log.debug("%s: batch of %d in %.2f ms", self.name, len(batch), (time.perf_counter() - started) * 1e3)
        for request, result in zip(batch, results):
            if not request.future.done():  # a caller cancelled meanwhile: its result is dropped
                request.future.set_result(result)
