"""Voice activity: silero-vad (ONNX) shared by all sessions.

The ONNX model takes its recurrent state as an input and returns the next
one, so one loaded model serves every session: each stream keeps its own
:class:`VadStream` (state and 64-sample context) and the runner is
stateless. ``speech.start`` / ``speech.end`` come from the pure
:class:`~analyzers.turns.TurnSegmenter`.

With ``batch=True`` the runner gathers the chunks of many sessions into one
model call (a :class:`~analyzers.batching.Batcher`): the model takes input
``(batch, 64 + 512)`` and state ``(2, batch, 128)``, so the states of the
streams in a batch are stacked and split again afterwards. Every stream's
chunks still run in order, one step at a time, and give the same speech
probabilities as the unbatched path (tests/test_batching.py checks it on real
speech). Measured in benchmarks/README.md ("Micro-benchmarks").
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from media.frames import CHUNK_SAMPLES, SAMPLE_RATE, AudioChunk

from .base import Analyzer, ModelRunner
from .batching import Batcher
from .events import SPEECH_END, SPEECH_PAUSE, SPEECH_START, AnalyzerEvent
from .turns import TurnConfig, TurnEnd, TurnPause, TurnSegmenter, TurnStart

CONTEXT_SAMPLES = 64


def silero_onnx_path() -> Path:
    spec = importlib.util.find_spec("silero_vad")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("silero-vad is not installed: pip install silero-vad==6.2.3")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "silero_vad.onnx"
    if not path.is_file():
        raise RuntimeError(f"silero-vad's ONNX model is missing at {path}: reinstall silero-vad==6.2.3")
    return path


@dataclass
class VadStream:
    """One audio stream's recurrent state."""

    state: np.ndarray = field(default_factory=lambda: np.zeros((2, 1, 128), dtype=np.float32))
    context: np.ndarray = field(default_factory=lambda: np.zeros((1, CONTEXT_SAMPLES), dtype=np.float32))


