"""The models, loaded in a background thread at start-up: a 503 until they are ready."""

from __future__ import annotations

import logging
import threading
import time

from runtime.models import ModelConfig, Models
from runtime.runner import limit_blas_threads

from .metrics import Metrics
from .problems import Problem
from .settings import Settings

log = logging.getLogger("candor")


class ModelGate:
    """Hands out the models once loaded and warm; ``/healthz`` and WHIP ask it."""

    def __init__(self, models: Models | None, metrics: Metrics) -> None:
        self.metrics = metrics
        self.models: Models | None = models
        self.owns = models is None  # loaded here, so closed here
        if models is not None:  # shared models report to this app's metrics
            for runner in models.runners:
                runner.set_observer(metrics.observe_stage)
        self.error: str | None = None
        self.ready = threading.Event()
        self.ready_at = time.perf_counter()  # when the models became ready (perf_counter)
        if models is not None and models.warm:
            self.ready.set()

    def __call__(self) -> Models:
        if self.models is None or not self.ready.is_set():
            raise Problem(503, "Starting up", "models are still loading; try again shortly", headers={"Retry-After": "5"})
        return self.models

    def load(self, s: Settings, *, emotion: bool) -> None:
        """Load (unless given) and warm up; blocking: run it on a thread of its own."""
        try:
            if self.models is None:
                self.models = Models.load(
                    ModelConfig(
                        asr_model=s.asr_model,
                        asr_device=s.asr_device,
                        asr_compute_type=s.asr_compute_type,
                        asr_cpu_threads=s.asr_cpu_threads,
                        asr_workers=s.asr_workers,
                        asr_languages=tuple(s.asr_languages),
                        asr_beam_size=s.asr_beam_size,
                        asr_window=s.asr_window,
                        asr_encode_once=s.asr_encode_once,
                        asr_partial_batch=s.asr_partial_batch,
                        vad_batch=s.vad_batch,
                        vad_max_batch=s.vad_max_batch,
                        vad_max_wait_s=s.vad_max_wait_s,
                        vad_backend=s.vad_backend,
                        vad_device=s.vad_device,
                        emotion=emotion,
                        prosody_process=s.prosody_process,
                    ),
                    observe=self.metrics.observe_stage,
                )
            capped = limit_blas_threads(s.blas_threads)  # after loading: the models bring BLAS libraries of their own
            if capped:
                log.info("BLAS threads capped: %s", "; ".join(capped))
            if s.warmup and not self.models.warm:
                self.models.warmup()
            self.ready_at = time.perf_counter() + 1.0  # and the second after, while the loop catches up
            self.ready.set()
        except Exception as exc:
            self.error = str(exc)
            log.error("model loading failed: %s", exc)

    def close(self) -> None:
        if self.owns and self.models is not None:
            self.models.close()
