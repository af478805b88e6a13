"""Applications: a candidate's application to a job, its timeline, upload batches and inbound deliveries.

Personal data lives here (the resume's text, the parsed profile, the name
used for search): it is read only through the HR API and never logged, and
sealed at rest (vault/) for the application's candidate: ``name``,
``resume``, ``resume_text``, ``parsed``, ``screening``, ``duplicates`` and
the words of every timeline entry (its step stays plain: the funnel figures).
The score stays plain (sorting, statistics).
Duplicates are found by keyed hashes of the phone number and e-mail address
(:func:`contact_keys`), never by the values themselves; HR's name search by
a keyed hash of the normalised name (``name_key``, exact match).
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

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, LargeBinary, String, UniqueConstraint, func, or_, select
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
    # Sealed (vault/) for the candidate, each column under its own context (table.column).
    name: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    name_key: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)  # keyed hash: HR's name search
    phone_key: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    email_key: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)  # the screening score, for sorting
    resume: Mapped[bytes] = mapped_column(LargeBinary)  # filename, kind, pages, text_chars, language, needs_review
    resume_text: Mapped[bytes] = mapped_column(LargeBinary)
    parsed: Mapped[bytes] = mapped_column(LargeBinary)
    screening: Mapped[bytes] = mapped_column(LargeBinary)  # quotes the resume
    session_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    duplicates: Mapped[bytes] = mapped_column(LargeBinary)  # the later attempts: when, source, external id
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ApplicationEventRow(Base):
    """One step on an application's timeline (what, who, when, why).

    Split in two: ``plain`` holds the step itself (action, from, to, outcome,
    actor, at: what the funnel statistics read, and what an erased
    candidate's anonymous tombstone keeps); ``sealed`` holds everything else
    (reasons, message texts, invite links, details) sealed (vault/) for the
    candidate. A row made in this process keeps its whole entry (``.entry``)
    for the hooks that run in its transaction (automation); a stored one is
    read through :meth:`ApplicationRepository.timeline`.
    """

    __tablename__ = "application_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(String(64), ForeignKey("applications.id"), index=True)
    plain: Mapped[dict] = mapped_column("entry", JSON)
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)

    @property
    def entry(self) -> dict[str, Any]:
        whole = self.__dict__.get("_whole")
        if whole is None:
            raise AttributeError("a stored timeline entry is partly sealed: read it with ApplicationRepository.timeline")
        return whole


# A timeline entry's keys that stay plain: the step, not the person (nor anyone's words).
ENTRY_PLAIN = ("action", "from", "to", "outcome", "actor", "at")


def split_entry(entry: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the plain part, the part to seal) of a timeline entry."""
    return ({k: v for k, v in entry.items() if k in ENTRY_PLAIN}, {k: v for k, v in entry.items() if k not in ENTRY_PLAIN})


# The sealed columns' contexts (vault AAD): a blob opens only in the column it was sealed for.
APP = "applications."
ENTRY = "application_events.entry"
FILES = "application_batches.files"  # subject: the batch id (file names can name people)
ANSWER = "inbound_deliveries.answer"
SEALED_FIELDS = ("name", "resume", "resume_text", "parsed", "screening", "duplicates")
ERASED_APPLICATION: dict[str, Any] = {"name": None, "resume": {}, "resume_text": "", "parsed": {}, "screening": {}, "duplicates": []}


class BatchRow(Base):
    __tablename__ = "application_batches"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    job_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    total: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))  # running, done
    files: Mapped[bytes] = mapped_column(LargeBinary)  # one result per file, in the archive's order; sealed (file names)


