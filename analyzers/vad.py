"""Voice activity: silero-vad (ONNX) shared by all sessions.

The ONNX model takes its recurrent state as an input and returns the next
one, so one loaded model serves every session: each stream keeps its own
:class:`VadStream` (state and 64-sample context) and the runner is
stateless. ``speech.start`` / ``speech.end`` come from the pure
:class:`~analyzers.turns.TurnSegmenter`.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from media.frames import CHUNK_SAMPLES, SAMPLE_RATE, AudioChunk

from .base import Analyzer, ModelRunner
from .events import SPEECH_END, SPEECH_START, AnalyzerEvent
from .turns import TurnConfig, TurnEnd, TurnSegmenter, TurnStart

CONTEXT_SAMPLES = 64


def silero_onnx_path() -> Path:
    spec = importlib.util.find_spec("silero_vad")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("silero-vad is not installed: pip install silero-vad==6.2.3")
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "silero_vad.onnx"
    if not path.is_file():
        raise RuntimeError(f"silero-vad's ONNX model is missing at {path}: reinstall silero-vad==6.2.3")
    return path


@dataclass
class VadStream:
    """One audio stream's recurrent state."""

    state: np.ndarray = field(default_factory=lambda: np.zeros((2, 1, 128), dtype=np.float32))
    context: np.ndarray = field(default_factory=lambda: np.zeros((1, CONTEXT_SAMPLES), dtype=np.float32))


class VadRunner(ModelRunner):
    name = "vad"

    def __init__(self, path: Path | None = None, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        import onnxruntime

        opts = onnxruntime.SessionOptions()
        opts.inter_op_num_threads = 1
        opts.intra_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(
            str(path or silero_onnx_path()), sess_options=opts, providers=["CPUExecutionProvider"]
        )
        self._sr = np.array(SAMPLE_RATE, dtype=np.int64)

    def probabilities(self, stream: VadStream, chunks: list[np.ndarray]) -> list[float]:
        """Speech probability of consecutive 512-sample chunks (blocking)."""
        out: list[float] = []
        for chunk in chunks:
            x = np.concatenate([stream.context, chunk.reshape(1, CHUNK_SAMPLES).astype(np.float32)], axis=1)
            prob, stream.state = self._session.run(None, {"input": x, "state": stream.state, "sr": self._sr})
            stream.context = x[:, -CONTEXT_SAMPLES:]
            out.append(float(prob.reshape(-1)[0]))
        return out

    def warmup(self) -> None:
        self.probabilities(VadStream(), [np.zeros(CHUNK_SAMPLES, dtype=np.float32)] * 4)


class VadAnalyzer(Analyzer):
    """AudioChunk in; ``speech.start`` / ``speech.end`` out."""

    name = "vad"

    def __init__(self, runner: VadRunner, config: TurnConfig | None = None, *, max_backlog_s: float = 10.0) -> None:
        super().__init__(input_maxsize=int(max_backlog_s * SAMPLE_RATE / CHUNK_SAMPLES))
        self._runner = runner
        self._stream = VadStream()
        self.segmenter = TurnSegmenter(config)
        self.last_prob = 0.0

    async def process(self, item: AudioChunk) -> None:
        # Take whatever else is queued too: one executor hop per batch.
        chunks = [item]
        while not self._input.empty() and isinstance(self._input._queue[0], AudioChunk):  # type: ignore[attr-defined]
            chunks.append(self._input.get_nowait())
        probs = await self._runner.call(self._runner.probabilities, self._stream, [c.samples for c in chunks])
        for chunk, prob in zip(chunks, probs):
            self.last_prob = prob
            for boundary in self.segmenter.feed(prob, chunk.media_time, chunk.end_time):
                self._emit_boundary(boundary)

    async def on_flush(self) -> None:
        for boundary in self.segmenter.finish():
            self._emit_boundary(boundary)

    def _emit_boundary(self, boundary: TurnStart | TurnEnd) -> None:
        if isinstance(boundary, TurnStart):
            self.emit(AnalyzerEvent(SPEECH_START, boundary.start, {"utterance_id": boundary.utterance_id}))
        else:
            self.emit(
                AnalyzerEvent(
                    SPEECH_END,
                    boundary.end,
                    {
                        "utterance_id": boundary.utterance_id,
                        "start": boundary.start,
                        "end": boundary.end,
                        "split": boundary.forced,
                    },
                )
            )
