"""Content scoring with the real multilingual sentence encoder.

The labelled answers are in tests/test_scoring_data.py. The ramp in
scoring/content.py was calibrated on ``wealth_persuasion`` only;
``complaint_loss`` is held out. Run with ``-s`` to see the numbers.
"""

from __future__ import annotations

import re
import time

import numpy as np
import pytest

from events import AnalyzerEvent, TranscriptFinal
from jobs.models import Localized, Rubric
from scoring.calibration import OFF_TOPIC, example_utterances
from scoring.content import ContentConfig, ContentScore, RubricIndex, score_content, term_heard
from scoring.encoder import SentenceEncoder
from scoring.question import QuestionScorer
from scoring.segment import Span, scoring_spans
from tests.test_scoring_data import (
    ANSWERS,
    CALIBRATION_QUESTION,
    HELD_OUT_QUESTION,
    QUESTIONS,
    SMALL_TALK,
    WEALTH,
    Answer,
    transcript_finals,
)

_HAN = re.compile(r"[\u4e00-\u9fff]")


def ranks(values: list[float]) -> np.ndarray:
    """1-based ranks, ties get the mean of their positions."""
    x = np.asarray(values, dtype=float)
    order = np.argsort(x, kind="mergesort")
    out = np.empty(len(x))
    i = 0
    while i < len(x):
        j = i
        while j + 1 < len(x) and x[order[j + 1]] == x[order[i]]:
            j += 1
        out[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return out


def spearman(a: list[float], b: list[float]) -> float:
    return float(np.corrcoef(ranks(a), ranks(b))[0, 1])


def test_spearman_helper() -> None:
    assert list(ranks([10, 20, 20, 5])) == [2.0, 3.5, 3.5, 1.0]
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)


def _index(encoder: SentenceEncoder, question_id: str, rubric: Rubric | None = None) -> RubricIndex:
    question = QUESTIONS[question_id]
    return RubricIndex.build(
        rubric or question.rubric, encoder.encode_rubric, [question.text.zh or "", question.text.en or ""]
    )  # type: ignore[arg-type]


def _score(encoder: SentenceEncoder, index: RubricIndex, text: str, language: str) -> ContentScore:
    spans = scoring_spans(transcript_finals(text, language))
    return score_content(index, spans, encoder.encode([s.embed_text for s in spans]))


def _answers(question_id: str, language: str) -> list[Answer]:
    return [a for a in ANSWERS if a.question == question_id and a.language == language]


# -- rank correlation with the labels ----------------------------------------------


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("question_id", [CALIBRATION_QUESTION, HELD_OUT_QUESTION])
def test_content_scores_follow_the_labels(encoder: SentenceEncoder, question_id: str, language: str) -> None:
    index = _index(encoder, question_id)
    answers = _answers(question_id, language)
    scores = [_score(encoder, index, a.text, a.language).score for a in answers]
    rho = spearman([a.label for a in answers], scores)
    role = "calibration" if question_id == CALIBRATION_QUESTION else "held out"
    print(
        f"\n{question_id} ({role}) {language}: Spearman {rho:.3f}  "
        + " ".join(f"{a.key[-2:]}={s:.0f}" for a, s in zip(answers, scores))
    )
    assert rho >= 0.8
    by_label = {label: [s for a, s in zip(answers, scores) if a.label == label] for label in range(4)}
    assert min(by_label[3]) > max(by_label[0])
    assert np.mean(by_label[3]) > np.mean(by_label[2]) > np.mean(by_label[1]) > np.mean(by_label[0])


def test_off_topic_answers_score_below_15(encoder: SentenceEncoder) -> None:
    for question_id in QUESTIONS:
        index = _index(encoder, question_id)
        for answer in ANSWERS:
            if answer.label == 0:
                # off-topic for both questions: its own and the other one
                assert _score(encoder, index, answer.text, answer.language).score < 15, (question_id, answer.key)


