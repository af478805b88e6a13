"""Counterfactual checks: change only the voice, or only the name, sex and age, and the score must not move.

(a) Voice. The same spoken answer (tests/media/answers_zh: the banks' example
answers read by a female Mandarin voice) in three versions made with Praat's
"Change gender" (PSOLA; through praat-parselmouth, which Candor already uses
for prosody): ``female`` resynthesised unchanged (the control: what the
resynthesis alone does), ``male`` (pitch median 110 Hz, formants x 0.84) and
``low_pitch`` (pitch 110 Hz, formants kept: the pitch alone). Each goes
through what an interview does with it: Whisper (the server's ASR) to a
transcript with word times, then the question's scorer (content, delivery,
overall), and the prosody analyzer (pitch, voice arousal against a new
speaker's baseline) to the emotion context's "composure". The difference
to the female control is the voice's effect.

(b) Resume. The held-out resumes of tests/media/resumes whose text carries a
name, a sex or an age; each rewritten with only the name (to one of the other
sex), the sex, or the age (20 years older) changed, parsed and screened
against every shipped job as the server does (intake.parse -> screening).
Screening reads only qualifications, so the scores must be equal.

Run on demand: ``python -m bias counterfactual`` prints both tables
(``--clips N`` for more answers, ``--json`` for the rows); the test suite runs
the same functions (tests/test_counterfactual.py).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import statistics
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
ANSWERS = ROOT / "tests" / "media" / "answers_zh"
RESUMES = ROOT / "tests" / "media" / "resumes"
RATE = 16000

# Praat "Change gender": (formant shift ratio, new pitch median in Hz; 0 keeps it)
VOICES: Mapping[str, tuple[float, float]] = {"female": (1.0, 0.0), "male": (0.84, 110.0), "low_pitch": (1.0, 110.0)}
# Strong and weak answers of the four banks (one question each), the first clips the table shows.
DEFAULT_CLIPS = (
    "account_manager.loan_red_flags.strong.opus",
    "account_manager.loan_red_flags.weak.opus",
    "credit_analyst.disagree_with_rm.strong.opus",
    "risk_manager.npl_spike.strong.opus",
    "wealth_manager.persuade_client.strong.opus",
    "wealth_manager.persuade_client.weak.opus",
)
# Points (0-100). Per answer: Whisper's transcripts of one audio vary by up to ~11 points of content between runs
# (the noise floor measured here), so 15; on the mean over the answers, where that noise averages out: 3.
CONTENT_TOLERANCE = 15.0
MEAN_TOLERANCE = 3.0
RESUME_TOLERANCE = 1e-9


def change_voice(samples: np.ndarray, formant_ratio: float, pitch_median: float) -> np.ndarray:
    """Praat's "Change gender" on 16 kHz mono float32 (duration and pitch range kept)."""
    import parselmouth
    from parselmouth.praat import call

    sound = parselmouth.Sound(np.asarray(samples, dtype=np.float64), sampling_frequency=RATE)
    changed = call(sound, "Change gender", 75, 600, formant_ratio, pitch_median, 1.0, 1.0)
    out = np.asarray(changed.values, dtype=np.float32).reshape(-1)
    peak = float(np.max(np.abs(out))) if len(out) else 0.0
    return out / peak * 0.9 if peak > 1.0 else out


@dataclass(frozen=True)
class VoiceRow:
    clip: str
    voice: str
    pitch_hz: float | None  # mean pitch of the answer, as the prosody analyzer measures it
    text: str
    content: float
    delivery: float | None
    overall: float  # with the default weights (emotion counts for nothing)
    emotion_counted: bool
    arousal: float | None  # the answer as a first utterance: against the population prior alone
    composure: float | None  # the emotion context's score (0-100) from that arousal
    arousal_adapted: float | None  # against a baseline of the same voice's other answers (a later utterance)
    composure_adapted: float | None


def _question(bank: str, question_id: str) -> Any:
    from jobs.catalog import load_catalog

    entry = next(e for e in load_catalog() if e.bank.id == bank)
    return next(q for q in entry.bank.questions if q.id == question_id)


