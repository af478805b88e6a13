"""Voice activity: silero-vad (ONNX) shared by all sessions.

The ONNX model takes its recurrent state as an input and returns the next
one, so one loaded model serves every session: each stream keeps its own
:class:`VadStream` (state and 64-sample context) and the runner is
stateless. ``speech.start`` / ``speech.end`` come from the pure
:class:`~analyzers.turns.TurnSegmenter`.

With ``batch=True`` the runner gathers the chunks of many sessions into one
model call (a :class:`~runtime.batching.Batcher`): the model takes input
``(batch, 64 + 512)`` and state ``(2, batch, 128)``, so the states of the
streams in a batch are stacked and split again afterwards. Every stream's
chunks still run in order, one step at a time, and give the same speech
probabilities as the unbatched path (tests/test_batching.py checks it on real
speech). Measured in benchmarks/README.md ("Micro-benchmarks").

Two backends run the same silero-vad v6 network: ``backend="onnx"`` (the
default; onnxruntime on the CPU, one intra-op thread) and ``backend="torch"``
(silero's TorchScript model, on ``device="cpu"`` or ``"cuda"``). The torch
backend calls the JIT's inner 16 kHz module ``_model(x, state) -> (prob,
state)``, which is what silero's own stateful ``forward`` calls after
prepending its 64-sample context, so the streams keep their state here exactly
as with ONNX (tests/test_vad_torch.py compares the two on real speech). On a
GPU one call costs about the same for 1 or 256 streams, so batch widely there.
"""

from __future__ import annotations

import importlib.util
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from media.frames import CHUNK_SAMPLES, SAMPLE_RATE, AudioChunk
from runtime.batching import Batcher
from runtime.runner import ModelRunner

from .base import Analyzer
from events import AnalyzerEvent, SpeechEnd, SpeechPause, SpeechStart
from .turns import TurnConfig, TurnEnd, TurnPause, TurnSegmenter, TurnStart

CONTEXT_SAMPLES = 64


BACKENDS = ("onnx", "torch")
STATE_SIZE = 128  # silero's LSTM: state (2, batch, 128), h then c


def _silero_data(name: str, what: str) -> Path:
    # find_spec, not import: importing silero_vad runs torch.set_num_threads(1) for the whole process.
    spec = importlib.util.find_spec("silero_vad")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("silero-vad is not installed: pip install silero-vad==6.2.3")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / name
    if not path.is_file():
        raise RuntimeError(f"silero-vad's {what} model is missing at {path}: reinstall silero-vad==6.2.3")
    return path


def silero_onnx_path() -> Path:
    return _silero_data("silero_vad.onnx", "ONNX")


def silero_jit_path() -> Path:
    return _silero_data("silero_vad.jit", "TorchScript")


@dataclass
class VadStream:
    """One audio stream's recurrent state."""

    state: np.ndarray = field(default_factory=lambda: np.zeros((2, 1, 128), dtype=np.float32))
    context: np.ndarray = field(default_factory=lambda: np.zeros((1, CONTEXT_SAMPLES), dtype=np.float32))