def test_small_talk_does_not_score(encoder: SentenceEncoder) -> None:
    """Unrelated sentences score nothing and give no evidence.

    Most stay below the similarity ramp on their own; the few that share a
    word with a point ("listen to music" / "listens patiently") are stopped
    by the answer-relevance gate.
    """
    config = ContentConfig()
    above_ramp = []
    for question_id in QUESTIONS:
        index = _index(encoder, question_id)
        for text, language in SMALL_TALK:
            result = _score(encoder, index, text, language)
            worst = max(result.points, key=lambda p: p.adjusted)
            if worst.adjusted >= config.ramp_lo:
                above_ramp.append(
                    (question_id, text, worst.point_id, round(worst.adjusted, 3), round(result.relevance, 3))
                )
            assert result.score < 5, (question_id, text, result.score)
            assert result.evidence == (), (question_id, text)
    pairs = len(QUESTIONS) * len(SMALL_TALK)
    print(
        f"\nsmall talk: {pairs - len(above_ramp)} of {pairs} (sentence, rubric) pairs below the ramp on similarity alone; gated: {above_ramp}"
    )
    assert len(above_ramp) <= 0.15 * pairs


# -- paraphrase and cross-lingual ---------------------------------------------------


def keyword_match(point, text: str) -> bool:  # type: ignore[no-untyped-def]
    """A naive matcher: any rubric term, English content word or Hanzi bigram of the point in the text."""
    stop = {
        "the",
        "a",
        "an",
        "to",
        "of",
        "and",
        "or",
        "with",
        "before",
        "after",
        "what",
        "s",
        "it",
        "is",
        "their",
        "them",
        "they",
        "client",
        "client's",
    }
    phrasings = [point.text.zh or "", point.text.en or "", *point.paraphrases, *point.terms]
    lowered = text.lower()
    words = set(re.findall(r"[a-z']+", lowered))
    hanzi = "".join(_HAN.findall(text))
    for phrasing in phrasings:
        if any(w not in stop and w in words for w in re.findall(r"[a-z']+", phrasing.lower())):
            return True
        han = "".join(_HAN.findall(phrasing))
        if any(han[i : i + 2] in hanzi for i in range(len(han) - 1)):
            return True
    return any(term_heard(t, text) for t in point.terms)


@pytest.mark.parametrize(
    "text, language",
    [
        ("我喜欢挑战", "zh"),
        ("嗯 我这个人就是喜欢挑战 越难的事情我越想把它做成", "zh"),
        ("I enjoy a challenge", "en"),
        ("honestly the tougher the client the more fired up I get", "en"),
    ],
)
def test_paraphrase_without_shared_keywords_scores_the_point(
    encoder: SentenceEncoder, text: str, language: str
) -> None:
    """Said within an answer, a paraphrase that shares no word with the rubric makes the point."""
    drive = next(p for c in WEALTH.rubric.competencies for p in c.points if p.id == "drive")  # type: ignore[union-attr]
    assert not keyword_match(drive, text), "the example must share no keyword with the point"
    host = next(a for a in ANSWERS if a.key == f"w-{language}-m1")  # a middling answer that does not make it
    index = _index(encoder, WEALTH.id)

    def drive_of(finals: list[dict]):  # type: ignore[no-untyped-def]
        spans = scoring_spans(finals)
        result = score_content(index, spans, encoder.encode([s.embed_text for s in spans]))
        return next(p for p in result.points if p.point_id == "drive")

    finals = transcript_finals(host.text, language)
    before = drive_of(finals)
    # the candidate adds it after a pause, as its own VAD turn
    added = transcript_finals(text, language, start=finals[-1]["end"] + 0.6, first_id=len(finals) + 1)
    after = drive_of(finals + added)
    print(
        f"\n{text!r} after {host.key}: drive {before.score:.2f} -> {after.score:.2f} (similarity {after.similarity:.3f})"
    )
    assert before.score < 0.5
    assert after.score > 0.5
    assert after.span is not None and after.span.end > added[0]["words"][0]["start"]  # evidence is the added words


def test_a_clear_match_counts_even_in_a_one_line_answer(encoder: SentenceEncoder) -> None:
    """The relevance gate (against small talk) does not silence a close paraphrase said on its own."""
    result = _score(encoder, _index(encoder, WEALTH.id), "整个过程都录音录像了", "zh")
    records = next(p for p in result.points if p.point_id == "records")
    assert result.gate < 1.0  # one specific sentence is not close to the rubric as a whole
    assert records.score == 1.0 and result.evidence


