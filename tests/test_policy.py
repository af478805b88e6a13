"""Policy profiles, consent from the log, admission control, and emotion as scored context."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from events import ConsentGiven, ConsentWithdrawn, Event, Payload, TranscriptFinal
from jobs.models import BankScoring, ScoreWeights as BankWeights
from scoring.affect import measure_affect
from scoring.encoder import SentenceEncoder
from scoring.question import CONTENT_ONLY, ScoreWeights, score_question
from server.admission import Admission, Load, LoopLagMonitor
from server.policy import PROFILES, consent_from_log
from tests.test_scoring_data import ANSWERS, WEALTH, transcript_finals

LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


def expression(at: float, dominant: str, p: float = 0.7, frames: int = 3) -> tuple[str, dict[str, Any]]:
    rest = (1.0 - p) / (len(LABELS) - 1)
    probabilities = {label: (p if label == dominant else rest) for label in LABELS}
    return "expression.metrics", {"frames": frames, "probabilities": probabilities, "dominant": dominant, "newest_media_time": at}


def voice(uid: int, arousal: float | None, end: float) -> tuple[str, dict[str, Any]]:
    return "voice.affect", {"utterance_id": uid, "start": end - 2, "end": end, "arousal": arousal}


# -- policy profiles ---------------------------------------------------------------


def test_pipl_asks_voice_and_face_separately_and_face_may_be_declined() -> None:
    pipl = PROFILES["pipl"]
    public = pipl.public()
    assert public["consent"]["separate"] is True
    assert {s["id"]: s["required"] for s in public["consent"]["scopes"]} == {"voice": True, "face": False, "recording": False}
    assert pipl.emotion is True
    assert pipl.check({"voice": True, "face": False}) == []
    errors = pipl.check({"voice": False, "face": True})
    assert [e["field"] for e in errors] == ["voice"]
    assert "pipl" in errors[0]["message"]


def test_eu_runs_no_emotion_inference_and_one_consent_covers_both() -> None:
    eu = PROFILES["eu"]
    assert eu.emotion is False
    assert eu.public()["consent"]["separate"] is False
    assert [e["field"] for e in eu.check({"voice": True, "face": False})] == ["face"]
    assert eu.check({"voice": True, "face": True}) == []


def test_consent_in_force_follows_the_log() -> None:
    def logged(payload: Payload) -> Event:
        return Event("s", 0, None, 0.0, payload)

    given = logged(ConsentGiven(policy="pipl", voice=True, face=True, emotion=True, given_at="t1"))
    narrower = logged(ConsentGiven(policy="pipl", voice=True, face=False, emotion=True, given_at="t2"))
    withdrawn = logged(ConsentWithdrawn(policy="pipl"))
    other = logged(TranscriptFinal(utterance_id=1, text="hi", language="en", start=0.0, end=1.0))
    assert consent_from_log([]) is None
    assert consent_from_log([other]) is None
    assert consent_from_log([given, other]).face is True
    latest = consent_from_log([given, narrower])
    assert (latest.face, latest.given_at) == (False, "t2")
    assert consent_from_log([given, withdrawn]) is None
    assert consent_from_log([given, withdrawn, narrower]).voice is True


# -- admission ---------------------------------------------------------------------


def test_admission_refuses_at_capacity_and_under_overload() -> None:
    admission = Admission(max_live_sessions=3, loop_lag_s=0.1, backlog_s=2.0, retry_after_s=20)
    assert admission.check(Load(live_sessions=2, loop_lag_p99_s=0.01, audio_backlog_s=0.1)) is None
    full = admission.check(Load(live_sessions=3, loop_lag_p99_s=0.0, audio_backlog_s=0.0))
    assert full is not None and "capacity of 3" in full.reason and full.retry_after_s == 20
    lagging = admission.check(Load(live_sessions=0, loop_lag_p99_s=0.25, audio_backlog_s=0.0))
    assert lagging is not None and "250 ms" in lagging.reason
    behind = admission.check(Load(live_sessions=0, loop_lag_p99_s=0.0, audio_backlog_s=3.5))
    assert behind is not None and "3.5 s behind" in behind.reason


def test_admission_capacity_defaults_to_sessions_per_core() -> None:
    assert Admission(sessions_per_core=1.5, cpu_count=4).capacity == 6
    assert Admission(sessions_per_core=0.2, cpu_count=2).capacity == 1  # never 0
    assert Admission(max_live_sessions=7, cpu_count=64).capacity == 7


async def test_loop_lag_monitor_sees_a_blocked_loop() -> None:
    seen: list[float] = []
    monitor = LoopLagMonitor(interval_s=0.02, observe=seen.append)
    monitor.start()
    await asyncio.sleep(0.2)
    calm = monitor.p99()
    time.sleep(0.25)  # a blocking call on the loop, as a bug would
    await asyncio.sleep(0.1)
    await monitor.stop()
    assert calm < 0.05
    assert monitor.p99() >= 0.2
    assert len(seen) >= 5


# -- emotion context in the score --------------------------------------------------


def test_affect_summarises_expression_and_voice() -> None:
    events = [expression(1.0, "happy", frames=2), expression(1.5, "neutral", frames=2), voice(1, 0.4, 3.0), voice(2, 0.6, 6.0)]
    affect = measure_affect(events)
    assert affect["expression"]["frames"] == 4
    assert affect["expression"]["dominant"] in ("happy", "neutral")
    assert sum(affect["expression"]["shares"].values()) == pytest.approx(1.0, abs=0.01)
    assert affect["voice"] == {"utterances": 2, "arousal_mean": 0.5}
    assert measure_affect([]) == {"expression": None, "voice": None, "score": None}
    assert measure_affect([voice(1, None, 2.0)])["voice"] is None  # unvoiced: no arousal


def test_calm_answer_has_higher_composure_than_an_agitated_one() -> None:
    calm = measure_affect([expression(t, "neutral") for t in (1, 2, 3)] + [voice(1, 0.5, 4.0)])
    agitated = measure_affect([expression(t, "angry") for t in (1, 2, 3)] + [voice(1, 0.95, 4.0)])
    assert calm["score"] > agitated["score"] + 30


def _answer_score(encoder: SentenceEncoder, affect: list[tuple[str, dict[str, Any]]], **kwargs: Any) -> dict[str, Any]:
    answer = next(a for a in ANSWERS if a.key.startswith("w-en"))
    finals = transcript_finals(answer.text, answer.language)
    return score_question(WEALTH, finals, affect_events=affect, embed=encoder.encode, embed_rubric=encoder.encode_rubric, **kwargs)


def test_emotion_is_context_with_zero_weight_unless_the_bank_sets_one(encoder: SentenceEncoder) -> None:
    calm = [expression(t, "neutral", p=0.9) for t in (1, 2, 3)] + [voice(1, 0.5, 4.0)]
    angry = [expression(t, "angry", p=0.9) for t in (1, 2, 3)] + [voice(1, 0.98, 4.0)]

    default_calm, default_angry = _answer_score(encoder, calm), _answer_score(encoder, angry)
    assert default_calm["affect"]["counted"] is False
    assert default_calm["weights"]["emotion"] == 0.0
    assert default_calm["affect"]["expression"]["dominant"] == "neutral"
    assert default_angry["affect"]["expression"]["dominant"] == "angry"
    assert default_calm["overall"] == default_angry["overall"]  # shown, not counted

    bank = ScoreWeights.of(BankScoring(weights=BankWeights(content=0.6, delivery=0.2, emotion=0.2)).weights)
    weighted_calm, weighted_angry = _answer_score(encoder, calm, weights=bank), _answer_score(encoder, angry, weights=bank)
    assert weighted_calm["affect"]["counted"] is True
    assert weighted_calm["overall"] > weighted_angry["overall"]

    # an accommodation: content alone, whatever the bank says
    accommodated = _answer_score(encoder, angry, weights=bank, accommodation=True)
    assert accommodated["weights"] == CONTENT_ONLY.as_dict()
    assert accommodated["overall"] == accommodated["content"]
    assert accommodated["affect"]["counted"] is False


def test_without_emotion_events_the_score_has_no_affect_part(encoder: SentenceEncoder) -> None:
    bank = ScoreWeights(content=0.6, delivery=0.2, emotion=0.2)
    scored = _answer_score(encoder, [], weights=bank)  # eu policy, or face and voice declined
    assert scored["affect"] == {"expression": None, "voice": None, "score": None, "counted": False}
    unweighted = _answer_score(encoder, [], weights=ScoreWeights(content=0.6, delivery=0.2))
    assert scored["overall"] == unweighted["overall"]  # the missing part drops out


def test_bank_weights_must_not_all_be_zero() -> None:
    with pytest.raises(ValueError):
        BankWeights(content=0, delivery=0, engagement=0, emotion=0)
    assert BankScoring().weights.emotion == 0.0 and BankScoring().weights.engagement == 0.0
