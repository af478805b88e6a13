"""The process's ASR runner: one Whisper model, its decoder and the scheduler every session shares."""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

from media.frames import SAMPLE_RATE

from .decode import PartialRequest, Recognition, WhisperDecoder
from .options import DecodeOptions
from .scheduler import PARTIAL, DecodeScheduler


class AsrRunner(DecodeScheduler):
    """The process's Whisper model; decodes on its own worker threads.

    Decodes go through the :class:`~analyzers.asr.scheduler.DecodeScheduler`
    (finals before partials, stale partials skipped, partials batched when
    ``partial_batch`` > 1) and are done by a
    :class:`~analyzers.asr.decode.WhisperDecoder` with ``options``
    (``beam_size``, where given, replaces the options' beam: 1 by default).
    """

    name = "asr"

    def __init__(
        self,
        model: Any,
        *,
        model_name: str,
        languages: Sequence[str] = ("zh", "en"),
        beam_size: int | None = None,
        partial_batch: int = 1,
        partial_batch_span_s: float = 2.0,
        options: DecodeOptions | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(partial_batch=partial_batch, partial_batch_span_s=partial_batch_span_s, **kwargs)
        self.model_name = model_name
        options = options if options is not None else DecodeOptions()
        if beam_size is not None:
            options = dataclasses.replace(options, beam_size=beam_size)
        self.decoder = WhisperDecoder(model, languages=languages, options=options)

    @property
    def model(self) -> Any:
        """faster-whisper's ``WhisperModel``."""
        return self.decoder.model

    @property
    def languages(self) -> tuple[str, ...]:
        return self.decoder.languages

    @property
    def options(self) -> DecodeOptions:
        return self.decoder.options

    @property
    def repetitions(self) -> int:
        """Finals decoded again because they looped."""
        return self.decoder.repetitions

    def recognize(
        self,
        audio: np.ndarray,
        *,
        language: str | None = None,
        words: bool = True,
        hotwords: str | None = None,
    ) -> Recognition:
        """Transcribe one utterance (blocking; runs on the runner's thread)."""
        return self.decoder.recognize(audio, language=language, words=words, hotwords=hotwords)

    def recognize_batch(self, requests: Sequence[PartialRequest]) -> list[Recognition]:
        """Decode several partials in one model call (blocking): :meth:`WhisperDecoder.recognize_batch`."""
        return self.decoder.recognize_batch(requests)

    async def partial_recognition(
        self, audio: np.ndarray, *, stream: Hashable, language: str | None = None, hotwords: str | None = None
    ) -> Recognition | None:
        """A partial's decode (no word timings), batched with other sessions' when ``partial_batch`` > 1."""
        request = PartialRequest(audio, language, hotwords)
        return await self._schedule(
            PARTIAL,
            lambda: self.recognize(audio, language=language, words=False, hotwords=hotwords),
            stream,
            request,
        )

    def warmup(self) -> None:
        # 10 s, so that the encoder's buffers are about as large as a long
        # answer's before the first candidate comes (they stay allocated).
        t = np.arange(10 * SAMPLE_RATE, dtype=np.float32) / SAMPLE_RATE
        tone = (0.1 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
        # On every worker at once (the runner's own threads), so that each
        # has its buffers before the first candidate.
        for future in [self._executor.submit(self.recognize, tone, words=True) for _ in range(self.workers)]:
            future.result()
