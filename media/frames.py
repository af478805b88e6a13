"""Plain frames handed from the media layer to analyzers (no aiortc here)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SAMPLE_RATE = 16_000
CHUNK_SAMPLES = 512  # 32 ms at 16 kHz, silero-vad's native step


@dataclass(frozen=True, slots=True)
class AudioChunk:
    """32 ms of 16 kHz mono float32 audio in [-1, 1].

    ``media_time`` is the time of the first sample, in seconds since the
    session's first audio sample.
    """

    samples: np.ndarray
    media_time: float

    @property
    def duration(self) -> float:
        return len(self.samples) / SAMPLE_RATE

    @property
    def end_time(self) -> float:
        return self.media_time + self.duration


@dataclass(frozen=True, slots=True)
class VideoFrame:
    """One sampled camera frame: RGB uint8, shape (height, width, 3)."""

    image: np.ndarray
    media_time: float
