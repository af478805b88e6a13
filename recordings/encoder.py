"""One answer's media as Opus (and VP8) in WebM: a pure, synchronous encoder.

Input is what the analyzers see (``media.frames``): 16 kHz mono float32
audio chunks and sampled RGB camera frames, each with its media time. So the
recording is exactly what was analysed, on the same clock as the transcript
and the evidence quotes. Audio is resampled to 48 kHz (Opus's clock in WebM)
and encoded mono; video is scaled into a fixed, modest canvas (320x240 by
default, letterboxed) at the sampled rate (``CANDOR_VIDEO_FPS``, 5 by default).

The file's timeline is the answer's audio laid end to end. Where media time
jumps (a reconnect, a stalled track: ``media.clock``) a new *segment* starts:
``segments`` lists ``(media_time, file_time)`` pairs, and
:func:`file_time_at` maps an evidence quote's media time into the file.

Memory is bounded by the encoded output (about 4 KB/s audio, ~30 KB/s video
at the defaults); the caller bounds an answer's length.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from fractions import Fraction

import av
import numpy as np

IN_RATE = 16_000
OUT_RATE = 48_000
GAP_S = 0.1  # media time jumping further than this starts a new segment
MS = Fraction(1, 1000)


@dataclass(frozen=True)
class EncodedAnswer:
    data: bytes  # WebM
    duration: float  # seconds of audio in the file
    kinds: tuple[str, ...]  # "audio", and "video" when frames were written
    segments: tuple[tuple[float, float], ...]  # (media time, file time) where each run of media starts
    video_frames: int = 0


def file_time_at(segments: tuple[tuple[float, float], ...] | list, media_time: float, duration: float | None = None) -> float:
    """Where in the file ``media_time`` was recorded (clamped to the file)."""
    if not segments:
        return 0.0
    chosen = segments[0]
    for seg in segments:
        if seg[0] <= media_time + 1e-9:
            chosen = seg
        else:
            break
    at = max(0.0, chosen[1] + (media_time - chosen[0]))
    return min(at, duration) if duration is not None else at


@dataclass
class AnswerEncoder:
    """Feed ``add_audio`` / ``add_video`` in media order, then ``finish()``. Not thread-safe: one thread drives it."""

    video: bool = False
    width: int = 320
    height: int = 240
    fps: float = 5.0
    audio_bitrate: int = 32_000
    video_bitrate: int = 250_000
    _buf: io.BytesIO = field(default_factory=io.BytesIO, init=False)
    _segments: list[tuple[float, float]] = field(default_factory=list, init=False)
    _samples: int = field(default=0, init=False)  # 16 kHz samples written
    _next_media: float | None = field(default=None, init=False)
    _last_video_ms: int = field(default=-1, init=False)
    _video_frames: int = field(default=0, init=False)
    _closed: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self._container = av.open(self._buf, mode="w", format="webm")
        self._audio = self._container.add_stream("libopus", rate=OUT_RATE, layout="mono")
        self._audio.bit_rate = self.audio_bitrate
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=OUT_RATE)
        self._vstream = None
        if self.video:
            v = self._container.add_stream("libvpx", rate=max(1, round(self.fps)))
            v.width, v.height, v.pix_fmt = self.width, self.height, "yuv420p"
            v.bit_rate = self.video_bitrate
            v.codec_context.time_base = MS
            # real time, lowest CPU: this runs beside the analyzers on a couple of cores
            v.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
            self._vstream = v

    # -- input ----------------------------------------------------------------
    @property
    def duration(self) -> float:
        return self._samples / IN_RATE

    def add_audio(self, samples: np.ndarray, media_time: float) -> None:
        if self._closed:
            raise RuntimeError("the encoder is finished")
        if self._next_media is None or abs(media_time - self._next_media) > GAP_S:
            self._segments.append((round(media_time, 3), round(self.duration, 3)))
        pcm = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(pcm), format="flt", layout="mono")
        frame.sample_rate = IN_RATE
        frame.pts = self._samples
        frame.time_base = Fraction(1, IN_RATE)
        self._samples += pcm.shape[1]
        self._next_media = media_time + pcm.shape[1] / IN_RATE
        for out in self._resampler.resample(frame):
            self._mux(self._audio.encode(out))

    def add_video(self, image: np.ndarray, media_time: float) -> None:
        """A sampled RGB frame; ignored before the first audio (nothing to place it against) or without video."""
        if self._vstream is None or self._closed or not self._segments:
            return
        ms = int(round(file_time_at(self._segments, media_time) * 1000))
        if ms <= self._last_video_ms:
            return
        self._last_video_ms = ms
        frame = av.VideoFrame.from_ndarray(self._fit(image), format="rgb24").reformat(format="yuv420p")
        frame.pts = ms
        frame.time_base = MS
        self._video_frames += 1
        self._mux(self._vstream.encode(frame))

    def _fit(self, image: np.ndarray) -> np.ndarray:
        """Scale into the canvas keeping the aspect ratio; black bars fill the rest."""
        h, w = image.shape[:2]
        scale = min(self.width / w, self.height / h)
        tw, th = max(2, int(w * scale) // 2 * 2), max(2, int(h * scale) // 2 * 2)
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image[:, :, :3]), format="rgb24")
        scaled = frame.reformat(width=tw, height=th).to_ndarray(format="rgb24")
        if (tw, th) == (self.width, self.height):
            return scaled
        canvas = np.zeros((self.height, self.width, 3), dtype=np.uint8)
        y, x = (self.height - th) // 2, (self.width - tw) // 2
        canvas[y:y + th, x:x + tw] = scaled
        return canvas

    def _mux(self, packets: list) -> None:
        for packet in packets:
            self._container.mux(packet)

    # -- output ---------------------------------------------------------------
    def finish(self) -> EncodedAnswer:
        if self._closed:
            raise RuntimeError("the encoder is finished")
        self._closed = True
        for out in self._resampler.resample(None):
            self._mux(self._audio.encode(out))
        self._mux(self._audio.encode(None))
        if self._vstream is not None:
            self._mux(self._vstream.encode(None))
        self._container.close()
        kinds = ("audio", "video") if self._video_frames else ("audio",)
        return EncodedAnswer(self._buf.getvalue(), round(self.duration, 3), kinds, tuple(self._segments), self._video_frames)

    def abort(self) -> None:
        """Drop what was encoded (nothing is kept)."""
        if not self._closed:
            self._closed = True
            try:
                self._container.close()
            except Exception:  # an empty container may fail to write its trailer: it is discarded anyway
                pass
        self._buf = io.BytesIO()
