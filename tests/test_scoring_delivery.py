"""Delivery, engagement and the question score around them.

Speech rate, pauses and fillers on synthetic word timings (zh and en);
engagement from face.metrics; the question scorer's determinism, weights,
accommodation and async shell, with the real sentence encoder.
"""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

import pytest

from events import AnalyzerEvent, Event, FaceMetrics, TranscriptFinal
from jobs.models import Localized, Question
from scoring.delivery import DeliveryConfig, find_fillers, measure_delivery
from scoring.encoder import SentenceEncoder
from scoring.engagement import measure_engagement
from scoring.question import CONTENT_ONLY, QuestionScorer, ScoreWeights, canonical_json, score_question
from scoring.segment import transcript_tokens
from tests.test_scoring_data import ANSWERS, COMPLAINT, WEALTH, transcript_finals


def timed(language: str, items: list[Any], *, unit_s: float = 0.25, start: float = 0.0, uid: int = 1) -> dict[str, Any]:
    """A transcript.final payload; ``items`` are words (str) or pauses (float seconds)."""
    words = []
    t = start
    for item in items:
        if isinstance(item, (int, float)):
            t += float(item)
            continue
        word = item if language == "zh" else " " + item
        words.append({"word": word, "start": round(t, 3), "end": round(t + unit_s, 3), "probability": 0.9})
        t += unit_s
    return {
        "utterance_id": uid,
        "text": "".join(w["word"] for w in words).strip(),
        "language": language,
        "start": start,
        "end": round(t, 3),
        "words": words,
    }


def fillers_of(language: str, items: list[Any]) -> list[str]:
    return [f.text for f in find_fillers(transcript_tokens([timed(language, items)]))]


# -- speech rate -------------------------------------------------------------------


def test_mandarin_rate_is_characters_per_minute() -> None:
    # 240 Hanzi, one every 0.25 s: 60 s of speech, 240 CPM
    chars = list("我先了解客户的需求然后做风险测评" * 15)
    metrics = measure_delivery([timed("zh", chars)])
    assert metrics["language"] == "zh" and metrics["rate_unit"] == "cpm"
    assert metrics["units"] == 240
    assert metrics["rate"] == pytest.approx(240.0, abs=0.5)
    assert metrics["rate_score"] == 100.0


def test_whisper_multi_character_words_count_each_hanzi() -> None:
    words = ["我先", "了解", "客户", "的需求"] * 10  # 90 Hanzi in 40 words of 0.5 s
    metrics = measure_delivery([timed("zh", words, unit_s=0.5)])
    assert metrics["units"] == 90
    assert metrics["rate"] == pytest.approx(90 / 20 * 60, abs=0.5)  # 270 CPM


def test_english_rate_is_words_per_minute() -> None:
    words = [
        "I",
        "asked",
        "the",
        "client",
        "what",
        "the",
        "money",
        "was",
        "for",
        "before",
        "suggesting",
        "anything",
    ] * 12  # 144 words
    metrics = measure_delivery([timed("en", words, unit_s=60 / 144)])
    assert metrics["rate_unit"] == "wpm"
    assert metrics["rate"] == pytest.approx(144.0, abs=0.5)
    assert metrics["rate_score"] == 100.0


def test_rate_bands() -> None:
    fast = measure_delivery([timed("zh", list("快" * 200), unit_s=60 / 450)])  # 450 CPM
    assert fast["rate"] == pytest.approx(450, abs=1) and fast["rate_score"] == 0.0
    slow_en = measure_delivery([timed("en", ["word"] * 85, unit_s=60 / 85)])  # 85 WPM: half way up the ramp
    assert slow_en["rate_score"] == pytest.approx(50.0, abs=0.5)
    brisk_zh = measure_delivery([timed("zh", list("快" * 350), unit_s=60 / 350)])  # 350 CPM: half way down
    assert brisk_zh["rate_score"] == pytest.approx(50.0, abs=0.5)


# -- pauses ------------------------------------------------------------------------