class VadRunner(ModelRunner):
    """silero-vad, shared by every session; each stream holds its own :class:`VadStream`.

    ``batch``: gather the requests of concurrent streams into one model call
    of up to ``max_batch`` streams, waiting at most ``max_wait_s`` after the
    first request for others to join (``0``: take what is queued, never
    wait). Off, every stream's request is its own call.

    ``backend``: ``"onnx"`` (onnxruntime, CPU, 1 intra-op thread) or
    ``"torch"`` (silero's TorchScript model). ``device``: ``"cpu"``, or
    ``"cuda"`` / ``"cuda:N"`` with the torch backend. ``path``: the model file
    (``silero_vad.onnx`` or ``silero_vad.jit`` by backend; default: the one in
    the silero-vad package, nothing is downloaded).

    On the CPU the torch backend sets torch to one intra-op thread, for the
    whole process (``torch.set_num_threads(1)``, as importing silero_vad
    does): from the runner's worker thread, torch's default pool made a step
    3-4x slower on 2 vCPU. On CUDA torch's settings are left alone. ONNX
    stays the CPU default (one stream's step: ~0.08 ms against ~0.2 ms for
    torch on 2 vCPU; about even at 32 streams). Each time step is one
    host-to-device copy (contexts, chunks and states packed in one buffer) and
    one device-to-host copy back (probabilities and new states); the streams'
    :class:`VadStream` stays numpy on the host. On CUDA, convolutions may run
    in TF32 (torch's default for cuDNN), so probabilities differ from ONNX by
    up to about 1e-2 (on the CPU about 1e-5).

    Defaults from benchmarks/README.md ("Micro-benchmarks", 2 vCPU AMD EPYC):
    batching with no window adds no latency; at live pace it forms few
    batches and costs a little (+5-13 % of the VAD's own small CPU at 1-8
    streams, -9 % at 32), and when the runner falls behind, the streams that
    queued up meanwhile go out as one call (1.3-2.3x the chunks per second
    at 4-32 streams). A window pays with many live streams: at 32 streams
    5 ms cut the VAD's CPU by 39 % and 16 ms by 58 %, for 4 ms and 10 ms
    more latency per chunk (p50). On a GPU, where a call costs about the
    same for 1 or 256 streams, use the torch backend, a window and a larger
    ``max_batch``.
    """

    name = "vad"

    def __init__(
        self,
        path: Path | None = None,
        *,
        batch: bool = True,
        max_batch: int = 32,
        max_wait_s: float = 0.0,
        backend: str = "onnx",
        device: str = "cpu",
        **kwargs: object,
    ) -> None:
        # Check the arguments before the executor exists, so a bad one leaks nothing.
        if backend not in BACKENDS:
            raise ValueError(f"unknown VAD backend {backend!r}: choose from {', '.join(map(repr, BACKENDS))}")
        if not isinstance(device, str) or not (device == "cpu" or device == "cuda" or device.startswith("cuda:")):
            raise ValueError(f"unknown VAD device {device!r}: choose from 'cpu', 'cuda' or 'cuda:N'")
        if device != "cpu" and backend != "torch":
            raise ValueError(
                f"VAD device {device!r} needs backend='torch' (the {backend!r} backend runs on the CPU only)"
            )
        self.backend = backend
        self.device = device
        self.max_batch = max_batch
        self._session = None
        self._torch = None
        self._device = None
        self._model = None
        if backend == "torch":
            self._load_torch(path, device)
        else:
            import onnxruntime

            opts = onnxruntime.SessionOptions()
            opts.inter_op_num_threads = 1
            opts.intra_op_num_threads = 1
            self._session = onnxruntime.InferenceSession(
                str(path or silero_onnx_path()), sess_options=opts, providers=["CPUExecutionProvider"]
            )
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._sr = np.array(SAMPLE_RATE, dtype=np.int64)
        self.batcher: Batcher[tuple[VadStream, list[np.ndarray]], list[float]] | None = None
        if batch:
            self.batcher = Batcher(
                self.probabilities_batch, call=self.call, max_batch=max_batch, max_wait_s=max_wait_s, name="vad"
            )

    def _load_torch(self, path: Path | None, device: str) -> None:
        try:
            import torch
        except ImportError as exc:
            raise RuntimeError("the VAD's torch backend needs torch: pip install torch==2.13.0") from exc
        if device.startswith("cuda"):
            if not torch.cuda.is_available():
                raise RuntimeError(
                    f"VAD device {device!r}: torch {torch.__version__} sees no CUDA device "
                    "(torch.cuda.is_available() is False); use device='cpu'"
                )
            index = torch.device(device).index
            if index is not None and index >= torch.cuda.device_count():
                raise RuntimeError(f"VAD device {device!r}: only {torch.cuda.device_count()} CUDA device(s)")
        self._torch = torch
        self._device = torch.device(device)
        if self._device.type == "cpu" and torch.get_num_threads() != 1:
            # Process-wide, as silero_vad's own import does. Measured on 2 vCPU: called from
            # the runner's worker thread, with torch's default pool (one thread per core)
            # a step of one stream took ~0.6 ms against ~0.18 ms with one thread (OpenMP
            # teams of two calling threads spinning against each other); nothing else in
            # the server runs torch. On CUDA the step runs no CPU kernels: left alone.
            torch.set_num_threads(1)
        with warnings.catch_warnings():
            # torch 2.13 deprecates TorchScript loading; silero-vad ships its model as TorchScript.
            warnings.filterwarnings(
                "ignore", message=r".*torch\.jit\.load.* is deprecated", category=DeprecationWarning
            )
            jit = torch.jit.load(str(path or silero_jit_path()), map_location=self._device)
        jit.eval()
        # silero v5/v6: the top-level forward keeps one state and context for the whole
        # model (reset whenever the batch size changes); its 16 kHz submodule ``_model``
        # is stateless, (x with 64 samples of context, state) -> (prob, new state).
        inner = getattr(jit, "_model", None)
        if inner is None or getattr(inner, "context_size_samples", None) != CONTEXT_SAMPLES:
            raise RuntimeError(
                f"unexpected silero-vad TorchScript model at {path or silero_jit_path()}: "
                f"no 16 kHz submodule '_model' with {CONTEXT_SAMPLES} samples of context (silero-vad==6.2.3 has one)"
            )
        self._model = inner
        # Check the call's shapes now, not on the first session.
        width = CONTEXT_SAMPLES + CHUNK_SAMPLES
        with torch.inference_mode():
            prob, state = inner(
                torch.zeros((2, width), device=self._device), torch.zeros((2, 2, STATE_SIZE), device=self._device)
            )
        if tuple(prob.shape) != (2, 1) or tuple(state.shape) != (2, 2, STATE_SIZE):
            raise RuntimeError(
                f"silero-vad TorchScript '_model' returned shapes {tuple(prob.shape)}, {tuple(state.shape)}; "
                f"expected (2, 1), (2, 2, {STATE_SIZE})"
            )

    async def speech_probabilities(self, stream: VadStream, chunks: list[np.ndarray]) -> list[float]:
        """Speech probability of a stream's next chunks, off the event loop (batched when enabled)."""
        if self.batcher is None:
            return await self.call(self.probabilities, stream, chunks)
        return await self.batcher.submit((stream, chunks))

    def probabilities(self, stream: VadStream, chunks: list[np.ndarray]) -> list[float]:
        """Speech probability of consecutive 512-sample chunks of one stream (blocking)."""
        if self._model is not None:
            return [float(self._step_torch([stream], [chunk])[0]) for chunk in chunks]
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
        step = self._step_onnx if self._model is None else self._step_torch
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
                prob = step([requests[i][0] for i in active], [requests[i][1][t] for i in active])
                for k, i in enumerate(active):
                    results[i].append(float(prob[k]))
        return results

    def _step_onnx(self, streams: list[VadStream], chunks: list[np.ndarray]) -> np.ndarray:
        """One chunk of each stream in one onnxruntime call; updates the streams, returns their probabilities."""
        x = np.concatenate(
            [
                np.concatenate([s.context for s in streams], axis=0),
                np.stack([chunk.reshape(CHUNK_SAMPLES) for chunk in chunks]).astype(np.float32),
            ],
            axis=1,
        )
        state = np.concatenate([s.state for s in streams], axis=1)
        prob, state = self._session.run(None, {"input": x, "state": state, "sr": self._sr})
        for k, s in enumerate(streams):
            s.state = np.ascontiguousarray(state[:, k : k + 1, :])
            s.context = x[k : k + 1, -CONTEXT_SAMPLES:].copy()
        return prob.reshape(-1)

    def _step_torch(self, streams: list[VadStream], chunks: list[np.ndarray]) -> np.ndarray:
        """:meth:`_step_onnx` through the TorchScript model: one copy to the device and one back."""
        torch = self._torch
        n = len(streams)
        width = CONTEXT_SAMPLES + CHUNK_SAMPLES
        # One host buffer: x (n, 64 + 512), then state (2, n, 128); both contiguous views.
        packed = np.empty(n * width + 2 * n * STATE_SIZE, dtype=np.float32)
        x = packed[: n * width].reshape(n, width)
        np.concatenate([s.context for s in streams], axis=0, out=x[:, :CONTEXT_SAMPLES])
        np.stack([chunk.reshape(CHUNK_SAMPLES) for chunk in chunks], out=x[:, CONTEXT_SAMPLES:], casting="unsafe")
        np.concatenate([s.state for s in streams], axis=1, out=packed[n * width :].reshape(2, n, STATE_SIZE))
        with torch.inference_mode():
            buffer = torch.from_numpy(packed).to(self._device)  # no copy on the CPU
            prob, state = self._model(buffer[: n * width].view(n, width), buffer[n * width :].view(2, n, STATE_SIZE))
            out = torch.cat([prob.reshape(n), state.reshape(2 * n * STATE_SIZE)]).cpu().numpy()
        states = out[n:].reshape(2, n, STATE_SIZE)
        for k, s in enumerate(streams):
            s.state = np.ascontiguousarray(states[:, k : k + 1, :])
            s.context = x[k : k + 1, -CONTEXT_SAMPLES:].copy()
        return out[:n]

    def warmup(self) -> None:
        self.probabilities(VadStream(), [np.zeros(CHUNK_SAMPLES, dtype=np.float32)] * 4)
        self.probabilities_batch([(VadStream(), [np.zeros(CHUNK_SAMPLES, dtype=np.float32)] * 2) for _ in range(2)])
        if self._model is not None:
            # TorchScript's profiling executor specializes (and on CUDA fuses) per input
            # shape for its first few shapes, then compiles shape-generic code: meet a few
            # batch sizes now rather than in the first busy seconds of a live server.
            for n in sorted({1, 2, 3, 5, 8, min(self.max_batch, 64), self.max_batch}):
                requests = [(VadStream(), [np.zeros(CHUNK_SAMPLES, dtype=np.float32)] * 3) for _ in range(n)]
                self.probabilities_batch(requests)
            if self._device.type == "cuda":
                self._torch.cuda.synchronize(self._device)

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
            self.emit(AnalyzerEvent(boundary.start, SpeechStart(utterance_id=boundary.utterance_id)))
        elif isinstance(boundary, TurnPause):
            pause = SpeechPause(utterance_id=boundary.utterance_id, start=boundary.start, end=boundary.end)
            self.emit(AnalyzerEvent(boundary.end, pause))
        elif isinstance(boundary, TurnEnd):
            end = SpeechEnd(utterance_id=boundary.utterance_id, start=boundary.start, end=boundary.end, split=boundary.forced)
            self.emit(AnalyzerEvent(boundary.end, end))