class VadRunner(ModelRunner):
    """silero-vad (ONNX), shared by every session; each stream holds its own :class:`VadStream`.

    ``batch``: gather the requests of concurrent streams into one model call
    of up to ``max_batch`` streams, waiting at most ``max_wait_s`` after the
    first request for others to join (``0``: take what is queued, never
    wait). Off, every stream's request is its own call.

    Defaults from benchmarks/README.md ("Micro-benchmarks", 2 vCPU AMD EPYC):
    batching with no window adds no latency; at live pace it forms few
    batches and costs a little (+5-13 % of the VAD's own small CPU at 1-8
    streams, -9 % at 32), and when the runner falls behind, the streams that
    queued up meanwhile go out as one call (1.3-2.3x the chunks per second
    at 4-32 streams). A window pays with many live streams: at 32 streams
    5 ms cut the VAD's CPU by 39 % and 16 ms by 58 %, for 4 ms and 10 ms
    more latency per chunk (p50). On a GPU, where a call costs about the
    same for 1 or 256 streams, use a window and raise ``max_batch``.
    """

    name = "vad"

    def __init__(
        self,
        path: Path | None = None,
        *,
        batch: bool = True,
        max_batch: int = 32,
        max_wait_s: float = 0.0,
        **kwargs: object,
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        import onnxruntime

        opts = onnxruntime.SessionOptions()
        opts.inter_op_num_threads = 1
        opts.intra_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(
            str(path or silero_onnx_path()), sess_options=opts, providers=["CPUExecutionProvider"]
        )
        self._sr = np.array(SAMPLE_RATE, dtype=np.int64)
        self.batcher: Batcher[tuple[VadStream, list[np.ndarray]], list[float]] | None = None
        if batch:
            self.batcher = Batcher(
                self.probabilities_batch, call=self.call, max_batch=max_batch, max_wait_s=max_wait_s, name="vad"
            )

    async def speech_probabilities(self, stream: VadStream, chunks: list[np.ndarray]) -> list[float]:
        """Speech probability of a stream's next chunks, off the event loop (batched when enabled)."""
        if self.batcher is None:
            return await self.call(self.probabilities, stream, chunks)
        return await self.batcher.submit((stream, chunks))

    def probabilities(self, stream: VadStream, chunks: list[np.ndarray]) -> list[float]:
        """Speech probability of consecutive 512-sample chunks of one stream (blocking)."""
        out: list[float] = []
        for chunk in chunks:
            x = np.concatenate([stream.context, chunk.reshape(1, CHUNK_SAMPLES).astype(np.float32)], axis=1)
            prob, stream.state = self._session.run(None, {"input": x, "state": stream.state, "sr": self._sr})
            stream.context = x[:, -CONTEXT_SAMPLES:]
            out.append(float(prob.reshape(-1)[0]))
        return out

    def probabilities_batch(self, requests: list[tuple[VadStream, list[np.ndarray]]]) -> list[list[float]]:
        """:meth:`probabilities` for several streams at once, one model call per time step (blocking).

        Step ``t`` runs chunk ``t`` of every request that has one, with those
        streams' states stacked on the batch axis. A stream named in two
        requests runs them one after the other, in order.
        """
        if len(requests) == 1:
            stream, chunks = requests[0]
            return [self.probabilities(stream, chunks)]
        results: list[list[float]] = [[] for _ in requests]
        # A stream's n-th request goes in round n: each round holds a stream once.
        rounds: list[list[int]] = []
        seen: dict[int, int] = {}
        for index, (stream, _) in enumerate(requests):
            round_no = seen.get(id(stream), 0)
            seen[id(stream)] = round_no + 1
            if round_no == len(rounds):
                rounds.append([])
            rounds[round_no].append(index)
        for members in rounds:
            steps = max(len(requests[i][1]) for i in members)
            for t in range(steps):
                active = [i for i in members if t < len(requests[i][1])]
                if not active:
                    continue
                streams = [requests[i][0] for i in active]
                x = np.concatenate(
                    [
                        np.concatenate([s.context for s in streams], axis=0),
                        np.stack([requests[i][1][t].reshape(CHUNK_SAMPLES) for i in active]).astype(np.float32),
                    ],
                    axis=1,
                )
                state = np.concatenate([s.state for s in streams], axis=1)
                prob, state = self._session.run(None, {"input": x, "state": state, "sr": self._sr})
                prob = prob.reshape(-1)
                for k, (i, s) in enumerate(zip(active, streams)):
                    s.state = np.ascontiguousarray(state[:, k : k + 1, :])
                    s.context = x[k : k + 1, -CONTEXT_SAMPLES:].copy()
                    results[i].append(float(prob[k]))
        return results

    def warmup(self) -> None:
        self.probabilities(VadStream(), [np.zeros(CHUNK_SAMPLES, dtype=np.float32)] * 4)
        self.probabilities_batch([(VadStream(), [np.zeros(CHUNK_SAMPLES, dtype=np.float32)] * 2) for _ in range(2)])

    def close(self) -> None:
        if self.batcher is not None:
            self.batcher.close()
        super().close()


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
        probs = await self._runner.speech_probabilities(self._stream, [c.samples for c in chunks])
        for chunk, prob in zip(chunks, probs):
            self.last_prob = prob
            for boundary in self.segmenter.feed(prob, chunk.media_time, chunk.end_time):
                self._emit_boundary(boundary)

    async def on_flush(self) -> None:
        for boundary in self.segmenter.finish():
            self._emit_boundary(boundary)

    def _emit_boundary(self, boundary: object) -> None:
        if isinstance(boundary, TurnStart):
            self.emit(AnalyzerEvent(SPEECH_START, boundary.start, {"utterance_id": boundary.utterance_id}))
        elif isinstance(boundary, TurnPause):
            self.emit(
                AnalyzerEvent(
                    SPEECH_PAUSE,
                    boundary.end,
                    {"utterance_id": boundary.utterance_id, "start": boundary.start, "end": boundary.end},
                )
            )
        elif isinstance(boundary, TurnEnd):
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
