"""The interview flow as a pure state machine on media time.

A practice question (not scored), then each question: preparation time,
then the answer, which ends on the time limit, when the candidate says they
are done, or after a long silence. Inputs are calls with a media time
(``tick``, ``speech_started``, ``speech_ended``, ``ready``, ``done``,
``pause``, ``resume``); outputs are :class:`FlowEvent` lists that the
session publishes. No clock, no I/O: a virtual clock drives it in tests.

A dropped connection pauses the flow; when the candidate comes back the
question that was on starts again with the time it had left, and what was
recorded before is kept (it is in the event log).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from events import (
    ANSWER_ENDED,
    ANSWER_STARTED,
    INTERVIEW_ENDED,
    QUESTION_ENDED,
    QUESTION_STARTED,
    AnswerEnded,
    AnswerStarted,
    Event,
    EventType,
    InterviewEnded,
    Payload,
    QuestionEnded,
    QuestionStarted,
)
from jobs.models import Question

FLOW_EVENT_TYPES = (QUESTION_STARTED, ANSWER_STARTED, ANSWER_ENDED, QUESTION_ENDED, INTERVIEW_ENDED)


@dataclass(frozen=True, slots=True)
class FlowEvent:
    media_time: float
    payload: Payload

    @property
    def type(self) -> EventType:
        return self.payload.type


@dataclass(frozen=True)
class FlowConfig:
    long_silence_s: float = 6.0  # after the candidate has spoken
    first_words_grace_s: float = 15.0  # silence allowed before the first words


class InterviewFlow:
    def __init__(self, questions: Iterable[Question], config: FlowConfig | None = None, *, start_index: int = 0) -> None:
        self.questions = list(questions)
        self.config = config or FlowConfig()
        self.index = start_index
        self.phase = "idle"  # idle | prep | answer | paused | ended
        self._deadline = 0.0
        self._phase_started = 0.0
        self._answer_started: float | None = None
        self._spoke = False
        self._in_speech = False
        self._last_speech_end: float | None = None
        self._paused_phase: str | None = None
        self._remaining = 0.0

    # -- state --------------------------------------------------------------
    @property
    def current(self) -> Question | None:
        return self.questions[self.index] if 0 <= self.index < len(self.questions) else None

    @property
    def ended(self) -> bool:
        return self.phase == "ended"

    def deadline(self) -> float | None:
        return self._deadline if self.phase in ("prep", "answer") else None

    # -- inputs -------------------------------------------------------------
    def start(self, t: float) -> list[FlowEvent]:
        if self.phase != "idle":
            return []
        return self._start_question(t)

    def tick(self, t: float) -> list[FlowEvent]:
        if self.phase == "prep" and t >= self._deadline:
            return self._start_answer(t)
        if self.phase == "answer":
            if t >= self._deadline:
                return self._end_answer(t, "time_limit")
            if not self._in_speech:
                if self._spoke and self._last_speech_end is not None and t - self._last_speech_end >= self.config.long_silence_s:
                    return self._end_answer(t, "long_silence")
                if not self._spoke and t - self._phase_started >= self.config.first_words_grace_s:
                    return self._end_answer(t, "no_answer")
        return []

    def ready(self, t: float) -> list[FlowEvent]:
        """The candidate skips the rest of the preparation time."""
        return self._start_answer(t) if self.phase == "prep" else []

    def done(self, t: float) -> list[FlowEvent]:
        """The candidate finishes the answer early."""
        return self._end_answer(t, "candidate_done") if self.phase == "answer" else []

    def speech_started(self, t: float) -> None:
        self._in_speech = True
        if self.phase == "answer":
            self._spoke = True

    def speech_ended(self, t: float) -> None:
        self._in_speech = False
        self._last_speech_end = t

    def pause(self, t: float) -> list[FlowEvent]:
        """The connection dropped: freeze the clock of the question that is on."""
        if self.phase not in ("prep", "answer"):
            return []
        self._paused_phase = self.phase
        self._remaining = max(0.0, self._deadline - t)
        self.phase = "paused"
        return []

    def resume(self, t: float) -> list[FlowEvent]:
        """The candidate is back: the question that was on starts again."""
        if self.phase == "idle":
            return self.start(t)
        if self.phase != "paused":
            return []
        question = self.current
        assert question is not None
        was_answering = self._paused_phase == "answer"
        self.phase = self._paused_phase or "prep"
        self._phase_started = t
        self._deadline = t + max(self._remaining, 10.0)  # never resume into an instant timeout
        # Silence is counted from the return, and words said before count.
        self._in_speech = False
        self._last_speech_end = t if self._spoke else None
        events = [FlowEvent(t, self._question_payload(question, resumed=True))]
        if was_answering:
            events.append(FlowEvent(t, AnswerStarted(question_id=question.id, index=self.index, answer_ends_at=round(self._deadline, 3), resumed=True)))
        return events

    # -- transitions ----------------------------------------------------------
    def _question_payload(self, question: Question, *, resumed: bool = False) -> QuestionStarted:
        scored = [q for q in self.questions if q.kind != "practice"]
        return QuestionStarted(
            question_id=question.id,
            index=self.index,
            total=len(self.questions),
            number=scored.index(question) + 1 if question in scored else 0,
            scored_total=len(scored),
            kind=question.kind,
            practice=question.kind == "practice",
            text=question.text.model_dump(exclude_none=True),
            prep_s=question.prep_s,
            answer_s=question.answer_s,
            phase=self.phase,
            deadline=round(self._deadline, 3),
            resumed=resumed,
            alternative=question.alternative,
        )

    def _start_question(self, t: float) -> list[FlowEvent]:
        question = self.current
        if question is None:
            self.phase = "ended"
            return [FlowEvent(t, InterviewEnded(questions=len(self.questions)))]
        self._spoke = False
        self._in_speech = False
        self._last_speech_end = None
        self._answer_started = None
        if question.prep_s > 0:
            self.phase = "prep"
            self._phase_started = t
            self._deadline = t + question.prep_s
            return [FlowEvent(t, self._question_payload(question))]
        self.phase = "prep"
        self._deadline = t
        started = FlowEvent(t, self._question_payload(question))
        return [started, *self._start_answer(t)]

    def _start_answer(self, t: float) -> list[FlowEvent]:
        question = self.current
        assert question is not None
        self.phase = "answer"
        self._phase_started = t
        self._answer_started = t
        self._deadline = t + question.answer_s
        if self._in_speech:
            self._spoke = True
        return [FlowEvent(t, AnswerStarted(question_id=question.id, index=self.index, answer_ends_at=round(self._deadline, 3)))]

    def _end_answer(self, t: float, reason: str) -> list[FlowEvent]:
        question = self.current
        assert question is not None
        started = self._answer_started if self._answer_started is not None else t
        events = [
            FlowEvent(t, AnswerEnded(question_id=question.id, index=self.index, reason=reason, start=round(started, 3), end=round(t, 3))),
            FlowEvent(t, QuestionEnded(question_id=question.id, index=self.index, practice=question.kind == "practice")),
        ]
        self.index += 1
        return events + self._start_question(t)

    # -- resume from the log --------------------------------------------------
    @classmethod
    def from_log(cls, questions: Iterable[Question], events: Iterable[Event], config: FlowConfig | None = None) -> "InterviewFlow":
        """Rebuild the flow from the session's logged events (restart, reconnect).

        The question that was on when the log stops is resumed with the time
        it had left at the last logged media time; a question whose
        ``question.ended`` is logged is never asked again.
        """
        flow = cls(questions, config)
        deadline: float | None = None
        last_t = 0.0
        for event in events:
            if event.media_time is not None:
                last_t = max(last_t, float(event.media_time))
            payload = event.payload
            if isinstance(payload, QuestionStarted):
                flow.index = payload.index
                flow.phase, flow._paused_phase = "paused", "prep"
                deadline = payload.deadline
            elif isinstance(payload, AnswerStarted):
                flow.phase, flow._paused_phase = "paused", "answer"
                deadline = payload.answer_ends_at
            elif isinstance(payload, QuestionEnded):
                flow.index = payload.index + 1
                flow.phase, flow._paused_phase, deadline = "idle", None, None
            elif isinstance(payload, InterviewEnded):
                flow.phase = "ended"
        if flow.phase == "paused" and deadline is not None:
            flow._remaining = max(0.0, deadline - last_t)
        return flow