def test_pauses_and_long_pauses() -> None:
    items: list[Any] = [
        "so",
        "I",
        "called",
        "her",
        0.6,
        "back",
        "the",
        "next",
        "day",
        3.5,
        "and",
        "she",
        "agreed",
        0.4,
        "to",
        "meet",
    ]
    metrics = measure_delivery([timed("en", items, unit_s=0.3)])
    pauses = metrics["pauses"]
    assert pauses["count"] == 2  # 0.6 s and 3.5 s; 0.4 s is not a pause
    assert pauses["long_count"] == 1
    assert pauses["longest_s"] == 3.5
    assert pauses["mean_s"] == pytest.approx(2.05)
    # the long pause is left out of the speaking time that the rate uses
    assert metrics["speaking_s"] == pytest.approx(13 * 0.3 + 0.6 + 0.4, abs=0.01)


def test_pauses_between_utterances_count_and_silence_before_the_first_word_does_not() -> None:
    first = timed("zh", ["我", "觉", "得"], start=5.0, uid=1)
    second = timed("zh", ["很", "好"], start=first["end"] + 1.2, uid=2)
    metrics = measure_delivery([second, first])
    assert metrics["pauses"]["count"] == 1
    assert metrics["pauses"]["longest_s"] == pytest.approx(1.2)


def test_many_long_pauses_lower_the_pause_score() -> None:
    items: list[Any] = []
    for _ in range(6):
        items += ["I", "think", "that", "is", "right", 4.0]
    metrics = measure_delivery([timed("en", items[:-1], unit_s=0.3)])
    assert metrics["pauses"]["long_count"] == 5
    assert metrics["pauses"]["score"] == 0.0


# -- fillers -----------------------------------------------------------------------


def test_mandarin_fillers_counted_conservatively() -> None:
    assert fillers_of("zh", ["嗯", "我", "觉", "得"]) == ["嗯"]
    assert fillers_of("zh", ["嗯", "嗯", "好", "的"]) == ["嗯"]  # one hesitation
    assert fillers_of("zh", ["呃", 0.4, "就", "是", 0.4, "客", "户"]) == ["呃", "就是"]
    # 那个 as a determiner is not a filler; standing alone or doubled it is
    assert fillers_of("zh", ["那", "个", "客", "户", "很", "生", "气"]) == []
    assert fillers_of("zh", ["我", "觉", "得", 0.4, "那", "个", 0.4, "客", "户"]) == ["那个"]
    assert fillers_of("zh", ["那", "个", "那", "个", "客", "户"]) == ["那个"]
    assert fillers_of("zh", ["那个，", "我", "先", "问"]) == ["那个"]
    # 就是说 and 就是 inside a sentence are words
    assert fillers_of("zh", ["也", "就", "是", "说", "他", "同", "意", "了"]) == []
    assert fillers_of("zh", ["这", "就", "是", "我", "的", "方", "法"]) == []
    # 额 in 金额, 啊 closing a sentence: not fillers; standing alone or opening a clause: fillers
    assert fillers_of("zh", ["金", "额", "不", "大"]) == []
    assert fillers_of("zh", ["好", "啊。", "我", "们", "开", "始"]) == []
    assert fillers_of("zh", ["额，", "我", "想", "想"]) == ["额"]
    assert fillers_of("zh", ["我", "想", 0.5, "啊", "先", "安", "抚", "客", "户"]) == ["啊"]


def test_english_fillers_counted_conservatively() -> None:
    assert fillers_of("en", ["um", "I", "think", "uh", "yes"]) == ["um", "uh"]
    assert fillers_of("en", ["I", "like", "this", "product"]) == []
    assert fillers_of("en", ["it", "was", "like", "5", "million"]) == []
    assert fillers_of("en", ["it", "was,", "like,", "really", "hard"]) == ["like"]
    assert fillers_of("en", ["do", "you", "know", "the", "fund"]) == []
    assert fillers_of("en", ["and,", "you", "know,", "she", "agreed"]) == ["you know"]
    assert fillers_of("en", ["so", "um", "like", 0.4, "I", "called"]) == ["um", "like"]
    assert fillers_of("en", ["Um,", "Uh,", "okay"]) == ["um", "uh"]