def voice_rows(
    clips: Sequence[str], *, recognise: Callable[[np.ndarray], dict[str, Any]], encoder: Any,
    voices: Sequence[str] = tuple(VOICES),
) -> list[VoiceRow]:
    """Every clip in every voice, transcribed, scored (content, delivery, emotion context) and measured."""
    from analyzers.prosody import VoiceBaseline, affect_features, measure_prosody
    from events import VOICE_AFFECT
    from scoring.affect import measure_affect
    from scoring.calibrate import decode_audio
    from scoring.question import score_question

    manifest = {c["file"]: c for c in json.loads((ANSWERS / "manifest.json").read_text(encoding="utf-8"))}
    measured: list[tuple[str, str, Any, dict[str, Any], dict[str, Any]]] = []
    for clip in clips:
        original = decode_audio(ANSWERS / clip)
        for voice in voices:
            ratio, median = VOICES[voice]
            audio = change_voice(original, ratio, median)
            measured.append((clip, voice, audio, recognise(audio), measure_prosody(audio)))

    def composure(arousal: float | None) -> float | None:
        if arousal is None:
            return None
        score = measure_affect([(VOICE_AFFECT, {"arousal": arousal})]).get("score")
        return None if score is None else round(float(score), 1)

    rows = []
    for clip, voice, _audio, utterance, prosody in measured:
        meta = manifest[clip]
        question = _question(meta["bank"], meta["question"])
        features = affect_features(prosody)
        arousal = VoiceBaseline().arousal(features) if features is not None else None
        later = VoiceBaseline()  # the same voice's other answers first: the speaker's own baseline
        for other_clip, other_voice, _, _, other in measured:
            other_features = affect_features(other)
            if other_voice == voice and other_clip != clip and other_features is not None:
                later.update(other_features)
        adapted = later.arousal(features) if features is not None and later.utterances else None
        affect = [(VOICE_AFFECT, {"arousal": arousal})] if arousal is not None else []
        payload = score_question(question, [utterance] if utterance["text"] else [], affect_events=affect,
                                 embed=encoder.encode, embed_rubric=encoder.encode_rubric)
        pitch = prosody.get("pitch_hz")
        delivery = (payload.get("delivery") or {}).get("score")
        rows.append(VoiceRow(
            clip, voice, round(pitch["mean"], 1) if pitch else None, utterance["text"],
            round(float(payload["content"]), 2), None if delivery is None else round(float(delivery), 2),
            round(float(payload["overall"]), 2), bool((payload.get("affect") or {}).get("counted")),
            None if arousal is None else round(arousal, 3), composure(arousal),
            None if adapted is None else round(adapted, 3), composure(adapted),
        ))
    return rows


def whisper(model: str = "base") -> tuple[Callable[[np.ndarray], dict[str, Any]], Callable[[], None]]:
    """The server's ASR (faster-whisper ``base`` on the CPU, its final-decode options): audio -> one utterance with
    word times; and its close.

    The final decode may fall back to sampled temperatures (0.2, 0.4); CTranslate2's random seed is set before each
    call so that sampling repeats. Even so the same audio is not always transcribed the same way from one process
    to the next (measured: one answer's content score moved 11 points between two runs of the same female audio),
    which is why the tolerance is per answer and on the mean (docs/bias.md).
    """
    import ctranslate2

    from runtime.models import ModelConfig, load_asr

    runner = load_asr(ModelConfig(asr_model=model, asr_workers=1))

    def recognise(audio: np.ndarray) -> dict[str, Any]:
        ctranslate2.set_random_seed(0)
        rec = runner.recognize(audio, language="zh", words=True)
        return {
            "utterance_id": 1, "text": rec.text, "language": rec.language, "start": 0.0, "end": round(len(audio) / RATE, 3),
            "words": [{"word": w.word, "start": w.start, "end": w.end, "probability": w.probability} for w in rec.words],
        }

    return recognise, runner.close


