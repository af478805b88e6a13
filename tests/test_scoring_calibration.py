"""Calibrated content scores: bands that mean the same on every question (scoring/calibration.py).

What is checked, and against what:

* the map itself (pure): anchors, flags, monotone, off-topic stays low;
* the shipped banks, text path: every strong example of a question whose
  rubric separates its examples lands in the strong band (overall >= 70) and
  every weak example of every question in not yet (< 50), and the flagged
  questions are the known ones. These are the anchors, so this part checks
  the whole path (segmentation, scoring, delivery, weights), not that the
  calibration generalises. That is checked by
* leave one out: each example scored with its question calibrated without it;
* held-out answers: the labelled answers of tests/test_scoring_data.py (zh
  and en, written as candidates speak) on their own questions, calibrated on
  those questions' examples only; off-topic answers and small talk on every
  bank question;
* what speech does to text: numbers said as words, fillers, near-homophones;
* the speech path (slow): spoken examples through Whisper.

jobs/banks/calibration.json and the table in jobs/banks/README.md are the
output of ``python -m scoring.calibrate all``: they must match the code.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from jobs.catalog import BANKS_DIR, load_catalog
from scoring.calibrate import (
    MEDIA_DIR,
    QuestionRow,
    Transcriber,
    calibrate,
    index_for,
    markdown,
    raw_content,
    readme_block,
    report,
)
from scoring.calibration import OFF_TOPIC, Calibration, depth, example_utterances, fit, language_of
from scoring.encoder import SentenceEncoder
from scoring.question import SCORING_VERSION, score_question
from tests.test_scoring_bank_answers import BANK_ANSWERS
from tests.test_scoring_data import ANSWERS, QUESTIONS, SMALL_TALK, transcript_finals

CALIBRATION_JSON = BANKS_DIR / "calibration.json"
README = BANKS_DIR / "README.md"

# Questions whose rubric cannot tell its strong examples from its weak ones
# (python -m scoring.calibrate all; jobs/banks/README.md says why). A change
# here is a change in what the banks' scores mean: update the README with it.
FLAGGED = {
    ("account_manager", "payment_held_complaint"): "inverted",
    ("account_manager", "competitor_rate"): "narrow",
    ("credit_analyst", "no_statements"): "low",
    ("credit_analyst", "collateral_overvalued"): "inverted",
    ("credit_analyst", "group_related_parties"): "narrow",
    ("risk_manager", "data_spotted_risk"): "low",
    ("risk_manager", "problem_loan_workout"): "low",
    ("wealth_manager", "complaint_nav_loss"): "inverted",
    ("wealth_manager", "asset_allocation"): "inverted",
}


def band(overall: float) -> str:
    return "strong" if overall >= 70 else ("consider" if overall >= 50 else "not_yet")


# -- the map (pure) --------------------------------------------------------------------


def test_fit_puts_the_anchors_at_the_band_marks() -> None:
    cal = fit([60.0, 72.0, 90.0], [10.0, 25.0])
    assert cal.flag is None and cal.separable
    assert cal(60.0) == pytest.approx(80.0)  # the lowest strong example
    assert cal(25.0) == pytest.approx(30.0)  # the highest weak example
    assert cal(0.0) == 0.0 and cal(100.0) == 100.0
    assert 50.0 <= cal(42.5) < 70.0  # half way: a partial answer lands in between
    grid = np.linspace(0, 100, 401)
    values = [cal(x) for x in grid]
    assert all(b >= a for a, b in zip(values, values[1:]))  # monotone: the ranking is the raw one
    assert cal(-5.0) == 0.0 and cal(120.0) == 100.0


def test_fit_flags_what_cannot_be_told_apart() -> None:
    assert fit([50.0, 60.0], [55.0]).flag == "inverted"
    assert fit([50.0, 60.0], [45.0]).flag == "narrow"
    assert fit([20.0, 60.0], [5.0]).flag == "low"
    assert fit([50.0, 60.0], [10.0], off_topic=[46.0]).flag == "off_topic"
    assert fit([], [10.0]).flag == "no_examples" and fit([50.0], []).flag == "no_examples"
    for strong, weak in (([40.0, 70.0, 90.0], [60.0]), ([50.0, 60.0], [45.0])):
        cal = fit(strong, weak)
        assert cal(max(weak)) <= 30.0 + 1e-9  # a flagged question never lifts a weak example
        values = [cal(x) for x in np.linspace(0, 100, 201)]
        assert all(b >= a for a, b in zip(values, values[1:]))
        assert cal(np.median(strong)) >= 80.0 - 1e-9 or np.median(strong) < max(weak) + 8.0


def test_a_weak_anchor_of_zero_does_not_lift_every_answer() -> None:
    cal = fit([60.0, 80.0], [0.0, 0.0])
    assert cal(0.0) == 0.0
    assert cal(5.0) < 15.0  # an off-topic answer that brushes one point stays low
    assert cal.knots[1][0] >= 0.3 * 60.0 - 1e-9


def test_off_topic_reference_raises_the_weak_anchor() -> None:
    plain = fit([60.0], [10.0])
    floored = fit([60.0], [10.0], off_topic=[30.0, 5.0])
    assert floored.off_topic == 30.0 and floored(30.0) == pytest.approx(30.0)
    assert floored(30.0) < plain(30.0)
    assert floored(60.0) == plain(60.0) == pytest.approx(80.0)


def test_calibration_round_trips_to_json() -> None:
    cal = fit([60.0], [20.0])
    data = cal.as_dict()
    assert data["strong"] == 60.0 and data["weak"] == 20.0 and data["flag"] is None
    again = Calibration(cal.strong, cal.weak, tuple(tuple(k) for k in data["knots"]), data["flag"])  # type: ignore[misc]
    assert again(40.0) == pytest.approx(cal(40.0), abs=0.2)


def test_depth_rewards_one_competency_in_depth_and_full_coverage_most() -> None:
    assert depth([100.0, 0.0, 0.0], [1, 1, 1]) == pytest.approx(100 / 3**0.5)
    assert depth([100.0, 0.0, 0.0], [1, 1, 1]) > np.mean([100.0, 0.0, 0.0])
    assert depth([100.0, 100.0], [0.3, 0.7]) == pytest.approx(100.0)
    assert depth([40.0, 40.0], [1, 1]) == pytest.approx(40.0)
    assert depth([], []) == 0.0


def test_example_utterances_read_text_as_a_transcript() -> None:
    [zh] = example_utterances("客户有80万定期，想找收益高一点的产品。")
    assert zh["language"] == "zh" and zh["text"].startswith("客户有 80万定期，")
    words = zh["words"]
    assert [w["word"] for w in words[:4]] == ["客", "户", "有", " 80"]
    assert all(b["start"] >= a["end"] for a, b in zip(words, words[1:]))
    comma = next(i for i, w in enumerate(words) if w["word"].endswith("，"))
    assert words[comma + 1]["start"] - words[comma]["end"] >= 0.2  # a pause at the comma
    [en] = example_utterances("I split the money, and booked a review.")
    assert en["language"] == "en" and en["text"] == "I split the money, and booked a review."
    assert len(en["words"]) == 8 and en["end"] > en["words"][-1]["end"]
    assert example_utterances("  ") == []
    assert language_of("我会先核实") == "zh" and language_of("I would check first") == "en"


# -- what speech does to text (the transformations themselves) -----------------------

_DIGITS = "零一二三四五六七八九"


def _zh_small(n: int, first: bool) -> str:
    out, zero = "", False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d = n // value % 10
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out, zero = out + "零", False
        if d == 2 and unit in ("千", "百") and not out and first:
            digit = "两"
        elif d == 1 and unit == "十" and not out and first:
            digit = ""
        else:
            digit = _DIGITS[d]
        out += digit + unit
    return out


def zh_number(n: int) -> str:
    """200万 is said 两百万, 45 四十五, 3000 三千."""
    if n == 0:
        return "零"
    parts: list[str] = []
    for value, unit in ((10**8, "亿"), (10**4, "万"), (1, "")):
        chunk = n // value if value == 10**8 else n // value % 10**4
        if chunk:
            if parts and chunk < 1000:
                parts.append("零")
            parts.append(_zh_small(chunk, first=not parts) + unit)
    return "".join(parts)


_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen"
    " seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def en_number(n: int) -> str:
    """300,000 is said three hundred thousand."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else "-" + _ONES[n % 10])
    if n < 1000:
        return _ONES[n // 100] + " hundred" + ("" if n % 100 == 0 else " " + en_number(n % 100))
    for value, name in ((10**9, "billion"), (10**6, "million"), (1000, "thousand")):
        if n >= value:
            return en_number(n // value) + " " + name + ("" if n % value == 0 else " " + en_number(n % value))
    raise AssertionError(n)


def _said(number: str, language: str) -> str:
    whole, _, decimals = number.replace(",", "").partition(".")
    if language == "zh":
        return zh_number(int(whole)) + ("点" + "".join(_DIGITS[int(c)] for c in decimals) if decimals else "")
    return en_number(int(whole)) + (" point " + " ".join(_ONES[int(c)] for c in decimals) if decimals else "")


def numbers_as_words(text: str, language: str) -> str:
    if language == "zh":
        text = re.sub(r"(\d+(?:\.\d+)?)%", lambda m: "百分之" + _said(m.group(1), "zh"), text)
        return re.sub(r"\d+(?:\.\d+)?", lambda m: _said(m.group(0), "zh"), text)
    text = re.sub(r"(\d[\d,]*(?:\.\d+)?)%", lambda m: _said(m.group(1), "en") + " percent", text)
    return re.sub(r"\d+(?:,\d{3})*(?:\.\d+)?", lambda m: _said(m.group(0), "en"), text)


_FILLERS = {"zh": ("嗯，", "那个，", "就是，", "呃，"), "en": ("um,", "uh,", "you know,", "like,")}


def with_fillers(text: str, language: str) -> str:
    """A filler before every other clause."""
    parts = [p for p in re.split(r"(?<=[，。！？；,.!?;])\s*", text) if p]
    fillers = _FILLERS[language]
    joiner = "" if language == "zh" else " "
    out = [
        (fillers[(i // 2) % len(fillers)] + ("" if language == "zh" else " ") + p) if i % 2 == 0 else p
        for i, p in enumerate(parts)
    ]
    return joiner.join(out)


# Substitutions Whisper base made on the spoken examples (tests/media/answers_zh): 月报 -> 越暴,
# 汇报 -> 规暴, 客户 -> 科互, 仓库 -> 倡库, 消费 -> 销费, 整体 -> 正体, ...; by character.
HOMOPHONES_ZH = {
    "报": "暴", "户": "互", "费": "废", "整": "正", "仓": "倡", "率": "律", "款": "宽", "测": "侧",
    "账": "帐", "评": "平", "贷": "代", "期": "其", "险": "显", "资": "姿", "汇": "会", "审": "沈",
    "核": "和", "查": "察", "客": "科", "续": "序", "债": "寨", "额": "鹅", "息": "西", "证": "正",
}  # fmt: skip
HOMOPHONES_EN = {
    "their": "there", "fees": "these", "loan": "lone", "rate": "right", "risk": "wrist",
    "cash": "catch", "whole": "hole", "four": "for", "two": "too", "sale": "sail",
}  # fmt: skip


def near_homophones(text: str, language: str) -> str:
    """Every other substitutable character (zh), every substitutable word (en), by a near-homophone."""
    seen = 0
    if language == "zh":
        out = []
        for ch in text:
            if ch in HOMOPHONES_ZH:
                seen += 1
                ch = HOMOPHONES_ZH[ch] if seen % 2 == 0 else ch
            out.append(ch)
        return "".join(out)

    def swap(match: re.Match[str]) -> str:
        return HOMOPHONES_EN.get(match.group(0).lower(), match.group(0))

    return re.sub(r"[A-Za-z]+", swap, text)


_PUNCTUATION = re.compile(r"[，。！？；、：“”‘’（）,.!?;:\"()]")


def without_punctuation(utterances: list[dict], language: str) -> list[dict]:
    """ASR text often has no punctuation: the words and their pauses stay, the marks go."""
    out = []
    for utterance in utterances:
        words = [{**w, "word": _PUNCTUATION.sub("", w["word"])} for w in utterance["words"]]
        words = [w for w in words if w["word"].strip()]
        out.append({**utterance, "text": _PUNCTUATION.sub("", utterance["text"]), "words": words})
    return out


TRANSFORMS = {
    "numbers as words": numbers_as_words,
    "fillers": with_fillers,
    "near-homophones": near_homophones,
    "all three": lambda t, lang: near_homophones(with_fillers(numbers_as_words(t, lang), lang), lang),
}


def spoken(name: str, text: str, language: str) -> list[dict]:
    """An example as the scorer would get it after one transformation."""
    if name == "no punctuation":
        return without_punctuation(example_utterances(text, language), language)
    if name == "everything":
        changed = TRANSFORMS["all three"](text, language)
        return without_punctuation(example_utterances(changed, language), language)
    return example_utterances(TRANSFORMS[name](text, language) if name in TRANSFORMS else text, language)


SPOKEN = ("numbers as words", "fillers", "near-homophones", "no punctuation", "all three", "everything")


def test_the_transformations_do_what_they_say() -> None:
    assert zh_number(2_000_000) == "两百万" and zh_number(45) == "四十五" and zh_number(3000) == "三千"
    assert zh_number(105) == "一百零五" and zh_number(10_000) == "一万" and zh_number(30_000_000) == "三千万"
    assert en_number(200_000) == "two hundred thousand" and en_number(45) == "forty-five"
    assert numbers_as_words("有80万定期，收益20%，费率0.5%", "zh") == "有八十万定期，收益百分之二十，费率百分之零点五"
    assert numbers_as_words("moved another 300,000, 20% of it", "en") == (
        "moved another three hundred thousand, twenty percent of it"
    )
    assert with_fillers("先问用途，再推荐。最后成交。", "zh") == "嗯，先问用途，再推荐。那个，最后成交。"
    assert with_fillers("I asked, then I showed the fee.", "en") == "um, I asked, then I showed the fee."
    assert near_homophones("风险测评和月报汇报", "zh") == "风险侧评和月暴汇暴"
    assert near_homophones("the loan rate", "en") == "the lone right"
    [bare] = without_punctuation(example_utterances("先问用途，再推荐。"), "zh")
    assert bare["text"] == "先问用途再推荐" and [w["word"] for w in bare["words"]][3:5] == ["途", "再"]
    assert bare["words"][4]["start"] - bare["words"][3]["end"] >= 0.2  # the pause stays


# -- the shipped banks, text path --------------------------------------------------------


@pytest.fixture(scope="module")
def text_rows(encoder: SentenceEncoder) -> list[QuestionRow]:
    return calibrate(load_catalog(), encoder.encode_rubric, speech=False)


def test_every_bank_question_is_calibrated(text_rows: list[QuestionRow]) -> None:
    questions = {(e.bank.id, q.id) for e in load_catalog() for q in e.bank.questions if q.rubric is not None}
    assert {(r.bank, r.question) for r in text_rows} == questions
    assert {r.bank for r in text_rows} == {"wealth_manager", "account_manager", "credit_analyst", "risk_manager"}


def test_flagged_questions_are_the_known_ones(text_rows: list[QuestionRow]) -> None:
    flagged = {(r.bank, r.question): r.flag for r in text_rows if r.flag}
    assert flagged == FLAGGED


def test_examples_land_in_their_bands_on_the_text_path(text_rows: list[QuestionRow]) -> None:
    """Strong >= 70 and weak < 50 overall, as in the report; flagged questions keep weak < 50 only."""
    for row in text_rows:
        for example in row.text:
            where = (row.bank, row.question, example.kind, example.competency, example.content, example.overall)
            if example.kind == "weak":
                assert example.overall < 50, where
            elif not row.flag:
                assert example.overall >= 70, where
        strong = [e.content for e in row.text if e.kind == "strong"]
        weak = [e.content for e in row.text if e.kind == "weak"]
        if not row.flag:
            assert min(strong) - max(weak) >= 45, (row.bank, row.question)  # 80 against 30, less rounding
        assert np.median(strong) > np.median(weak), (row.bank, row.question)  # even where flagged


def test_leave_one_out(text_rows: list[QuestionRow]) -> None:
    """Each example with its question calibrated without it: the calibration on an answer it has not seen."""
    strong = [e for r in text_rows for e in r.text if e.kind == "strong"]
    weak = [e for r in text_rows for e in r.text if e.kind == "weak"]
    strong_kept = sum(1 for e in strong if (e.loo_content or 0.0) >= 70) / len(strong)
    weak_kept = sum(1 for e in weak if (e.loo_content or 0.0) < 50) / len(weak)
    print(f"\nleave one out: strong >= 70 {strong_kept:.0%} of {len(strong)}, weak < 50 {weak_kept:.0%} of {len(weak)}")
    assert strong_kept >= 0.60
    assert weak_kept >= 0.80
    # and the order holds where it matters: a left-out strong example above the question's weak anchor
    above = [e for r in text_rows if not r.flag for e in r.text if e.kind == "strong"]
    assert all((e.loo_content or 0.0) > 30.0 for e in above)


def test_committed_table_is_what_the_code_gives(text_rows: list[QuestionRow]) -> None:
    """jobs/banks/calibration.json (text path) and the README's table match the code and each other."""
    committed = json.loads(CALIBRATION_JSON.read_text(encoding="utf-8"))
    assert committed["scoring_version"] == SCORING_VERSION
    fresh = report(text_rows)
    by_question = {(q["bank"], q["question"]): q for q in committed["questions"]}
    assert set(by_question) == {(q["bank"], q["question"]) for q in fresh["questions"]}
    for q in fresh["questions"]:
        old = by_question[(q["bank"], q["question"])]
        assert old["flag"] == q["flag"] and old["anchors"] == q["anchors"], q["question"]
        assert old["text"] == q["text"], q["question"]
    for bank, numbers in fresh["banks"].items():
        assert committed["banks"][bank]["text"] == numbers["text"], bank
        assert committed["banks"][bank]["flagged"] == numbers["flagged"], bank
    assert readme_block(committed) in README.read_text(encoding="utf-8")


def test_readme_table_is_rendered_from_the_json() -> None:
    committed = json.loads(CALIBRATION_JSON.read_text(encoding="utf-8"))
    table = markdown(committed)
    assert table in README.read_text(encoding="utf-8")
    speech = committed["banks"]
    assert all(b["speech"]["strong_above_weak"] == f"{b['questions']}/{b['questions']}" for b in speech.values())


# -- held-out answers ----------------------------------------------------------------------


def test_held_out_labelled_answers(encoder: SentenceEncoder) -> None:
    """The labelled answers (zh and en) on their own questions, calibrated on those questions' examples only.

    Labels: 3 strong story covering most points, 2 on topic with a few points,
    1 vague or wrong attitude, 0 off-topic.
    """
    bands: dict[int, list[str]] = {0: [], 1: [], 2: [], 3: []}
    for question_id, question in QUESTIONS.items():
        index = index_for(question, encoder.encode_rubric)
        assert index.calibration is not None and index.calibration.separable, question_id
        for language in ("zh", "en"):
            answers = [a for a in ANSWERS if a.question == question_id and a.language == language]
            scored = []
            for answer in answers:
                payload = score_question(
                    question, transcript_finals(answer.text, answer.language), embed=encoder.encode, index=index
                )
                scored.append((answer, payload["content"], payload["overall"]))
                bands[answer.label].append(band(payload["overall"]))
            labels = [a.label for a, _, _ in scored]
            contents = [c for _, c, _ in scored]
            rho = float(np.corrcoef(np.argsort(np.argsort(labels)), np.argsort(np.argsort(contents)))[0, 1])
            print(
                f"\n{question_id} {language}: "
                + " ".join(f"{a.key[-2:]}={c:.0f}/{o:.0f}" for a, c, o in scored)
                + f"  rank correlation {rho:.2f}"
            )
            by_label = {k: [c for a, c, _ in scored if a.label == k] for k in range(4)}
            assert min(by_label[3]) > max(by_label[0]), (question_id, language)
            assert np.mean(by_label[3]) > np.mean(by_label[2]) > np.mean(by_label[1]) >= np.mean(by_label[0])
            assert rho >= 0.75, (question_id, language)
    print({label: "".join(b[0].upper() for b in v) for label, v in bands.items()})
    assert bands[0].count("not_yet") == len(bands[0])  # off-topic: never above not yet
    assert bands[1].count("not_yet") == len(bands[1])  # vague or wrong attitude: not yet
    assert bands[3].count("strong") >= 10 and bands[3].count("not_yet") <= 1
    assert bands[2].count("strong") <= 2  # a few points is rarely strong


def test_held_out_answers_to_bank_questions(encoder: SentenceEncoder) -> None:
    """Answers written for six bank questions after the design was fixed (tests/test_scoring_bank_answers.py).

    Strong answers in the candidate's own words land strong; partial ones in
    between. Weak answers that talk about the right things with the wrong
    attitude ("the boss is reliable, I'd just push it through") reach consider
    and once strong: the encoder matches topic, not stance (jobs/banks/README.md).
    """
    known = {(e.bank.id, q.id): q for e in load_catalog() for q in e.bank.questions}
    scored: dict[int, list[tuple[str, str, float, float]]] = {1: [], 2: [], 3: []}
    indexes = {}
    for answer in BANK_ANSWERS:
        question = known[(answer.bank, answer.question)]
        if question.id not in indexes:
            indexes[question.id] = index_for(question, encoder.encode_rubric)
            assert indexes[question.id].calibration.separable, question.id  # type: ignore[union-attr]
        payload = score_question(
            question, transcript_finals(answer.text, answer.language), embed=encoder.encode, index=indexes[question.id]
        )
        scored[answer.label].append((answer.question, answer.language, payload["content"], payload["overall"]))
    for label, items in scored.items():
        print(f"\nlabel {label}: " + " ".join(f"{q[:12]}/{lang}={c:.0f}/{o:.0f}" for q, lang, c, o in items))
    bands = {label: [band(o) for *_, o in items] for label, items in scored.items()}
    assert bands[3].count("strong") >= 10 and "not_yet" not in bands[3]
    assert bands[1].count("strong") <= 1 and bands[1].count("not_yet") >= 6
    means = {label: np.mean([c for _, _, c, _ in items]) for label, items in scored.items()}
    assert means[3] > means[2] + 20 and means[2] > means[1]
    for question, language, strong, _ in scored[3]:
        partial = [c for q, lang, c, _ in scored[2] if q == question and lang == language]
        weak = [c for q, lang, c, _ in scored[1] if q == question and lang == language]
        assert strong > max(partial, default=0.0) and strong > max(weak) + 10, (question, language)


def test_off_topic_answers_stay_low_on_every_bank_question(encoder: SentenceEncoder) -> None:
    """Small talk and off-topic answers (held out: not the reference set the floor is fitted on)."""
    held_out = list(SMALL_TALK) + [(a.text, a.language) for a in ANSWERS if a.label == 0]
    assert not {t for t, _ in held_out} & set(OFF_TOPIC)
    contents = []
    for entry in load_catalog():
        for question in entry.bank.questions:
            if question.rubric is None:
                continue
            index = index_for(question, encoder.encode_rubric)
            assert index.calibration is not None
            for text, language in held_out:
                raw = raw_content(index, transcript_finals(text, language), encoder.encode)
                contents.append((index.calibration(raw), question.id, text))
    values = np.array([c for c, _, _ in contents])
    worst = sorted(contents, reverse=True)[:3]
    print(f"\noff-topic on {len(values)} (answer, question) pairs: max {values.max():.0f}, worst {worst}")
    assert values.max() < 50  # never consider
    assert np.mean(values < 30) >= 0.98
    assert np.median(values) == 0.0


# -- speech-like text ----------------------------------------------------------------------


def test_ranking_survives_what_speech_does_to_text(encoder: SentenceEncoder) -> None:
    """Every example transformed: numbers said as words, fillers, near-homophones, no punctuation, together."""
    results: dict[str, dict[str, list[float]]] = {}
    pairs: dict[str, list[int]] = {}
    kept: dict[str, list[int]] = {}
    for entry in load_catalog():
        for question in entry.bank.questions:
            if question.rubric is None:
                continue
            index = index_for(question, encoder.encode_rubric)
            calibration = index.calibration
            assert calibration is not None
            examples = [
                (kind, text)
                for c in question.rubric.competencies
                for kind, texts in (("strong", c.strong_examples), ("weak", c.weak_examples))
                for text in texts
            ]
            for name in ("clean", *SPOKEN):
                scored = []
                for kind, text in examples:
                    raw = raw_content(index, spoken(name, text, language_of(text)), encoder.encode)
                    scored.append((kind, calibration(raw)))
                results.setdefault(name, {}).setdefault("all", []).extend(c for _, c in scored)
                strong = [c for k, c in scored if k == "strong"]
                weak = [c for k, c in scored if k == "weak"]
                p = pairs.setdefault(name, [0, 0])
                p[0] += sum(1 for s in strong for w in weak if s > w)
                p[1] += len(strong) * len(weak)
                if not calibration.flag:
                    k = kept.setdefault(name, [0, 0, 0, 0])
                    k[0] += sum(1 for s in strong if s >= 70)
                    k[1] += len(strong)
                    k[2] += sum(1 for w in weak if w < 50)
                    k[3] += len(weak)
    clean = np.array(results["clean"]["all"])
    for name in ("clean", *SPOKEN):
        shift = np.abs(np.array(results[name]["all"]) - clean)
        print(
            f"\n{name}: strong above weak in {pairs[name][0]}/{pairs[name][1]} pairs;"
            f" separable questions: strong >= 70 {kept[name][0]}/{kept[name][1]}, weak < 50 {kept[name][2]}/{kept[name][3]};"
            f" content moved {shift.mean():.1f} on average, at most {shift.max():.0f}"
        )
    for name in SPOKEN:
        assert pairs[name][0] >= pairs["clean"][0] - 3, name
        assert kept[name][0] >= 0.9 * kept[name][1], name
        assert kept[name][2] >= 0.95 * kept[name][3], name
        assert np.abs(np.array(results[name]["all"]) - clean).mean() <= 5.0, name


# -- speech path -------------------------------------------------------------------------------

SPEECH_QUESTIONS = {
    ("account_manager", "loan_red_flags"),
    ("credit_analyst", "disagree_with_rm"),
    ("risk_manager", "npl_spike"),
    ("wealth_manager", "persuade_client"),
    ("wealth_manager", "complaint_nav_loss"),  # flagged: the order must hold all the same
}


@pytest.mark.slow  # Whisper base on 10 clips: about 40 s on 2 cores with the text path
def test_speech_path_keeps_strong_above_weak(encoder: SentenceEncoder, tmp_path: Path) -> None:
    manifest = MEDIA_DIR / "manifest.json"
    if not manifest.is_file():
        raise FileNotFoundError(f"{manifest} is missing (tests/media/README.md)")
    transcriber = Transcriber(tmp_path / "transcripts.json")
    try:
        rows = calibrate(load_catalog(), encoder.encode_rubric, transcriber=transcriber, questions=SPEECH_QUESTIONS)
    finally:
        transcriber.close()
    assert {(r.bank, r.question) for r in rows} == SPEECH_QUESTIONS
    for row in rows:
        strong = [s for s in row.speech if s.kind == "strong"]
        weak = [s for s in row.speech if s.kind == "weak"]
        assert strong and weak, row.question
        print(
            f"\n{row.bank}/{row.question}: strong {strong[0].content:.0f}/{strong[0].overall:.0f}"
            f" weak {weak[0].content:.0f}/{weak[0].overall:.0f}  [{strong[0].text[:40]}]"
        )
        for clip in strong + weak:
            assert "\ufffd" not in clip.text, (row.question, clip.text)
            assert clip.text.strip(), row.question
        assert min(s.content for s in strong) >= max(w.content for w in weak) + 20, row.question
        assert all(w.overall < 50 for w in weak), row.question
        if not row.flag:
            assert all(s.overall >= 70 for s in strong), row.question


def test_the_payload_says_how_the_content_score_was_calibrated(encoder: SentenceEncoder) -> None:
    entry = next(e for e in load_catalog() if e.bank.id == "wealth_manager")
    question = next(q for q in entry.bank.questions if q.id == "persuade_client")
    flagged = next(q for q in entry.bank.questions if q.id == "complaint_nav_loss")
    answer = example_utterances(question.rubric.competencies[0].strong_examples[0])  # type: ignore[union-attr]
    payload = score_question(question, answer, embed=encoder.encode, embed_rubric=encoder.encode_rubric)
    index = index_for(question, encoder.encode_rubric)
    assert index.calibration is not None
    assert payload["coverage"]["calibration"] == "ok"
    assert payload["content"] == pytest.approx(index.calibration(payload["coverage"]["raw"]), abs=0.2)
    other = score_question(flagged, answer, embed=encoder.encode, embed_rubric=encoder.encode_rubric)
    assert other["coverage"]["calibration"] == "inverted"
    assert other["content"] < payload["content"]  # an answer to another question


def _hashed(texts: list[str]) -> np.ndarray:
    """A stand-in encoder: a fixed pseudo-random unit vector per text."""
    out = np.zeros((len(texts), 512), dtype=np.float32)
    for i, text in enumerate(texts):
        rng = np.random.default_rng(sum(ord(c) * (k + 1) for k, c in enumerate(text)) % (2**32))
        v = rng.standard_normal(512)
        out[i] = v / np.linalg.norm(v)
    return out


def test_a_rubric_without_examples_keeps_the_plain_coverage_score() -> None:
    from scoring.content import RubricIndex, score_content
    from scoring.segment import scoring_spans

    question = QUESTIONS["wealth_persuasion"]
    assert question.rubric is not None
    bare = question.rubric.model_copy(
        update={
            "competencies": [
                c.model_copy(update={"strong_examples": [], "weak_examples": []}) for c in question.rubric.competencies
            ]
        }
    )
    index = RubricIndex.build(bare, _hashed, [question.text.zh or ""])
    assert index.calibration is None and index.relevance_floor > 0.0
    spans = scoring_spans(example_utterances("我先问了客户的需求，再推荐了产品。"))
    result = score_content(index, spans, _hashed([s.embed_text for s in spans]))
    assert result.score == result.coverage
    payload = score_question(question.model_copy(update={"rubric": bare}), [], embed=_hashed)
    assert payload["coverage"]["calibration"] == "none" and payload["content"] == 0.0
