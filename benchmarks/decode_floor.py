"""What a final's decode costs on this CPU, part by part, and which ways of running it go faster.

End of speech → final is the end-of-turn wait plus one Whisper decode of
the turn (analyzers/asr/decode.py). This takes every final of the real
answers (tests/media/answers_zh, the JFK clip: silero-vad and the turn
segmenter offline, the server's turn rules) and decodes it as the server
does (whisper base int8, one CTranslate2 thread, trimmed window, encoded
once), timing each model call inside faster-whisper: the encoder, the
language detector, the decoder (``generate``, with the tokens it produced)
and the word aligner. A straight line through (turn seconds, decode
seconds) gives the floor a final cannot go under on this machine.

Then, on one 10 s window of a real answer, ways that could make one decode
faster or many cheaper: the decoder with 1, 2 and 4 windows in one call on
one thread (batching across candidates), two decodes at once on two worker
threads (the server's default, one per core) against one alone, one decode
on two CTranslate2 threads against one, and CTranslate2's compute types.
The machine's memory read rate is given beside them: at one window a call,
every decoder step reads all of the decoder's weights.

    python -m benchmarks.decode_floor --out benchmarks/data/decode-floor-2026-12-06.json
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.speculation import CHUNK, SAMPLE_RATE, clips, cut, segment

# Whisper base's decoder (the model card): 6 layers of width 512, each with
# self-attention (4 d²), cross-attention (q and out, 2 d²; k and v are computed
# once per window) and a 4x feed-forward (8 d²); the output projection is the
# vocabulary times d.
DECODER_LAYERS = 6


class TimedWhisper:
    """CTranslate2's Whisper with each model call timed (wall seconds) and the tokens ``generate`` produced counted."""

    CALLS = {"encode": "encode", "detect_language": "detect", "generate": "generate", "align": "align"}

    def __init__(self, model: Any) -> None:
        self._model = model
        self.seconds = {name: 0.0 for name in self.CALLS.values()}
        self.tokens = 0

    def reset(self) -> dict[str, float]:
        taken = {**self.seconds, "tokens": self.tokens}
        self.seconds = {name: 0.0 for name in self.CALLS.values()}
        self.tokens = 0
        return taken

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._model, name)
        key = self.CALLS.get(name)
        if key is None:
            return attr

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            result = attr(*args, **kwargs)
            self.seconds[key] += time.perf_counter() - started
            if key == "generate":
                self.tokens += sum(len(r.sequences_ids[0]) for r in result)
            return result

        return timed


