"""Long answers: streamed transcript against the whole-file one, and end of speech -> final.

Builds answers of 30-90 s from real recordings (the Mandarin answers in
tests/media/answers_zh, several of one bank's answers back to back with a
short pause between) and from English text spoken by espeak-ng, then for
each answer:

* **whole file**: the runner decodes the whole answer in one call
  (faster-whisper's own 30 s windows), the best this model does on it;
* **streamed**: the answer plays in real time into a session's analyzer graph
  (silero-vad + streaming Whisper, the server's defaults), and the
  ``transcript.final`` texts, in order, make the transcript.

Errors against the text that was spoken: CER for Mandarin (punctuation and
spaces removed), WER for English (lower case, punctuation removed). Latency:
from the moment the audio of the last word's end was pushed (the last 10 ms
within 40 dB of the loudest) to the arrival of the answer's last final; also
every final's delay after its ``speech.end``.
Every event is scanned for U+FFFD and for decoding loops.

    python -m benchmarks.long_answers                  # the full set (about 15 min)
    python -m benchmarks.long_answers --quick          # one answer per language
    python -m benchmarks.long_answers --out benchmarks/data/long_answers.json

It prints a table and writes JSON (to benchmarks/results/ unless --out).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import MEDIA_DIR

SAMPLE_RATE = 16_000
CHUNK = 512
ANSWERS_ZH = MEDIA_DIR / "answers_zh"
LEAD_S, TAIL_S, GAP_S = 1.0, 3.0, 0.4

# English answers in an interview's register (espeak-ng reads them; about 165 words a minute).
ENGLISH = [
    "After some reflection I told the client that the product he wanted did not fit his risk profile. "
    "He was sixty eight and the money was his retirement reserve, so I showed him the fund's worst year, "
    "a fall of more than thirty percent, and asked what that loss would mean for his plans. "
    "We looked at a ladder of term deposits and a short bond fund instead. He took a week to think, "
    "came back with his daughter, and they chose the ladder. I wrote down every step of the conversation, "
    "because if he had insisted on the riskier fund, the bank's rules would have required a signed warning "
    "and a recorded session.",
    "The first thing I check when a borrower's sales fall is whether the money has moved to another bank. "
    "I compare our statements with their tax filings and their electricity bills, which are hard to fake. "
    "In one case the sales had not fallen at all; the company had opened an account at a competitor to pay a "
    "new supplier. In another the factory was half empty and the owner had lent money to a relative's "
    "property project. We visited the site the next day, counted the stock, and reduced the credit line "
    "before the next drawdown. The lesson I took was to look at cash, not at promises, and to go and see.",
    "My target for the quarter was thirty million in new deposits and I was eight million short with "
    "three weeks to go. I did not call everyone on my list. I picked two groups: customers who receive "
    "their salary with us but keep most of their savings elsewhere, and customers whose large deposits "
    "were about to mature. For each I prepared a short comparison of rates and services. I also ran two "
    "retirement planning talks at companies whose payroll we handle. We closed the gap in the last week, "
    "and more importantly, most of those customers were still with us six months later.",
]


@dataclass
class Answer:
    name: str
    language: str
    speech: np.ndarray  # 16 kHz mono float32, speech only
    reference: str

    @property
    def seconds(self) -> float:
        return len(self.speech) / SAMPLE_RATE

    @property
    def last_word_end_s(self) -> float:
        """Where the last word's sound ends: the last 10 ms within 40 dB of the loudest (recordings end in a little silence)."""
        frames = self.speech[: len(self.speech) // 160 * 160].reshape(-1, 160)
        rms = np.sqrt(np.mean(frames**2, axis=1))
        loud = np.flatnonzero(rms > rms.max() * 0.01)
        return float((loud[-1] + 1) * 160 / SAMPLE_RATE) if len(loud) else self.seconds


@dataclass
class Streamed:
    finals: list[dict[str, Any]] = field(default_factory=list)
    final_wall: list[float] = field(default_factory=list)
    speech_end_wall: dict[int, float] = field(default_factory=dict)
    starts: list[dict[str, Any]] = field(default_factory=list)
    ends: list[dict[str, Any]] = field(default_factory=list)
    fffd: int = 0
    loops: int = 0
    last_word_pushed_wall: float = 0.0


def load_audio(path: Path) -> np.ndarray:
    import av

    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        parts = [out.to_ndarray().reshape(-1) for frame in container.decode(audio=0) for out in resampler.resample(frame)]
    return np.concatenate(parts).astype(np.float32)


def mandarin_answers(targets: list[float]) -> list[Answer]:
    """Answers of about ``targets`` seconds: one bank's recordings back to back, each followed by a pause."""
    manifest = json.loads((ANSWERS_ZH / "manifest.json").read_text(encoding="utf-8"))
    by_bank: dict[str, list[dict[str, Any]]] = {}
    for item in manifest:
        by_bank.setdefault(item["bank"], []).append(item)
    banks = sorted(by_bank)
    answers = []
    cursor = {bank: 0 for bank in banks}
    for n, target in enumerate(targets):
        bank = banks[n % len(banks)]
        items = by_bank[bank]
        pieces, texts, seconds = [], [], 0.0
        while seconds < target - 5:
            item = items[cursor[bank] % len(items)]
            cursor[bank] += 1
            audio = load_audio(ANSWERS_ZH / item["file"])
            if seconds and seconds + len(audio) / SAMPLE_RATE > target + 12:
                continue  # too long for this answer: the next one may fit
            pieces += [audio, np.zeros(int(GAP_S * SAMPLE_RATE), np.float32)]
            texts.append(item["text"])
            seconds += len(audio) / SAMPLE_RATE + GAP_S
        answers.append(Answer(f"zh-{bank}-{round(seconds)}s", "zh", np.concatenate(pieces[:-1]), "".join(texts)))
    return answers


def english_answers(count: int) -> list[Answer]:
    answers = []
    with tempfile.TemporaryDirectory() as tmp:
        for n, text in enumerate(ENGLISH[:count]):
            wav = Path(tmp) / f"en{n}.wav"
            subprocess.run(["espeak-ng", "-v", "en-us", "-s", "165", "-w", str(wav), text], check=True)
            speech = load_audio(wav)
            answers.append(Answer(f"en-{n + 1}-{round(len(speech) / SAMPLE_RATE)}s", "en", speech, text))
    return answers


def normalise(text: str, language: str) -> str:
    if language == "zh":
        return re.sub(r"[\W_]+", "", text.lower())
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split())


