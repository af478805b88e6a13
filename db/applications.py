"""Applications: a candidate's application to a job, its timeline, upload batches and inbound deliveries.

Personal data lives here (the resume's text, the parsed profile, the name
used for search): it is read only through the HR API and never logged.
Duplicates are found by keyed hashes of the phone number and e-mail address
(:func:`contact_keys`), never by the values themselves.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Collection, Iterable

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint, func, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from .base import Base, Repository, aware, utcnow


class ApplicationRow(Base):
    __tablename__ = "applications"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    job_id: Mapped[str] = mapped_column(String(64), index=True)
    job_version: Mapped[int] = mapped_column(Integer)
    candidate_id: Mapped[str] = mapped_column(String(64), ForeignKey("candidates.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    source: Mapped[str | None] = mapped_column(String(64), nullable=True)
    external_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)  # for search (personal data)
    phone_key: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    email_key: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)  # the screening score, for sorting
    resume: Mapped[dict] = mapped_column(JSON)  # filename, kind, pages, text_chars, language, needs_review
    resume_text: Mapped[str] = mapped_column(Text)
    parsed: Mapped[dict] = mapped_column(JSON)
    screening: Mapped[dict] = mapped_column(JSON)
    session_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    duplicates: Mapped[list] = mapped_column(JSON)  # the later attempts: when, source, external id
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ApplicationEventRow(Base):
    """One step on an application's timeline (what, who, when, why)."""

    __tablename__ = "application_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(String(64), ForeignKey("applications.id"), index=True)
    entry: Mapped[dict] = mapped_column(JSON)


class BatchRow(Base):
    __tablename__ = "application_batches"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    job_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    total: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))  # running, done
    files: Mapped[list] = mapped_column(JSON)  # one result per file, in the archive's order