def test_filler_rate_and_score() -> None:
    items: list[Any] = []
    for _ in range(20):  # 20 x "um" in 60 s of speech: 20 per minute
        items += ["um", "I", "sold", "the", "fund", "to", "her"]
    metrics = measure_delivery([timed("en", items, unit_s=60 / 140)])
    assert metrics["fillers"]["count"] == 20
    assert metrics["fillers"]["per_min"] == pytest.approx(20.0, abs=0.2)
    assert metrics["fillers"]["by_word"] == {"um": 20}
    assert metrics["fillers"]["score"] == 0.0


def test_delivery_not_measured_under_five_seconds_or_without_words() -> None:
    short = measure_delivery([timed("en", ["yes", "I", "did"], unit_s=0.3)])
    assert short["measured"] is False and short["score"] is None
    empty = measure_delivery([])
    assert empty["score"] is None and empty["units"] == 0


def test_comfortable_delivery_scores_100() -> None:
    metrics = measure_delivery(
        [
            timed(
                "zh",
                list("我先了解客户的需求然后做风险测评") * 1 + [0.6] + list("最后客户买了二十万还介绍了朋友") * 2,
                unit_s=0.25,
            )
        ]
    )
    assert metrics["score"] == 100.0


# -- engagement --------------------------------------------------------------------


def _metrics(
    t: float,
    *,
    presence: float = 1.0,
    gaze: float | None = 0.8,
    faces_max: int = 1,
    faces_mean: float | None = None,
    frames: int = 5,
) -> tuple[str, dict[str, Any]]:
    return (
        "face.metrics",
        {
            "frames": frames,
            "faces_max": faces_max,
            "faces_mean": presence if faces_mean is None else faces_mean,
            "presence": presence,
            "yaw": 0.0,
            "pitch": 0.0,
            "roll": 0.0,
            "gaze_at_camera": gaze,
            "newest_media_time": t,
        },
    )


def test_engagement_presence_gaze_and_multiple_faces() -> None:
    events = [_metrics(0.5), _metrics(1.0, presence=0.0, gaze=None), _metrics(1.5, faces_max=2, faces_mean=1.4)]
    events.append(("face.multiple", {"state": "start", "faces": 2, "since": 1.2}))
    result = measure_engagement(events)
    assert result["presence"] == pytest.approx(2 / 3, abs=1e-3)
    assert result["gaze_at_camera"] == pytest.approx(0.8)
    assert result["multiple_faces_share"] == pytest.approx(0.4 / 3, abs=1e-3)
    assert result["multiple_faces_events"] == 1
    assert result["score"] == pytest.approx(100 * (2 / 3) * (0.6 + 0.4 * 0.8) * (1 - 0.4 / 3), abs=0.1)
    assert measure_engagement([])["measured"] is False


# -- the question score ------------------------------------------------------------


def _answer(key: str) -> Any:
    return next(a for a in ANSWERS if a.key == key)


def _events(key: str, *, faces: bool = True) -> list[Event]:
    answer = _answer(key)
    out: list[dict[str, Any]] = []
    for seq, final in enumerate(transcript_finals(answer.text, answer.language)):
        out.append(
            {
                "type": "transcript.final",
                "session_id": "s1",
                "seq": seq,
                "media_time": final["end"],
                "wall_time": 0.0,
                "payload": final,
            }
        )
    if faces:
        for i in range(1, 60):
            kind, payload = _metrics(i * 0.5, gaze=0.5 + 0.4 * ((i * 7) % 5) / 4)
            out.append(
                {
                    "type": kind,
                    "session_id": "s1",
                    "seq": 100 + i,
                    "media_time": i * 0.5,
                    "wall_time": 0.0,
                    "payload": payload,
                }
            )
    out.append(
        {"type": "speech.start", "session_id": "s1", "seq": 999, "media_time": 0.0, "wall_time": 0.0, "payload": {"utterance_id": 0}}
    )
    return [Event.from_dict(e) for e in out]


