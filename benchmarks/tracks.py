"""Media tracks for the load generator: real speech and a real face, paced in real time.

A candidate of the load generator publishes two aiortc tracks:

- :class:`AudioScriptTrack` plays a script of real clips (``tests/media``:
  jfk.flac, the AISHELL clip, wenet_mid.wav, hotwords.mp3) with seeded
  random pauses between answers, on a loop, as 20 ms frames of 48 kHz mono
  s16 (what aiortc's Opus encoder takes). It logs the generator's wall time
  (``time.perf_counter``) at which every frame was handed to the sender, so
  the wall time of any media offset can be looked up afterwards, and keeps a
  :class:`ClipPlay` for every clip it played (media offsets of its first
  sample, its speech end and its last sample).
- :class:`PortraitTrack` sends a small portrait (obama.jpg or biden.jpg,
  cropped to the face and scaled to e.g. 160x120) with a slow circular pan,
  so the VP8 encoder has a little motion to code, and logs each frame's
  wall time. :class:`EncodedCameraTrack` sends instead what a browser's
  camera sends (640x480, a camera's noise, VP8 at the page's frame rate and
  bitrate), encoded once for every candidate.

Where speech ends in a clip is computed once per clip with silero-vad (the
model the server uses, ``speech_pad_ms=0``): the end of its last speech
segment. An energy threshold was tried first and rejected: jfk.flac's
background hiss sits at -41 dBFS and the AISHELL clip's room noise runs to
the last sample, so "last frame above -35 dB of the peak" put the end of
speech at the end of the file (0.4-0.5 s late), while silero ends jfk at
10.6 s and AISHELL at 3.8 s, where the last word ends.

The pure part (which samples come next, where clips begin and end) is
:class:`AudioScript`; the tracks are thin shells that pace it and stamp the
wall clock.
"""

from __future__ import annotations

import asyncio
import bisect
import fractions
import math
import random
import time
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from . import MEDIA_DIR

DEFAULT_CLIPS = ("jfk.flac", "aishell-BAC009S0724W0121.wav", "wenet_mid.wav", "hotwords.mp3")

AUDIO_RATE = 48_000
FRAME_SAMPLES = 960  # 20 ms, Opus's usual packet
VIDEO_CLOCK = 90_000

# Face-centred 4:3 crops (x, y, width, height) of the shipped portraits.
PORTRAIT_CROPS = {
    "obama.jpg": (160, 30, 640, 480),
    "biden.jpg": (200, 40, 720, 540),
}


@dataclass(frozen=True)
class Clip:
    """One speech file, decoded to 48 kHz mono s16, with where its speech lies."""

    name: str
    samples: np.ndarray  # int16, 48 kHz mono
    speech_start_s: float
    speech_end_s: float

    @property
    def duration_s(self) -> float:
        return len(self.samples) / AUDIO_RATE


def decode_audio(path: Path, rate: int = AUDIO_RATE) -> np.ndarray:
    """Any audio file -> mono s16 at ``rate`` (PyAV)."""
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
        parts = [out.to_ndarray().reshape(-1) for frame in container.decode(audio=0) for out in resampler.resample(frame)]
        parts += [out.to_ndarray().reshape(-1) for out in resampler.resample(None)]
    return np.concatenate(parts).astype(np.int16)


def speech_bounds(samples_16k: np.ndarray, model: Any = None) -> tuple[float, float]:
    """(start, end) in seconds of the speech in 16 kHz float audio, by silero-vad."""
    import torch
    from silero_vad import get_speech_timestamps, load_silero_vad

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        # the ONNX model, as the server runs it (loading the JIT one warns)
        model = model if model is not None else load_silero_vad(onnx=True)
        spans = get_speech_timestamps(
            torch.from_numpy(np.ascontiguousarray(samples_16k, dtype=np.float32)),
            model,
            sampling_rate=16_000,
            speech_pad_ms=0,
            return_seconds=True,
        )
    finally:
        torch.set_num_threads(threads)
    if not spans:
        raise ValueError("no speech found")
    return float(spans[0]["start"]), float(spans[-1]["end"])


def load_clips(paths: Sequence[Path]) -> list[Clip]:
    from silero_vad import load_silero_vad

    model = load_silero_vad(onnx=True)
    clips = []
    for path in paths:
        samples = decode_audio(path)
        start, end = speech_bounds(decode_audio(path, 16_000).astype(np.float32) / 32768.0, model)
        clips.append(Clip(path.name, samples, start, min(end, len(samples) / AUDIO_RATE)))
    return clips