def _one_language(rubric: Rubric, language: str) -> Rubric:
    """The rubric with only one language's text (point text, paraphrases, terms)."""
    zh = language == "zh"
    competencies = []
    for competency in rubric.competencies:
        points = [
            p.model_copy(
                update={
                    "text": Localized(**{language: p.text.get(language)}),
                    "paraphrases": [x for x in p.paraphrases if bool(_HAN.search(x)) == zh],
                    "terms": [t for t in p.terms if bool(_HAN.search(t)) == zh],
                }
            )
            for p in competency.points
        ]
        competencies.append(
            competency.model_copy(update={"points": points, "strong_examples": [], "weak_examples": []})
        )
    return Rubric(competencies=competencies)


@pytest.mark.parametrize("question_id", [CALIBRATION_QUESTION, HELD_OUT_QUESTION])
def test_mandarin_answers_against_an_english_only_rubric(encoder: SentenceEncoder, question_id: str) -> None:
    question = QUESTIONS[question_id]
    rubric = _one_language(question.rubric, "en")  # type: ignore[arg-type]
    index = RubricIndex.build(rubric, encoder.encode_rubric, [question.text.en or ""])
    answers = _answers(question_id, "zh")
    scores = [_score(encoder, index, a.text, a.language).score for a in answers]
    rho = spearman([a.label for a in answers], scores)
    print(
        f"\n{question_id}: zh answers, en-only rubric: Spearman {rho:.3f}  "
        + " ".join(f"{a.key[-2:]}={s:.0f}" for a, s in zip(answers, scores))
    )
    assert rho >= 0.8
    assert all(s < 15 for a, s in zip(answers, scores) if a.label == 0)


@pytest.mark.parametrize("question_id", [CALIBRATION_QUESTION, HELD_OUT_QUESTION])
def test_english_answers_against_a_mandarin_only_rubric(encoder: SentenceEncoder, question_id: str) -> None:
    question = QUESTIONS[question_id]
    rubric = _one_language(question.rubric, "zh")  # type: ignore[arg-type]
    index = RubricIndex.build(rubric, encoder.encode_rubric, [question.text.zh or ""])
    answers = _answers(question_id, "en")
    scores = [_score(encoder, index, a.text, a.language).score for a in answers]
    rho = spearman([a.label for a in answers], scores)
    print(
        f"\n{question_id}: en answers, zh-only rubric: Spearman {rho:.3f}  "
        + " ".join(f"{a.key[-2:]}={s:.0f}" for a, s in zip(answers, scores))
    )
    assert rho >= 0.75


# -- calibration ------------------------------------------------------------------


def _auc(positive: list[float], negative: list[float]) -> float:
    p, n = np.asarray(positive)[:, None], np.asarray(negative)[None, :]
    return float((p > n).mean() + 0.5 * (p == n).mean())


