"""One session's analyzer graph over the shared runners.

audio -> VAD -> (speech.start/end) -> ASR      -> transcript events
      \\______________________________/^
video -> face                                   -> face events

The graph is itself an analyzer: ``push_audio``/``push_video`` never block,
``async for event in graph`` yields every analyzer's events in order of
arrival, and a failure anywhere surfaces to the reader.
"""

from __future__ import annotations

import asyncio
from typing import Any

from media.frames import AudioChunk, VideoFrame

from .asr import TranscriptAnalyzer
from .base import _END, Analyzer
from .events import SPEECH_END, SPEECH_START
from .models import Models
from .turns import TurnConfig
from .vad import VadAnalyzer


class AnalyzerGraph(Analyzer):
    name = "graph"

    def __init__(
        self,
        models: Models,
        *,
        turn_config: TurnConfig | None = None,
        partial_interval_s: float = 1.0,
        face_interval_s: float = 0.5,
    ) -> None:
        super().__init__(input_maxsize=1)
        self.vad = VadAnalyzer(models.vad, turn_config)
        self.asr = TranscriptAnalyzer(models.asr, partial_interval_s=partial_interval_s)
        self.face: Analyzer | None = None
        if models.face is not None:
            from .face import FaceAnalyzer

            self.face = FaceAnalyzer(models.face, interval_s=face_interval_s)
        self._pumps: list[asyncio.Task[Any]] = []

    @property
    def stages(self) -> list[Analyzer]:
        return [a for a in (self.vad, self.asr, self.face) if a is not None]

    def push_audio(self, chunk: AudioChunk) -> None:
        self._start()
        self.vad.push(chunk)
        self.asr.push(chunk)

    def push_video(self, frame: VideoFrame) -> None:
        self._start()
        if self.face is not None:
            self.face.push(frame)

    def push(self, item: Any) -> None:
        if isinstance(item, AudioChunk):
            self.push_audio(item)
        elif isinstance(item, VideoFrame):
            self.push_video(item)
        else:
            raise TypeError(f"graph takes AudioChunk or VideoFrame, not {type(item).__name__}")

    def flush(self) -> None:
        self._start()
        self.vad.flush()

    def end_input(self) -> None:
        if self._ended:
            return
        self._ended = True
        self._start()
        self.vad.end_input()  # the VAD pump ends the ASR after the last boundary
        if self.face is not None:
            self.face.end_input()

    async def aclose(self) -> None:
        for stage in self.stages:
            await stage.aclose()
        for pump in self._pumps:
            pump.cancel()
        await super().aclose()

    def _start(self) -> None:
        if self._pumps:
            return
        self._pumps = [self.spawn(self._pump_vad(), "vad"), self.spawn(self._pump(self.asr), "asr")]
        if self.face is not None:
            self._pumps.append(self.spawn(self._pump(self.face), "face"))
        self.spawn(self._finish_when_done(), "join")

    async def _pump_vad(self) -> None:
        async for event in self.vad:
            if event.type in (SPEECH_START, SPEECH_END):
                self.asr.push(event)
            self.emit(event)
        self.asr.end_input()

    async def _pump(self, stage: Analyzer) -> None:
        async for event in stage:
            self.emit(event)

    async def _finish_when_done(self) -> None:
        await asyncio.gather(*self._pumps)
        self._output.put_nowait(_END)