@dataclass
class ClipPlay:
    """One clip as played by a track; offsets are seconds of audio sent since the track began."""

    clip: str
    number: int  # 0, 1, 2, ... in the order played
    start: float  # offset of the clip's first sample
    speech_start: float
    speech_end: float  # offset where its speech ends
    end: float  # offset just after its last sample


class AudioScript:
    """The pure core of the audio track: clips and pauses as a stream of samples.

    ``read(n)`` returns the next ``n`` samples; ``plays`` lists every clip
    begun so far. The order starts at ``first`` and goes round the list; the
    pauses between clips and the silence before the first are drawn from
    ``random.Random(seed)``.
    """

    def __init__(
        self,
        clips: Sequence[Clip],
        *,
        seed: int = 0,
        first: int = 0,
        pause_s: tuple[float, float] = (2.0, 4.0),
        lead_in_s: tuple[float, float] = (0.5, 2.0),
    ) -> None:
        if not clips:
            raise ValueError("no clips")
        self._clips = list(clips)
        self._rng = random.Random(seed)
        self._pause = pause_s
        self._next_clip = first % len(self._clips)
        self.plays: list[ClipPlay] = []
        self.sent = 0  # samples handed out so far
        self._segment = np.zeros(self._silence(lead_in_s), dtype=np.int16)
        self._pos = 0
        self._after_silence_clip = True

    def _silence(self, span: tuple[float, float]) -> int:
        return round(self._rng.uniform(*span) * AUDIO_RATE)

    def _advance(self) -> None:
        if self._after_silence_clip:
            clip = self._clips[self._next_clip]
            self._next_clip = (self._next_clip + 1) % len(self._clips)
            start = self.sent / AUDIO_RATE
            self.plays.append(
                ClipPlay(clip.name, len(self.plays), start, start + clip.speech_start_s, start + clip.speech_end_s, start + clip.duration_s)
            )
            self._segment = clip.samples
        else:
            self._segment = np.zeros(self._silence(self._pause), dtype=np.int16)
        self._after_silence_clip = not self._after_silence_clip
        self._pos = 0

    def read(self, n: int) -> np.ndarray:
        out = np.empty(n, dtype=np.int16)
        filled = 0
        while filled < n:
            if self._pos >= len(self._segment):
                self._advance()
                continue
            take = min(n - filled, len(self._segment) - self._pos)
            out[filled : filled + take] = self._segment[self._pos : self._pos + take]
            self._pos += take
            filled += take
            self.sent += take
        return out


class WallLog:
    """Wall times of the frames a track sent, frame ``k`` covering ``[k*step, (k+1)*step)`` of media."""

    def __init__(self, step_s: float) -> None:
        self.step_s = step_s
        self.walls = array("d")

    def append(self, wall: float) -> None:
        self.walls.append(wall)

    @property
    def first(self) -> float | None:
        return self.walls[0] if self.walls else None

    def wall_at(self, offset_s: float) -> float | None:
        """When the frame holding media offset ``offset_s`` was sent (None: not sent yet)."""
        k = math.floor(offset_s / self.step_s + 1e-9)
        if k < 0 or k >= len(self.walls):
            return None
        return self.walls[k]

    def latest_before(self, wall: float) -> float | None:
        """Wall time of the last frame sent at or before ``wall``."""
        i = bisect.bisect_right(self.walls, wall)
        return self.walls[i - 1] if i else None


class _PacedTrack(MediaStreamTrack):
    """Real-time pacing on the generator's clock: frame ``k`` is due at start + k * step."""

    def __init__(self, step_s: float, clock: Callable[[], float]) -> None:
        super().__init__()
        self._clock = clock
        self._start: float | None = None
        self._count = 0
        self.log = WallLog(step_s)

    async def _pace(self) -> float:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = self._clock()
        else:
            wait = self._start + self._count * self.log.step_s - self._clock()
            if wait > 0:
                await asyncio.sleep(wait)
            if self.readyState != "live":
                raise MediaStreamError
        self._count += 1
        now = self._clock()
        self.log.append(now)
        return now


