"""Resume parsing: field accuracy against generated truth, and resumes per minute.

``python -m benchmarks resumes [--n 120] [--seed 1] [--out PATH]`` makes a
corpus of ``n`` resumes with tests/resume_fixtures.py (Chinese and English,
PDF printed by headless Chromium, DOCX with tables, plain text in UTF-8 or
GBK; randomised names, schools, dates in every style, employers, skills,
certificates, languages, in several layouts), runs each through
``intake.extract.extract_text`` and ``intake.parse.parse_resume``, and
compares the fields a recruiter checks with the truth the resume was made
from. It prints a Markdown table and writes JSON (every resume's truth,
parsed values and timing) to ``benchmarks/data/resumes-<date>.json``;
:func:`markdown_table` renders the table from that JSON (tests hold
benchmarks/README.md equal to it).

``python -m benchmarks resumes --held-out [--label before]`` instead reads the
hand-written resumes in tests/media/resumes/ (real-world styles, written
independently of the generator, their truth in truth.json by hand), scores
them the same way (jobs ordered by start date, most recent first, since a
real resume may list them either way) and writes
``benchmarks/data/resumes_held_out-<date>[-label].json``; ``--folder
tests/media/resumes/fresh`` scores six more written after the parser's fixes
(``resumes_held_out_fresh-<date>.json``);
:func:`held_out_table` renders its table.

``python -m benchmarks resumes --layouts [--rounds 10] [--seed 1] [--label before]``
scores the real-world layouts of tests/resume_fixtures.py (``REAL_LAYOUTS``:
PDF sidebars, a page laid out as a table, an info grid with a photo box,
right-aligned dates, a job broken across two pages under a running header;
DOCX contact details in the page header, a page-wide two-column table, Word
lists; and a PDF whose two columns are written line by line) and writes
``benchmarks/data/resumes_layouts-<date>[-label].json``; :func:`layouts_table`
renders its table.

Timing is extract + parse of each resume in this process, one at a time,
after one warm-up resume (jieba's dictionary loads on the first Chinese
text: its cost is reported apart). Making the PDFs is not timed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import sys
import time
from pathlib import Path
from typing import Any

from . import cpu_model, git_commit, pct as _pct, versions

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "benchmarks" / "data"

FIELDS = (
    "name", "phone", "email", "education", "school", "major", "graduation_year",
    "employers", "titles", "years", "skills", "certificates", "languages",
)
FORMATS = ("pdf", "docx", "txt")


def score(truth: Any, parsed: Any) -> dict[str, bool]:
    """Each field right or wrong: exact values, lists as sets (jobs in order), years within 0.1."""
    p, q = parsed.personal, parsed.qualifications
    top = next((e for e in q.educations if e.level is q.education), None) if q.education else None
    jobs = [j for j in q.jobs if not j.internship]
    return {
        "name": bool(p.name and p.name.value == truth.name),
        "phone": bool(p.phone and p.phone.value == truth.phone),
        "email": bool(p.email and p.email.value == truth.email),
        "education": bool(q.education and q.education.value == truth.education),
        "school": bool(top and top.school and top.school.value == truth.school),
        "major": bool(top and top.major and top.major.value == truth.major),
        "graduation_year": bool(top and top.graduation_year == truth.graduation_year),
        "employers": [j.employer.value if j.employer else None for j in jobs] == truth.employers[::-1],
        "titles": [j.title.value if j.title else None for j in jobs] == truth.titles[::-1],
        "years": bool(q.years is not None and abs(q.years.value - truth.years) <= 0.1 + 1e-9),
        "skills": sorted({s.name for s in q.skills}) == truth.skills,
        "certificates": sorted({c.name for c in q.certificates if c.held}) == truth.certificates,
        "languages": sorted({lang.code for lang in q.languages}) == truth.languages,
    }


def _parsed_summary(parsed: Any) -> dict[str, Any]:
    p, q = parsed.personal, parsed.qualifications
    top = next((e for e in q.educations if e.level is q.education), None) if q.education else None
    return {
        "name": p.name.value if p.name else None,
        "phone": p.phone.value if p.phone else None,
        "email": p.email.value if p.email else None,
        "education": q.education.value if q.education else None,
        "school": top.school.value if top and top.school else None,
        "major": top.major.value if top and top.major else None,
        "graduation_year": top.graduation_year if top else None,
        "employers": [j.employer.value if j.employer else None for j in q.jobs if not j.internship],
        "titles": [j.title.value if j.title else None for j in q.jobs if not j.internship],
        "years": q.years.value if q.years else None,
        "skills": sorted({s.name for s in q.skills}),
        "certificates": sorted({c.name for c in q.certificates if c.held}),
        "languages": sorted({lang.code for lang in q.languages}),
        "needs_review": parsed.needs_review,
    }


def _accuracy(rows: list[dict[str, Any]]) -> dict[str, float]:
    out = {f: round(sum(r["correct"][f] for r in rows) / len(rows), 3) for f in FIELDS}
    out["all_fields"] = round(sum(all(r["correct"].values()) for r in rows) / len(rows), 3)
    return out


def markdown_table(data: dict[str, Any]) -> str:
    """The README's table: accuracy per field, overall and per format and language, from the JSON."""
    groups = [("all", data["accuracy"])]
    groups += [(g, data["accuracy_by_group"][g]) for g in sorted(data["accuracy_by_group"])]
    counts = {"all": data["n"], **data["count_by_group"]}
    head = "| field | " + " | ".join(f"{g} ({counts[g]})" for g, _ in groups) + " |"
    sep = "| --- |" + " --- |" * len(groups)
    lines = [head, sep]
    for f in (*FIELDS, "all_fields"):
        lines.append(f"| {f} | " + " | ".join(f"{acc[f]:.3f}" for _, acc in groups) + " |")
    t = data["timing"]
    lines.append("")
    lines.append(
        f"Throughput {t['resumes_per_minute']:.0f} resumes/min (one process, one at a time); per resume "
        f"p50 {t['p50_ms']:.1f} ms, p95 {t['p95_ms']:.1f} ms, max {t['max_ms']:.1f} ms; "
        + ", ".join(f"{k} p50 {v['p50_ms']:.1f} / p95 {v['p95_ms']:.1f} ms" for k, v in sorted(t["by_format"].items()))
        + f"; first Chinese resume (jieba's dictionary) {t['cold_start_ms']:.0f} ms."
    )
    return "\n".join(lines)


