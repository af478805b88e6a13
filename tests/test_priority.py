"""Model work runs below the event loop's priority (Linux keeps nice per thread).

Under load, inference fills every core; the event loop (RTP, signalling, HR's
events) must still be scheduled at once. These tests check that the threads
doing the model work, including the ones the libraries start themselves
(CTranslate2's decoding threads), are the nicer ones, and that the loop's
thread is left alone.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest

from analyzers.base import ModelRunner, set_worker_nice, worker_nice
from analyzers.models import Models
from tests.helpers import load_audio
from tests.media_fixtures import SHARED_MEDIA

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="nice is per thread on Linux only")


def thread_nice(tid: int | None = None) -> int:
    return os.getpriority(os.PRIO_PROCESS, tid or threading.get_native_id())


def cpu_ticks() -> dict[int, int]:
    """CPU time (clock ticks) used so far by each thread of this process."""
    ticks: dict[int, int] = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the thread ended meanwhile
        ticks[int(task.name)] = int(fields[11]) + int(fields[12])  # utime + stime
    return ticks


async def test_runner_threads_run_nicer_than_the_loop() -> None:
    base = thread_nice()
    saved = worker_nice()
    set_worker_nice(4)
    runner = ModelRunner()
    try:
        nice = await runner.call(thread_nice)
    finally:
        runner.close()
        set_worker_nice(saved)
    assert nice == min(19, base + 4)
    assert thread_nice() == base  # the loop's own thread keeps its priority


async def test_worker_nice_zero_keeps_the_loops_priority() -> None:
    base = thread_nice()
    saved = worker_nice()
    set_worker_nice(0)
    runner = ModelRunner()
    try:
        nice = await runner.call(thread_nice)
    finally:
        runner.close()
        set_worker_nice(saved)
    assert nice == base


@pytest.mark.slow
async def test_whisper_decodes_on_nicer_threads(models: Models) -> None:
    """The CPU a decode takes is spent on threads below the loop's priority.

    CTranslate2 decodes on threads it started while the model loaded; they
    are lowered only because the model loads in a lowered thread.
    """
    assert worker_nice() > 0, "the default configuration lowers model threads"
    base = thread_nice()
    audio = load_audio(SHARED_MEDIA / "jfk.flac")
    before = cpu_ticks()
    recognition = await models.asr.final(lambda: models.asr.recognize(audio), stream="priority-test")
    after = cpu_ticks()
    assert "country" in recognition.text.lower()
    used = {tid: after[tid] - before.get(tid, 0) for tid in after}
    total = sum(used.values())
    assert total >= 20, f"the decode used only {total} ticks: nothing to attribute"
    lowered = 0
    for tid, ticks in used.items():
        try:
            if thread_nice(tid) > base:
                lowered += ticks
        except OSError:
            pass  # ended
    assert lowered / total >= 0.8, f"{lowered} of {total} ticks on lowered threads"
