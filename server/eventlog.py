"""A session's event stream: sequencing, the durable log, live fan-out.

Every event gets the session's next ``seq`` and the wall time, goes to the
:class:`EventWriter` (batched appends to the store, off the event loop) and
to every live :class:`Watcher`. A watcher's queue is bounded: a watcher that
cannot keep up is marked overflowed and dropped by its connection; it never
slows the session.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Awaitable, Callable

from db import AsyncStore
from events import TRANSCRIPT_PARTIAL, AnalyzerEvent, Event, Payload

log = logging.getLogger(__name__)


class Watcher:
    """One subscriber's bounded queue of events (``partials=False``: without ``transcript.partial``)."""

    def __init__(self, maxsize: int, *, partials: bool = True) -> None:
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=maxsize)
        self.overflowed = asyncio.Event()
        self.partials = partials

    def offer(self, event: Event) -> None:
        if self.overflowed.is_set() or (not self.partials and event.type == TRANSCRIPT_PARTIAL):
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed.set()


class EventWriter:
    """Appends events to the store in small batches on the store's thread."""

    def __init__(self, store: AsyncStore, *, max_batch: int = 500) -> None:
        self._store = store
        self._pending: list[Event] = []
        self._wake = asyncio.Event()
        self._added = 0
        self._written = 0
        self._progress = asyncio.Condition()
        self._max_batch = max_batch
        self._task: asyncio.Task[None] | None = None
        self.failures = 0
        # Called with each batch once it is committed (several nodes: server/nodes.py carries it to Redis).
        self.after_commit: Callable[[list[Event]], Awaitable[None]] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="event-writer")

    def add(self, event: Event) -> None:
        self._pending.append(event)
        self._added += 1
        self._wake.set()

    async def flush(self) -> None:
        """Wait until every event added so far is in the store."""
        target = self._added
        async with self._progress:
            await self._progress.wait_for(lambda: self._written >= target)

    async def close(self) -> None:
        if self._task is None:
            return
        await self.flush()
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass
        self._task = None

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch = self._pending[: self._max_batch]
                try:
                    await self._store.run(self._store.store.append_events, batch)
                except Exception:
                    # Keep the batch and retry: the log must lose nothing.
                    self.failures += 1
                    log.exception("event log write failed (%d events), retrying", len(batch))
                    await asyncio.sleep(min(5.0, 0.1 * 2 ** min(self.failures, 6)))
                    continue
                del self._pending[: len(batch)]
                async with self._progress:
                    self._written += len(batch)
                    self._progress.notify_all()
                if self.after_commit is not None:
                    try:
                        await self.after_commit(batch)
                    except Exception:
                        log.exception("after-commit hook failed for %d events", len(batch))


class SessionEvents:
    """Stamps, logs and fans out one session's events."""

    def __init__(
        self,
        session_id: str,
        *,
        next_seq: int,
        writer: EventWriter,
        watcher_queue: int = 1000,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.session_id = session_id
        self._next_seq = next_seq
        self._writer = writer
        self._watchers: set[Watcher] = set()
        self._watcher_queue = watcher_queue
        self._wall_clock = wall_clock
        self.listeners: list[Callable[[Event], None]] = []

    def publish(self, media_time: float | None, payload: Payload) -> Event:
        event = Event(
            session_id=self.session_id,
            seq=self._next_seq,
            media_time=None if media_time is None else round(float(media_time), 3),
            wall_time=self._wall_clock(),
            payload=payload,
        )
        self._next_seq += 1
        self._writer.add(event)
        for watcher in list(self._watchers):
            watcher.offer(event)
            if watcher.overflowed.is_set():
                self._watchers.discard(watcher)  # its connection closes it; never held again
        for listener in list(self.listeners):
            try:
                listener(event)
            except Exception:
                log.exception("event listener failed for %s", event.type)
        return event

    def publish_analyzer_event(self, event: AnalyzerEvent) -> Event:
        return self.publish(event.media_time, event.payload)

    def subscribe(self, *, partials: bool = True) -> Watcher:
        """A new watcher; ``partials=False``: it is not sent ``transcript.partial`` (and does not ask for them)."""
        watcher = Watcher(self._watcher_queue, partials=partials)
        self._watchers.add(watcher)
        return watcher

    def unsubscribe(self, watcher: Watcher) -> None:
        self._watchers.discard(watcher)

    @property
    def watcher_count(self) -> int:
        return len(self._watchers)

    @property
    def partial_readers(self) -> int:
        """Watchers that read ``transcript.partial`` (the ASR decodes partials only while someone does)."""
        return sum(1 for watcher in self._watchers if watcher.partials)

    async def flush(self) -> None:
        await self._writer.flush()