def error_rate(reference: str, hypothesis: str, language: str) -> float:
    import jiwer

    ref, hyp = normalise(reference, language), normalise(hypothesis, language)
    return float(jiwer.cer(ref, hyp) if language == "zh" else jiwer.wer(ref, hyp))


def join_finals(finals: list[dict[str, Any]], language: str) -> str:
    glue = "" if language == "zh" else " "
    return glue.join(f["text"].strip() for f in finals)


async def stream(models: Any, answer: Answer, *, realtime: bool, turn_config: Any = None) -> Streamed:
    from events import SPEECH_END, SPEECH_START, TRANSCRIPT_FINAL
    from analyzers.graph import AnalyzerGraph
    from analyzers.overlap import find_repetition
    from media.frames import AudioChunk

    audio = np.concatenate(
        [np.zeros(int(LEAD_S * SAMPLE_RATE), np.float32), answer.speech, np.zeros(int(TAIL_S * SAMPLE_RATE), np.float32)]
    )
    speech_end = LEAD_S + answer.last_word_end_s
    graph = AnalyzerGraph(models, turn_config=turn_config, face=False, emotion=False)
    out = Streamed()

    async def read() -> None:
        async for event in graph:
            now = time.perf_counter()
            payload = event.payload.to_dict()
            texts = [str(payload.get(key, "")) for key in ("text", "stable", "unstable")]
            texts += [str(w.get("word", "")) for w in payload.get("words") or []]
            out.fffd += sum(t.count("\ufffd") for t in texts)
            if event.type == TRANSCRIPT_FINAL:
                out.finals.append(payload)
                out.final_wall.append(now)
                out.loops += find_repetition(payload["text"]) is not None
            elif event.type == SPEECH_END:
                out.ends.append(payload)
                out.speech_end_wall[int(payload["utterance_id"])] = now
            elif event.type == SPEECH_START:
                out.starts.append({"utterance_id": payload["utterance_id"], "start": event.media_time})

    reader = asyncio.ensure_future(read())
    loop = asyncio.get_running_loop()
    started = loop.time()
    for i in range(0, len(audio) - CHUNK + 1, CHUNK):
        t = i / SAMPLE_RATE
        graph.push_audio(AudioChunk(audio[i : i + CHUNK], t))
        if t <= speech_end < t + CHUNK / SAMPLE_RATE:
            out.last_word_pushed_wall = time.perf_counter()
        if realtime:
            ahead = (t + CHUNK / SAMPLE_RATE) - (loop.time() - started)
            if ahead > 0:
                await asyncio.sleep(ahead)
        while graph.vad.backlog > 50:
            await asyncio.sleep(0.005)
    graph.end_input()
    await reader
    await graph.aclose()
    return out


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def machine() -> dict[str, Any]:
    model = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "cpu": model, "python": platform.python_version(), "platform": platform.platform()}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from runtime.models import ModelConfig, Models
    from analyzers.turns import TurnConfig

    targets = [30.0, 60.0] if args.quick else [30.0, 45.0, 60.0, 60.0, 60.0, 60.0, 75.0, 90.0]
    answers = mandarin_answers(targets) + english_answers(1 if args.quick else len(ENGLISH))
    config = ModelConfig(face=False, scoring=False, emotion=False)
    models = Models.load(config)
    models.warmup()
    runner = models.asr
    overrides: dict[str, Any] = {}
    if args.single_turn:
        overrides["long_turn_s"] = None
    elif args.long_turn_s is not None:
        overrides["long_turn_s"] = args.long_turn_s
    if args.long_turn_min_silence_s is not None:
        overrides["long_turn_min_silence_s"] = args.long_turn_min_silence_s
    turn_config = TurnConfig(**overrides)
    rows = []
    load_before = os.getloadavg()
    try:
        for answer in answers:
            started = time.perf_counter()
            whole = runner.recognize(answer.speech, words=True)
            whole_s = time.perf_counter() - started
            streamed = await stream(models, answer, realtime=not args.fast, turn_config=turn_config)
            text = join_finals(streamed.finals, answer.language)
            last = streamed.final_wall[-1] if streamed.final_wall else None
            per_final = [
                wall - streamed.speech_end_wall[int(f["utterance_id"])]
                for f, wall in zip(streamed.finals, streamed.final_wall)
                if int(f["utterance_id"]) in streamed.speech_end_wall
            ]
            row = {
                "answer": answer.name,
                "language": answer.language,
                "seconds": round(answer.seconds, 1),
                "last_word_end_s": round(LEAD_S + answer.last_word_end_s, 3),
                "metric": "cer" if answer.language == "zh" else "wer",
                "whole_error": round(error_rate(answer.reference, whole.text, answer.language), 4),
                "streamed_error": round(error_rate(answer.reference, text, answer.language), 4),
                "streamed_vs_whole": round(error_rate(whole.text, text, answer.language), 4),
                "whole_decode_s": round(whole_s, 2),
                "finals": len(streamed.finals),
                "forced_splits": sum(1 for e in streamed.ends if e.get("split")),
                "final_parts_s": [round(f["end"] - f["start"], 1) for f in streamed.finals],
                "speech_end_to_last_final_s": round(last - streamed.last_word_pushed_wall, 3) if last else None,
                "speech_end_event_to_final_s": [round(x, 3) for x in per_final],
                "fffd": streamed.fffd,
                "loops": streamed.loops,
                "ids_unique_increasing": all(
                    a["utterance_id"] < b["utterance_id"] for a, b in zip(streamed.finals, streamed.finals[1:])
                ),
                "whole_text": whole.text,
                "streamed_text": text,
            }
            row["delta"] = round(row["streamed_error"] - row["whole_error"], 4)
            rows.append(row)
            print(
                f"{row['answer']:<28} {row['seconds']:>5.1f}s {row['metric']} whole {row['whole_error']:.3f} "
                f"streamed {row['streamed_error']:.3f} (delta {row['delta']:+.3f}) finals {row['finals']} "
                f"end->final {row['speech_end_to_last_final_s']} s fffd {row['fffd']} loops {row['loops']}",
                flush=True,
            )
    finally:
        models.close()
    load_after = os.getloadavg()

    summary: dict[str, Any] = {}
    for language in sorted({r["language"] for r in rows}):
        mine = [r for r in rows if r["language"] == language]
        summary[language] = {
            "answers": len(mine),
            "metric": mine[0]["metric"],
            "whole_error_mean": round(statistics.fmean(r["whole_error"] for r in mine), 4),
            "streamed_error_mean": round(statistics.fmean(r["streamed_error"] for r in mine), 4),
            "delta_mean": round(statistics.fmean(r["delta"] for r in mine), 4),
            "delta_max": round(max(r["delta"] for r in mine), 4),
        }
    sixty = [r["speech_end_to_last_final_s"] for r in rows if 50 <= r["seconds"] <= 70 and r["speech_end_to_last_final_s"] is not None]
    every = [r["speech_end_to_last_final_s"] for r in rows if r["speech_end_to_last_final_s"] is not None]
    per_final = [x for r in rows for x in r["speech_end_event_to_final_s"]]
    latency = {
        "answers_50_70s": {"n": len(sixty), "p50": percentile(sixty, 0.5), "p95": percentile(sixty, 0.95), "max": max(sixty, default=None)},
        "all_answers": {"n": len(every), "p50": percentile(every, 0.5), "p95": percentile(every, 0.95), "max": max(every, default=None)},
        "every_final_after_speech_end": {
            "n": len(per_final), "p50": percentile(per_final, 0.5), "p95": percentile(per_final, 0.95), "max": max(per_final, default=None)
        },
    }
    for block in latency.values():
        for key in ("p50", "p95", "max"):
            if block[key] is not None:
                block[key] = round(block[key], 3)
    return {
        "benchmark": "long_answers",
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": machine(),
        "model": {
            "asr": f"whisper {config.asr_model} {config.asr_compute_type} ({config.asr_device})",
            "asr_workers": runner.workers,
            "vad": f"silero-vad {config.vad_backend}",
        },
        "conditions": {
            "pacing": "faster than real time" if args.fast else "real time",
            "turns": "one turn up to max_utterance_s (long_turn_s=None)" if args.single_turn else (f"TurnConfig({overrides})" if overrides else "defaults (TurnConfig())"),
            "turn_config": {k: getattr(turn_config, k) for k in ("min_silence_s", "long_turn_s", "long_turn_min_silence_s", "max_utterance_s", "split_search_s", "split_margin_s")},
            "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in load_after],
            "note": args.note,
        },
        "summary": summary,
        "latency_s": latency,
        "fffd_total": sum(r["fffd"] for r in rows),
        "loops_total": sum(r["loops"] for r in rows),
        "answers": rows,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.long_answers", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one 30 s and one 60 s Mandarin answer, one English")
    parser.add_argument("--fast", action="store_true", help="push audio faster than real time (no latency figures worth reading)")
    parser.add_argument("--single-turn", action="store_true", help="no early ends in long turns (long_turn_s=None), for comparison")
    parser.add_argument("--long-turn-s", type=float, help="override TurnConfig.long_turn_s")
    parser.add_argument("--long-turn-min-silence-s", type=float, help="override TurnConfig.long_turn_min_silence_s")
    parser.add_argument("--out", type=Path, help="where to write the JSON (default: benchmarks/results/long_answers-DATE.json)")
    parser.add_argument("--note", default="", help="conditions worth recording (e.g. other work on the machine)")
    args = parser.parse_args(argv)
    report = asyncio.run(run(args))
    out = args.out or Path("benchmarks/results") / f"long_answers-{time.strftime('%Y-%m-%d-%H%M')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({"summary": report["summary"], "latency_s": report["latency_s"], "fffd_total": report["fffd_total"], "loops_total": report["loops_total"]}, indent=1))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