def test_calibration_report(encoder: SentenceEncoder) -> None:
    """The ramp's numbers against the labelled points, on both questions.

    Each (answer, expected point) pair is labelled covered or not; its value
    is the point's best adjusted similarity in the answer. The ramp's low end
    sits at the highest value any off-topic answer reached on the calibration
    question, its high end at the upper quartile of covered pairs there.
    """
    config = ContentConfig()
    stats = {}
    for question_id in (CALIBRATION_QUESTION, HELD_OUT_QUESTION):
        index = _index(encoder, question_id)
        covered, missed, off_topic = [], [], []
        for answer in ANSWERS:
            if answer.question != question_id:
                continue
            for point in _score(encoder, index, answer.text, answer.language).points:
                (covered if point.point_id in answer.covers else missed).append(point.adjusted)
                if answer.label == 0:
                    off_topic.append(point.adjusted)
        stats[question_id] = (covered, missed, off_topic)
        q = np.percentile
        print(
            f"\n{question_id}: covered n={len(covered)} p25/50/75 {q(covered, 25):.3f}/{q(covered, 50):.3f}/{q(covered, 75):.3f};"
            f" not covered n={len(missed)} p50/90/95 {q(missed, 50):.3f}/{q(missed, 90):.3f}/{q(missed, 95):.3f};"
            f" off-topic max {max(off_topic):.3f}; AUC {_auc(covered, missed):.3f};"
            f" covered pairs with match >= 0.5: {np.mean([config.match(v) >= 0.5 for v in covered]):.0%},"
            f" not covered: {np.mean([config.match(v) >= 0.5 for v in missed]):.0%}"
        )
    print(
        f"ramp {config.ramp_lo}-{config.ramp_hi}, topic penalty {config.topic_beta} x (topic - {config.topic_floor}), term bonus {config.term_bonus}"
    )
    relevance: dict[str, dict[str, list[float]]] = {}
    for question_id in (CALIBRATION_QUESTION, HELD_OUT_QUESTION):
        index = _index(encoder, question_id)
        groups: dict[str, list[float]] = {
            "answers (labels 2-3)": [],
            "weak answers": [],
            "off-topic and small talk": [],
        }
        for answer in ANSWERS:
            if answer.question == question_id or answer.label == 0:
                group = (
                    "off-topic and small talk"
                    if answer.label == 0
                    else ("weak answers" if answer.label == 1 else "answers (labels 2-3)")
                )
                groups[group].append(_score(encoder, index, answer.text, answer.language).relevance)
        for text, language in SMALL_TALK:
            groups["off-topic and small talk"].append(_score(encoder, index, text, language).relevance)
        relevance[question_id] = groups
        print(f"{question_id} relevance: " + "; ".join(f"{k} {min(v):.3f}-{max(v):.3f}" for k, v in groups.items()))
    print(f"relevance gate {config.relevance_lo}-{config.relevance_hi}")
    for question_id, groups in relevance.items():
        assert min(groups["answers (labels 2-3)"]) >= config.relevance_hi, question_id
        assert max(groups["off-topic and small talk"]) <= config.relevance_lo + 0.02, question_id

    covered, missed, off_topic = stats[CALIBRATION_QUESTION]
    assert max(off_topic) <= config.ramp_lo
    assert abs(np.percentile(covered, 75) - config.ramp_hi) <= 0.02
    held_covered, held_missed, held_off = stats[HELD_OUT_QUESTION]
    assert max(held_off) <= config.ramp_lo + 0.02  # held out: off-topic stays at the ramp's foot
    assert _auc(held_covered, held_missed) >= 0.85
    assert _auc(covered, missed) >= 0.85


# -- pure parts -------------------------------------------------------------------


def test_ramp() -> None:
    config = ContentConfig(ramp_lo=0.3, ramp_hi=0.4)
    assert config.match(0.1) == 0.0 and config.match(0.3) == 0.0
    assert config.match(0.35) == pytest.approx(0.5)
    assert config.match(0.4) == 1.0 and config.match(0.9) == 1.0


def test_term_heard() -> None:
    assert term_heard("双录", "签之前也做了双录")
    assert term_heard("KYC", "we did the kyc first")
    assert not term_heard("KYC", "the KYCX form")
    assert term_heard("risk tolerance", "her Risk Tolerance was low")
    assert not term_heard("", "anything")


def _unit(*values: float) -> np.ndarray:
    v = np.zeros(512, dtype=np.float32)
    v[: len(values)] = values
    return v / np.linalg.norm(v)


def test_term_bonus_and_evidence_with_fixed_vectors() -> None:
    question = WEALTH
    rubric = question.rubric
    assert rubric is not None
    texts: list[str] = []

    def fake_embed(items: list[str]) -> np.ndarray:
        texts.extend(items)
        return np.stack([_unit(1.0, 0.0, 0.0)] * len(items))

    index = RubricIndex.build(rubric, fake_embed, calibrate=False)  # the rubric's own texts only
    assert len(index.texts) == len(texts) and index.topic == (len(texts), len(texts))
    spans = [
        Span("我们做了双录", "我们做了双录", 1.0, 2.0, "zh", 0, 0, 6),
        Span("其他内容说了很多", "其他内容说了很多", 3.0, 4.0, "zh", 1, 1, 8),
    ]
    # every span has the same similarity to every phrasing: only the term tells them apart
    vectors = np.stack([_unit(1.0, 0.0, 0.0) * 0.0 + _unit(0.35, 1.0, 0.0)] * 2)
    result = score_content(index, spans, vectors, ContentConfig(topic_beta=0.0))
    records = next(p for p in result.points if p.point_id == "records")
    other = next(p for p in result.points if p.point_id == "needs")
    assert records.term == "双录" and records.span is spans[0]
    assert records.adjusted == pytest.approx(other.adjusted + 0.05, abs=1e-6)
    assert other.span is spans[0]  # ties keep the earlier span