class InboundRow(Base):
    """A job board's delivery: its first answer, given again for a replay."""

    __tablename__ = "inbound_deliveries"
    __table_args__ = (UniqueConstraint("source", "delivery_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(64))
    delivery_id: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[int] = mapped_column(Integer)
    subject: Mapped[str] = mapped_column(String(128))  # whose: the candidate id (or inbound:<source>:<id>)
    answer: Mapped[bytes] = mapped_column(LargeBinary)  # the application as answered: sealed for the subject


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


def name_lookup(name: str) -> str:
    """A name as HR's search matches it: without spaces, case folded (张 伟 = 张伟, Anna Li = anna li)."""
    return "".join(name.split()).casefold()


def state_counts(engine: Any, query: Any) -> dict[str, int]:
    """Run a (state, outcome, count) query: counts keyed as the board keys them (screened split by outcome: screened/advance, ...)."""
    out: dict[str, int] = {}
    with Session(engine) as db:
        for state, outcome, n in db.execute(query):
            key = f"{state}/{outcome}" if state in ("screened", "decided") and outcome else state
            out[key] = out.get(key, 0) + int(n)
    return out


class ApplicationRepository(Repository):
    """Applications, their timelines, upload batches and inbound deliveries.

    ``entry_hooks`` run inside the transaction that adds each timeline entry,
    after it has its id: what they write commits with the entry or not at all.
    """

    entry_hooks: list[EntryHook]

    # -- sealing (vault/, subject the candidate id) ----------------------------------
    def _seal_application(self, db: Session, row: ApplicationRow, **fields: Any) -> None:
        """Set sealed columns of ``row`` (``name`` also sets its search hash)."""
        for name, value in fields.items():
            assert name in SEALED_FIELDS, name
            sealed = None if name == "name" and value is None else self._seal(db, row.candidate_id, APP + name, value)
            setattr(row, name, sealed)
            if name == "name":
                row.name_key = self.lookup_hash("name", name_lookup(value)) if value else None

    def _opened(self, db: Session | None, row: ApplicationRow, name: str) -> Any:
        """A sealed column, opened; once the candidate was erased, what an anonymous tombstone shows (nothing)."""
        return self._open(db, row.candidate_id, APP + name, getattr(row, name), erased=ERASED_APPLICATION[name])

    def _record(self, row: ApplicationRow, db: Session | None = None) -> ApplicationRecord:
        return ApplicationRecord(
            id=row.id,
            job_id=row.job_id,
            job_version=row.job_version,
            candidate_id=row.candidate_id,
            state=row.state,
            outcome=row.outcome,
            source=row.source,
            external_id=row.external_id,
            name=self._opened(db, row, "name"),
            score=row.score,
            resume=dict(self._opened(db, row, "resume") or {}),
            parsed=dict(self._opened(db, row, "parsed") or {}),
            screening=dict(self._opened(db, row, "screening") or {}),
            session_id=row.session_id,
            duplicates=list(self._opened(db, row, "duplicates") or []),
            created_at=aware(row.created_at),
            updated_at=aware(row.updated_at),
        )

    def _entry_row(self, db: Session, candidate_id: str, application_id: str, entry: dict[str, Any]) -> ApplicationEventRow:
        """A timeline row for ``entry``, its words sealed for the candidate; it keeps the whole entry for the hooks."""
        plain, private = split_entry(entry)
        added = ApplicationEventRow(application_id=application_id, plain=plain,
                                    sealed=self._seal(db, candidate_id, ENTRY, private) if private else None)
        added.__dict__["_whole"] = entry
        return added

    def _entry(self, db: Session | None, candidate_id: str, row: ApplicationEventRow) -> dict[str, Any]:
        """A stored timeline entry, whole; only its plain part once the candidate was erased."""
        return {**dict(row.plain or {}), **(self._open(db, candidate_id, ENTRY, row.sealed, erased={}) or {})}

    def _batch(self, row: BatchRow, db: Session | None = None) -> BatchRecord:
        return BatchRecord(row.id, row.job_id, aware(row.created_at), aware(row.updated_at), row.total, row.state,
                           list(self._open(db, row.id, FILES, row.files)))

    def _entries(self, db: Session, candidate_id: str, rows: Iterable[ApplicationEventRow]) -> list[dict[str, Any]]:
        return [self._entry(db, candidate_id, r) for r in rows]

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
            return self._record(row, db) if row is not None else None

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
                phone_key=phone_key,
                email_key=email_key,
                score=score,
                session_id=None,
                created_at=now,
                updated_at=now,
            )
            self._seal_application(db, row, name=name, resume=resume, resume_text=resume_text, parsed=parsed,
                                   screening=screening, duplicates=[])
            db.add(row)
            db.flush()
            entries = [self._entry_row(db, candidate_id, row.id, e) for e in timeline]
            db.add_all(entries)
            self._entries_added(db, row, entries)
            return self._record(row, db)

    def add_duplicate(self, application_id: str, attempt: dict[str, Any]) -> ApplicationRecord | None:
        with Session(self.engine) as db, db.begin():
            row = db.get(ApplicationRow, application_id)
            if row is None:
                return None
            self._seal_application(db, row, duplicates=[*list(self._opened(db, row, "duplicates") or []), attempt])
            row.updated_at = utcnow()
            return self._record(row, db)

    def get_application(self, application_id: str) -> ApplicationRecord | None:
        with Session(self.engine) as db:
            row = db.get(ApplicationRow, application_id)
            return self._record(row, db) if row is not None else None

    def application_for_session(self, session_id: str) -> ApplicationRecord | None:
        with Session(self.engine) as db:
            row = db.scalars(select(ApplicationRow).where(ApplicationRow.session_id == session_id)).first()
            return self._record(row, db) if row is not None else None

    def resume_text(self, application_id: str) -> str | None:
        with Session(self.engine) as db:
            row = db.get(ApplicationRow, application_id)
            return self._opened(db, row, "resume_text") if row is not None else None

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
            added = self._entry_row(db, row.candidate_id, row.id, entry)
            db.add(added)
            self._entries_added(db, row, [added])
            return self._record(row, db)

    def add_note(self, application_id: str, entry: dict[str, Any], db: Session | None = None) -> bool:
        """Add a timeline entry that does not move the application (pipeline.note()); False if there is no such application.

        Inside ``db`` (the caller's transaction) when given, otherwise in a transaction of its own.
        """
        if db is not None:
            row = db.get(ApplicationRow, application_id)
            if row is None:
                return False
            added = self._entry_row(db, row.candidate_id, application_id, entry)
            db.add(added)
            self._entries_added(db, row, [added])
            return True
        with Session(self.engine) as own, own.begin():
            return self.add_note(application_id, entry, own)

    def timeline(self, application_id: str) -> list[dict[str, Any]]:
        with Session(self.engine) as db:
            app = db.get(ApplicationRow, application_id)
            if app is None:
                return []
            rows = db.scalars(
                select(ApplicationEventRow).where(ApplicationEventRow.application_id == application_id).order_by(ApplicationEventRow.id)
            )
            return self._entries(db, app.candidate_id, rows)

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
        if q and q.strip():
            # The name is sealed: it matches whole (a keyed hash of the normalised name); external ids in part.
            like = f"%{q.strip()}%"
            query = query.where(or_(ApplicationRow.name_key == self.lookup_hash("name", name_lookup(q)),
                                    ApplicationRow.external_id.like(like), ApplicationRow.id == q.strip()))
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
            records = [self._record(r, db) for r in rows]
        if not more or not records:
            return records, None
        last = rows[-1]
        value = last.score if column is ApplicationRow.score else aware(last.created_at)
        return records, _cursor(-1.0 if value is None else value, last.id)

    def candidate_jobs(self, candidate_ids: Collection[str]) -> dict[str, set[str]]:
        """The jobs each candidate is linked to (by an application, or a session for a job): for row scoping by job."""
        from .sessions import CandidateSessionRow, SessionRow

        ids = sorted(set(candidate_ids))
        out: dict[str, set[str]] = {i: set() for i in ids}
        if not ids:
            return out
        with Session(self.engine) as db:
            for cid, job in db.execute(select(ApplicationRow.candidate_id, ApplicationRow.job_id).where(ApplicationRow.candidate_id.in_(ids))):
                out[cid].add(job)
            linked = select(CandidateSessionRow.candidate_id, SessionRow.job_id).join(
                SessionRow, SessionRow.id == CandidateSessionRow.session_id).where(CandidateSessionRow.candidate_id.in_(ids))
            for cid, job in db.execute(linked):
                if job is not None:
                    out[cid].add(job)
        return out

    def counts_by_state(self, job_id: str | None = None, job_ids: Collection[str] | None = None) -> dict[str, int]:
        """Applications per state (screened split by outcome: screened/advance, ...); ``job_ids``: of these jobs only."""
        query = select(ApplicationRow.state, ApplicationRow.outcome, func.count()).group_by(ApplicationRow.state, ApplicationRow.outcome)
        if job_id:
            query = query.where(ApplicationRow.job_id == job_id)
        if job_ids is not None:
            query = query.where(ApplicationRow.job_id.in_(sorted(job_ids)))
        return state_counts(self.engine, query)

    # -- batches -------------------------------------------------------------------
    def create_batch(self, job_id: str, files: list[dict[str, Any]]) -> BatchRecord:
        now = utcnow()
        batch_id = f"batch_{secrets.token_urlsafe(9)}"
        with Session(self.engine) as db, db.begin():
            row = BatchRow(
                id=batch_id, job_id=job_id, created_at=now, updated_at=now,
                total=len(files), state="running", files=self._seal(db, batch_id, FILES, files),
            )
            db.add(row)
            return BatchRecord(row.id, job_id, now, now, len(files), "running", list(files))

    def update_batch_file(self, batch_id: str, index: int, result: dict[str, Any], *, done: bool = False) -> None:
        with Session(self.engine) as db, db.begin():
            row = db.get(BatchRow, batch_id)
            if row is None:
                return
            files = list(self._open(db, row.id, FILES, row.files))
            files[index] = result
            row.files = self._seal(db, row.id, FILES, files)
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
                row.files = self._seal(db, row.id, FILES, [
                    {**f, "status": "error", "error": {"code": "interrupted", "message": "the server stopped before this file was read; upload it again"}}
                    if f.get("status") == "pending" else f
                    for f in self._open(db, row.id, FILES, row.files)
                ])
                row.state, row.updated_at = "interrupted", utcnow()
            return len(rows)

    def get_batch(self, batch_id: str) -> BatchRecord | None:
        with Session(self.engine) as db:
            row = db.get(BatchRow, batch_id)
            return self._batch(row, db) if row is not None else None

    # -- inbound deliveries -----------------------------------------------------------
    def inbound_answer(self, source: str, delivery_id: str) -> tuple[int, dict[str, Any]] | None:
        with Session(self.engine) as db:
            row = db.scalars(
                select(InboundRow).where(InboundRow.source == source, InboundRow.delivery_id == delivery_id)
            ).first()
            return (row.status, dict(self._open(db, row.subject, ANSWER, row.answer))) if row is not None else None

    def record_inbound(
        self, source: str, delivery_id: str, status: int, answer: dict[str, Any], subject: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        """Keep a delivery's answer, sealed for ``subject`` (the candidate's id; by default one of its own);
        a concurrent copy of the same delivery gets the first one."""
        from sqlalchemy.exc import IntegrityError

        subject = subject or f"inbound:{source}:{delivery_id}"[:128]
        try:
            with Session(self.engine) as db, db.begin():
                db.add(InboundRow(source=source, delivery_id=delivery_id, created_at=utcnow(), status=status, subject=subject,
                                  answer=self._seal(db, subject, ANSWER, answer)))
        except IntegrityError:
            first = self.inbound_answer(source, delivery_id)
            if first is not None:
                return first
            raise
        return status, answer
