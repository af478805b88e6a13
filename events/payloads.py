"""One frozen dataclass per event type: the fields of its payload.

``payload.type`` is the type's :class:`~events.EventType` (its name is
defined there, once). Code reads fields as attributes; :meth:`Payload.to_dict`
and :func:`payload_from_dict` are the only ways to and from the dicts of the
WebSocket, the log and the webhooks. Nested values that are documents of
their own (a score's competencies, a question's text) stay plain JSON data.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from . import EventType

__all__ = [
    "PAYLOADS",
    "Payload",
    "Word",
    "payload_from_dict",
    "SessionCreated",
    "ConsentGiven",
    "ConsentWithdrawn",
    "ConnectionStarted",
    "MediaFlowing",
    "ConnectionEnded",
    "MediaDropped",
    "SessionError",
    "SpeechStart",
    "SpeechEnd",
    "SpeechPause",
    "TranscriptPartial",
    "TranscriptFinal",
    "FaceMetrics",
    "FaceAbsent",
    "FaceMultiple",
    "ExpressionMetrics",
    "VoiceAffect",
    "QuestionStarted",
    "AnswerStarted",
    "AnswerEnded",
    "QuestionEnded",
    "InterviewEnded",
    "ScoreProvisional",
    "ScoreQuestion",
    "DecisionRecorded",
    "CandidateMessage",
    "CandidateErased",
]


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class Payload:
    type: ClassVar[EventType]
    # Fields left out of the dict when None (absent rather than null on the wire).
    omit_none: ClassVar[frozenset[str]] = frozenset()
    # Fields holding a tuple of nested dataclasses, by the class to build them with.
    nested: ClassVar[Mapping[str, type]] = {}

    def to_dict(self) -> dict[str, Any]:
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None and f.name in self.omit_none:
                continue
            out[f.name] = _plain(value)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Payload:
        """The payload from its dict: unknown keys (another version's) are ignored."""
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for name, item in cls.nested.items():
            if values.get(name) is not None:
                values[name] = tuple(v if isinstance(v, item) else item(**v) for v in values[name])
        try:
            return cls(**values)
        except TypeError as exc:  # a required field missing
            raise ValueError(f"{cls.type}: {exc}") from None


PAYLOADS: dict[EventType, type[Payload]] = {}
P = TypeVar("P", bound=type[Payload])


def _payload(event_type: EventType) -> Callable[[P], P]:
    def register(cls: P) -> P:
        if event_type in PAYLOADS:
            raise TypeError(f"{event_type} has two payload classes")
        cls.type = event_type
        PAYLOADS[event_type] = cls
        return cls

    return register


def payload_from_dict(event_type: str, data: Mapping[str, Any]) -> Payload:
    try:
        cls = PAYLOADS[EventType(event_type)]
    except ValueError:
        raise ValueError(f"unknown event type {event_type!r}") from None
    return cls.from_dict(data)


# -- the session and its connections ------------------------------------------


@_payload(EventType.SESSION_CREATED)
@dataclass(frozen=True, slots=True)
class SessionCreated(Payload):
    expires_at: str
    job_id: str | None = None
    job_version: int | None = None
    bank_id: str | None = None
    bank_version: int | None = None
    candidate_id: str | None = None
    # Personalised questions (interview/personalise.py): which alternative each such question asks, and why.
    alternatives: tuple[Mapping[str, Any], ...] | None = None
    omit_none: ClassVar[frozenset[str]] = frozenset(
        {"job_id", "job_version", "bank_id", "bank_version", "candidate_id", "alternatives"}
    )


@_payload(EventType.CONSENT_GIVEN)
@dataclass(frozen=True, slots=True)
class ConsentGiven(Payload):
    policy: str
    voice: bool
    face: bool
    emotion: bool
    given_at: str = ""
    given_with: str = ""  # "link:<hash prefix>" (the candidate's exchanged token) or "hr-token"
    recording: bool = False  # answers' audio (video with face) kept for human review


@_payload(EventType.CONSENT_WITHDRAWN)
@dataclass(frozen=True, slots=True)
class ConsentWithdrawn(Payload):
    policy: str | None = None


@_payload(EventType.CONNECTION_STARTED)
@dataclass(frozen=True, slots=True)
class ConnectionStarted(Payload):
    connection_id: str
    replaces: str | None = None


@_payload(EventType.MEDIA_FLOWING)
@dataclass(frozen=True, slots=True)
class MediaFlowing(Payload):
    connection_id: str


@_payload(EventType.CONNECTION_ENDED)
@dataclass(frozen=True, slots=True)
class ConnectionEnded(Payload):
    connection_id: str
    reason: str


@_payload(EventType.MEDIA_DROPPED)
@dataclass(frozen=True, slots=True)
class MediaDropped(Payload):
    kind: str
    count: int
    total: int


@_payload(EventType.SESSION_ERROR)
@dataclass(frozen=True, slots=True)
class SessionError(Payload):
    message: str
    error: str


# -- analyzers ------------------------------------------------------------------


@_payload(EventType.SPEECH_START)
@dataclass(frozen=True, slots=True)
class SpeechStart(Payload):
    utterance_id: int


@_payload(EventType.SPEECH_END)
@dataclass(frozen=True, slots=True)
class SpeechEnd(Payload):
    utterance_id: int
    start: float
    end: float
    split: bool = False


@_payload(EventType.SPEECH_PAUSE)
@dataclass(frozen=True, slots=True)
class SpeechPause(Payload):
    utterance_id: int
    start: float
    end: float


@_payload(EventType.TRANSCRIPT_PARTIAL)
@dataclass(frozen=True, slots=True)
class TranscriptPartial(Payload):
    utterance_id: int
    text: str
    stable: str
    unstable: str
    language: str | None
    start: float
    audio_end: float


@dataclass(frozen=True, slots=True)
class Word:
    word: str
    start: float
    end: float
    probability: float = 1.0


@_payload(EventType.TRANSCRIPT_FINAL)
@dataclass(frozen=True, slots=True)
class TranscriptFinal(Payload):
    utterance_id: Any  # an int from the ASR; scoring's text path keys answers by other names
    text: str
    language: str | None
    start: float
    end: float
    words: tuple[Word, ...] = ()
    language_probability: float | None = None
    model: str | None = None
    nested: ClassVar[Mapping[str, type]] = {"words": Word}


@_payload(EventType.FACE_METRICS)
@dataclass(frozen=True, slots=True)
class FaceMetrics(Payload):
    frames: int
    faces_max: int
    faces_mean: float
    presence: float
    yaw: float | None
    pitch: float | None
    roll: float | None
    gaze_at_camera: float | None
    newest_media_time: float


@dataclass(frozen=True, slots=True)
class _FaceCondition(Payload):
    state: str  # "start" or "stop"
    faces: int
    since: float


@_payload(EventType.FACE_ABSENT)
@dataclass(frozen=True, slots=True)
class FaceAbsent(_FaceCondition):
    pass


@_payload(EventType.FACE_MULTIPLE)
@dataclass(frozen=True, slots=True)
class FaceMultiple(_FaceCondition):
    pass


@_payload(EventType.EXPRESSION_METRICS)
@dataclass(frozen=True, slots=True)
class ExpressionMetrics(Payload):
    frames: int
    probabilities: Mapping[str, float]
    dominant: str
    newest_media_time: float


@_payload(EventType.VOICE_AFFECT)
@dataclass(frozen=True, slots=True)
class VoiceAffect(Payload):
    utterance_id: int
    start: float
    end: float
    voiced_share: float
    pitch_hz: Mapping[str, float] | None
    pitch_range_st: float | None
    intensity_db: Mapping[str, float] | None
    arousal: float | None
    baseline_utterances: int


# -- the structured interview ---------------------------------------------------


@_payload(EventType.QUESTION_STARTED)
@dataclass(frozen=True, slots=True)
class QuestionStarted(Payload):
    question_id: str
    index: int
    total: int
    number: int
    scored_total: int
    kind: str
    practice: bool
    text: Mapping[str, str]
    prep_s: float
    answer_s: float
    phase: str
    deadline: float
    resumed: bool = False
    alternative: str | None = None  # the alternative asked instead of the question's own text
    omit_none: ClassVar[frozenset[str]] = frozenset({"alternative"})


@_payload(EventType.ANSWER_STARTED)
@dataclass(frozen=True, slots=True)
class AnswerStarted(Payload):
    question_id: str
    index: int
    answer_ends_at: float
    resumed: bool = False


@_payload(EventType.ANSWER_ENDED)
@dataclass(frozen=True, slots=True)
class AnswerEnded(Payload):
    question_id: str
    index: int
    reason: str
    start: float
    end: float


@_payload(EventType.QUESTION_ENDED)
@dataclass(frozen=True, slots=True)
class QuestionEnded(Payload):
    question_id: str
    index: int
    practice: bool = False


@_payload(EventType.INTERVIEW_ENDED)
@dataclass(frozen=True, slots=True)
class InterviewEnded(Payload):
    questions: int


# -- scores and the human decision ----------------------------------------------


@_payload(EventType.SCORE_PROVISIONAL)
@dataclass(frozen=True, slots=True)
class ScoreProvisional(Payload):
    question_id: str
    status: str
    overall: float
    content: float
    competencies: tuple[Mapping[str, Any], ...]
    coverage: Mapping[str, Any]
    delivery: Mapping[str, Any]
    through: float
    scoring_version: str
    final: bool = False


@_payload(EventType.SCORE_QUESTION)
@dataclass(frozen=True, slots=True)
class ScoreQuestion(Payload):
    question_id: str
    status: str  # "answered" or "no_answer"
    overall: float
    content: float
    competencies: tuple[Mapping[str, Any], ...]
    coverage: Mapping[str, Any]
    evidence: tuple[Mapping[str, Any], ...]
    delivery: Mapping[str, Any]
    engagement: Mapping[str, Any]
    affect: Mapping[str, Any]
    weights: Mapping[str, float]
    accommodation: bool
    answer: Mapping[str, Any]
    explanation: Mapping[str, str]
    scoring_version: str
    final: bool = True
    revision: int = 0
    window: Mapping[str, float] | None = None
    utterance_ids: tuple[Any, ...] = ()


@_payload(EventType.DECISION_RECORDED)
@dataclass(frozen=True, slots=True)
class DecisionRecorded(Payload):
    decision: str
    reason: str | None
    decided_by: str
    decided_at: str
    number: int


# -- erasure (sinks only, never in a session's log) ----------------------------------


@_payload(EventType.CANDIDATE_ERASED)
@dataclass(frozen=True, slots=True)
class CandidateErased(Payload):
    candidate_id: str
    erased_at: str  # ISO 8601
    reason: str  # request | candidate | retention
    external_id: str | None = None  # the bank's own id (HRIS), so it can erase its copy


# -- messages from the candidate --------------------------------------------------


@_payload(EventType.CANDIDATE_MESSAGE)
@dataclass(frozen=True, slots=True)
class CandidateMessage(Payload):
    application_id: str
    channel: str  # "wecom"
    message_id: str  # the channel's id (WeCom MsgId)
    text: str  # personal data: shown to HR, never logged
    received_at: str  # ISO 8601