class AudioScriptTrack(_PacedTrack):
    """Plays an :class:`AudioScript` in real time as 20 ms 48 kHz mono s16 frames."""

    kind = "audio"

    def __init__(self, script: AudioScript, *, clock: Callable[[], float] = time.perf_counter) -> None:
        super().__init__(FRAME_SAMPLES / AUDIO_RATE, clock)
        self.script = script
        self._speech_waiters: list[asyncio.Future[ClipPlay]] = []

    @property
    def plays(self) -> list[ClipPlay]:
        return self.script.plays

    def sent_wall(self, offset_s: float) -> float | None:
        """Generator wall time at which the audio at media offset ``offset_s`` was sent."""
        return self.log.wall_at(offset_s)

    def speech_end_sent(self) -> asyncio.Future[ClipPlay]:
        """A future resolved when the next clip's end of speech has been sent."""
        future: asyncio.Future[ClipPlay] = asyncio.get_running_loop().create_future()
        self._speech_waiters.append(future)
        return future

    async def recv(self) -> av.AudioFrame:
        await self._pace()
        pts = self.script.sent
        samples = self.script.read(FRAME_SAMPLES)
        end = self.script.sent / AUDIO_RATE
        if self._speech_waiters:
            for play in reversed(self.script.plays):
                if play.speech_end <= end:
                    if play.speech_end > pts / AUDIO_RATE:
                        waiters, self._speech_waiters = self._speech_waiters, []
                        for waiter in waiters:
                            if not waiter.done():
                                waiter.set_result(play)
                    break
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = AUDIO_RATE
        frame.pts = pts
        frame.time_base = fractions.Fraction(1, AUDIO_RATE)
        return frame