def finals(args: argparse.Namespace) -> dict[str, Any]:
    """Every final of the real answers decoded as the server does, each model call timed."""
    from analyzers.asr.decode import WhisperDecoder
    from analyzers.asr.loading import load_whisper
    from analyzers.vad import VadRunner, VadStream

    vad = VadRunner(batch=False)
    model = load_whisper(args.model, cpu_threads=1, workers=1)
    timed = model.model = TimedWhisper(model.model)
    decoder = WhisperDecoder(model)
    decoder.recognize(np.zeros(SAMPLE_RATE, np.float32))
    rows = []
    for clip_name, speech, _reference, _language in clips()[: args.limit]:
        audio = np.concatenate([speech, np.zeros(SAMPLE_RATE, np.float32)])
        chunks = [audio[i * CHUNK : (i + 1) * CHUNK] for i in range(len(audio) // CHUNK)]
        turns, _ = segment(vad.probabilities(VadStream(), chunks), 0.2, 0.1)
        for start, end in turns:
            piece = cut(audio, start, end)
            timed.reset()
            started = time.perf_counter()
            decoder.recognize(piece, words=True)
            wall = time.perf_counter() - started
            parts = timed.reset()
            rows.append({"clip": clip_name, "seconds": round(end - start, 2), "wall_s": round(wall, 4),
                         **{f"{k}_s": round(v, 4) for k, v in parts.items() if k != "tokens"}, "tokens": int(parts["tokens"])})
        print(f"{clip_name:55s} {len(turns)} finals", flush=True)
    seconds = np.array([r["seconds"] for r in rows])
    wall = np.array([r["wall_s"] for r in rows])
    slope, intercept = np.polyfit(seconds, wall, 1)
    total = {k: round(sum(r[f"{k}_s"] for r in rows), 2) for k in TimedWhisper.CALLS.values()}
    total["wall"] = round(float(wall.sum()), 2)
    tokens = sum(r["tokens"] for r in rows)
    by_length = []
    for low, high in ((0, 4), (4, 8), (8, 12), (12, 30)):
        part = [r for r in rows if low <= r["seconds"] < high]
        if part:
            by_length.append({"seconds": f"{low}-{high}", "finals": len(part),
                              "decode_p50_s": round(statistics.median(r["wall_s"] for r in part), 3),
                              "decode_max_s": round(max(r["wall_s"] for r in part), 3)})
    return {
        "finals": len(rows),
        "speech_s": round(float(seconds.sum()), 1),
        "turn_s_p50": round(float(np.median(seconds)), 2),
        "turn_s_p95": round(float(np.percentile(seconds, 95)), 2),
        "seconds_by_call": total,
        "share_by_call": {k: round(v / total["wall"], 3) for k, v in total.items() if k != "wall"},
        "tokens": tokens,
        "decoder_ms_per_token": round(1000 * total["generate"] / max(1, tokens), 2),
        "tokens_per_speech_s": round(tokens / float(seconds.sum()), 2),
        "fit": {"intercept_s": round(float(intercept), 3), "per_speech_s": round(float(slope), 4)},
        "by_length": by_length,
        "detail": rows,
    }


def window(model: Any, seconds: float) -> tuple[np.ndarray, list[int]]:
    """The first ``seconds`` of the first answer as Whisper's 30 s window of features, and a Mandarin prompt with timestamps.

    The model's own encoder (``load_whisper``'s) trims the window to the audio, as in the server.
    """
    from faster_whisper.tokenizer import Tokenizer

    _name, speech, _ref, _lang = clips()[0]
    features = model.feature_extractor(speech[: int(seconds * SAMPLE_RATE)])
    features = np.pad(features, ((0, 0), (0, max(0, 3000 - features.shape[-1]))))[:, :3000]
    tokenizer = Tokenizer(model.hf_tokenizer, True, task="transcribe", language="zh")
    return np.ascontiguousarray(features), model.get_prompt(tokenizer, [], without_timestamps=False)


def generate(model: Any, features: np.ndarray, prompt: list[int], batch: int) -> tuple[float, int]:
    """One ``generate`` call on ``batch`` copies of the window (greedy, the server's options): wall seconds and steps."""
    encoded = model.encode(np.repeat(features[None], batch, 0))
    started = time.perf_counter()
    result = model.model.generate(
        encoded, [prompt] * batch, beam_size=1, max_length=224, return_scores=True, return_no_speech_prob=True,
        suppress_blank=True, suppress_tokens=[-1], max_initial_timestamp_index=50,
    )
    return time.perf_counter() - started, len(result[0].sequences_ids[0])


def best_of(repeats: int, fn: Any) -> Any:
    """The fastest of ``repeats`` runs of ``fn`` (its first result is its wall seconds)."""
    return min((fn() for _ in range(repeats)), key=lambda r: r[0] if isinstance(r, tuple) else r)


def ways(args: argparse.Namespace) -> dict[str, Any]:
    """One window, decoded in the ways that could be faster: batched, in parallel, on two threads, other compute types."""
    from analyzers.asr.decode import WhisperDecoder
    from analyzers.asr.loading import load_whisper

    out: dict[str, Any] = {"window_s": args.window_s}
    one = load_whisper(args.model, cpu_threads=1, workers=1)
    features, prompt = window(one, args.window_s)
    encoded_shape = one.encode(features[None]).shape  # [1, frames / 2, width]: the trimmed window
    out["window_frames"] = int(encoded_shape[1]) * 2
    batches = {}
    for batch in (1, 2, 4):
        wall, steps = best_of(args.repeats, lambda: generate(one, features, prompt, batch))
        batches[str(batch)] = {"call_s": round(wall, 3), "steps": steps, "ms_per_step": round(1000 * wall / steps, 2),
                               "ms_per_step_per_window": round(1000 * wall / steps / batch, 2)}
        print(f"decoder, {batch} window(s) a call: {batches[str(batch)]}", flush=True)
    out["decoder_batch"] = batches

    speech = clips()[0][1][: int(args.window_s * SAMPLE_RATE)]

    def decode_wall(decoder: Any) -> float:
        started = time.perf_counter()
        decoder.recognize(speech, words=True)
        return time.perf_counter() - started

    alone = WhisperDecoder(one)
    decode_wall(alone)
    out["one_thread_s"] = round(best_of(args.repeats, lambda: decode_wall(alone)), 3)

    two_workers = load_whisper(args.model, cpu_threads=1, workers=2)
    pair = WhisperDecoder(two_workers)

    def at_once() -> float:
        walls: list[float] = []
        threads = [threading.Thread(target=lambda: walls.append(decode_wall(pair))) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return max(walls)

    at_once()
    out["two_at_once_s"] = round(best_of(args.repeats, at_once), 3)

    two_threads = WhisperDecoder(load_whisper(args.model, cpu_threads=2, workers=1))
    decode_wall(two_threads)
    out["two_threads_s"] = round(best_of(args.repeats, lambda: decode_wall(two_threads)), 3)
    print(f"one decode {out['one_thread_s']} s; two at once {out['two_at_once_s']} s; on two threads {out['two_threads_s']} s", flush=True)

    import ctranslate2

    types = {}
    for compute_type in sorted(ctranslate2.get_supported_compute_types("cpu")):
        decoder = WhisperDecoder(load_whisper(args.model, cpu_threads=1, workers=1, compute_type=compute_type))
        decode_wall(decoder)
        types[compute_type] = round(best_of(args.repeats, lambda: decode_wall(decoder)), 3)
        print(f"compute type {compute_type}: {types[compute_type]} s", flush=True)
    out["compute_types_s"] = types

    vocabulary = one.hf_tokenizer.get_vocab_size(with_added_tokens=True)
    width = int(encoded_shape[-1])
    per_layer = 4 * width * width + 2 * width * width + 8 * width * width
    out["decoder_weights"] = {"layers": DECODER_LAYERS, "width": width, "vocabulary": vocabulary,
                              "layers_mb_int8": round(DECODER_LAYERS * per_layer / 1e6, 1),
                              "projection_mb_int8": round(vocabulary * width / 1e6, 1)}
    return out


def memory_read_gb_s() -> float:
    """How fast one thread reads memory here (numpy sum over 400 MB; the best of 3)."""
    data = np.ones(100_000_000, np.float32)
    best = min(_timed(lambda: data.sum()) for _ in range(3))
    return round(data.nbytes / best / 1e9, 1)


def _timed(fn: Any) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def machine() -> dict[str, Any]:
    import ctranslate2

    info: dict[str, Any] = {"python": platform.python_version(), "ctranslate2": ctranslate2.__version__,
                            "cpus": len(__import__("os").sched_getaffinity(0))}
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        info["cpu"] = next(line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name"))
        flags = next(line.split(":", 1)[1].split() for line in cpuinfo.splitlines() if line.startswith("flags"))
        info["avx512_vnni"] = "avx512_vnni" in flags
    except (OSError, StopIteration):
        pass
    info["memory_read_gb_s"] = memory_read_gb_s()
    return info


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.decode_floor", description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="base")
    p.add_argument("--limit", type=int, default=None, help="only the first N clips")
    p.add_argument("--window-s", type=float, default=10.0, help="the window the ways are tried on (default 10 s)")
    p.add_argument("--repeats", type=int, default=3, help="each way's best of this many runs (default 3)")
    p.add_argument("--skip-finals", action="store_true", help="only the ways, on one window")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    result: dict[str, Any] = {
        "schema": "candor.bench.decode_floor/1",
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": ["python", "-m", "benchmarks.decode_floor", *sys.argv[1:]],
        "machine": machine(),
        "model": f"whisper {args.model} int8, 1 CTranslate2 thread, trimmed window, encoded once",
    }
    if not args.skip_finals:
        result["finals"] = finals(args)
    result["ways"] = ways(args)
    summary = {k: v for k, v in result.items() if k != "finals"}
    if "finals" in result:
        summary["finals"] = {k: v for k, v in result["finals"].items() if k != "detail"}
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    if args.out is not None:
        args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
