"""The interview flow on a virtual media clock."""

from __future__ import annotations

from interview.flow import (
    ANSWER_ENDED,
    ANSWER_STARTED,
    INTERVIEW_ENDED,
    QUESTION_ENDED,
    QUESTION_STARTED,
    FlowConfig,
    FlowEvent,
    InterviewFlow,
)
from events import TRANSCRIPT_FINAL, Event, TranscriptFinal
from jobs.models import Competency, ExpectedPoint, Localized, Question, Rubric

RUBRIC = Rubric(
    competencies=[
        Competency(
            id="sales",
            name=Localized(zh="销售能力", en="Sales"),
            weight=1,
            points=[ExpectedPoint(id="needs", text=Localized(en="asks about the client's needs"))],
        )
    ]
)


def questions() -> list[Question]:
    return [
        Question(id="intro", kind="practice", text=Localized(zh="请介绍一下自己", en="Introduce yourself"), prep_s=5, answer_s=30),
        Question(id="q1", kind="behavioural", text=Localized(en="Persuade"), prep_s=10, answer_s=60, rubric=RUBRIC),
        Question(id="q2", kind="situational", text=Localized(en="Complaint"), prep_s=0, answer_s=45, rubric=RUBRIC),
    ]


def types(events) -> list[str]:
    return [e.type for e in events]


def run_ticks(flow: InterviewFlow, start: float, end: float, step: float = 0.25) -> list:
    out = []
    t = start
    while t <= end:
        out += flow.tick(t)
        t = round(t + step, 3)
    return out


def test_practice_then_questions_with_prep_and_time_limits() -> None:
    flow = InterviewFlow(questions(), FlowConfig(first_words_grace_s=1000))
    events = flow.start(0.0)
    assert types(events) == [QUESTION_STARTED]
    assert events[0].payload.practice is True and events[0].payload.number == 0
    assert events[0].payload.text == {"zh": "请介绍一下自己", "en": "Introduce yourself"}
    events = run_ticks(flow, 0.25, 5.0)
    assert types(events) == [ANSWER_STARTED] and events[0].media_time == 5.0
    events = run_ticks(flow, 5.25, 35.0)  # 30 s answer limit
    assert types(events) == [ANSWER_ENDED, QUESTION_ENDED, QUESTION_STARTED]
    assert events[0].payload.reason == "time_limit" and events[0].payload.end == 35.0
    assert events[2].payload.question_id == "q1" and events[2].payload.number == 1
    assert events[2].payload.scored_total == 2


def test_ready_skips_prep_and_done_ends_early_and_no_prep_starts_at_once() -> None:
    flow = InterviewFlow(questions()[1:])
    flow.start(0.0)
    assert types(flow.ready(2.0)) == [ANSWER_STARTED]
    flow.speech_started(3.0)
    events = flow.done(20.0)
    assert types(events) == [ANSWER_ENDED, QUESTION_ENDED, QUESTION_STARTED, ANSWER_STARTED]  # q2 has no prep
    assert events[0].payload.reason == "candidate_done"
    assert events[0].payload.start == 2.0
    flow.speech_started(21)
    flow.speech_ended(25)
    events = flow.done(26.0)
    assert types(events) == [ANSWER_ENDED, QUESTION_ENDED, INTERVIEW_ENDED]
    assert flow.ended and flow.tick(100) == [] and flow.done(101) == []


def test_a_long_silence_after_speaking_ends_the_answer_but_thinking_pauses_do_not() -> None:
    flow = InterviewFlow(questions()[2:], FlowConfig(long_silence_s=6.0, first_words_grace_s=15.0))
    flow.start(0.0)
    flow.speech_started(1.0)
    flow.speech_ended(4.0)
    assert run_ticks(flow, 4.0, 9.75) == []  # 5.75 s of silence: still thinking
    flow.speech_started(9.8)
    assert run_ticks(flow, 10.0, 30.0) == []  # speaking: a long turn never times out as silence
    flow.speech_ended(30.0)
    events = run_ticks(flow, 30.25, 40.0)
    assert types(events)[:1] == [ANSWER_ENDED] and events[0].payload.reason == "long_silence"
    assert events[0].media_time == 36.0


def test_no_words_at_all_ends_after_the_grace_period() -> None:
    flow = InterviewFlow(questions()[2:], FlowConfig(first_words_grace_s=15.0))
    flow.start(0.0)
    events = run_ticks(flow, 0.25, 20)
    assert events[0].payload.reason == "no_answer" and events[0].media_time == 15.0


def test_pause_and_resume_continue_the_same_question_with_the_time_left() -> None:
    flow = InterviewFlow(questions()[1:])
    flow.start(0.0)
    flow.ready(1.0)  # answer until 61
    flow.speech_started(2.0)
    flow.pause(21.0)  # 40 s left
    assert run_ticks(flow, 21.0, 200.0) == []  # paused: no timeouts while away
    events = flow.resume(200.0)
    assert types(events) == [QUESTION_STARTED, ANSWER_STARTED]
    assert events[0].payload.question_id == "q1" and events[0].payload.resumed is True
    assert events[1].payload.answer_ends_at == 240.0
    assert run_ticks(flow, 200.25, 205.75) == []  # silence counts from the return
    flow.speech_started(205.9)  # the candidate picks up the answer
    assert run_ticks(flow, 206.0, 239.75) == []
    assert types(flow.tick(240.0))[:2] == [ANSWER_ENDED, QUESTION_ENDED]


def logged(e: FlowEvent) -> Event:
    """A flow event as it comes back from the log (through its dict, as the store keeps it)."""
    return Event.from_dict(Event("s", 0, e.media_time, 0.0, e.payload).to_dict())


def test_the_flow_is_rebuilt_from_the_event_log() -> None:
    flow = InterviewFlow(questions(), FlowConfig(first_words_grace_s=1000))
    log = [logged(e) for e in flow.start(0.0) + run_ticks(flow, 0.25, 36.0) + flow.ready(37.0)]
    heard = TranscriptFinal(utterance_id=0, text="我", language="zh", start=49.0, end=50.0)
    log.append(Event("s", len(log), 50.0, 0.0, heard))  # the last thing heard
    rebuilt = InterviewFlow.from_log(questions(), log)
    assert [e.type for e in log][-2:] == [ANSWER_STARTED, TRANSCRIPT_FINAL]
    assert rebuilt.current.id == "q1" and rebuilt.phase == "paused"
    events = rebuilt.resume(300.0)
    assert types(events) == [QUESTION_STARTED, ANSWER_STARTED]
    assert events[1].payload.answer_ends_at == 300.0 + (37.0 + 60 - 50.0)
    # a finished question is never asked again
    finished = log + [logged(e) for e in flow.done(60.0)]
    finished = [e for e in finished if e.type != ANSWER_STARTED or e.payload.question_id != "q2"]
    again = InterviewFlow.from_log(questions(), [e for e in finished if e.type != QUESTION_STARTED or e.payload.question_id != "q2"])
    assert again.phase == "idle" and again.current.id == "q2"
    assert types(again.resume(400.0))[0] == QUESTION_STARTED