def _heard(final: dict[str, Any]) -> AnalyzerEvent:
    return AnalyzerEvent(final["end"], TranscriptFinal.from_dict(final))


def _scorer(encoder: SentenceEncoder, key: str, **kwargs: Any) -> QuestionScorer:
    question = WEALTH if key.startswith("w-") else COMPLAINT
    return QuestionScorer(question, encoder, **kwargs)


async def test_same_events_give_byte_identical_json(encoder: SentenceEncoder) -> None:
    events = _events("c-zh-s1")
    first = _scorer(encoder, "c-zh-s1")
    used = [first.feed(e) for e in events]
    assert used.count(False) == 1  # speech.start is not the scorer's business
    await first.provisional()  # provisional scoring on the way must not change the final
    a = canonical_json(await first.final())

    # a fresh scorer (fresh caches), events shuffled and some replayed, as read back from the log
    shuffled = events + events[:3]
    random.Random(4).shuffle(shuffled)
    second = _scorer(encoder, "c-zh-s1")
    for e in shuffled:
        second.feed(Event.from_dict(json.loads(json.dumps(e.to_dict()))))
    b = canonical_json(await second.final())
    assert a == b
    assert a.encode() == canonical_json(json.loads(a)).encode()


async def test_final_payload_shape(encoder: SentenceEncoder) -> None:
    scorer = _scorer(encoder, "w-en-s1")
    for e in _events("w-en-s1"):
        scorer.feed(e)
    result = await scorer.final()
    assert result["question_id"] == WEALTH.id and result["final"] is True
    assert [c["id"] for c in result["competencies"]] == ["sales", "suitability"]
    for competency in result["competencies"]:
        assert 0 <= competency["score"] <= 100
        for point in competency["points"]:
            for evidence in point["evidence"]:
                assert evidence["point_id"] == point["id"] and evidence["score"] >= 0.5
                assert evidence["start"] < evidence["end"]
    assert result["evidence"], "a strong answer has evidence"
    assert set(result["delivery"]) >= {"score", "rate", "rate_unit", "pauses", "fillers"}
    assert result["engagement"]["measured"] is True
    assert result["weights"] == {"content": 0.8, "delivery": 0.2, "engagement": 0.0, "emotion": 0.0}
    assert result["affect"] == {"expression": None, "voice": None, "score": None, "counted": False}
    assert result["overall"] == pytest.approx(0.8 * result["content"] + 0.2 * result["delivery"]["score"], abs=0.1)
    assert set(result["explanation"]) == {"zh", "en"}
    assert "\n" not in result["explanation"]["en"] and "Content" in result["explanation"]["en"]
    assert "内容" in result["explanation"]["zh"]
    assert result["scoring_version"]
    json.dumps(result, allow_nan=False)


async def test_engagement_has_zero_weight_by_default(encoder: SentenceEncoder) -> None:
    looking = _scorer(encoder, "c-en-s2")
    away = _scorer(encoder, "c-en-s2")
    for e in _events("c-en-s2", faces=False):
        looking.feed(e)
        away.feed(e)
    for i in range(1, 40):
        looking.feed(AnalyzerEvent(i * 0.5, FaceMetrics(**_metrics(i * 0.5, gaze=0.95)[1])))
        away.feed(
            AnalyzerEvent(
                i * 0.5, FaceMetrics(**_metrics(i * 0.5, presence=0.3, gaze=0.1, faces_max=2, faces_mean=0.8)[1])
            )
        )
    a, b = await looking.final(), await away.final()
    assert a["engagement"]["score"] > b["engagement"]["score"]
    assert a["overall"] == b["overall"]
    assert a["weights"]["engagement"] == 0.0

    weighted = _scorer(encoder, "c-en-s2", weights=ScoreWeights(content=0.7, delivery=0.2, engagement=0.1))
    for e in _events("c-en-s2", faces=False):
        weighted.feed(e)
    assert (await weighted.final())["overall"] != a["overall"]  # a bank that sets a weight gets it


