"""The process's shared model runners: loaded once, warmed, closed at exit.

This is the composition root for models: :meth:`Models.load` is the one place
that knows every runner (VAD, ASR, face, expression, prosody from analyzers/;
the sentence encoder from scoring/), and imports each inside the function, so
that neither analyzers/ nor scoring/ imports the other.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass
class ModelConfig:
    asr_model: str = "base"
    asr_device: str = "cpu"
    asr_compute_type: str = "int8"
    asr_cpu_threads: int = 0
    asr_workers: int = 0  # 0: asr_workers_for(device)
    asr_languages: tuple[str, ...] = ("zh", "en")
    asr_beam_size: int = 1
    asr_window: str = "trim"
    asr_encode_once: bool = True  # False: faster-whisper's two encoder passes when detecting the language
    asr_partial_batch: int = 1  # > 1: batch partials across sessions (prototype)
    vad_batch: bool = True  # one silero call for the sessions whose chunks are queued together
    vad_max_batch: int = 32
    vad_max_wait_s: float = 0.0  # a window to gather more (pays with many sessions, or on a GPU)
    vad_backend: str = "onnx"  # "torch": silero's TorchScript model, needed for CUDA
    vad_device: str = "cpu"
    face: bool = True
    scoring: bool = True  # the sentence encoder for content scoring
    # Facial expression (with face) and voice prosody. A deployment whose
    # policy never runs emotion inference (the eu profile) sets it False.
    emotion: bool = True
    prosody_process: bool = True  # Praat in a child process (it holds the GIL); False: on a thread


def asr_workers_for(device: str) -> int:
    """Whisper decodes at once by default: one per core (up to 8) on CPU, one on a GPU.

    On CPU one single-threaded decode per core beat one decode on every core
    under load (benchmarks/README.md, "ASR workers": finals 1.5-3x sooner at
    4-6 candidates on 2 cores, and less CPU): small matrices keep threads
    waiting on each other, and a final never queues behind a partial.
    """
    if device != "cpu":
        return 1
    return max(1, min(8, os.cpu_count() or 1))


def load_asr(config: ModelConfig, observe: Callable[[str, float], None] | None = None) -> Any:
    """Whisper and the runner that schedules its decodes, as ``config`` says (an ``AsrRunner``)."""
    from analyzers.asr import AsrRunner, load_whisper

    asr_workers = config.asr_workers or asr_workers_for(config.asr_device)
    whisper = load_whisper(
        config.asr_model,
        device=config.asr_device,
        compute_type=config.asr_compute_type,
        cpu_threads=config.asr_cpu_threads,
        window=config.asr_window,
        encode_once=config.asr_encode_once,
        workers=asr_workers,
    )
    return AsrRunner(
        whisper,
        model_name=config.asr_model,
        languages=config.asr_languages,
        beam_size=config.asr_beam_size,
        partial_batch=config.asr_partial_batch,
        workers=asr_workers,
        observe=observe,
    )


class Models:
    """VAD, ASR, face, expression and prosody runners shared by every session in the process."""

    def __init__(
        self,
        vad: Any,
        asr: Any,
        face: Any | None,
        encoder: Any | None = None,
        expression: Any | None = None,
        prosody: Any | None = None,
    ) -> None:
        self.vad = vad
        self.asr = asr
        self.face = face
        self.encoder = encoder
        self.expression = expression
        self.prosody = prosody
        self.warm = False

    @property
    def runners(self) -> list[Any]:
        candidates = (self.vad, self.asr, self.face, self.encoder, self.expression, self.prosody)
        return [r for r in candidates if r is not None]

    @classmethod
    def load(cls, config: ModelConfig, observe: Callable[[str, float], None] | None = None) -> Models:
        from analyzers.vad import VadRunner

        started = time.perf_counter()
        vad = VadRunner(
            batch=config.vad_batch,
            max_batch=config.vad_max_batch,
            max_wait_s=config.vad_max_wait_s,
            backend=config.vad_backend,
            device=config.vad_device,
            observe=observe,
        )
        asr = load_asr(config, observe=observe)
        face = None
        if config.face:
            from analyzers.face import FaceRunner

            face = FaceRunner(observe=observe)
        encoder = None
        if config.scoring:
            from scoring.encoder import SentenceEncoder

            encoder = SentenceEncoder(observe=observe)
        expression = prosody = None
        if config.emotion:
            from analyzers.prosody import ProsodyRunner

            if face is not None:
                from analyzers.expression import ExpressionRunner

                expression = ExpressionRunner(observe=observe)
            prosody = ProsodyRunner(process=config.prosody_process, observe=observe)
        log.info("models loaded in %.1f s (asr=%s)", time.perf_counter() - started, config.asr_model)
        return cls(vad, asr, face, encoder, expression=expression, prosody=prosody)

    def warmup(self) -> None:
        started = time.perf_counter()
        for runner in self.runners:
            runner.warmup()
        self.warm = True
        log.info("models warm in %.1f s", time.perf_counter() - started)

    def close(self) -> None:
        for runner in self.runners:
            runner.close()
