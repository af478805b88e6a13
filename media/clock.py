"""The session's media clock.

``media_time`` is seconds since the session's first audio sample. Within a
connection, audio time advances by samples received (so it is exact and
free of network jitter); across reconnects, and across gaps where audio
stopped arriving, it resynchronises to elapsed wall time, so it keeps
running and never goes backwards. The raw RTP clock is never used.
"""

from __future__ import annotations

import time
from typing import Callable

from .frames import SAMPLE_RATE


class MediaClock:
    def __init__(self, *, now: Callable[[], float] = time.monotonic, resync_after_s: float = 1.0) -> None:
        self._now = now
        self._resync_after_s = resync_after_s
        self._anchor: float | None = None  # monotonic time of the first audio sample
        self._audio_time = 0.0  # media time of the next audio sample
        self._new_segment = True
        self.resyncs = 0  # jumps over a gap within a connection (a stalled track, or audio read late)

    @property
    def started(self) -> bool:
        return self._anchor is not None

    def elapsed(self) -> float:
        """Wall-clock seconds since the first audio sample (0 before it)."""
        if self._anchor is None:
            return 0.0
        return max(0.0, self._now() - self._anchor)

    def resume_at(self, media_time: float) -> None:
        """Continue a timeline that reached ``media_time`` before (a session reloaded
        after a restart): the next audio is stamped no earlier than that, and
        wall time runs on from it."""
        if media_time <= self._audio_time:
            return
        self._anchor = self._now() - media_time
        self._audio_time = media_time
        self._new_segment = True

    def begin_connection(self) -> None:
        """A new connection's audio starts a new segment of the timeline."""
        self._new_segment = True

    def stamp_audio(self, n_samples: int) -> float:
        """Media time of the first of ``n_samples`` new samples; advances the clock."""
        if self._anchor is None:
            self._anchor = self._now()
            self._new_segment = False
        elif self._new_segment:
            self._audio_time = max(self._audio_time, self.elapsed())
            self._new_segment = False
        else:
            wall = self.elapsed()
            if wall - self._audio_time > self._resync_after_s:
                # Audio stopped arriving for a while (muted, stalled track):
                # the timeline jumps over the gap rather than fall behind.
                self._audio_time = wall
                self.resyncs += 1
        start = self._audio_time
        self._audio_time += n_samples / SAMPLE_RATE
        return start

    def stamp_video(self) -> float:
        """Media time for a video frame received now."""
        return max(self.elapsed(), 0.0) if self._anchor is not None else 0.0

    @property
    def audio_time(self) -> float:
        return self._audio_time
