"""A model loaded once per process and run off the event loop.

Analyzers (analyzers/) and scoring (scoring/) both run their models through a
:class:`ModelRunner`: blocking inference goes to the runner's own worker
threads, never to the event loop, and each call's time can be observed for
the per-stage latency histogram.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, TypeVar

T = TypeVar("T")


class ModelRunner:
    """A model loaded once per process, run in its own executor.

    Blocking inference never runs on the event loop: ``await runner.call(fn)``
    runs ``fn`` on the runner's worker threads. ``observe`` receives the
    time each call took (for the per-stage latency histogram).
    """

    name = "model"

    def __init__(self, *, workers: int = 1, observe: Callable[[str, float], None] | None = None) -> None:
        self.workers = workers
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"runner-{self.name}")
        self._observe = observe

    def set_observer(self, observe: Callable[[str, float], None] | None) -> None:
        self._observe = observe

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        try:
            return await loop.run_in_executor(self._executor, fn, *args)
        finally:
            if self._observe is not None:
                self._observe(self.name, time.perf_counter() - started)

    def warmup(self) -> None:
        """Run one inference so the first session pays no start-up cost."""

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