def to_json(data: dict[str, Any]) -> str:
    """The report as JSON: the summary indented, one line per resume."""
    head = {k: v for k, v in data.items() if k != "resumes"}
    text = json.dumps(head, indent=1, ensure_ascii=False)
    rows = ",\n".join("  " + json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in data["resumes"])
    return text[:-2] + ',\n "resumes": [\n' + rows + "\n ]\n}\n"


def _machine() -> dict[str, Any]:
    cpu = cpu_model()
    commit = git_commit()
    found = versions("pypdfium2", "docx2python", "jieba", "phonenumbers", "charset-normalizer", "playwright")
    return {
        "cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "commit": commit,
        "versions": found, "load_avg_before": os.getloadavg(),
    }


def make_corpus(n: int, seed: int) -> tuple[list[tuple[str, str, str, int]], list[Any], list[bytes], float]:
    """(plan, resumes, files, seconds spent printing PDFs): n resumes, zh/en x pdf/docx/txt in turn."""
    from tests.resume_fixtures import LAYOUTS, make_resume, print_pdfs, to_docx, to_html, to_text

    rng = random.Random(seed)
    plan = []
    for i in range(n):
        lang = ("zh", "en")[i % 2]
        fmt = FORMATS[(i // 2) % 3]
        layout = LAYOUTS[lang][(i // 6) % len(LAYOUTS[lang])]
        plan.append((lang, fmt, layout, rng.randrange(1 << 30)))
    resumes = [make_resume(s, lang, layout) for lang, fmt, layout, s in plan]
    started = time.perf_counter()
    pdf_index = [i for i, p in enumerate(plan) if p[1] == "pdf"]
    pdfs = dict(zip(pdf_index, print_pdfs([to_html(resumes[i]) for i in pdf_index])))
    pdf_seconds = time.perf_counter() - started
    files: list[bytes] = []
    for i, (lang, fmt, _layout, s) in enumerate(plan):
        if fmt == "pdf":
            files.append(pdfs[i])
        elif fmt == "docx":
            files.append(to_docx(resumes[i]))
        else:
            encoding = "gbk" if lang == "zh" and s % 2 else "utf-8"
            files.append(to_text(resumes[i]).encode(encoding))
    return plan, resumes, files, pdf_seconds


def run(n: int, seed: int) -> dict[str, Any]:
    from intake.extract import extract_text
    from intake.parse import parse_resume
    from tests.resume_fixtures import TODAY, make_resume, to_text

    plan, resumes, files, pdf_seconds = make_corpus(n, seed)
    # warm-up: the first Chinese resume loads jieba's dictionary
    warm = make_resume(seed + 1, "zh", "labelled")
    t0 = time.perf_counter()
    parse_resume(extract_text(to_text(warm).encode()), today=TODAY)
    cold_ms = (time.perf_counter() - t0) * 1000

    rows = []
    total_started = time.perf_counter()
    for (lang, fmt, layout, s), resume, data in zip(plan, resumes, files):
        t0 = time.perf_counter()
        text = extract_text(data, f"resume.{fmt}")
        parsed = parse_resume(text, today=TODAY)
        ms = (time.perf_counter() - t0) * 1000
        rows.append({
            "lang": lang, "format": fmt, "layout": layout, "seed": s, "bytes": len(data), "ms": round(ms, 2),
            "truth": vars(resume.truth), "parsed": _parsed_summary(parsed), "correct": score(resume.truth, parsed),
        })
    total_s = time.perf_counter() - total_started
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(f"{r['lang']}-{r['format']}", []).append(r)
    times = [r["ms"] for r in rows]
    by_format = {
        f: {"p50_ms": round(_pct([r["ms"] for r in rows if r["format"] == f], 0.5), 2),
            "p95_ms": round(_pct([r["ms"] for r in rows if r["format"] == f], 0.95), 2)}
        for f in FORMATS
    }
    return {
        "benchmark": "resumes",
        "date": dt.date.today().isoformat(),
        "command": f"python -m benchmarks resumes --n {n} --seed {seed}",
        "machine": _machine(),
        "n": n,
        "seed": seed,
        "today": TODAY.isoformat(),
        "pdf_generation_s": round(pdf_seconds, 1),
        "accuracy": _accuracy(rows),
        "accuracy_by_group": {g: _accuracy(rs) for g, rs in groups.items()},
        "count_by_group": {g: len(rs) for g, rs in groups.items()},
        "timing": {
            "resumes_per_minute": round(len(rows) / total_s * 60, 1),
            "p50_ms": round(_pct(times, 0.5), 2),
            "p95_ms": round(_pct(times, 0.95), 2),
            "max_ms": round(max(times), 2),
            "by_format": by_format,
            "cold_start_ms": round(cold_ms, 1),
        },
        "resumes": rows,
    }


HELD_OUT = REPO / "tests" / "media" / "resumes"


def score_held_out(truth: dict[str, Any], parsed: Any) -> dict[str, bool]:
    """:func:`score` for a hand-written truth (a dict): full-time jobs most recent first by start date.

    Names are compared after intake.dates.normalize (full-width ASCII and dashes as the parser gives them).
    """
    from intake.dates import normalize

    def same(found: Any, value: str) -> bool:
        # the parser gives values with full-width ASCII made half-width: （中国） is (中国)
        return bool(found) and normalize(found.value) == normalize(value)

    def names(found: list[Any]) -> list[str | None]:
        return [normalize(f.value) if f else None for f in found]

    p, q = parsed.personal, parsed.qualifications
    top = next((e for e in q.educations if e.level is q.education), None) if q.education else None
    jobs = sorted((j for j in q.jobs if not j.internship), key=lambda j: j.start, reverse=True)
    return {
        "name": same(p.name, truth["name"]),
        "phone": bool(p.phone and p.phone.value == truth["phone"]),
        "email": bool(p.email and p.email.value == truth["email"]),
        "education": bool(q.education and q.education.value == truth["education"]),
        "school": bool(top and same(top.school, truth["school"])),
        "major": bool(top and same(top.major, truth["major"])),
        "graduation_year": bool(top and top.graduation_year == truth["graduation_year"]),
        "employers": names([j.employer for j in jobs]) == [normalize(v) for v in truth["employers"]],
        "titles": names([j.title for j in jobs]) == [normalize(v) for v in truth["titles"]],
        "years": abs((q.years.value if q.years is not None else 0.0) - truth["years"]) <= 0.1 + 1e-9
        and (q.years is not None or truth["years"] == 0),
        "skills": sorted({s.name for s in q.skills}) == sorted(truth["skills"]),
        "certificates": sorted({c.name for c in q.certificates if c.held}) == sorted(truth["certificates"]),
        "languages": sorted({lang.code for lang in q.languages}) == sorted(truth["languages"]),
    }


def run_held_out(folder: Path = HELD_OUT) -> dict[str, Any]:
    """The hand-written resumes in ``folder`` against their truth.json: accuracy per field, overall and per language."""
    from intake.extract import extract_text
    from intake.parse import parse_resume

    answers = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    today = dt.date.fromisoformat(answers["today"])
    rows = []
    for name, truth in answers["resumes"].items():
        data = (folder / name).read_bytes()
        t0 = time.perf_counter()
        parsed = parse_resume(extract_text(data, name), today=today)
        ms = (time.perf_counter() - t0) * 1000
        summary = _parsed_summary(parsed)
        jobs = sorted((j for j in parsed.qualifications.jobs if not j.internship), key=lambda j: j.start, reverse=True)
        summary["employers"] = [j.employer.value if j.employer else None for j in jobs]
        summary["titles"] = [j.title.value if j.title else None for j in jobs]
        rows.append({
            "file": name, "lang": name[:2], "ms": round(ms, 2),
            "truth": truth, "parsed": summary, "correct": score_held_out(truth, parsed),
        })
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(r["lang"], []).append(r)
    return {
        "benchmark": "resumes_held_out",
        "date": dt.date.today().isoformat(),
        "command": "python -m benchmarks resumes --held-out"
        + ("" if folder == HELD_OUT else f" --folder {folder.relative_to(REPO) if folder.is_relative_to(REPO) else folder}"),
        "folder": str(folder.relative_to(REPO) if folder.is_relative_to(REPO) else folder),
        "machine": _machine(),
        "n": len(rows),
        "today": today.isoformat(),
        "accuracy": _accuracy(rows),
        "accuracy_by_group": {g: _accuracy(rs) for g, rs in groups.items()},
        "count_by_group": {g: len(rs) for g, rs in groups.items()},
        "resumes": rows,
    }


def held_out_table(data: dict[str, Any]) -> str:
    """The README's held-out table: accuracy per field, all and per language, from the JSON (and the commit)."""
    groups = [("all", data["accuracy"])]
    groups += [(g, data["accuracy_by_group"][g]) for g in sorted(data["accuracy_by_group"])]
    counts = {"all": data["n"], **data["count_by_group"]}
    head = "| field (held out, " + data["machine"]["commit"] + ") | " + " | ".join(f"{g} ({counts[g]})" for g, _ in groups) + " |"
    sep = "| --- |" + " --- |" * len(groups)
    lines = [head, sep]
    for f in (*FIELDS, "all_fields"):
        lines.append(f"| {f} | " + " | ".join(f"{acc[f]:.3f}" for _, acc in groups) + " |")
    return "\n".join(lines)


def main_held_out(label: str | None, out: Path | None, folder: Path = HELD_OUT) -> int:
    data = run_held_out(folder.resolve())
    table = held_out_table(data)
    data["table_markdown"] = table
    print(table)
    for r in data["resumes"]:
        bad = [f for f, ok in r["correct"].items() if not ok]
        if bad:
            detail = "; ".join(f"{f}: {r['parsed'][f]!r} != {r['truth'][f]!r}" for f in bad)
            print(f"  wrong: {r['file']}: {detail}", file=sys.stderr)
    suffix = f"-{label}" if label else ""
    kind = "" if folder.resolve() == HELD_OUT else f"_{folder.name}"
    out = out or DATA / f"resumes_held_out{kind}-{data['date']}{suffix}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(to_json(data), encoding="utf-8")
    print(f"\nwrote {out}")
    return 0


def run_layouts(rounds: int, seed: int) -> dict[str, Any]:
    """Field accuracy on the real-world layouts (tests/resume_fixtures.py REAL_LAYOUTS, and a PDF whose two
    columns are written line by line), ``rounds`` resumes each; round r draws from seed + 100 r."""
    from intake.extract import extract_text
    from intake.parse import parse_resume
    from tests.resume_fixtures import TODAY, interleaved_columns_pdf, layout_files, make_resume

    rows: list[dict[str, Any]] = []
    for r in range(rounds):
        base = seed + 100 * r
        files = layout_files(base)
        extra = make_resume(base + 50, "en", ("classic", "compact", "table")[r % 3])
        extra.truth.layout = "pdf_interleaved_en"
        files.append((extra, interleaved_columns_pdf(extra)))
        for resume, data in files:
            parsed = parse_resume(extract_text(data), today=TODAY)
            rows.append({"layout": resume.truth.layout, "seed": base, "correct": score(resume.truth, parsed),
                         "parsed": _parsed_summary(parsed)})
    layouts = list(dict.fromkeys(row["layout"] for row in rows))
    return {
        "benchmark": "resumes_layouts",
        "date": dt.date.today().isoformat(),
        "command": f"python -m benchmarks resumes --layouts --rounds {rounds} --seed {seed}",
        "commit": git_commit(),
        "rounds": rounds,
        "seed": seed,
        "accuracy_by_layout": {name: _accuracy([row for row in rows if row["layout"] == name]) for name in layouts},
        "resumes": rows,
    }


def layouts_table(data: dict[str, Any]) -> str:
    """Per layout: resumes, all fields right, and the fields found wrong (how many times)."""
    lines = ["| layout | resumes | all fields | wrong fields |", "| --- | --- | --- | --- |"]
    for name, acc in data["accuracy_by_layout"].items():
        rows = [r for r in data["resumes"] if r["layout"] == name]
        wrong: dict[str, int] = {}
        for r in rows:
            for f, ok in r["correct"].items():
                if not ok:
                    wrong[f] = wrong.get(f, 0) + 1
        lines.append(f"| {name} | {len(rows)} | {acc['all_fields']:.3f} | "
                     + (", ".join(f"{f} {n}" for f, n in wrong.items()) or "-") + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks resumes", description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=120, help="resumes in the corpus (default 120)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None, help="JSON path (default benchmarks/data/resumes-<date>.json)")
    parser.add_argument("--held-out", action="store_true", help="the hand-written resumes in tests/media/resumes/ instead")
    parser.add_argument("--label", default=None, help="with --held-out or --layouts: a suffix for the JSON's name (e.g. before)")
    parser.add_argument("--folder", type=Path, default=HELD_OUT,
                        help="with --held-out: the resumes and truth.json (default tests/media/resumes; tests/media/resumes/fresh)")
    parser.add_argument("--layouts", action="store_true",
                        help="the real-world layouts (sidebars, page tables, info grids, two pages; DOCX header, tables, lists)")
    parser.add_argument("--rounds", type=int, default=10, help="with --layouts: resumes per layout (default 10)")
    args = parser.parse_args(argv)
    if args.layouts:
        data = run_layouts(args.rounds, args.seed)
        table = layouts_table(data)
        print(table)
        label = f"-{args.label}" if args.label else ""
        out = args.out or DATA / f"resumes_layouts-{data['date']}{label}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(to_json(data), encoding="utf-8")
        print(f"\nwrote {out}")
        return 0
    if args.held_out:
        return main_held_out(args.label, args.out, args.folder)
    data = run(args.n, args.seed)
    table = markdown_table(data)
    data["table_markdown"] = table
    print(table)
    wrong = [r for r in data["resumes"] if not all(r["correct"].values())]
    for r in wrong[:10]:
        bad = [f for f, ok in r["correct"].items() if not ok]
        print(f"  wrong: {r['lang']} {r['format']} {r['layout']} seed {r['seed']}: {', '.join(bad)}", file=sys.stderr)
    out = args.out or DATA / f"resumes-{data['date']}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(to_json(data), encoding="utf-8")
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
