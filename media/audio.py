"""Decoded audio of any rate and layout -> 16 kHz mono 32 ms chunks."""

from __future__ import annotations

import av
import numpy as np

from .frames import CHUNK_SAMPLES, SAMPLE_RATE


class AudioChunker:
    """Resamples ``av.AudioFrame`` input and cuts it into fixed chunks.

    Leftover samples are kept for the next frame, so the output is gapless.
    """

    def __init__(self, *, rate: int = SAMPLE_RATE, chunk_samples: int = CHUNK_SAMPLES) -> None:
        self._rate = rate
        self._chunk = chunk_samples
        self._resampler = self._new_resampler()
        self._buffer = np.zeros(0, dtype=np.float32)

    def reset(self) -> None:
        """Start afresh (a new connection brings a new stream)."""
        self._resampler = self._new_resampler()
        self._buffer = np.zeros(0, dtype=np.float32)

    def _new_resampler(self) -> av.AudioResampler:
        # Keep the input's channels and average them here: libswresample's
        # stereo->mono downmix adds 3 dB (a full-scale sine would clip).
        return av.AudioResampler(format="flt", layout=None, rate=self._rate)

    def feed(self, frame: av.AudioFrame) -> list[np.ndarray]:
        parts = [self._buffer]
        for out in self._resampler.resample(frame):
            channels = len(out.layout.channels)
            samples = out.to_ndarray().reshape(-1, channels)  # packed: interleaved
            parts.append(samples.mean(axis=1, dtype=np.float32) if channels > 1 else samples[:, 0])
        samples = np.concatenate(parts)
        n_full = len(samples) // self._chunk
        chunks = [samples[i * self._chunk : (i + 1) * self._chunk].copy() for i in range(n_full)]
        self._buffer = samples[n_full * self._chunk :].copy()
        return chunks
