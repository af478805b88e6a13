"""Tests for media/clock.py: the session's media clock on a virtual clock."""

from __future__ import annotations

import random

import pytest

from media.clock import MediaClock
from media.frames import CHUNK_SAMPLES, SAMPLE_RATE

CHUNK_S = CHUNK_SAMPLES / SAMPLE_RATE  # 0.032


class VirtualClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, start: float = 1000.0) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def now() -> VirtualClock:
    return VirtualClock()


def stream(clock: MediaClock, now: VirtualClock, n_chunks: int, *, real_time: bool = True) -> list[float]:
    """Deliver ``n_chunks`` chunks, the wall clock moving in step if real_time."""
    stamps = []
    for _ in range(n_chunks):
        stamps.append(clock.stamp_audio(CHUNK_SAMPLES))
        if real_time:
            now.advance(CHUNK_S)
    return stamps


def test_time_starts_at_zero_at_the_first_audio_sample(now: VirtualClock) -> None:
    clock = MediaClock(now=now)
    assert not clock.started
    assert clock.elapsed() == 0.0
    now.advance(5.0)  # the connection took a while to bring audio
    assert clock.elapsed() == 0.0
    assert clock.stamp_audio(CHUNK_SAMPLES) == 0.0
    assert clock.started
    assert clock.audio_time == pytest.approx(CHUNK_S)


def test_audio_time_advances_by_samples_not_by_wall_time(now: VirtualClock) -> None:
    clock = MediaClock(now=now)
    # wall time does not move at all: a burst of buffered audio
    stamps = [clock.stamp_audio(CHUNK_SAMPLES) for _ in range(20)]
    assert stamps == pytest.approx([i * CHUNK_S for i in range(20)])
    # frames of other sizes advance by their own length
    start = clock.stamp_audio(160)
    assert start == pytest.approx(20 * CHUNK_S)
    assert clock.audio_time == pytest.approx(20 * CHUNK_S + 160 / SAMPLE_RATE)


def test_network_jitter_below_the_resync_limit_does_not_move_audio_time(now: VirtualClock) -> None:
    clock = MediaClock(now=now, resync_after_s=1.0)
    stamps = []
    rng = random.Random(7)
    for _ in range(200):
        stamps.append(clock.stamp_audio(CHUNK_SAMPLES))
        now.advance(CHUNK_S + rng.uniform(-0.02, 0.02))
    now.advance(0.6)  # a hiccup shorter than resync_after_s
    stamps.append(clock.stamp_audio(CHUNK_SAMPLES))
    assert stamps == pytest.approx([i * CHUNK_S for i in range(201)])


def test_video_stamps_use_elapsed_wall_time(now: VirtualClock) -> None:
    clock = MediaClock(now=now)
    assert clock.stamp_video() == 0.0  # video before any audio
    now.advance(3.0)
    assert clock.stamp_video() == 0.0
    clock.stamp_audio(CHUNK_SAMPLES)  # time 0 is here
    now.advance(2.5)
    assert clock.stamp_video() == pytest.approx(2.5)
    # video follows wall time even while audio is bursty
    stream(clock, now, 100, real_time=False)
    assert clock.stamp_video() == pytest.approx(2.5)
    now.advance(0.25)
    assert clock.stamp_video() == pytest.approx(2.75)


def test_reconnect_after_a_pause_resumes_at_the_elapsed_wall_time(now: VirtualClock) -> None:
    clock = MediaClock(now=now)
    stream(clock, now, 50)  # 1.6 s of audio in real time
    assert clock.audio_time == pytest.approx(1.6)
    now.advance(10.0)  # the candidate's network dropped for 10 s
    clock.begin_connection()
    assert clock.stamp_audio(CHUNK_SAMPLES) == pytest.approx(11.6)
    # and continues by samples from there
    assert clock.stamp_audio(CHUNK_SAMPLES) == pytest.approx(11.6 + CHUNK_S)


def test_reconnect_never_moves_time_backwards(now: VirtualClock) -> None:
    clock = MediaClock(now=now)
    # 3.2 s of audio arrived in 1 s of wall time (a buffered burst)
    stream(clock, now, 100, real_time=False)
    now.advance(1.0)
    clock.begin_connection()
    assert clock.stamp_audio(CHUNK_SAMPLES) == pytest.approx(3.2)


def test_a_stall_longer_than_resync_within_a_connection_jumps_forward(now: VirtualClock) -> None:
    clock = MediaClock(now=now, resync_after_s=1.0)
    stream(clock, now, 50)  # to 1.6 s
    now.advance(4.0)  # the track was muted: no audio for 4 s
    assert clock.stamp_audio(CHUNK_SAMPLES) == pytest.approx(5.6)
    assert clock.stamp_audio(CHUNK_SAMPLES) == pytest.approx(5.6 + CHUNK_S)
    assert clock.resyncs == 1  # counted: /metrics shows candor_media_clock_resyncs_total


def test_time_is_monotonic_and_gapless_within_segments_across_reconnects(now: VirtualClock) -> None:
    clock = MediaClock(now=now, resync_after_s=1.0)
    rng = random.Random(1)
    stamps: list[float] = []
    lags: list[float] = []
    videos: list[float] = []
    for connection in range(12):
        if connection:
            now.advance(rng.choice([0.0, 0.3, 2.0, 7.5]))
            clock.begin_connection()
        for _ in range(rng.randint(1, 80)):
            wall = clock.elapsed()
            stamps.append(clock.stamp_audio(CHUNK_SAMPLES))
            lags.append(wall - stamps[-1])
            # sometimes slower, sometimes faster than real time, sometimes stalled
            now.advance(rng.choice([CHUNK_S, CHUNK_S, 0.0, 0.05, 1.5]))
            videos.append(clock.stamp_video())
    for earlier, later in zip(stamps, stamps[1:]):
        assert later >= earlier + CHUNK_S - 1e-9  # chunks never overlap
    for earlier, later in zip(videos, videos[1:]):
        assert later >= earlier
    # audio never falls behind wall time by more than the resync limit
    assert max(lags) <= 1.0 + 1e-9
    # the stalls and pauses did happen, and the timeline jumped over them
    assert max(b - a for a, b in zip(stamps, stamps[1:])) > 1.0


def test_a_reloaded_session_resumes_where_its_log_stopped(now: VirtualClock) -> None:
    """After a server restart the timeline carries on from the log's last media time."""
    clock = MediaClock(now=now)
    clock.resume_at(42.5)
    assert clock.audio_time == 42.5
    now.advance(3.0)  # the candidate reconnects 3 s later
    clock.begin_connection()
    first = clock.stamp_audio(CHUNK_SAMPLES)
    assert first == pytest.approx(45.5)
    assert stream(clock, now, 3)[0] == pytest.approx(45.5 + CHUNK_S)
    clock.resume_at(10.0)  # never backwards
    assert clock.audio_time > 45.5
