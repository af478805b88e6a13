"""The event log: every session's events, in ``seq`` order."""

from __future__ import annotations

import logging
from typing import Iterable, Sequence

from sqlalchemy import Float, ForeignKey, Integer, LargeBinary, String, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from events import Event, payload_from_dict

from .base import Base, Repository
from .sessions import SessionRow

log = logging.getLogger(__name__)


class EventRow(Base):
    __tablename__ = "events"

    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    media_time: Mapped[float | None] = mapped_column(Float, nullable=True)
    wall_time: Mapped[float] = mapped_column(Float)
    # Sealed (vault/), subject the session id: transcripts, answers, face and voice features. Every
    # type, so no event can leak text a later version adds. type, seq and the times stay plain.
    payload: Mapped[bytes] = mapped_column(LargeBinary)


PAYLOAD = "events.payload"  # the sealed column's context (vault AAD)


class EventRepository(Repository):
    """Appends and reads of the event log."""

    def append_events(self, events: Iterable[Event]) -> None:
        events = list(events)
        if not events:
            return
        with Session(self.engine) as db, db.begin():
            # A session erased meanwhile (a late analyzer result after DELETE /v1/candidates/{id}) takes
            # nothing more: no row that would fail its foreign key forever, no data key made again.
            ids = {e.session_id for e in events}
            alive = set(db.scalars(select(SessionRow.id).where(SessionRow.id.in_(ids))))
            if len(alive) < len(ids):
                gone = [e for e in events if e.session_id not in alive]
                log.warning("dropped %d events of %d sessions that no longer exist", len(gone), len(ids - alive))
                events = [e for e in events if e.session_id in alive]
            if not events:
                return
            rows = [
                {
                    "session_id": e.session_id,
                    "seq": e.seq,
                    "type": str(e.type),
                    "media_time": e.media_time,
                    "wall_time": e.wall_time,
                    "payload": self._seal(db, e.session_id, PAYLOAD, e.payload.to_dict()),
                }
                for e in events
            ]
            # A (session, seq) already logged is kept, the newcomer dropped: two nodes that both believed they
            # held a session (a partition, issue 13) must not stop the writer of every session with a key error.
            insert = postgresql_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
            statement = insert(EventRow).on_conflict_do_nothing(index_elements=["session_id", "seq"]).returning(EventRow.seq)
            written = len(db.execute(statement, rows).all())
            if written < len(rows):
                log.error("dropped %d events whose (session, seq) was logged already: two writers of one session",
                          len(rows) - written)

    def read_events(
        self, session_id: str, from_seq: int = 0, limit: int | None = None, types: Sequence[str] | None = None
    ) -> list[Event]:
        with Session(self.engine) as db:
            query = (
                select(EventRow)
                .where(EventRow.session_id == session_id, EventRow.seq >= from_seq)
                .order_by(EventRow.seq)
            )
            if types is not None:
                query = query.where(EventRow.type.in_(list(types)))
            if limit is not None:
                query = query.limit(limit)
            events = []
            for r in db.scalars(query):
                try:
                    payload = payload_from_dict(r.type, self._open(db, r.session_id, PAYLOAD, r.payload) or {})
                except ValueError as exc:  # another version's event: kept in the log, not read here
                    # the class only: a message could quote the payload (personal data)
                    log.warning("event %s/%d skipped: %s", r.session_id, r.seq, type(exc).__name__)
                    continue
                events.append(Event(r.session_id, r.seq, r.media_time, r.wall_time, payload))
            return events

    def last_seq(self, session_id: str) -> int:
        with Session(self.engine) as db:
            value = db.scalar(select(func.max(EventRow.seq)).where(EventRow.session_id == session_id))
            return -1 if value is None else int(value)