def voice_effects(rows: Iterable[VoiceRow]) -> dict[str, dict[str, float]]:
    """Per voice: the mean and largest absolute difference to the female control of each score, and the mean pitch."""
    by_clip: dict[str, dict[str, VoiceRow]] = {}
    for r in rows:
        by_clip.setdefault(r.clip, {})[r.voice] = r
    out: dict[str, dict[str, float]] = {}
    voices = [v for v in VOICES if any(v in c for c in by_clip.values())]
    for voice in voices:
        if voice == "female":
            continue
        stats: dict[str, float] = {}
        for field in ("content", "delivery", "overall", "arousal", "composure", "arousal_adapted", "composure_adapted"):
            diffs = [getattr(v[voice], field) - getattr(v["female"], field) for v in by_clip.values()
                     if getattr(v[voice], field) is not None and getattr(v["female"], field) is not None]
            if diffs:
                stats[f"{field}_mean"] = round(statistics.fmean(diffs), 3)
                stats[f"{field}_max_abs"] = round(max(abs(d) for d in diffs), 3)
        pitches = [v[voice].pitch_hz for v in by_clip.values() if v[voice].pitch_hz]
        stats["pitch_hz"] = round(statistics.fmean(pitches), 1) if pitches else float("nan")
        out[voice] = stats
    controls = [v["female"].pitch_hz for v in by_clip.values() if v["female"].pitch_hz]
    out["female"] = {"pitch_hz": round(statistics.fmean(controls), 1) if controls else float("nan")}
    return out


# -- (b) resumes -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ResumeRow:
    resume: str
    change: str  # "name", "sex", "age"
    job: str
    original: float
    changed: float
    decision_original: str
    decision_changed: str


NAMES = {"male": ("张伟", "DAVID CHEN"), "female": ("李娜", "EMILY CHEN")}
SEX_SWAP = str.maketrans({"男": "女", "女": "男"})


SEX_FIELD = re.compile(r"(性别[\s:：]*)([男女])|(?:(?<=^)|(?<=[|｜,，\s]))([男女])(?=[\s|｜,，]|$)", re.M)


def _stated_sex(text: str) -> str | None:
    """The sex the resume states (a 性别 field, or 男 / 女 standing alone between separators), if any."""
    m = SEX_FIELD.search(text)
    return None if m is None else ("female" if "女" in m.group(0) else "male")


def _swap_sex(text: str) -> str | None:
    """The resume with its stated sex swapped (男 <-> 女 in that one place); None when it states none."""
    m = SEX_FIELD.search(text)
    if m is None:
        return None
    return text[: m.start()] + m.group(0).translate(SEX_SWAP) + text[m.end() :]


def _older(text: str) -> str | None:
    """20 years older: "31岁" -> "51岁", "出生年月：1994.03" -> 1974.03, "1988年5月生" -> 1968年5月生."""
    rules: tuple[tuple[str, Callable[[re.Match[str]], str]], ...] = (
        (r"(\d{2})(岁)", lambda m: f"{int(m.group(1)) + 20}{m.group(2)}"),
        (r"(出生年月[\s:：\t]*)(\d{4})", lambda m: f"{m.group(1)}{int(m.group(2)) - 20}"),
        (r"(\d{4})(年\d{1,2}月生)", lambda m: f"{int(m.group(1)) - 20}{m.group(2)}"),
    )
    for pattern, shift in rules:
        out, n = re.subn(pattern, shift, text, count=1)
        if n:
            return out
    return None


def resume_variants(text: str, name: str | None) -> dict[str, str]:
    """The resume with only its name (to one of the other sex), only its sex, only its age changed: those it has."""
    out: dict[str, str] = {}
    # the name as written: "孙 浩 然", "SOPHIA CHEN"
    written = re.compile(r"\s*".join(map(re.escape, (name or "").replace(" ", ""))), re.I) if name else None
    if written is not None and written.search(text):
        zh = bool(re.search(r"[\u4e00-\u9fff]", name or ""))
        other = NAMES["male" if _stated_sex(text) == "female" else "female"][0 if zh else 1]
        out["name"] = written.sub(other, text)
    swapped = _swap_sex(text)
    if swapped is not None:
        out["sex"] = swapped
    older = _older(text)
    if older is not None:
        out["age"] = older
    return out