async def test_accommodation_scores_content_alone(encoder: SentenceEncoder) -> None:
    events = _events("w-zh-m1")
    plain = _scorer(encoder, "w-zh-m1")
    accommodated = _scorer(encoder, "w-zh-m1", accommodation=True, weights=ScoreWeights(0.5, 0.3, 0.2))
    for e in events:
        plain.feed(e)
        accommodated.feed(e)
    a, b = await plain.final(), await accommodated.final()
    assert b["weights"] == CONTENT_ONLY.as_dict()
    assert b["accommodation"] is True
    assert b["overall"] == b["content"] == a["content"]
    assert a["overall"] != a["content"]
    assert "accommodation" in b["explanation"]["en"] and "便利安排" in b["explanation"]["zh"]
    assert "Delivery" not in b["explanation"]["en"]


async def test_provisional_grows_with_the_answer(encoder: SentenceEncoder) -> None:
    answer = _answer("c-en-s1")
    finals = transcript_finals(answer.text, answer.language)
    scorer = _scorer(encoder, "c-en-s1")
    seen = []
    for final in finals:
        scorer.feed(AnalyzerEvent(final["end"], TranscriptFinal.from_dict(final)))
        provisional = await scorer.provisional()
        assert provisional["final"] is False and provisional["through"] == final["words"][-1]["end"]
        seen.append(provisional["content"])
    assert seen[-1] > seen[0]
    assert seen[-1] == (await scorer.final())["content"]


async def test_silence_and_short_answers(encoder: SentenceEncoder) -> None:
    silent = _scorer(encoder, "w-en-s1")
    result = await silent.final()
    assert result["content"] == 0.0 and result["overall"] == 0.0
    assert result["delivery"]["score"] is None and result["evidence"] == []
    assert "No answer" in result["explanation"]["en"]

    short = _scorer(encoder, "w-en-s1")
    short.feed(_heard(timed("en", ["I", "don't", "know"], unit_s=0.3)))
    result = await short.final()
    assert result["delivery"]["score"] is None  # under 5 s: not measured, drops out
    assert result["overall"] == result["content"]


async def test_window_filters_other_answers_events(encoder: SentenceEncoder) -> None:
    scorer = _scorer(encoder, "w-en-s1", window=(100.0, 200.0))
    assert not scorer.feed(_heard(timed("en", ["earlier", "answer"], start=50.0)))
    assert scorer.feed(_heard(timed("en", ["this", "answer"], start=120.0)))
    assert not scorer.feed(AnalyzerEvent(90.0, FaceMetrics(**_metrics(90.0)[1])))
    assert scorer.feed(AnalyzerEvent(130.0, FaceMetrics(**_metrics(130.0)[1])))


def test_practice_question_is_not_scored(encoder: SentenceEncoder) -> None:
    practice = Question(id="practice", kind="practice", text=Localized(zh="请介绍一下你自己", en="Introduce yourself"))
    with pytest.raises(ValueError):
        QuestionScorer(practice, encoder)
    with pytest.raises(ValueError):
        score_question(practice, [], embed=encoder.encode)


def test_weights_are_validated() -> None:
    with pytest.raises(ValueError):
        ScoreWeights(content=0.0, delivery=0.0, engagement=0.0)
    with pytest.raises(ValueError):
        ScoreWeights(content=-1.0)


def test_scoring_runs_on_the_encoder_thread(encoder: SentenceEncoder) -> None:
    calls: list[str] = []
    encoder.set_observer(lambda name, seconds: calls.append(name))
    try:
        scorer = _scorer(encoder, "w-zh-s2")
        for e in _events("w-zh-s2", faces=False):
            scorer.feed(e)
        asyncio.run(scorer.final())
    finally:
        encoder.set_observer(None)
    assert calls == ["encoder"]


def test_delivery_config_is_a_parameter() -> None:
    items = ["I", "think", 0.7, "so"] * 5
    strict = measure_delivery([timed("en", items)], DeliveryConfig(pause_s=0.8))
    assert strict["pauses"]["count"] == 0
    assert measure_delivery([timed("en", items)])["pauses"]["count"] == 5
