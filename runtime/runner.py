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
from pathlib import Path
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


def limit_blas_threads(threads: int) -> list[str]:
    """Cap every BLAS library loaded in this process (numpy's OpenBLAS, OpenCV's) at ``threads`` each; 0 leaves them.

    The server's own BLAS calls are small (face geometry, scoring vectors) and
    its parallelism is across sessions and model runners. With OpenBLAS's
    default of one thread per core, its idle worker spins after each call
    waiting for the next: measured on 2 vCPU at 4 candidates, 0.05-0.065 of a
    core doing nothing (perf: 97 % in ``blas_thread_server``). Returns what was
    capped ("openblas libscipy_openblas64_….so: 1").
    """
    if threads <= 0:
        return []
    from threadpoolctl import threadpool_info, threadpool_limits

    threadpool_limits(limits=threads, user_api="blas")  # kept: never restored
    return [f"{i['internal_api']} {Path(i['filepath']).name}: {i['num_threads']}" for i in threadpool_info() if i["user_api"] == "blas"]