def resume_rows(*, encoder: Any) -> list[ResumeRow]:
    from applications.service import read_resume, screen
    from jobs.catalog import load_catalog
    from screening.resume import screener as make_screener

    truth = json.loads((RESUMES / "truth.json").read_text(encoding="utf-8"))
    today = dt.date.fromisoformat(truth["today"])
    names = {k: v.get("name") for k, v in truth["resumes"].items()}
    screener = make_screener(encoder)
    jobs = [e.job for e in load_catalog() if e.job is not None]
    rows = []
    for path in sorted(RESUMES.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        variants = resume_variants(text, names.get(path.name))
        if not variants:
            continue
        base = read_resume(None, path.name, text=text, today=today)
        for change, changed_text in variants.items():
            changed = read_resume(None, path.name, text=changed_text, today=today)
            for job in jobs:
                a, b = screen(screener, job, base), screen(screener, job, changed)
                rows.append(ResumeRow(path.name, change, job.id, round(a.score, 6), round(b.score, 6), a.decision, b.decision))
    return rows


# -- the table ---------------------------------------------------------------------------------------

def _f(value: Any, width: int = 7) -> str:
    return f"{'–':>{width}}" if value is None else f"{value:>{width}.1f}" if isinstance(value, float) else f"{value!s:>{width}}"


def voice_table(rows: Sequence[VoiceRow]) -> str:
    lines = [f"{'clip':46} {'voice':9} {'pitch':>7} {'content':>7} {'deliv.':>7} {'overall':>7} {'arousal':>7} {'compos.':>7}"
             f" {'ar.later':>8} {'co.later':>8}"]
    for r in rows:
        arousal = "–" if r.arousal is None else f"{r.arousal:.3f}"
        later = "–" if r.arousal_adapted is None else f"{r.arousal_adapted:.3f}"
        lines.append(f"{r.clip[:46]:46} {r.voice:9} {_f(r.pitch_hz)} {_f(r.content)} {_f(r.delivery)} {_f(r.overall)} "
                     f"{arousal:>7} {_f(r.composure)} {later:>8} {_f(r.composure_adapted, 8)}")
    lines.append("pitch: mean Hz; content, delivery, overall: the question's scores (emotion counts for nothing by default); "
                 "arousal/composure: the answer as a first utterance (against the population prior); "
                 "later: against the same voice's other answers")
    lines.append("")
    for voice, stats in voice_effects(rows).items():
        lines.append(f"{voice:9} " + ", ".join(f"{k} {v}" for k, v in stats.items()))
    return "\n".join(lines)


def resume_table(rows: Sequence[ResumeRow]) -> str:
    lines = [f"{'resume':22} {'change':6} {'job':16} {'original':>9} {'changed':>9} {'decision':>18}"]
    for r in rows:
        lines.append(f"{r.resume:22} {r.change:6} {r.job:16} {r.original:9.3f} {r.changed:9.3f} "
                     f"{r.decision_original + ('' if r.decision_changed == r.decision_original else ' -> ' + r.decision_changed):>18}")
    moved = [r for r in rows if abs(r.changed - r.original) > RESUME_TOLERANCE]
    lines.append(f"\n{len(rows)} screenings, {len({(r.resume, r.change) for r in rows})} changed resumes: "
                 f"{len(moved)} scores moved (tolerance {RESUME_TOLERANCE:g})")
    return "\n".join(lines)


def main(argv: Sequence[str]) -> int:
    import argparse

    from scoring.encoder import SentenceEncoder

    parser = argparse.ArgumentParser(prog="python -m bias counterfactual", description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=len(DEFAULT_CLIPS), help="how many answers (voice check)")
    parser.add_argument("--json", action="store_true", help="the rows as JSON")
    parser.add_argument("--skip-voice", action="store_true")
    args = parser.parse_args(argv)
    encoder = SentenceEncoder()
    encoder.warmup()
    try:
        resumes = resume_rows(encoder=encoder)
        voices: list[VoiceRow] = []
        if not args.skip_voice:
            manifest = [c["file"] for c in json.loads((ANSWERS / "manifest.json").read_text(encoding="utf-8"))]
            clips = list(DEFAULT_CLIPS) + [c for c in manifest if c not in DEFAULT_CLIPS]
            recognise, close = whisper()
            try:
                voices = voice_rows(clips[: args.clips], recognise=recognise, encoder=encoder)
            finally:
                close()
    finally:
        encoder.close()
    if args.json:
        print(json.dumps({"voice": [asdict(r) for r in voices], "voice_effects": voice_effects(voices) if voices else {},
                          "resume": [asdict(r) for r in resumes]}, ensure_ascii=False, indent=1))
    else:
        if voices:
            print("(a) the same answer in a female and a male voice\n")
            print(voice_table(voices))
            print()
        print("(b) the same resume with only the name, the sex or the age changed\n")
        print(resume_table(resumes))
    return 0
