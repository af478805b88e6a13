"""Storage behind one interface: sessions and the append-only event log.

Everything Candor keeps goes through :class:`Store`, so that encryption at
rest and deletion by policy can wrap it in one place. The implementation is
SQLAlchemy: a SQLite file by default, PostgreSQL by URL. Calls are blocking;
async code uses :class:`AsyncStore`, which runs them on one worker thread.
"""

from __future__ import annotations

import asyncio
import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, TypeVar

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    create_engine,
    event as sa_event,
    func,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from analyzers.events import Event

T = TypeVar("T")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def token_hash(token: str) -> str:
    """Tokens are stored only as SHA-256 digests."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Base(DeclarativeBase):
    pass


class SessionRow(Base):
    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    invite_code_hash: Mapped[str | None] = mapped_column(String(64), unique=True, index=True, nullable=True)
    state: Mapped[str] = mapped_column(String(32), default="open")


class SessionTokenRow(Base):
    """Candidate tokens of a session (the one HR got, the ones pages got)."""

    __tablename__ = "session_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)


class EventRow(Base):
    __tablename__ = "events"

    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    media_time: Mapped[float | None] = mapped_column(Float, nullable=True)
    wall_time: Mapped[float] = mapped_column(Float)
    payload: Mapped[dict] = mapped_column(JSON)


@dataclass(frozen=True)
class SessionRecord:
    id: str
    created_at: datetime
    expires_at: datetime
    state: str

    def expired(self, now: datetime | None = None) -> bool:
        return (now or utcnow()) >= self.expires_at


def _aware(value: datetime) -> datetime:
    # SQLite drops the zone; every time Candor stores is UTC.
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _record(row: SessionRow) -> SessionRecord:
    return SessionRecord(id=row.id, created_at=_aware(row.created_at), expires_at=_aware(row.expires_at), state=row.state)


class Store:
    """Sessions and their event logs in a SQL database."""

    def __init__(self, url: str) -> None:
        if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = create_engine(url, future=True)
        if url.startswith("sqlite"):
            sa_event.listen(self.engine, "connect", _sqlite_pragmas)
        Base.metadata.create_all(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    # -- sessions ---------------------------------------------------------
    def create_session(self, *, session_id: str, expires_at: datetime, candidate_token: str, invite_code: str) -> SessionRecord:
        row = SessionRow(
            id=session_id,
            created_at=utcnow(),
            expires_at=expires_at.astimezone(timezone.utc),
            invite_code_hash=token_hash(invite_code),
            state="open",
        )
        with Session(self.engine) as db, db.begin():
            db.add(row)
            db.flush()
            db.add(SessionTokenRow(token_hash=token_hash(candidate_token), session_id=session_id))
            return _record(row)

    def get_session(self, session_id: str) -> SessionRecord | None:
        with Session(self.engine) as db:
            row = db.get(SessionRow, session_id)
            return _record(row) if row else None

    def list_sessions(self, limit: int = 100) -> list[SessionRecord]:
        with Session(self.engine) as db:
            rows = db.scalars(select(SessionRow).order_by(SessionRow.created_at.desc()).limit(limit))
            return [_record(r) for r in rows]

    def session_for_token(self, session_id: str, candidate_token: str) -> SessionRecord | None:
        with Session(self.engine) as db:
            row = db.scalar(
                select(SessionRow)
                .join(SessionTokenRow, SessionTokenRow.session_id == SessionRow.id)
                .where(SessionRow.id == session_id, SessionTokenRow.token_hash == token_hash(candidate_token))
            )
            return _record(row) if row else None

    def add_token(self, session_id: str, candidate_token: str) -> None:
        with Session(self.engine) as db, db.begin():
            db.add(SessionTokenRow(token_hash=token_hash(candidate_token), session_id=session_id))

    def redeem_invite(self, code: str) -> SessionRecord | None:
        """Consume a one-time invite code; a second redeem finds nothing."""
        digest = token_hash(code)
        with Session(self.engine) as db, db.begin():
            row = db.scalar(select(SessionRow).where(SessionRow.invite_code_hash == digest))
            if row is None:
                return None
            done = db.execute(
                update(SessionRow)
                .where(SessionRow.id == row.id, SessionRow.invite_code_hash == digest)
                .values(invite_code_hash=None)
            )
            if done.rowcount != 1:  # type: ignore[attr-defined]
                return None
            return _record(row)

    def set_session_state(self, session_id: str, state: str) -> None:
        with Session(self.engine) as db, db.begin():
            db.execute(update(SessionRow).where(SessionRow.id == session_id).values(state=state))

    # -- event log --------------------------------------------------------
    def append_events(self, events: Iterable[Event]) -> None:
        rows = [
            EventRow(
                session_id=e.session_id,
                seq=e.seq,
                type=e.type,
                media_time=e.media_time,
                wall_time=e.wall_time,
                payload=dict(e.payload),
            )
            for e in events
        ]
        if not rows:
            return
        with Session(self.engine) as db, db.begin():
            db.add_all(rows)

    def read_events(self, session_id: str, from_seq: int = 0, limit: int | None = None) -> list[Event]:
        with Session(self.engine) as db:
            query = (
                select(EventRow)
                .where(EventRow.session_id == session_id, EventRow.seq >= from_seq)
                .order_by(EventRow.seq)
            )
            if limit is not None:
                query = query.limit(limit)
            return [
                Event(
                    type=r.type,
                    session_id=r.session_id,
                    seq=r.seq,
                    media_time=r.media_time,
                    wall_time=r.wall_time,
                    payload=r.payload,
                )
                for r in db.scalars(query)
            ]

    def last_seq(self, session_id: str) -> int:
        with Session(self.engine) as db:
            value = db.scalar(select(func.max(EventRow.seq)).where(EventRow.session_id == session_id))
            return -1 if value is None else int(value)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


class AsyncStore:
    """Runs :class:`Store` calls on one worker thread, off the event loop."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(*args, **kwargs))

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self.store.close()
