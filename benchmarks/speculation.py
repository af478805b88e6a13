"""Speculative finals: when a final's decode may start, what it wastes, and whether it says the same.

The ASR decodes a final speculatively at the VAD's pause, before the silence
is long enough to end the turn (analyzers/turns.py, ``TurnPause``). If the
candidate goes on speaking the decode was void: a worker spent on nothing.
This replays real answers (tests/media/answers_zh, the JFK clip) through
silero-vad and the turn segmenter, offline, under two rules:

* ``pad``: the rule before issue 13, a pause once ``pad_s`` (0.2 s) of
  silence is in, in every turn;
* ``lead``: ``speculate_lead_s`` (0.2 s) before the silence would end the
  turn: 0.3 s into a short turn's 0.5 s, 0.05 s into a long turn's 0.25 s,
  where the final's audio is not all heard yet and the rest is decoded as
  zeros.

For each rule: the pauses that became the final (used) and those the speaker
talked through (void), the decode time of the void ones (each decoded, CPU
time of this process) against the finals', and how long into the silence
each used decode could start. For the ``lead`` rule's zero-filled decodes:
the text against the final decoded from the audio itself, and the error
rate of the whole answer both ways (CER for Mandarin, WER for English).

    python -m benchmarks.speculation --out benchmarks/data/speculation-2026-12-06.json
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import MEDIA_DIR
from benchmarks.long_answers import error_rate, load_audio

SAMPLE_RATE = 16_000
CHUNK = 512
CHUNK_S = CHUNK / SAMPLE_RATE
JFK_TEXT = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."


@dataclass
class Pause:
    start: float  # the turn's start
    end: float  # where the final would end
    heard: float  # the audio heard when the pause came
    silence_start: float
    used: bool = False
    long_turn: bool = False


def clips() -> list[tuple[str, np.ndarray, str, str]]:
    manifest = json.loads((MEDIA_DIR / "answers_zh" / "manifest.json").read_text(encoding="utf-8"))
    out = [(m["file"], load_audio(MEDIA_DIR / "answers_zh" / m["file"]), m["text"], "zh") for m in manifest]
    out.append(("jfk.flac", load_audio(MEDIA_DIR / "jfk.flac"), JFK_TEXT, "en"))
    return out


def segment(probs: list[float], lead: float | None, short_lead: float | None = None) -> tuple[list[tuple[float, float]], list[Pause]]:
    """The turns (start, end) and the pauses, each marked used or void, under one rule (``short_lead``: a short turn's, default ``lead``)."""
    from analyzers.turns import TurnConfig, TurnEnd, TurnPause, TurnSegmenter

    seg = TurnSegmenter(TurnConfig(speculate_lead_s=lead, speculate_short_lead_s=lead if short_lead is None else short_lead))
    cfg = seg.config
    turns: list[tuple[float, float]] = []
    pauses: list[Pause] = []
    open_pause: Pause | None = None
    for i, prob in enumerate(probs):
        start, end = i * CHUNK_S, (i + 1) * CHUNK_S
        for boundary in seg.feed(prob, start, end):
            if isinstance(boundary, TurnPause):
                open_pause = Pause(boundary.start, boundary.end, end, boundary.end - cfg.pad_s)
                open_pause.long_turn = open_pause.silence_start - boundary.start >= (cfg.long_turn_s or math.inf)
                pauses.append(open_pause)
            elif isinstance(boundary, TurnEnd):
                turns.append((boundary.start, boundary.end))
                if open_pause is not None and abs(open_pause.end - boundary.end) < 1e-6:
                    open_pause.used = True
                open_pause = None
    for boundary in seg.finish():
        if isinstance(boundary, TurnEnd):
            turns.append((boundary.start, boundary.end))
    return turns, pauses


def cut(audio: np.ndarray, start: float, end: float, heard: float | None = None) -> np.ndarray:
    """The final's audio [start, end); with ``heard``, zeros from there on (not heard yet)."""
    a, b = int(round(start * SAMPLE_RATE)), int(round(end * SAMPLE_RATE))
    piece = audio[a:b].copy()
    if heard is not None and heard < end:
        piece[max(0, int(round(heard * SAMPLE_RATE)) - a):] = 0.0
    return piece


def run(args: argparse.Namespace) -> dict[str, Any]:
    from analyzers.asr.decode import WhisperDecoder
    from analyzers.asr.loading import load_whisper
    from analyzers.vad import VadRunner, VadStream

    vad = VadRunner(batch=False)
    decoder = WhisperDecoder(load_whisper(args.model, cpu_threads=1, workers=1))
    decoder.recognize(np.zeros(SAMPLE_RATE, np.float32))

    def decode(audio: np.ndarray) -> tuple[str, float]:
        started = time.process_time()
        text = decoder.recognize(audio, words=True).text
        return text, time.process_time() - started

    rules = {"pad": None, "lead": args.lead}
    totals: dict[str, dict[str, Any]] = {
        name: {"used": 0, "void": 0, "filled": 0, "void_decode_s": 0.0, "start_after_silence_s": {"short": [], "long": []}}
        for name in rules
    }
    finals_decode_s = 0.0
    per_clip = []
    for name, speech, reference, language in clips()[: args.limit]:
        audio = np.concatenate([speech, np.zeros(SAMPLE_RATE, np.float32)])
        chunks = [audio[i * CHUNK : (i + 1) * CHUNK] for i in range(len(audio) // CHUNK)]
        probs = vad.probabilities(VadStream(), chunks)
        clip: dict[str, Any] = {"clip": name, "language": language, "seconds": round(len(speech) / SAMPLE_RATE, 2)}
        turns, finals = None, {}
        for rule, lead in rules.items():
            rule_turns, pauses = segment(probs, lead, args.short_lead if lead is not None else None)
            if turns is None:
                turns = rule_turns
                for start, end in turns:
                    finals[(start, end)] = decode(cut(audio, start, end))
                    finals_decode_s += finals[(start, end)][1]
            assert rule_turns == turns, "the rule moved a turn's boundaries"  # only when decoding starts differs
            t = totals[rule]
            texts = []
            for start, end in turns:
                used = next((p for p in pauses if p.used and abs(p.end - end) < 1e-6), None)
                if used is not None and used.heard < end - 1e-6:
                    t["filled"] += 1
                    texts.append(decode(cut(audio, start, end, used.heard))[0])
                else:
                    texts.append(finals[(start, end)][0])
            for p in pauses:
                if p.used:
                    t["used"] += 1
                    t["start_after_silence_s"]["long" if p.long_turn else "short"].append(round(p.heard - p.silence_start, 3))
                else:
                    t["void"] += 1
                    t["void_decode_s"] += decode(cut(audio, p.start, p.end))[1]
            glue = "" if language == "zh" else " "
            clip[rule] = {"used": sum(p.used for p in pauses), "void": sum(not p.used for p in pauses),
                          "error": round(error_rate(reference, glue.join(texts), language), 4), "texts": texts}
        clip["turns"] = len(turns or [])
        clip["error_at_end"] = round(error_rate(reference, ("" if language == "zh" else " ").join(finals[k][0] for k in turns or []), language), 4)
        per_clip.append(clip)
        print(f"{name:55s} turns {clip['turns']}  void pad {clip['pad']['void']:2d} lead {clip['lead']['void']:2d}"
              f"  error end {clip['error_at_end']:.3f} lead {clip['lead']['error']:.3f}", flush=True)
    summary = {}
    for rule, t in totals.items():
        starts = t.pop("start_after_silence_s")
        summary[rule] = {
            **t,
            "void_decode_s": round(t["void_decode_s"], 1),
            "void_decode_share": round(t["void_decode_s"] / finals_decode_s, 3),
            "mean_error": round(float(np.mean([c[rule]["error"] for c in per_clip])), 4),
            "start_after_silence_s": {k: (round(float(np.mean(v)), 3) if v else None) for k, v in starts.items()},
            "used_by_turn": {k: len(v) for k, v in starts.items()},
        }
    identical = sum(
        a == b for c in per_clip for a, b in zip(c["lead"]["texts"], c["pad"]["texts"])
    )
    return {
        "schema": "candor.bench.speculation/1",
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": ["python", "-m", "benchmarks.speculation", *sys.argv[1:]],
        "machine": {"cpu": platform.processor() or platform.machine(), "python": platform.python_version()},
        "model": f"whisper {args.model} int8, 1 thread",
        "lead_s": args.lead,
        "short_lead_s": args.lead if args.short_lead is None else args.short_lead,
        "clips": len(per_clip),
        "finals": sum(c["turns"] for c in per_clip),
        "finals_decode_s": round(finals_decode_s, 1),
        "mean_error_at_end": round(float(np.mean([c["error_at_end"] for c in per_clip])), 4),
        "lead_texts_identical_to_end": identical,
        "rules": summary,
        "per_clip": per_clip,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.speculation", description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="base")
    p.add_argument("--lead", type=float, default=0.2, help="speculate_lead_s of the lead rule (default 0.2)")
    p.add_argument("--short-lead", type=float, default=None,
                   help="speculate_short_lead_s of the lead rule (default: --lead, as the table of 2026-12-06 was made)")
    p.add_argument("--limit", type=int, default=None, help="only the first N clips")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    report = run(args)
    for rule, s in report["rules"].items():
        print(f"{rule:5s} used {s['used']:3d} void {s['void']:3d} filled {s['filled']:3d}  void decode {s['void_decode_s']:6.1f} s"
              f" = {s['void_decode_share'] * 100:3.0f}% of the finals' {report['finals_decode_s']} s"
              f"  decode starts after silence: {s['start_after_silence_s']}  mean error {s['mean_error']}")
    print(f"mean error, finals decoded at the end: {report['mean_error_at_end']}; "
          f"lead texts identical to pad's: {report['lead_texts_identical_to_end']} of {report['finals']}")
    if args.out:
        args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
