"""One encoder pass per final: what faster-whisper's double encode cost, and that the words stay the same.

faster-whisper 1.2's ``transcribe`` without a language encodes the window
once to detect the language and again to decode it (its detector is given
one mel frame more, so the two windows differ). Candor's Whisper now detects
on the decode's own frames and encodes each window once
(``analyzers.asr.loading.reuse_encoding``). This replays every real answer
(tests/media/answers_zh, the JFK clip) through silero-vad and the turn
segmenter, offline, and decodes each final twice, alternating: with the
encoding reused, and as before (trimmed window, two passes). Per final: the
CPU time of each (this process, one CTranslate2 thread), the encoder passes,
and whether the text, the language and the word timings are the same.

    python -m benchmarks.encode_once --out benchmarks/data/encode-once-2026-12-06.json
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.long_answers import error_rate
from benchmarks.speculation import CHUNK, SAMPLE_RATE, clips, cut, segment


class CountingEncoder:
    """CTranslate2's Whisper with its encoder calls counted (everything else passed through)."""

    def __init__(self, model: Any) -> None:
        self._model = model
        self.encodes = 0

    def encode(self, *args: Any, **kwargs: Any) -> Any:
        self.encodes += 1
        return self._model.encode(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)


def run(args: argparse.Namespace) -> dict[str, Any]:
    from analyzers.asr.decode import WhisperDecoder
    from analyzers.asr.loading import load_whisper
    from analyzers.vad import VadRunner, VadStream

    vad = VadRunner(batch=False)
    once_model = load_whisper(args.model, cpu_threads=1, workers=1)
    twice_model = load_whisper(args.model, cpu_threads=1, workers=1, encode_once=False)  # as before: trimmed, encoded twice
    counters = {}
    decoders = {}
    for name, model in (("once", once_model), ("twice", twice_model)):
        model.model = counters.setdefault(name, CountingEncoder(model.model))
        decoders[name] = WhisperDecoder(model)
        decoders[name].recognize(np.zeros(SAMPLE_RATE, np.float32))

    def decode(name: str, audio: np.ndarray) -> dict[str, Any]:
        counter = counters[name]
        before = counter.encodes
        started = time.process_time()
        result = decoders[name].recognize(audio, words=True)
        return {"cpu_s": time.process_time() - started, "encodes": counter.encodes - before, "text": result.text,
                "language": result.language, "words": list(result.words)}

    finals = []
    per_clip = []
    for clip_name, speech, reference, language in clips()[: args.limit]:
        audio = np.concatenate([speech, np.zeros(SAMPLE_RATE, np.float32)])
        chunks = [audio[i * CHUNK : (i + 1) * CHUNK] for i in range(len(audio) // CHUNK)]
        turns, _ = segment(vad.probabilities(VadStream(), chunks), 0.2)
        texts: dict[str, list[str]] = {"once": [], "twice": []}
        for i, (start, end) in enumerate(turns):
            piece = cut(audio, start, end)
            order = ("once", "twice") if i % 2 == 0 else ("twice", "once")  # neither always runs warm
            got = {name: decode(name, piece) for name in order}
            for name in texts:
                texts[name].append(got[name]["text"])
            finals.append({
                "clip": clip_name, "seconds": round(end - start, 2),
                "once_cpu_s": round(got["once"]["cpu_s"], 4), "twice_cpu_s": round(got["twice"]["cpu_s"], 4),
                "once_encodes": got["once"]["encodes"], "twice_encodes": got["twice"]["encodes"],
                "same_text": got["once"]["text"] == got["twice"]["text"],
                "same_language": got["once"]["language"] == got["twice"]["language"],
                "same_words": got["once"]["words"] == got["twice"]["words"],
            })
        glue = "" if language == "zh" else " "
        clip = {"clip": clip_name, "turns": len(turns),
                **{f"error_{name}": round(error_rate(reference, glue.join(t), language), 4) for name, t in texts.items()}}
        per_clip.append(clip)
        print(f"{clip_name:55s} turns {clip['turns']}  error once {clip['error_once']:.4f} twice {clip['error_twice']:.4f}", flush=True)
    once_s = sum(f["once_cpu_s"] for f in finals)
    twice_s = sum(f["twice_cpu_s"] for f in finals)
    return {
        "schema": "candor.bench.encode_once/1",
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": ["python", "-m", "benchmarks.encode_once", *sys.argv[1:]],
        "machine": {"cpu": platform.processor() or platform.machine(), "python": platform.python_version()},
        "model": f"whisper {args.model} int8, 1 thread, trimmed window",
        "clips": len(per_clip),
        "finals": len(finals),
        "speech_s": round(sum(f["seconds"] for f in finals), 1),
        "once_cpu_s": round(once_s, 1),
        "twice_cpu_s": round(twice_s, 1),
        "saved_share": round(1 - once_s / twice_s, 3) if twice_s else None,
        "encodes": {"once": sum(f["once_encodes"] for f in finals), "twice": sum(f["twice_encodes"] for f in finals)},
        "same_text": sum(f["same_text"] for f in finals),
        "same_language": sum(f["same_language"] for f in finals),
        "same_words": sum(f["same_words"] for f in finals),
        "mean_error": {name: round(float(np.mean([c[f"error_{name}"] for c in per_clip])), 4) for name in ("once", "twice")},
        "finals_detail": finals,
        "per_clip": per_clip,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.encode_once", description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="base")
    p.add_argument("--limit", type=int, default=None, help="only the first N clips")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    result = run(args)
    summary = {k: v for k, v in result.items() if k not in ("finals_detail", "per_clip")}
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    if args.out is not None:
        args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
