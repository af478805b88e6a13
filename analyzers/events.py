"""Typed events: what analyzers yield and what watchers receive.

An analyzer yields :class:`AnalyzerEvent` (it knows nothing of sessions);
the session stamps it into an :class:`Event` with the session id, a
monotonic ``seq`` and the wall time, appends it to the event log and fans
it out to watchers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# The event catalogue (docs/events.md describes each payload).
SPEECH_START = "speech.start"
SPEECH_END = "speech.end"
# Internal (the graph never publishes it): the VAD's turn would end exactly
# here if the silence goes on; ASR may decode the final speculatively.
SPEECH_PAUSE = "speech.pause"
TRANSCRIPT_PARTIAL = "transcript.partial"
TRANSCRIPT_FINAL = "transcript.final"
FACE_METRICS = "face.metrics"
FACE_ABSENT = "face.absent"
FACE_MULTIPLE = "face.multiple"
EXPRESSION_METRICS = "expression.metrics"
VOICE_AFFECT = "voice.affect"
CONNECTION_STARTED = "connection.started"
CONNECTION_ENDED = "connection.ended"
MEDIA_FLOWING = "media.flowing"
SESSION_CREATED = "session.created"
SESSION_ERROR = "session.error"
MEDIA_DROPPED = "media.dropped"
ANALYZER_LAG = "analyzer.lag"


@dataclass(frozen=True, slots=True)
class AnalyzerEvent:
    type: str
    media_time: float | None
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Event:
    type: str
    session_id: str
    seq: int
    media_time: float | None
    wall_time: float
    payload: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "session_id": self.session_id,
            "seq": self.seq,
            "media_time": self.media_time,
            "wall_time": self.wall_time,
            "payload": dict(self.payload),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Event:
        return cls(
            type=data["type"],
            session_id=data["session_id"],
            seq=int(data["seq"]),
            media_time=data.get("media_time"),
            wall_time=float(data["wall_time"]),
            payload=dict(data.get("payload") or {}),
        )
