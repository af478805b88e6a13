"""The one contract every analyzer follows (see ARCHITECTURE.md).

* ``push(item)`` never blocks. Each analyzer states its drop policy through
  ``input_maxsize`` and ``keep_newest``: video keeps only the newest frame,
  audio counts every chunk it drops (``dropped``) so nothing goes silently.
* ``async for event in analyzer`` yields :class:`AnalyzerEvent` objects.
* ``flush()`` asks the analyzer to finish what it holds (e.g. an utterance)
  and keep going; ``end_input()`` flushes and ends the event stream;
  ``aclose()`` stops at once.
* A failure in the background task is re-raised to the reader.

Subclasses implement ``process(item)`` and optionally ``on_flush()``; the
base class owns the lifecycle, so nobody has to remember ``super()``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from events import AnalyzerEvent

log = logging.getLogger(__name__)


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"<{self.name}>"


_FLUSH = _Marker("flush")
_END = _Marker("end")


class AnalyzerError(RuntimeError):
    """Raised to the reader when an analyzer's background work failed."""


class Analyzer:
    name = "analyzer"

    def __init__(self, *, input_maxsize: int = 256, keep_newest: bool = False) -> None:
        self._input: asyncio.Queue[Any] = asyncio.Queue(maxsize=max(1, input_maxsize))
        self._output: asyncio.Queue[Any] = asyncio.Queue()
        self._keep_newest = keep_newest
        self._task: asyncio.Task[None] | None = None
        self._ended = False
        self._closed = False
        self._helpers: set[asyncio.Task[Any]] = set()
        self.pushed = 0
        self.dropped = 0

    # -- input side -------------------------------------------------------
    def push(self, item: Any) -> None:
        """Queue one frame; never blocks. Drops (counted) only when full."""
        if self._ended:
            raise RuntimeError(f"{self.name}: push() after end_input()")
        self._ensure_task()
        self.pushed += 1
        if self._input.full():
            # Drop the oldest queued frame, never a marker: a full queue of
            # frames means the analyzer is behind real time.
            self._drop_oldest()
        self._input.put_nowait(item)

    def flush(self) -> None:
        self._ensure_task()
        self._put_marker(_FLUSH)

    def end_input(self) -> None:
        if self._ended:
            return
        self._ended = True
        self._ensure_task()
        self._put_marker(_END)

    async def aclose(self) -> None:
        self._closed = True
        self._ended = True
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
        for helper in list(self._helpers):
            helper.cancel()
        await self.on_close()
        self._output.put_nowait(_END)

    # -- output side ------------------------------------------------------
    def __aiter__(self) -> "Analyzer":
        return self

    async def __anext__(self) -> AnalyzerEvent:
        item = await self._output.get()
        if item is _END:
            self._output.put_nowait(_END)  # every later reader sees the end too
            raise StopAsyncIteration
        if isinstance(item, BaseException):
            self._output.put_nowait(_END)
            raise AnalyzerError(f"{self.name} failed: {item!r}") from item
        return item

    def emit(self, event: AnalyzerEvent) -> None:
        self._output.put_nowait(event)

    def spawn(self, coro: Any, name: str) -> "asyncio.Task[Any]":
        """Run a helper task whose failure reaches the reader like the main one."""
        task = asyncio.get_running_loop().create_task(coro, name=f"analyzer:{self.name}:{name}")
        self._helpers.add(task)

        def _done(t: "asyncio.Task[Any]") -> None:
            self._helpers.discard(t)
            if not t.cancelled() and t.exception() is not None:
                log.error("analyzer %s helper %s failed", self.name, name, exc_info=t.exception())
                self._output.put_nowait(t.exception())

        task.add_done_callback(_done)
        return task

    # -- for subclasses ---------------------------------------------------
    async def process(self, item: Any) -> None:  # pragma: no cover - abstract
        raise TypeError(f"{type(self).__name__} must define process(item)")

    async def on_flush(self) -> None:
        """Finish whatever is held (an utterance, a metrics window)."""

    async def on_close(self) -> None:
        """Release per-analyzer resources (shared runners stay open)."""

    @property
    def backlog(self) -> int:
        return self._input.qsize()

    # -- internals --------------------------------------------------------
    def _ensure_task(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"analyzer:{self.name}")

    def _drop_oldest(self) -> None:
        kept: list[Any] = []
        dropped = False
        while not self._input.empty():
            queued = self._input.get_nowait()
            if not dropped and not isinstance(queued, _Marker):
                dropped = True
                self.dropped += 1
                continue
            kept.append(queued)
        for queued in kept:
            self._input.put_nowait(queued)
        if not dropped:  # only markers queued: grow past the bound rather than lose one
            self._input._maxsize += 1  # type: ignore[attr-defined]

    def _put_marker(self, marker: _Marker) -> None:
        if self._input.full():
            self._input._maxsize += 1  # type: ignore[attr-defined]  # markers are never dropped
        self._input.put_nowait(marker)

    async def _run(self) -> None:
        try:
            while True:
                if self._keep_newest:
                    item = await self._input.get()
                    # keep only the newest frame, but never skip a marker
                    while not isinstance(item, _Marker) and not self._input.empty():
                        nxt = self._input.get_nowait()
                        if isinstance(nxt, _Marker):
                            await self.process(item)
                            item = nxt
                            break
                        self.dropped += 1
                        item = nxt
                else:
                    item = await self._input.get()
                if item is _FLUSH:
                    await self.on_flush()
                elif item is _END:
                    await self.on_flush()
                    break
                else:
                    await self.process(item)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # surfaces to the reader, never silent
            log.exception("analyzer %s failed", self.name)
            self._output.put_nowait(exc)
            return
        self._output.put_nowait(_END)