class InboundRow(Base):
    """A job board's delivery: its first answer, given again for a replay."""

    __tablename__ = "inbound_deliveries"
    __table_args__ = (UniqueConstraint("source", "delivery_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(64))
    delivery_id: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[int] = mapped_column(Integer)
    answer: Mapped[dict] = mapped_column(JSON)


@dataclass(frozen=True)
class ApplicationRecord:
    id: str
    job_id: str
    job_version: int
    candidate_id: str
    state: str
    outcome: str | None
    source: str | None
    external_id: str | None
    name: str | None
    score: float | None
    resume: dict[str, Any]
    parsed: dict[str, Any]
    screening: dict[str, Any]
    session_id: str | None
    duplicates: list[dict[str, Any]]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class BatchRecord:
    id: str
    job_id: str
    created_at: datetime
    updated_at: datetime
    total: int
    state: str
    files: list[dict[str, Any]]


def _record(row: ApplicationRow) -> ApplicationRecord:
    return ApplicationRecord(
        id=row.id,
        job_id=row.job_id,
        job_version=row.job_version,
        candidate_id=row.candidate_id,
        state=row.state,
        outcome=row.outcome,
        source=row.source,
        external_id=row.external_id,
        name=row.name,
        score=row.score,
        resume=dict(row.resume),
        parsed=dict(row.parsed),
        screening=dict(row.screening),
        session_id=row.session_id,
        duplicates=list(row.duplicates or []),
        created_at=aware(row.created_at),
        updated_at=aware(row.updated_at),
    )


def _batch(row: BatchRow) -> BatchRecord:
    return BatchRecord(row.id, row.job_id, aware(row.created_at), aware(row.updated_at), row.total, row.state, list(row.files))


def contact_keys(key: bytes, phone: str | None, email: str | None) -> tuple[str | None, str | None]:
    """Keyed hashes (HMAC-SHA256) of a normalised phone (E.164) and e-mail, for finding duplicates."""

    def digest(kind: str, value: str | None) -> str | None:
        if not value:
            return None
        return hmac.new(key, f"{kind}:{value.strip().casefold()}".encode(), hashlib.sha256).hexdigest()

    return digest("phone", phone), digest("email", email)


SORTS = {
    "-created_at": (ApplicationRow.created_at, True),
    "created_at": (ApplicationRow.created_at, False),
    "-score": (ApplicationRow.score, True),
    "score": (ApplicationRow.score, False),
}


def _cursor(value: Any, id_: str) -> str:
    raw = json.dumps([value.isoformat() if isinstance(value, datetime) else value, id_]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _uncursor(cursor: str) -> tuple[Any, str]:
    try:
        value, id_ = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError) as exc:
        raise ValueError("not a cursor this API gave") from exc
    return value, str(id_)


# Called inside the transaction that adds a timeline entry (automation schedules its actions there).
EntryHook = Callable[[Session, ApplicationRow, ApplicationEventRow], None]


class ApplicationRepository(Repository):
    """Applications, their timelines, upload batches and inbound deliveries.

    ``entry_hooks`` run inside the transaction that adds each timeline entry,
    after it has its id: what they write commits with the entry or not at all.
    """

    entry_hooks: list[EntryHook]

    def _entries_added(self, db: Session, row: ApplicationRow, entries: list[ApplicationEventRow]) -> None:
        hooks = getattr(self, "entry_hooks", ())
        if not hooks or not entries:
            return
        db.flush()
        for entry in entries:
            for hook in hooks:
                hook(db, row, entry)

    # -- applications ------------------------------------------------------------
    def find_duplicate(self, job_id: str, phone_key: str | None, email_key: str | None) -> ApplicationRecord | None:
        """The application to the same job by the same phone or e-mail (its keyed hash), if any."""
        keys = [c for c in (ApplicationRow.phone_key == phone_key if phone_key else None,
                            ApplicationRow.email_key == email_key if email_key else None) if c is not None]
        if not keys:
            return None
        with Session(self.engine) as db:
            row = db.scalars(
                select(ApplicationRow).where(ApplicationRow.job_id == job_id, or_(*keys)).order_by(ApplicationRow.created_at)
            ).first()
            return _record(row) if row is not None else None

    def create_application(
        self,
        *,
        job_id: str,
        job_version: int,
        candidate_id: str,
        state: str,
        outcome: str | None,
        source: str | None,
        external_id: str | None,
        name: str | None,
        phone_key: str | None,
        email_key: str | None,
        score: float | None,
        resume: dict[str, Any],
        resume_text: str,
        parsed: dict[str, Any],
        screening: dict[str, Any],
        timeline: Iterable[dict[str, Any]],
    ) -> ApplicationRecord:
        now = utcnow()
        with Session(self.engine) as db, db.begin():
            row = ApplicationRow(
                id=f"app_{secrets.token_urlsafe(9)}",
                job_id=job_id,
                job_version=job_version,
                candidate_id=candidate_id,
                state=state,
                outcome=outcome,
                source=source,
                external_id=external_id,
                name=name,
                phone_key=phone_key,
                email_key=email_key,
                score=score,
                resume=resume,
                resume_text=resume_text,
                parsed=parsed,
                screening=screening,
                session_id=None,
                duplicates=[],
                created_at=now,
                updated_at=now,
            )
            db.add(row)
            db.flush()
            entries = [ApplicationEventRow(application_id=row.id, entry=e) for e in timeline]
            db.add_all(entries)
            self._entries_added(db, row, entries)
            return _record(row)

    def add_duplicate(self, application_id: str, attempt: dict[str, Any]) -> ApplicationRecord | None:
        with Session(self.engine) as db, db.begin():
            row = db.get(ApplicationRow, application_id)
            if row is None:
                return None
            row.duplicates = [*list(row.duplicates or []), attempt]
            row.updated_at = utcnow()
            return _record(row)

    def get_application(self, application_id: str) -> ApplicationRecord | None:
        with Session(self.engine) as db:
            row = db.get(ApplicationRow, application_id)
            return _record(row) if row is not None else None

    def application_for_session(self, session_id: str) -> ApplicationRecord | None:
        with Session(self.engine) as db:
            row = db.scalars(select(ApplicationRow).where(ApplicationRow.session_id == session_id)).first()
            return _record(row) if row is not None else None

    def resume_text(self, application_id: str) -> str | None:
        with Session(self.engine) as db:
            row = db.get(ApplicationRow, application_id)
            return row.resume_text if row is not None else None

    def move_application(
        self,
        application_id: str,
        *,
        expect_state: str,
        state: str,
        outcome: str | None,
        entry: dict[str, Any],
        session_id: str | None = None,
    ) -> ApplicationRecord | None:
        """Move an application on and add the step to its timeline, if it is still in ``expect_state``.

        None when it is not (another request moved it first): the caller reads it again.
        """
        with Session(self.engine) as db, db.begin():
            row = db.get(ApplicationRow, application_id, with_for_update=True)
            if row is None or row.state != expect_state:
                return None
            row.state, row.outcome, row.updated_at = state, outcome, utcnow()
            if session_id is not None:
                row.session_id = session_id
            added = ApplicationEventRow(application_id=row.id, entry=entry)
            db.add(added)
            self._entries_added(db, row, [added])
            return _record(row)

    def add_note(self, application_id: str, entry: dict[str, Any], db: Session | None = None) -> bool:
        """Add a timeline entry that does not move the application (pipeline.note()); False if there is no such application.

        Inside ``db`` (the caller's transaction) when given, otherwise in a transaction of its own.
        """
        if db is not None:
            row = db.get(ApplicationRow, application_id)
            if row is None:
                return False
            added = ApplicationEventRow(application_id=application_id, entry=entry)
            db.add(added)
            self._entries_added(db, row, [added])
            return True
        with Session(self.engine) as own, own.begin():
            return self.add_note(application_id, entry, own)

    def timeline(self, application_id: str) -> list[dict[str, Any]]:
        with Session(self.engine) as db:
            rows = db.scalars(
                select(ApplicationEventRow).where(ApplicationEventRow.application_id == application_id).order_by(ApplicationEventRow.id)
            )
            return [dict(r.entry) for r in rows]

    def list_applications(
        self,
        *,
        job_id: str | None = None,
        job_ids: Collection[str] | None = None,  # only these jobs (a user's: server/permissions.py); None: every job
        state: str | None = None,
        outcome: str | None = None,
        q: str | None = None,
        sort: str = "-created_at",
        cursor: str | None = None,
        limit: int = 50,
    ) -> tuple[list[ApplicationRecord], str | None]:
        """One page, and the cursor of the next (None on the last page). ``ValueError`` for a bad sort or cursor."""
        if sort not in SORTS:
            raise ValueError(f"sort is one of {', '.join(SORTS)}")
        column, descending = SORTS[sort]
        query = select(ApplicationRow)
        if job_id:
            query = query.where(ApplicationRow.job_id == job_id)
        if job_ids is not None:
            query = query.where(ApplicationRow.job_id.in_(sorted(job_ids)))
        if state:
            query = query.where(ApplicationRow.state == state)
        if outcome:
            query = query.where(ApplicationRow.outcome == outcome)
        if q:
            like = f"%{q.strip()}%"
            query = query.where(or_(ApplicationRow.name.like(like), ApplicationRow.external_id.like(like), ApplicationRow.id == q.strip()))
        # NULL scores sort last either way: coalesce to -1 (scores are 0-100)
        key = func.coalesce(column, -1.0) if column is ApplicationRow.score else column
        if cursor:
            value, after = _uncursor(cursor)
            if column is ApplicationRow.created_at:
                value = datetime.fromisoformat(value)
            if descending:
                query = query.where(or_(key < value, (key == value) & (ApplicationRow.id < after)))
            else:
                query = query.where(or_(key > value, (key == value) & (ApplicationRow.id > after)))
        query = query.order_by(key.desc() if descending else key.asc(), ApplicationRow.id.desc() if descending else ApplicationRow.id.asc())
        with Session(self.engine) as db:
            rows = list(db.scalars(query.limit(limit + 1)))
        more = len(rows) > limit
        rows = rows[:limit]
        records = [_record(r) for r in rows]
        if not more or not records:
            return records, None
        last = rows[-1]
        value = last.score if column is ApplicationRow.score else aware(last.created_at)
        return records, _cursor(-1.0 if value is None else value, last.id)

    def counts_by_state(self, job_id: str | None = None, job_ids: Collection[str] | None = None) -> dict[str, int]:
        """Applications per state (screened split by outcome: screened/advance, ...); ``job_ids``: of these jobs only."""
        query = select(ApplicationRow.state, ApplicationRow.outcome, func.count()).group_by(ApplicationRow.state, ApplicationRow.outcome)
        if job_id:
            query = query.where(ApplicationRow.job_id == job_id)
        if job_ids is not None:
            query = query.where(ApplicationRow.job_id.in_(sorted(job_ids)))
        out: dict[str, int] = {}
        with Session(self.engine) as db:
            for state, outcome, n in db.execute(query):
                key = f"{state}/{outcome}" if state in ("screened", "decided") and outcome else state
                out[key] = out.get(key, 0) + int(n)
        return out

    # -- batches -------------------------------------------------------------------
    def create_batch(self, job_id: str, files: list[dict[str, Any]]) -> BatchRecord:
        now = utcnow()
        with Session(self.engine) as db, db.begin():
            row = BatchRow(
                id=f"batch_{secrets.token_urlsafe(9)}", job_id=job_id, created_at=now, updated_at=now,
                total=len(files), state="running", files=files,
            )
            db.add(row)
            return _batch(row)

    def update_batch_file(self, batch_id: str, index: int, result: dict[str, Any], *, done: bool = False) -> None:
        with Session(self.engine) as db, db.begin():
            row = db.get(BatchRow, batch_id)
            if row is None:
                return
            files = list(row.files)
            files[index] = result
            row.files = files
            row.updated_at = utcnow()
            if done:
                row.state = "done"

    def finish_batch(self, batch_id: str) -> None:
        with Session(self.engine) as db, db.begin():
            row = db.get(BatchRow, batch_id)
            if row is not None:
                row.state, row.updated_at = "done", utcnow()

    def interrupt_batches(self) -> int:
        """At start: batches a stopped process left running are ``interrupted``; their unread files say so."""
        with Session(self.engine) as db, db.begin():
            rows = list(db.scalars(select(BatchRow).where(BatchRow.state == "running")))
            for row in rows:
                row.files = [
                    {**f, "status": "error", "error": {"code": "interrupted", "message": "the server stopped before this file was read; upload it again"}}
                    if f.get("status") == "pending" else f
                    for f in row.files
                ]
                row.state, row.updated_at = "interrupted", utcnow()
            return len(rows)

    def get_batch(self, batch_id: str) -> BatchRecord | None:
        with Session(self.engine) as db:
            row = db.get(BatchRow, batch_id)
            return _batch(row) if row is not None else None

    # -- inbound deliveries -----------------------------------------------------------
    def inbound_answer(self, source: str, delivery_id: str) -> tuple[int, dict[str, Any]] | None:
        with Session(self.engine) as db:
            row = db.scalars(
                select(InboundRow).where(InboundRow.source == source, InboundRow.delivery_id == delivery_id)
            ).first()
            return (row.status, dict(row.answer)) if row is not None else None

    def record_inbound(self, source: str, delivery_id: str, status: int, answer: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Keep a delivery's answer; a concurrent copy of the same delivery gets the first one."""
        from sqlalchemy.exc import IntegrityError

        try:
            with Session(self.engine) as db, db.begin():
                db.add(InboundRow(source=source, delivery_id=delivery_id, created_at=utcnow(), status=status, answer=answer))
        except IntegrityError:
            first = self.inbound_answer(source, delivery_id)
            if first is not None:
                return first
            raise
        return status, answer
