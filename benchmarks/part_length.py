"""Shorter parts of a long answer, with or without the part before as Whisper's prompt: accuracy against decode time.

A final's decode grows with its turn (benchmarks/decode_floor.py), and a turn
that has run ``long_turn_s`` ends at a shorter pause (analyzers/turns.py).
Ending long turns sooner makes the last part, decoded after the candidate
stops, shorter; it also cuts sentences from their context. Whisper can be
given the text before as a prompt (faster-whisper's ``initial_prompt``), which
could give that context back. This decodes the long answers of
``benchmarks.long_answers`` (30-90 s Mandarin made of the answers_zh
recordings, three English answers by espeak-ng) offline, cut by the server's
turn segmenter for each ``long_turn_s``, each part decoded as the server does
(whisper base int8, one thread) with no prompt and with the previous part's
text as the prompt (when it ended less than 1.5 s before). Per rule: the
error against the reference (CER for Mandarin, WER for English), the decode
CPU time, and the parts' lengths.

    python -m benchmarks.part_length --out benchmarks/data/part-length-2026-12-06.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.long_answers import ENGLISH, english_answers, error_rate, machine, mandarin_answers
from benchmarks.speculation import CHUNK, SAMPLE_RATE, cut

PROMPT_GAP_S = 1.5  # a part whose previous one ended this close is the same answer going on


def run(args: argparse.Namespace) -> dict[str, Any]:
    from analyzers.asr.decode import WhisperDecoder
    from analyzers.asr.loading import load_whisper
    from analyzers.turns import TurnConfig, TurnEnd, TurnSegmenter
    from analyzers.vad import VadRunner, VadStream

    vad = VadRunner(batch=False)
    model = load_whisper(args.model, cpu_threads=1, workers=1)
    prompt: dict[str, str | None] = {"text": None}
    transcribe = model.transcribe

    def with_prompt(*a: Any, **kw: Any) -> Any:
        if prompt["text"]:
            kw["initial_prompt"] = prompt["text"]
            # the prompt's tokens count against Whisper's 448 positions, as the decoder's cap does for hotwords
            taken = len(model.hf_tokenizer.encode(" " + prompt["text"], add_special_tokens=False).ids) + 1
            kw["max_new_tokens"] = max(1, kw["max_new_tokens"] - taken)
        return transcribe(*a, **kw)

    model.transcribe = with_prompt
    decoder = WhisperDecoder(model)
    decoder.recognize(np.zeros(SAMPLE_RATE, np.float32))
    answers = mandarin_answers([30.0, 45.0, 60.0, 60.0, 60.0, 60.0, 75.0, 90.0]) + english_answers(len(ENGLISH))
    heard = {}
    for answer in answers:
        audio = np.concatenate([answer.speech, np.zeros(SAMPLE_RATE, np.float32)])
        chunks = [audio[i * CHUNK : (i + 1) * CHUNK] for i in range(len(audio) // CHUNK)]
        heard[answer.name] = (audio, vad.probabilities(VadStream(), chunks))
    rules = []
    for long_turn_s in args.long_turn_s:
        for prompted in (False, True):
            errors: dict[str, list[float]] = {"zh": [], "en": []}
            cpu = 0.0
            parts: list[float] = []
            per_answer = []
            for answer in answers:
                audio, probs = heard[answer.name]
                segmenter = TurnSegmenter(TurnConfig(long_turn_s=long_turn_s))
                turns = [
                    (b.start, b.end)
                    for i, p in enumerate(probs)
                    for b in segmenter.feed(p, i * CHUNK / SAMPLE_RATE, (i + 1) * CHUNK / SAMPLE_RATE)
                    if isinstance(b, TurnEnd)
                ]
                texts: list[str] = []
                previous_end = None
                for start, end in turns:
                    goes_on = texts and previous_end is not None and start - previous_end < PROMPT_GAP_S
                    prompt["text"] = texts[-1] if prompted and goes_on else None
                    started = time.process_time()
                    text = decoder.recognize(cut(audio, start, end), words=True).text
                    cpu += time.process_time() - started
                    if text:
                        texts.append(text)
                    previous_end = end
                    parts.append(end - start)
                prompt["text"] = None
                glue = "" if answer.language == "zh" else " "
                error = error_rate(answer.reference, glue.join(texts), answer.language)
                errors[answer.language].append(error)
                per_answer.append({"answer": answer.name, "parts": len(turns), "error": round(error, 4)})
            rule = {
                "long_turn_s": long_turn_s,
                "prompt": prompted,
                "zh_cer_mean": round(float(np.mean(errors["zh"])), 4),
                "en_wer_mean": round(float(np.mean(errors["en"])), 4),
                "cpu_s": round(cpu, 1),
                "parts": len(parts),
                "part_s_p50": round(float(np.median(parts)), 2),
                "part_s_p95": round(float(np.percentile(parts, 95)), 2),
                "part_s_max": round(max(parts), 2),
                "answers": per_answer,
            }
            rules.append(rule)
            print({k: v for k, v in rule.items() if k != "answers"}, flush=True)
    return {
        "schema": "candor.bench.part_length/1",
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": ["python", "-m", "benchmarks.part_length", *sys.argv[1:]],
        "machine": machine(),
        "model": f"whisper {args.model} int8, 1 thread, trimmed window, encoded once",
        "answers": [{"answer": a.name, "language": a.language, "seconds": round(a.seconds, 1)} for a in answers],
        "rules": rules,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.part_length", description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="base")
    p.add_argument("--long-turn-s", type=lambda s: [float(x) for x in s.split(",")], default=[8.0, 6.0, 5.0],
                   help="the long_turn_s values to try, comma-separated (default 8,6,5; 8 is the server's)")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    result = run(args)
    if args.out is not None:
        args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
