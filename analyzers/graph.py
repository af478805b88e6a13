"""One session's analyzer graph over the shared runners.

audio -> VAD -> (speech.start/end) -> ASR      -> transcript events
      \\______________________________/^
      \\______________________________> prosody -> voice.affect
video -> face (-> expression)                   -> face and expression events

The graph is itself an analyzer: ``push_audio``/``push_video`` never block,
``async for event in graph`` yields every analyzer's events in order of
arrival, and a failure anywhere surfaces to the reader.

What runs follows the candidate's consent and the deployment's policy:
``voice=False`` analyses no audio at all (no VAD, ASR or prosody: ``vad``,
``asr`` and ``prosody`` are ``None`` and ``push_audio`` drops the chunk
without counting it, since that is consent, not overload); ``face=False``
has no face analyzer (``face`` is ``None``, ``push_video`` ignores frames);
``emotion=False`` runs neither the expression classifier nor the prosody
stage, even when the models have them. A graph with nothing to run still
ends only on ``end_input()`` or ``aclose()``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from media.frames import AudioChunk, VideoFrame
from runtime.models import Models

from .asr import TranscriptAnalyzer
from .base import _END, Analyzer
from events import SPEECH_END, SPEECH_PAUSE, SPEECH_START
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
        partial_interval_max_s: float | None = None,
        partials: Callable[[], bool] | None = None,
        face_interval_s: float = 0.5,
        face_fps: float | None = None,
        voice: bool = True,
        face: bool = True,
        emotion: bool = True,
        speculate: bool = True,
    ) -> None:
        super().__init__(input_maxsize=1)
        self.vad: VadAnalyzer | None = None
        self.asr: TranscriptAnalyzer | None = None
        self.prosody: Analyzer | None = None
        if voice:
            self.vad = VadAnalyzer(models.vad, turn_config)
            self.asr = TranscriptAnalyzer(
                models.asr,
                partial_interval_s=partial_interval_s,
                partial_interval_max_s=partial_interval_max_s,
                partials=partials,
                speculate=speculate,
            )
            prosody_runner = getattr(models, "prosody", None)
            if emotion and prosody_runner is not None:
                from .prosody import ProsodyAnalyzer

                self.prosody = ProsodyAnalyzer(prosody_runner)
        self.face: Analyzer | None = None
        if face and models.face is not None:
            from .face import FaceAnalyzer

            expression_runner = getattr(models, "expression", None) if emotion else None
            self.face = FaceAnalyzer(models.face, interval_s=face_interval_s, expression=expression_runner, fps=face_fps)
        self._pumps: list[asyncio.Task[Any]] = []
        self._started = False
        self._input_ended = asyncio.Event()

    @property
    def stages(self) -> list[Analyzer]:
        return [a for a in (self.vad, self.asr, self.prosody, self.face) if a is not None]

    @property
    def speech_stages(self) -> list[Analyzer]:
        """The stages that take audio (none when voice is off)."""
        return [a for a in (self.vad, self.asr, self.prosody) if a is not None]

    def push_audio(self, chunk: AudioChunk) -> None:
        self._start()
        if self.vad is None:
            return  # no consent to analyse the voice: not a drop
        self.vad.push(chunk)
        for stage in (self.asr, self.prosody):
            if stage is not None:
                stage.push(chunk)

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
        if self.vad is not None:
            self.vad.flush()

    def end_input(self) -> None:
        if self._ended:
            return
        self._ended = True
        self._input_ended.set()
        self._start()
        if self.vad is not None:
            self.vad.end_input()  # the VAD pump ends the ASR and prosody after the last boundary
        if self.face is not None:
            self.face.end_input()

    async def aclose(self) -> None:
        for stage in self.stages:
            await stage.aclose()
        for pump in self._pumps:
            pump.cancel()
        await super().aclose()

    def _start(self) -> None:
        if self._started:
            return
        self._started = True
        if self.vad is not None:
            self._pumps.append(self.spawn(self._pump_vad(), "vad"))
        for stage in (self.asr, self.prosody, self.face):
            if stage is not None:
                self._pumps.append(self.spawn(self._pump(stage), stage.name))
        self.spawn(self._finish_when_done(), "join")

    async def _pump_vad(self) -> None:
        assert self.vad is not None
        followers = [stage for stage in (self.asr, self.prosody) if stage is not None]
        async for event in self.vad:
            if event.type == SPEECH_PAUSE:  # internal: only ASR uses it, to start the final early
                if self.asr is not None:
                    self.asr.push(event)
                continue
            if event.type in (SPEECH_START, SPEECH_END):
                for stage in followers:
                    stage.push(event)
            self.emit(event)
        for stage in followers:
            stage.end_input()

    async def _pump(self, stage: Analyzer) -> None:
        async for event in stage:
            self.emit(event)

    async def _finish_when_done(self) -> None:
        if not self._pumps:  # nothing consented to run: end with the input
            await self._input_ended.wait()
        await asyncio.gather(*self._pumps)
        self._output.put_nowait(_END)
