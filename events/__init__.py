"""The event catalogue: every event type's name, defined once, and the envelopes.

An analyzer yields :class:`AnalyzerEvent` (it knows nothing of sessions);
the session stamps it into an :class:`Event` with the session id, a
monotonic ``seq`` and the wall time, appends it to the event log and fans
it out to watchers. Every module names an event by its :class:`EventType`
member (a ``str``, so it is the plain name at the WebSocket, log and
webhook edges, where events are dicts). Each type's payload is a frozen
dataclass in :mod:`events.payloads` (``payload.type`` is its name); code
reads its fields as attributes, and only the edges turn it into a dict
(:meth:`Event.to_dict`) or back (:meth:`Event.from_dict`). docs/events.md
describes each payload, and a test holds the two equal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class EventType(StrEnum):
    # the session and its connections
    SESSION_CREATED = "session.created"
    CONSENT_GIVEN = "consent.given"
    CONSENT_WITHDRAWN = "consent.withdrawn"
    CONNECTION_STARTED = "connection.started"
    MEDIA_FLOWING = "media.flowing"
    CONNECTION_ENDED = "connection.ended"
    MEDIA_DROPPED = "media.dropped"
    SESSION_ERROR = "session.error"
    # analyzers
    SPEECH_START = "speech.start"
    SPEECH_END = "speech.end"
    # Internal (the graph never publishes it): the VAD's turn would end
    # exactly here if the silence goes on; ASR may decode the final early.
    SPEECH_PAUSE = "speech.pause"
    TRANSCRIPT_PARTIAL = "transcript.partial"
    TRANSCRIPT_FINAL = "transcript.final"
    FACE_METRICS = "face.metrics"
    FACE_ABSENT = "face.absent"
    FACE_MULTIPLE = "face.multiple"
    EXPRESSION_METRICS = "expression.metrics"
    VOICE_AFFECT = "voice.affect"
    # the structured interview
    QUESTION_STARTED = "question.started"
    ANSWER_STARTED = "answer.started"
    ANSWER_ENDED = "answer.ended"
    QUESTION_ENDED = "question.ended"
    INTERVIEW_ENDED = "interview.ended"
    # scores and the human decision
    SCORE_PROVISIONAL = "score.provisional"
    SCORE_QUESTION = "score.question"
    DECISION_RECORDED = "decision.recorded"
    # the candidate wrote back (a WeCom reply, "my microphone does not work")
    CANDIDATE_MESSAGE = "candidate.message"
    # delivered to sinks only (the outbox), never in a session's log; its
    # body is the report (reports/), so it has no payload class
    REPORT_READY = "report.ready"
    # delivered to sinks only: a candidate's personal data was erased (db/erasure.py); ids and a time, nothing else
    CANDIDATE_ERASED = "candidate.erased"


# Never published to the log or to watchers.
INTERNAL = frozenset({EventType.SPEECH_PAUSE, EventType.REPORT_READY, EventType.CANDIDATE_ERASED})

SESSION_CREATED = EventType.SESSION_CREATED
CONSENT_GIVEN = EventType.CONSENT_GIVEN
CONSENT_WITHDRAWN = EventType.CONSENT_WITHDRAWN
CONNECTION_STARTED = EventType.CONNECTION_STARTED
MEDIA_FLOWING = EventType.MEDIA_FLOWING
CONNECTION_ENDED = EventType.CONNECTION_ENDED
MEDIA_DROPPED = EventType.MEDIA_DROPPED
SESSION_ERROR = EventType.SESSION_ERROR
SPEECH_START = EventType.SPEECH_START
SPEECH_END = EventType.SPEECH_END
SPEECH_PAUSE = EventType.SPEECH_PAUSE
TRANSCRIPT_PARTIAL = EventType.TRANSCRIPT_PARTIAL
TRANSCRIPT_FINAL = EventType.TRANSCRIPT_FINAL
FACE_METRICS = EventType.FACE_METRICS
FACE_ABSENT = EventType.FACE_ABSENT
FACE_MULTIPLE = EventType.FACE_MULTIPLE
EXPRESSION_METRICS = EventType.EXPRESSION_METRICS
VOICE_AFFECT = EventType.VOICE_AFFECT
QUESTION_STARTED = EventType.QUESTION_STARTED
ANSWER_STARTED = EventType.ANSWER_STARTED
ANSWER_ENDED = EventType.ANSWER_ENDED
QUESTION_ENDED = EventType.QUESTION_ENDED
INTERVIEW_ENDED = EventType.INTERVIEW_ENDED
SCORE_PROVISIONAL = EventType.SCORE_PROVISIONAL
SCORE_QUESTION = EventType.SCORE_QUESTION
DECISION_RECORDED = EventType.DECISION_RECORDED
CANDIDATE_MESSAGE = EventType.CANDIDATE_MESSAGE
REPORT_READY = EventType.REPORT_READY
CANDIDATE_ERASED = EventType.CANDIDATE_ERASED


from .payloads import *  # noqa: E402,F403  (the payload classes, one per type)
from .payloads import PAYLOADS, Payload, Word, payload_from_dict  # noqa: E402


@dataclass(frozen=True, slots=True)
class AnalyzerEvent:
    """What an analyzer (or the interview flow) yields: a payload at a media time."""

    media_time: float | None
    payload: Payload

    @property
    def type(self) -> EventType:
        return self.payload.type


@dataclass(frozen=True, slots=True)
class Event:
    """A published event: the payload stamped with its session, ``seq`` and wall time."""

    session_id: str
    seq: int
    media_time: float | None
    wall_time: float
    payload: Payload

    @property
    def type(self) -> EventType:
        return self.payload.type

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": str(self.type),
            "session_id": self.session_id,
            "seq": self.seq,
            "media_time": self.media_time,
            "wall_time": self.wall_time,
            "payload": self.payload.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Event:
        """An event from its dict (the log, a replay); ``ValueError`` for an unknown type."""
        return cls(
            session_id=data["session_id"],
            seq=int(data["seq"]),
            media_time=data.get("media_time"),
            wall_time=float(data["wall_time"]),
            payload=payload_from_dict(data["type"], data.get("payload") or {}),
        )
