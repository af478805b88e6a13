"""Tests for media/audio.py (AudioChunker) and media/ingest.py (MediaIngest)
with real PyAV frames built from numpy."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest

from media.audio import AudioChunker
from media.clock import MediaClock
from media.frames import CHUNK_SAMPLES, SAMPLE_RATE, AudioChunk, VideoFrame
from media.ingest import MediaIngest

TONE_HZ = 440.0
ODD_FRAME_SIZES = [997, 480, 1234, 313, 960, 77]


def sine(rate: int, seconds: float, amplitude: float = 0.5, hz: float = TONE_HZ) -> np.ndarray:
    n = int(round(rate * seconds))
    return amplitude * np.sin(2 * np.pi * hz * np.arange(n) / rate)


def audio_frames(signal: np.ndarray, rate: int, layout: str, fmt: str, sizes: list[int]) -> list[av.AudioFrame]:
    """Cut a mono signal into frames of the given sizes, as ``layout``/``fmt``."""
    channels = 2 if layout == "stereo" else 1
    frames = []
    i = k = 0
    while i < len(signal):
        part = signal[i : i + sizes[k % len(sizes)]]
        k += 1
        if fmt == "s16":  # packed: one plane, channels interleaved
            pcm = np.round(part * 32767).astype(np.int16)
            array = np.repeat(pcm, channels).reshape(1, -1)
        elif fmt == "fltp":  # planar: one plane per channel
            array = np.tile(part.astype(np.float32), (channels, 1))
        else:
            raise ValueError(fmt)
        frame = av.AudioFrame.from_ndarray(array, format=fmt, layout=layout)
        frame.sample_rate = rate
        frame.pts = i
        frame.time_base = Fraction(1, rate)  # as aiortc stamps decoded frames
        frames.append(frame)
        i += len(part)
    return frames


def dominant_hz(samples: np.ndarray, rate: int = SAMPLE_RATE) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[np.argmax(spectrum)])


FORMATS = [
    pytest.param(48_000, "stereo", "s16", id="48k-stereo-s16"),
    pytest.param(44_100, "mono", "fltp", id="44k1-mono-fltp"),
    pytest.param(16_000, "mono", "fltp", id="16k-mono-fltp"),
]


# -- AudioChunker -----------------------------------------------------------
@pytest.mark.parametrize(("rate", "layout", "fmt"), FORMATS)
def test_chunker_outputs_16k_mono_float32_chunks_of_512(rate: int, layout: str, fmt: str) -> None:
    seconds = 2.0
    chunker = AudioChunker()
    chunks = []
    for frame in audio_frames(sine(rate, seconds), rate, layout, fmt, ODD_FRAME_SIZES):
        chunks.extend(chunker.feed(frame))

    assert chunks
    for chunk in chunks:
        assert chunk.shape == (CHUNK_SAMPLES,)
        assert chunk.dtype == np.float32
    total = len(chunks) * CHUNK_SAMPLES
    assert abs(total - seconds * SAMPLE_RATE) < CHUNK_SAMPLES

    audio = np.concatenate(chunks)
    assert dominant_hz(audio) == pytest.approx(TONE_HZ, abs=10)


@pytest.mark.parametrize(
    ("rate", "layout", "fmt"),
    [
        pytest.param(
            48_000,
            "stereo",
            "s16",
            id="48k-stereo-s16",
        ),
        pytest.param(44_100, "mono", "fltp", id="44k1-mono-fltp"),
    ],
)
def test_chunker_preserves_amplitude(rate: int, layout: str, fmt: str) -> None:
    chunker = AudioChunker()
    chunks = []
    for frame in audio_frames(sine(rate, 1.0, amplitude=0.5), rate, layout, fmt, ODD_FRAME_SIZES):
        chunks.extend(chunker.feed(frame))
    audio = np.concatenate(chunks)[1000:-1000]  # away from resampler edges
    assert np.max(np.abs(audio)) == pytest.approx(0.5, rel=0.05)
    rms = float(np.sqrt(np.mean(audio.astype(np.float64) ** 2)))
    assert rms == pytest.approx(0.5 / np.sqrt(2), rel=0.05)


def test_full_scale_stereo_stays_within_minus_one_to_one() -> None:
    chunker = AudioChunker()
    chunks = []
    for frame in audio_frames(sine(48_000, 0.5, amplitude=0.95), 48_000, "stereo", "s16", [960]):
        chunks.extend(chunker.feed(frame))
    assert np.max(np.abs(np.concatenate(chunks))) <= 1.0


def test_chunker_is_gapless_across_frames() -> None:
    # 16 kHz mono float in: no resampling, so the output is exactly the input
    signal = sine(SAMPLE_RATE, 1.0)
    chunker = AudioChunker()
    chunks = []
    for frame in audio_frames(signal, SAMPLE_RATE, "mono", "fltp", ODD_FRAME_SIZES):
        chunks.extend(chunker.feed(frame))
    audio = np.concatenate(chunks)
    assert len(audio) == len(signal) // CHUNK_SAMPLES * CHUNK_SAMPLES
    np.testing.assert_allclose(audio, signal[: len(audio)], atol=1e-6)


def test_reset_drops_leftover_samples() -> None:
    old = np.full(700, -0.25)  # one chunk out, 188 samples left over
    new = np.full(CHUNK_SAMPLES, 0.25)

    kept = AudioChunker()
    assert len(kept.feed(audio_frames(old, SAMPLE_RATE, "mono", "fltp", [700])[0])) == 1
    (chunk,) = kept.feed(audio_frames(new, SAMPLE_RATE, "mono", "fltp", [CHUNK_SAMPLES])[0])
    np.testing.assert_allclose(chunk[:188], -0.25)  # without reset the leftover comes first

    chunker = AudioChunker()
    chunker.feed(audio_frames(old, SAMPLE_RATE, "mono", "fltp", [700])[0])
    chunker.reset()
    (chunk,) = chunker.feed(audio_frames(new, SAMPLE_RATE, "mono", "fltp", [CHUNK_SAMPLES])[0])
    np.testing.assert_allclose(chunk, 0.25)


def test_reset_accepts_a_new_stream_format() -> None:
    chunker = AudioChunker()
    for frame in audio_frames(sine(48_000, 0.2), 48_000, "stereo", "s16", [960]):
        chunker.feed(frame)
    chunker.reset()  # a new connection may bring another rate and layout
    chunks = []
    for frame in audio_frames(sine(44_100, 1.0), 44_100, "mono", "fltp", [441]):
        chunks.extend(chunker.feed(frame))
    assert dominant_hz(np.concatenate(chunks)) == pytest.approx(TONE_HZ, abs=10)


# -- MediaIngest: audio -------------------------------------------------------
class VirtualClock:
    def __init__(self, start: float = 500.0) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t


def make_ingest(now: VirtualClock, **kwargs) -> tuple[MediaIngest, list[AudioChunk], list[VideoFrame]]:
    audio: list[AudioChunk] = []
    video: list[VideoFrame] = []
    ingest = MediaIngest(
        on_audio=audio.append, on_video=video.append, clock=MediaClock(now=now), now=now, **kwargs
    )
    return ingest, audio, video


def test_ingest_audio_becomes_consecutive_32ms_chunks() -> None:
    now = VirtualClock()
    ingest, audio, _ = make_ingest(now)
    # 2 s of Opus-like input: 20 ms frames of 48 kHz stereo s16
    for frame in audio_frames(sine(48_000, 2.0), 48_000, "stereo", "s16", [960]):
        ingest.audio_frame(frame)
        now.t += 0.02

    assert len(audio) == ingest.audio_chunks
    assert abs(len(audio) * CHUNK_SAMPLES - 2.0 * SAMPLE_RATE) < CHUNK_SAMPLES
    assert [c.media_time for c in audio] == pytest.approx([i * 0.032 for i in range(len(audio))])
    for chunk in audio:
        assert chunk.samples.shape == (CHUNK_SAMPLES,)
        assert chunk.samples.dtype == np.float32
        assert chunk.duration == pytest.approx(0.032)
    assert audio[3].end_time == pytest.approx(audio[4].media_time)
    assert dominant_hz(np.concatenate([c.samples for c in audio])) == pytest.approx(TONE_HZ, abs=10)


# -- MediaIngest: video -------------------------------------------------------
def solid(value: int, height: int = 48, width: int = 64) -> av.VideoFrame:
    image = np.zeros((height, width, 3), dtype=np.uint8)
    image[..., 0] = value
    image[..., 1] = 255 - value
    image[..., 2] = 7
    return av.VideoFrame.from_ndarray(image, format="rgb24")


def test_ingest_samples_video_at_the_configured_rate() -> None:
    now = VirtualClock()
    ingest, _, video = make_ingest(now, video_fps=4.0)  # one frame per 0.25 s
    start = now.t
    # a 8 fps camera for 1 s: frames 0.125 s apart, each a different colour
    for k in range(8):
        now.t = start + k * 0.125
        ingest.video_frame(solid(10 * k))

    # only the first frame after each interval passes: 0, 0.25, 0.5, 0.75
    assert [int(f.image[0, 0, 0]) for f in video] == [0, 20, 40, 60]
    assert ingest.video_frames_in == 8
    assert ingest.video_frames_sampled == 4
    for f in video:
        assert f.image.dtype == np.uint8
        assert f.image.shape == (48, 64, 3)
    np.testing.assert_array_equal(video[1].image, solid(20).to_ndarray(format="rgb24"))


def test_ingest_video_frames_are_stamped_with_media_time() -> None:
    now = VirtualClock()
    ingest, _, video = make_ingest(now, video_fps=4.0)
    ingest.video_frame(solid(1))  # before any audio: time 0
    for frame in audio_frames(sine(48_000, 0.1), 48_000, "stereo", "s16", [960]):
        ingest.audio_frame(frame)  # the first audio sample defines time 0
    now.t += 1.5
    ingest.video_frame(solid(2))
    assert [f.media_time for f in video] == pytest.approx([0.0, 1.5])


def test_ingest_begin_connection_lets_the_next_video_frame_through() -> None:
    now = VirtualClock()
    ingest, _, video = make_ingest(now, video_fps=1.0)
    ingest.video_frame(solid(1))
    now.t += 0.1
    ingest.video_frame(solid(2))
    assert len(video) == 1
    ingest.begin_connection()
    ingest.video_frame(solid(3))
    assert [int(f.image[0, 0, 0]) for f in video] == [1, 3]


@pytest.mark.parametrize(
    ("size", "expected"),
    [((1280, 720), (360, 640)), ((1000, 750), (480, 640)), ((1920, 1080), (360, 640))],
)
def test_ingest_scales_wide_frames_down_to_max_width(size: tuple[int, int], expected: tuple[int, int]) -> None:
    width, height = size
    now = VirtualClock()
    ingest, _, video = make_ingest(now, max_video_width=640)
    ingest.video_frame(solid(200, height=height, width=width))
    (frame,) = video
    assert frame.image.shape == (*expected, 3)
    assert frame.image.dtype == np.uint8
    # the picture survives scaling: the colour is the same everywhere
    for channel, value in enumerate([200, 55, 7]):
        assert np.abs(frame.image[..., channel].astype(int) - value).max() <= 3


def test_ingest_keeps_frames_at_or_below_max_width() -> None:
    now = VirtualClock()
    ingest, _, video = make_ingest(now, max_video_width=640)
    ingest.video_frame(solid(90, height=480, width=640))
    assert video[0].image.shape == (480, 640, 3)
    np.testing.assert_array_equal(video[0].image, solid(90, height=480, width=640).to_ndarray(format="rgb24"))


def test_ingest_video_rate_matches_video_fps_for_a_jittery_camera() -> None:
    now = VirtualClock(0.0)
    ingest, _, video = make_ingest(now, video_fps=5.0)
    rng = np.random.default_rng(0)
    for k in range(100):  # 10 s of a 10 fps camera, +-2 ms network jitter
        now.t = k / 10 + rng.uniform(-0.002, 0.002)
        ingest.video_frame(solid(k % 256))
    assert len(video) == pytest.approx(50, abs=3)


def test_ingest_keeps_every_frame_of_a_camera_at_exactly_video_fps() -> None:
    # The candidate page caps the browser's camera at video_fps: jitter must not halve what is analysed.
    now = VirtualClock(0.0)
    ingest, _, video = make_ingest(now, video_fps=5.0)
    rng = np.random.default_rng(1)
    for k in range(50):  # 10 s of a 5 fps sender, +-20 ms network jitter
        now.t = k / 5 + rng.uniform(-0.02, 0.02)
        ingest.video_frame(solid(k % 256))
    assert len(video) == 50


def test_ingest_never_samples_faster_than_video_fps() -> None:
    # A frame may come early for its slot, but the slots stay video_fps apart: a 30 fps camera still gives 5 a second.
    now = VirtualClock(0.0)
    ingest, _, video = make_ingest(now, video_fps=5.0)
    rng = np.random.default_rng(2)
    for k in range(300):  # 10 s at 30 fps, +-5 ms jitter
        now.t = k / 30 + rng.uniform(-0.005, 0.005)
        ingest.video_frame(solid(k % 256))
    assert 49 <= len(video) <= 51
