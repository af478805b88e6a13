"""Per-session media ingest: decoded frames -> plain timestamped frames.

One :class:`MediaIngest` lives as long as the session, across connections:
it owns the media clock, the audio chunker and the video sampler. It only
needs PyAV frames, not aiortc.
"""

from __future__ import annotations

import time
from typing import Callable

import av

from .audio import AudioChunker
from .clock import MediaClock
from .frames import AudioChunk, VideoFrame


EARLY_FRACTION = 0.25  # of the sampling interval: how early a frame may come for its slot


class MediaIngest:
    def __init__(
        self,
        *,
        on_audio: Callable[[AudioChunk], None],
        on_video: Callable[[VideoFrame], None],
        video_fps: float = 5.0,
        max_video_width: int = 640,
        clock: MediaClock | None = None,
        now: Callable[[], float] = time.monotonic,
        on_video_in: Callable[[], None] | None = None,
    ) -> None:
        """``on_video_in`` is called for every decoded video frame, sampled or not (a metric)."""
        self.clock = clock or MediaClock(now=now)
        self._on_audio = on_audio
        self._on_video = on_video
        self._on_video_in = on_video_in
        self._chunker = AudioChunker()
        self._video_interval = 1.0 / video_fps
        self._max_video_width = max_video_width
        self._now = now
        self._next_video: float | None = None
        self.audio_chunks = 0
        self.video_frames_in = 0
        self.video_frames_sampled = 0

    def begin_connection(self) -> None:
        self.clock.begin_connection()
        self._chunker.reset()
        self._next_video = None

    def audio_frame(self, frame: av.AudioFrame) -> None:
        for samples in self._chunker.feed(frame):
            media_time = self.clock.stamp_audio(len(samples))
            self.audio_chunks += 1
            self._on_audio(AudioChunk(samples=samples, media_time=media_time))

    def video_frame(self, frame: av.VideoFrame) -> None:
        """Sample the newest frame at the configured rate; skip the rest."""
        self.video_frames_in += 1
        if self._on_video_in is not None:
            self._on_video_in()
        now = self._now()
        # A frame a little early for its slot takes it: a camera sending at
        # exactly video_fps (the page's cap) keeps every frame through jitter.
        if self._next_video is not None and now < self._next_video - self._video_interval * EARLY_FRACTION:
            return
        # A fixed schedule, so arrival jitter does not lower the rate; after
        # a stall it restarts from now instead of bursting to catch up.
        due = self._next_video
        self._next_video = now + self._video_interval if due is None or now - due >= self._video_interval else due + self._video_interval
        if frame.width > self._max_video_width:
            scale = self._max_video_width / frame.width
            frame = frame.reformat(width=self._max_video_width, height=max(2, int(frame.height * scale) // 2 * 2))
        image = frame.to_ndarray(format="rgb24")
        self.video_frames_sampled += 1
        self._on_video(VideoFrame(image=image, media_time=self.clock.stamp_video()))