def test_no_spans_scores_zero() -> None:
    index = RubricIndex.build(WEALTH.rubric, lambda items: np.stack([_unit(1.0)] * len(items)))  # type: ignore[arg-type]
    result = score_content(index, [], np.zeros((0, 512), dtype=np.float32))
    assert result.score == 0.0 and result.evidence == ()


def test_rubric_texts_are_embedded_once(encoder: SentenceEncoder) -> None:
    question = QUESTIONS[HELD_OUT_QUESTION]
    before = encoder.cache_misses
    _index(encoder, HELD_OUT_QUESTION)
    _index(encoder, HELD_OUT_QUESTION)
    answer = _answers(HELD_OUT_QUESTION, "en")[0]
    for _ in range(2):
        scorer = QuestionScorer(question, encoder)
        for final in transcript_finals(answer.text, answer.language):
            scorer.feed(AnalyzerEvent(final["end"], TranscriptFinal.from_dict(final)))
        scorer.score()
    # at most one miss per distinct rubric text (its phrasings, and the spans of its example
    # answers and of the off-topic reference that calibrate it), however many answers are scored
    index = _index(encoder, HELD_OUT_QUESTION)
    examples = [t for c in index.rubric.competencies for t in (*c.strong_examples, *c.weak_examples)]
    calibration_texts = {
        s.embed_text for text in (*examples, *OFF_TOPIC) for s in scoring_spans(example_utterances(text))
    }
    assert encoder.cache_misses - before <= len(set(index.texts) | calibration_texts)


# -- latency -------------------------------------------------------------------------


def _sixty_seconds(language: str) -> list[dict]:
    keys = ["c-zh-s1", "c-zh-s2"] if language == "zh" else ["c-en-s1", "c-en-s2"]
    text = " ".join(a.text for a in ANSWERS if a.key in keys)
    units = len(_HAN.findall(text)) if language == "zh" else len(text.split())
    finals = transcript_finals(text, language, unit_s=50.0 / units)  # 50 s of words plus pauses
    return finals


@pytest.mark.slow  # loads the sentence encoder
@pytest.mark.parametrize("language", ["zh", "en"])
async def test_final_latency_for_a_sixty_second_answer(language: str) -> None:
    """Time from final() to the result, for a 60 s answer; the rubric's texts not yet embedded, then embedded."""
    finals = _sixty_seconds(language)
    duration = finals[-1]["end"] - finals[0]["start"]
    question = QUESTIONS[HELD_OUT_QUESTION]
    encoder = SentenceEncoder()  # a fresh process-wide runner: model loaded, rubric cache empty
    encoder.warmup()
    try:
        timings = []
        for _ in range(3):
            scorer = QuestionScorer(question, encoder)
            for final in finals:
                scorer.feed(AnalyzerEvent(final["end"], TranscriptFinal.from_dict(final)))
            started = time.perf_counter()
            result = await scorer.final()
            timings.append(time.perf_counter() - started)
    finally:
        encoder.close()
    spans = len(scoring_spans(finals))
    print(
        f"\n{language}: {duration:.0f} s answer, {spans} spans, final() {timings[0] * 1000:.0f} ms with the rubric"
        f" not yet embedded, {min(timings[1:]) * 1000:.0f} ms with it cached; content {result['content']}"
    )
    assert 55 <= duration <= 75
    assert min(timings) < 5.0  # ~0.1 s on an idle 2-core machine; generous for a busy one
