"""How far apart a bank's strong and weak example answers land: ``python -m scoring.calibrate BANK``.

For every scored question of a bank (a bank id from jobs/banks, or ``all``)
the table gives, through two paths:

* text: each example answer's text, read as a transcript
  (:func:`scoring.calibration.example_utterances`), scored by
  :func:`scoring.question.score_question`; strong is the lowest of the
  question's strong examples, weak the highest of its weak ones;
* speech: the spoken example answers in ``tests/media/answers_zh`` (one
  strong and one weak per question, Mandarin, ``manifest.json``), decoded
  by Whisper (``runtime.models.load_asr``: the server's ``AsrRunner``) as one utterance each and scored
  the same way (delivery from the recognised word timings).

Columns: content and overall score, band (strong >= 70, consider >= 50,
else not yet, on the overall score as in the report), the gap between
strong and weak content, and the flag of a question whose rubric cannot
tell its strong examples from its weak ones (see
:mod:`scoring.calibration`). ``loo`` counts the examples that keep their
band when the question is calibrated without them (leave one out): how the
calibration does on an answer that is not an anchor.

``--json PATH`` writes every number (and the speech transcripts) as JSON;
``--markdown`` prints the table as Markdown (jobs/banks/README.md holds it).
``--asr-cache PATH`` keeps the transcripts between runs (ASR costs about
2 s a clip on 2 cores). ``--no-speech`` skips the speech path.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from jobs.catalog import BANKS_DIR, CatalogEntry, load_catalog
from jobs.models import Question

from .calibration import example_utterances
from .content import RubricIndex, score_content
from .question import SCORING_VERSION, ScoreWeights, score_question
from .segment import ordered_utterances, scoring_spans

MEDIA_DIR = Path(__file__).resolve().parents[1] / "tests" / "media" / "answers_zh"
STRONG, CONSIDER = 70.0, 50.0  # reports/builder.py BANDS

Embed = Callable[[Sequence[str]], np.ndarray]


def band(overall: float | None) -> str:
    if overall is None:
        return "-"
    return "strong" if overall >= STRONG else ("consider" if overall >= CONSIDER else "not_yet")


@dataclass
class Scored:
    kind: str  # strong / weak
    competency: str
    content: float
    overall: float
    raw: float
    band: str
    text: str = ""
    loo_content: float | None = None  # content with the question calibrated without this example


@dataclass
class QuestionRow:
    bank: str
    question: str
    flag: str | None
    anchors: tuple[float, float]  # raw (weak, strong)
    text: list[Scored] = field(default_factory=list)
    speech: list[Scored] = field(default_factory=list)

    @staticmethod
    def _pick(items: list[Scored], kind: str) -> Scored | None:
        chosen = [s for s in items if s.kind == kind]
        if not chosen:
            return None
        return min(chosen, key=lambda s: s.content) if kind == "strong" else max(chosen, key=lambda s: s.content)

    def summary(self, path: str) -> dict[str, Any]:
        items = self.text if path == "text" else self.speech
        strong, weak = self._pick(items, "strong"), self._pick(items, "weak")
        out: dict[str, Any] = {}
        for name, item in (("strong", strong), ("weak", weak)):
            out[name] = None if item is None else {"content": item.content, "overall": item.overall, "band": item.band}
        out["gap"] = None if strong is None or weak is None else round(strong.content - weak.content, 1)
        return out

    def as_dict(self) -> dict[str, Any]:
        def items(values: list[Scored]) -> list[dict[str, Any]]:
            return [
                {
                    "kind": s.kind,
                    "competency": s.competency,
                    "raw": s.raw,
                    "content": s.content,
                    "overall": s.overall,
                    "band": s.band,
                    **({"loo_content": s.loo_content} if s.loo_content is not None else {}),
                    **({"transcript": s.text} if s.text else {}),
                }
                for s in values
            ]

        return {
            "bank": self.bank,
            "question": self.question,
            "flag": self.flag,
            "anchors": {"weak": self.anchors[0], "strong": self.anchors[1]},
            "text": {**self.summary("text"), "examples": items(self.text)},
            "speech": {**self.summary("speech"), "clips": items(self.speech)},
        }


def _r(value: float) -> float:
    return round(float(value), 1)


def index_for(question: Question, embed: Embed) -> RubricIndex:
    assert question.rubric is not None
    return RubricIndex.build(question.rubric, embed, [question.text.zh or "", question.text.en or ""])


def score_answer(
    question: Question,
    index: RubricIndex,
    utterances: list[Mapping[str, Any]],
    embed: Embed,
    weights: ScoreWeights,
) -> dict[str, Any]:
    return score_question(question, utterances, embed=embed, index=index, weights=weights)


def raw_content(index: RubricIndex, utterances: list[Mapping[str, Any]], embed: Embed) -> float:
    """The uncalibrated content score (calibration's input) of an answer's transcript."""
    spans = scoring_spans(ordered_utterances(utterances))
    vectors = embed([s.embed_text for s in spans]) if spans else np.zeros((0, index.vectors.shape[1]))
    return score_content(index, spans, vectors).raw


def text_path(question: Question, index: RubricIndex, embed: Embed, weights: ScoreWeights) -> list[Scored]:
    """Every example of the question scored from its text, with its leave-one-out content."""
    assert question.rubric is not None
    out: list[Scored] = []
    counters = {"strong": 0, "weak": 0}
    for competency in question.rubric.competencies:
        for kind, examples in (("strong", competency.strong_examples), ("weak", competency.weak_examples)):
            for text in examples:
                if not text.strip():
                    continue
                utterances = example_utterances(text)
                payload = score_answer(question, index, utterances, embed, weights)
                raw = raw_content(index, utterances, embed)
                loo = index.calibrated(embed, leave_out=(kind, counters[kind]))
                counters[kind] += 1
                left_out = loo.calibration(raw) if loo.calibration is not None else payload["content"]
                out.append(
                    Scored(
                        kind,
                        competency.id,
                        _r(payload["content"]),
                        _r(payload["overall"]),
                        _r(raw),
                        band(payload["overall"]),
                        loo_content=_r(left_out),
                    )
                )
    return out


# -- speech ---------------------------------------------------------------------------


def load_manifest(media: Path) -> list[dict[str, Any]]:
    path = media / "manifest.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: the spoken example answers (see tests/media/README.md)")
    return json.loads(path.read_text(encoding="utf-8"))


def decode_audio(path: Path) -> np.ndarray:
    """Any audio file as 16 kHz mono float32 (PyAV)."""
    import av

    chunks = []
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=16000)
        for frame in container.decode(audio=0):
            chunks.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(frame))
        chunks.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(None))
    return np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, dtype=np.float32)


class Transcriber:
    """Whisper base (the server's default) on the CPU, one clip at a time, with an optional cache file."""

    def __init__(self, cache: Path | None = None) -> None:
        self.cache_path = cache
        self.cache: dict[str, Any] = {}
        if cache is not None and cache.is_file():
            self.cache = json.loads(cache.read_text(encoding="utf-8"))
        self._runner: Any = None

    def utterances(self, path: Path) -> list[dict[str, Any]]:
        key = path.name
        if key not in self.cache:
            self.cache[key] = self._recognise(path)
            if self.cache_path is not None:
                self.cache_path.write_text(json.dumps(self.cache, ensure_ascii=False, indent=1), encoding="utf-8")
        return [self.cache[key]] if self.cache[key]["text"] else []

    def _recognise(self, path: Path) -> dict[str, Any]:
        if self._runner is None:
            from runtime.models import ModelConfig, load_asr

            self._runner = load_asr(ModelConfig(asr_model="base", asr_workers=1))
        audio = decode_audio(path)
        rec = self._runner.recognize(audio, language=None, words=True)
        return {
            "utterance_id": 1,
            "text": rec.text,
            "language": rec.language,
            "language_probability": rec.language_probability,
            "start": 0.0,
            "end": round(len(audio) / 16000, 3),
            "words": [
                {"word": w.word, "start": w.start, "end": w.end, "probability": w.probability} for w in rec.words
            ],
            "model": "base",
        }

    def close(self) -> None:
        if self._runner is not None:
            self._runner.close()


def speech_path(
    question: Question,
    index: RubricIndex,
    embed: Embed,
    weights: ScoreWeights,
    clips: list[dict[str, Any]],
    media: Path,
    transcriber: Transcriber,
) -> list[Scored]:
    out = []
    for clip in clips:
        utterances = transcriber.utterances(media / clip["file"])
        payload = score_answer(question, index, utterances, embed, weights)
        raw = raw_content(index, utterances, embed)
        out.append(
            Scored(
                clip["kind"],
                clip.get("competency", ""),
                _r(payload["content"]),
                _r(payload["overall"]),
                _r(raw),
                band(payload["overall"]),
                text=" ".join(u["text"] for u in utterances),
            )
        )
    return out


# -- the table ----------------------------------------------------------------------


def calibrate(
    entries: Sequence[CatalogEntry],
    embed: Embed,
    *,
    speech: bool = True,
    media: Path = MEDIA_DIR,
    transcriber: Transcriber | None = None,
    questions: set[tuple[str, str]] | None = None,
) -> list[QuestionRow]:
    manifest = load_manifest(media) if speech else []
    rows = []
    for entry in entries:
        weights = ScoreWeights.of(entry.bank.scoring.weights)
        for question in entry.bank.questions:
            if question.rubric is None:
                continue
            if questions is not None and (entry.bank.id, question.id) not in questions:
                continue
            index = index_for(question, embed)
            calibration = index.calibration
            row = QuestionRow(
                entry.bank.id,
                question.id,
                calibration.flag if calibration is not None else "no_examples",
                (_r(calibration.weak), _r(calibration.strong)) if calibration is not None else (0.0, 0.0),
            )
            row.text = text_path(question, index, embed, weights)
            if speech:
                clips = [c for c in manifest if c["bank"] == entry.bank.id and c["question"] == question.id]
                assert transcriber is not None
                row.speech = speech_path(question, index, embed, weights, clips, media, transcriber)
            rows.append(row)
    return rows


def _count(items: Sequence[Scored], ok: Callable[[Scored], bool]) -> str:
    return f"{sum(1 for s in items if ok(s))}/{len(items)}"


def report(rows: Sequence[QuestionRow]) -> dict[str, Any]:
    """Everything the table shows, per question and per bank (JSON-ready)."""
    banks: dict[str, Any] = {}
    for bank in dict.fromkeys(r.bank for r in rows):
        mine = [r for r in rows if r.bank == bank]
        strong = [s for r in mine for s in r.text if s.kind == "strong"]
        weak = [s for r in mine for s in r.text if s.kind == "weak"]
        spoken_strong = [s for r in mine for s in r.speech if s.kind == "strong"]
        spoken_weak = [s for r in mine for s in r.speech if s.kind == "weak"]
        spoken = [r for r in mine if r.speech]
        banks[bank] = {
            "questions": len(mine),
            "flagged": [r.question for r in mine if r.flag],
            "text": {
                "min_strong_content": min((s.content for s in strong), default=None),
                "max_weak_content": max((s.content for s in weak), default=None),
                "strong_in_band": _count(strong, lambda s: s.band == "strong"),
                "weak_in_band": _count(weak, lambda s: s.band == "not_yet"),
                "loo_strong_ge_70": _count(strong, lambda s: (s.loo_content or 0.0) >= STRONG),
                "loo_weak_lt_50": _count(weak, lambda s: (s.loo_content or 0.0) < CONSIDER),
            },
            "speech": {
                "min_strong_content": min((s.content for s in spoken_strong), default=None),
                "max_weak_content": max((s.content for s in spoken_weak), default=None),
                "strong_in_band": _count(spoken_strong, lambda s: s.band == "strong"),
                "weak_in_band": _count(spoken_weak, lambda s: s.band == "not_yet"),
                "strong_above_weak": f"{sum(1 for r in spoken if _above(r))}/{len(spoken)}",
            },
        }
    return {
        "scoring_version": SCORING_VERSION,
        "bands": {"strong": STRONG, "consider": CONSIDER},
        "banks": banks,
        "questions": [r.as_dict() for r in rows],
    }


def _above(row: QuestionRow) -> bool:
    strong = [s.content for s in row.speech if s.kind == "strong"]
    weak = [s.content for s in row.speech if s.kind == "weak"]
    return bool(strong and weak) and min(strong) > max(weak)


_SHORT = {"strong": "S", "consider": "C", "not_yet": "N", "-": "-"}


def _cell(item: Mapping[str, Any] | None) -> str:
    if not item:
        return "-"
    return f"{item['content']:.0f} / {item['overall']:.0f} {_SHORT[item['band']]}"


def _gap(value: float | None) -> str:
    return "-" if value is None else f"{value:+.0f}"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


QUESTION_COLUMNS = (
    "bank",
    "question",
    "anchors (raw weak-strong)",
    "text strong",
    "text weak",
    "text gap",
    "speech strong",
    "speech weak",
    "speech gap",
    "flag",
)
BANK_COLUMNS = (
    "bank",
    "questions",
    "flagged",
    "text: min strong / max weak content",
    "text: strong in band, weak in band",
    "leave one out: strong >= 70, weak < 50",
    "speech: min strong / max weak content",
    "speech: strong in band, weak in band, strong > weak",
)


def _question_cells(q: Mapping[str, Any]) -> list[str]:
    t, s = q["text"], q["speech"]
    return [
        q["bank"],
        q["question"],
        f"{q['anchors']['weak']:.0f}-{q['anchors']['strong']:.0f}",
        _cell(t["strong"]),
        _cell(t["weak"]),
        _gap(t["gap"]),
        _cell(s["strong"]),
        _cell(s["weak"]),
        _gap(s["gap"]),
        q["flag"] or "",
    ]


def _bank_cells(bank: str, b: Mapping[str, Any]) -> list[str]:
    t, s = b["text"], b["speech"]
    return [
        bank,
        str(b["questions"]),
        ", ".join(b["flagged"]) or "none",
        f"{_num(t['min_strong_content'])} / {_num(t['max_weak_content'])}",
        f"{t['strong_in_band']}, {t['weak_in_band']}",
        f"{t['loo_strong_ge_70']}, {t['loo_weak_lt_50']}",
        f"{_num(s['min_strong_content'])} / {_num(s['max_weak_content'])}",
        f"{s['strong_in_band']}, {s['weak_in_band']}, {s['strong_above_weak']}",
    ]


LEGEND = (
    "Cells: content / overall and band (S strong: overall >= 70, C consider: >= 50, N not yet). Strong is the"
    " question's lowest strong example, weak its highest weak one; gap: their content difference."
)


def markdown(data: Mapping[str, Any]) -> str:
    """The table as Markdown, from :func:`report`'s data (the README is checked against the JSON with it)."""
    lines = [LEGEND, ""]
    for columns, rows in (
        (QUESTION_COLUMNS, [_question_cells(q) for q in data["questions"]]),
        (BANK_COLUMNS, [_bank_cells(bank, b) for bank, b in data["banks"].items()]),
    ):
        lines.append("| " + " | ".join(columns) + " |")
        lines.append("|" + " --- |" * len(columns))
        lines.extend("| " + " | ".join(row) + " |" for row in rows)
        lines.append("")
    return "\n".join(lines)


def plain(data: Mapping[str, Any]) -> str:
    """The table for a terminal."""
    rows = [list(QUESTION_COLUMNS)] + [_question_cells(q) for q in data["questions"]]
    widths = [max(len(row[i]) for row in rows) for i in range(len(QUESTION_COLUMNS))]
    right = range(2, len(QUESTION_COLUMNS) - 1)
    lines = [
        "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()
        for r in rows
    ]
    lines.insert(1, "-" * len(lines[0]))
    lines += ["", LEGEND, ""]
    for bank, b in data["banks"].items():
        lines += [f"{bank}:"] + [f"  {c}: {v}" for c, v in zip(BANK_COLUMNS[1:], _bank_cells(bank, b)[1:])]
    return "\n".join(lines) + "\n"


README_START = (
    "<!-- calibration table: python -m scoring.calibrate all"
    " --json jobs/banks/calibration.json --readme jobs/banks/README.md -->"
)
README_END = "<!-- end of calibration table -->"


def readme_block(data: Mapping[str, Any]) -> str:
    return f"{README_START}\n\n{markdown(data)}\n{README_END}"


def write_readme(path: Path, data: Mapping[str, Any]) -> None:
    """Replace the table between the markers in ``path`` (a README that has them)."""
    text = path.read_text(encoding="utf-8")
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        raise ValueError(f"{path} has no calibration table markers ({README_START!r} ... {README_END!r})")
    path.write_text(text[:start] + readme_block(data) + text[end + len(README_END) :], encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scoring.calibrate", description=__doc__.split("\n")[0])
    parser.add_argument("bank", help="a bank id, or 'all'")
    parser.add_argument("--banks-dir", type=Path, default=BANKS_DIR)
    parser.add_argument("--media", type=Path, default=MEDIA_DIR, help="spoken examples with manifest.json")
    parser.add_argument("--no-speech", action="store_true", help="text path only")
    parser.add_argument("--asr-cache", type=Path, default=None, help="keep the transcripts in this JSON file")
    parser.add_argument("--json", type=Path, default=None, help="write every number here")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--readme", type=Path, default=None, help="replace the table in this README")
    args = parser.parse_args(argv)

    entries = load_catalog(args.banks_dir)
    if args.bank != "all":
        entries = [e for e in entries if e.bank.id == args.bank]
        if not entries:
            parser.error(f"no bank {args.bank!r} in {args.banks_dir}")
    from .encoder import SentenceEncoder

    encoder = SentenceEncoder()
    transcriber = None if args.no_speech else Transcriber(args.asr_cache)
    try:
        rows = calibrate(
            entries, encoder.encode_rubric, speech=not args.no_speech, media=args.media, transcriber=transcriber
        )
    finally:
        encoder.close()
        if transcriber is not None:
            transcriber.close()
    data = report(rows)
    if args.json is not None:
        args.json.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    if args.readme is not None:
        write_readme(args.readme, data)
    sys.stdout.write(markdown(data) if args.markdown else plain(data))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