class PortraitLoop:
    """A cycle of small YUV 4:2:0 frames of a portrait panning slowly in a circle (shared by tracks)."""

    def __init__(self, image: Path, *, width: int = 160, height: int = 120, fps: float = 10.0, period_s: float = 4.0, radius_px: int = 4) -> None:
        if width % 2 or height % 2:
            raise ValueError("video width and height must be even")
        with av.open(str(image)) as container:
            picture = next(container.decode(video=0)).to_ndarray(format="rgb24")
        x, y, w, h = PORTRAIT_CROPS.get(image.name, (0, 0, picture.shape[1], picture.shape[1] * 3 // 4))
        scale = width / w
        margin = math.ceil(radius_px / scale) + 1
        x0, y0 = max(0, x - margin), max(0, y - margin)
        region = picture[y0 : y + h + margin, x0 : x + w + margin]
        n = max(1, round(period_s * fps))
        self.width, self.height, self.fps = width, height, fps
        self.frames: list[np.ndarray] = []
        for i in range(n):
            angle = 2 * math.pi * i / n
            dx = round((x - x0) + radius_px / scale * math.cos(angle))
            dy = round((y - y0) + radius_px / scale * math.sin(angle))
            crop = np.ascontiguousarray(region[dy : dy + h, dx : dx + w])
            frame = av.VideoFrame.from_ndarray(crop, format="rgb24").reformat(width=width, height=height, format="yuv420p")
            self.frames.append(frame.to_ndarray())

    def frame(self, index: int) -> np.ndarray:
        return self.frames[index % len(self.frames)]


class PortraitTrack(_PacedTrack):
    """Sends a :class:`PortraitLoop` in real time; ``phase`` offsets the pan between candidates."""

    kind = "video"

    def __init__(self, portrait: PortraitLoop, *, phase: int = 0, clock: Callable[[], float] = time.perf_counter) -> None:
        super().__init__(1.0 / portrait.fps, clock)
        self._portrait = portrait
        self._phase = phase

    def sent_before(self, wall: float) -> float | None:
        """Wall time of the last frame sent at or before ``wall`` (the frame the server had then)."""
        return self.log.latest_before(wall)

    async def recv(self) -> av.VideoFrame:
        await self._pace()
        index = self._count - 1
        frame = av.VideoFrame.from_ndarray(self._portrait.frame(index + self._phase), format="yuv420p")
        frame.pts = round(index * VIDEO_CLOCK / self._portrait.fps)
        frame.time_base = fractions.Fraction(1, VIDEO_CLOCK)
        return frame


class EncodedCamera:
    """A webcam's VP8 stream as a browser sends it, encoded once and shared by every candidate's track.

    The portrait pans as in :class:`PortraitLoop`, with a camera's sensor
    noise on every frame (a still picture codes to almost nothing; a real
    camera's does not), encoded by libvpx as WebRTC's encoder runs it (real
    time, no look-ahead, one key frame then inter frames only) at a constant
    ``kbps``: so the server gets a browser's packet rate and decodes a
    browser's frames. A loop of ``loop_s`` seconds, starting on its key frame.
    """

    def __init__(self, image: Path, *, width: int = 640, height: int = 480, fps: float = 5.0, kbps: int = 300,
                 loop_s: float = 20.0, noise: float = 3.0, seed: int = 0) -> None:
        portrait = PortraitLoop(image, width=width, height=height, fps=fps)
        self.width, self.height, self.fps, self.kbps = width, height, fps, kbps
        encoder = av.CodecContext.create("libvpx", "w")
        encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
        encoder.time_base = fractions.Fraction(1, VIDEO_CLOCK)
        encoder.framerate = fractions.Fraction(fps).limit_denominator(1000)
        encoder.bit_rate = kbps * 1000
        encoder.options = {
            "deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0", "auto-alt-ref": "0", "error-resilient": "1",
            "minrate": str(kbps * 1000), "maxrate": str(kbps * 1000), "bufsize": str(kbps * 1000), "g": "1000000",
        }
        rng = np.random.default_rng(seed)
        self.packets: list[bytes] = []
        count = max(1, round(loop_s * fps))
        for k in range(count):
            planes = portrait.frame(k).astype(np.int16)
            planes[:height] += rng.normal(0.0, noise, (height, width)).round().astype(np.int16)  # the Y plane's rows
            frame = av.VideoFrame.from_ndarray(np.clip(planes, 0, 255).astype(np.uint8), format="yuv420p")
            frame.pts = round(k * VIDEO_CLOCK / fps)
            frame.time_base = encoder.time_base
            self.packets.extend(bytes(packet) for packet in encoder.encode(frame))
        self.packets.extend(bytes(packet) for packet in encoder.encode(None))
        self.loop_s = len(self.packets) / fps

    def kbps_coded(self) -> float:
        """The loop's bitrate as coded (what the server receives, before RTP headers)."""
        return sum(len(p) for p in self.packets) * 8 / self.loop_s / 1000

    def packet(self, index: int) -> bytes:
        return self.packets[index % len(self.packets)]


class EncodedCameraTrack(_PacedTrack):
    """Sends an :class:`EncodedCamera` in real time (aiortc packetizes it as is; nothing is encoded per candidate)."""

    kind = "video"

    def __init__(self, camera: EncodedCamera, *, clock: Callable[[], float] = time.perf_counter) -> None:
        super().__init__(1.0 / camera.fps, clock)
        self._camera = camera

    def sent_before(self, wall: float) -> float | None:
        """Wall time of the last frame sent at or before ``wall`` (the frame the server had then)."""
        return self.log.latest_before(wall)

    async def recv(self) -> av.Packet:
        await self._pace()
        index = self._count - 1  # every candidate starts on the loop's key frame: a decoder needs one first
        packet = av.Packet(self._camera.packet(index))
        packet.pts = round(index * VIDEO_CLOCK / self._camera.fps)
        packet.time_base = fractions.Fraction(1, VIDEO_CLOCK)
        return packet


@dataclass
class MediaKit:
    """What every candidate shares: decoded clips and the portrait frames."""

    clips: list[Clip]
    portrait: PortraitLoop | EncodedCamera
    pause_s: tuple[float, float] = (2.0, 4.0)
    speech: list[dict] = field(default_factory=list)

    @classmethod
    def load(
        cls,
        media_dir: Path = MEDIA_DIR,
        clip_names: Sequence[str] = DEFAULT_CLIPS,
        *,
        portrait: str = "obama.jpg",
        video_size: tuple[int, int] = (160, 120),
        video_fps: float = 10.0,
        pause_s: tuple[float, float] = (2.0, 4.0),
        camera: str = "synthetic",
        video_kbps: int = 300,
    ) -> MediaKit:
        """``camera``: "synthetic" (raw frames, VP8-encoded by each candidate's aiortc sender) or "browser" (:class:`EncodedCamera`)."""
        clips = load_clips([media_dir / name for name in clip_names])
        loop: PortraitLoop | EncodedCamera
        if camera == "browser":
            loop = EncodedCamera(media_dir / portrait, width=video_size[0], height=video_size[1], fps=video_fps, kbps=video_kbps)
        elif camera == "synthetic":
            loop = PortraitLoop(media_dir / portrait, width=video_size[0], height=video_size[1], fps=video_fps)
        else:
            raise ValueError(f"unknown camera {camera!r}")
        speech = [
            {"clip": c.name, "duration_s": round(c.duration_s, 3), "speech_start_s": round(c.speech_start_s, 3), "speech_end_s": round(c.speech_end_s, 3)}
            for c in clips
        ]
        return cls(clips, loop, pause_s, speech)

    def tracks(self, index: int, seed: int) -> tuple[AudioScriptTrack, PortraitTrack | EncodedCameraTrack]:
        """The tracks of candidate ``index`` (its own clip order, pauses and pan phase)."""
        script = AudioScript(self.clips, seed=seed * 1000 + index, first=index, pause_s=self.pause_s)
        if isinstance(self.portrait, EncodedCamera):
            return AudioScriptTrack(script), EncodedCameraTrack(self.portrait)
        return AudioScriptTrack(script), PortraitTrack(self.portrait, phase=index * 7)
