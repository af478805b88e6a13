"""Storage behind one interface: sessions, the event log, jobs and banks,
reports and decisions.

Everything Candor keeps goes through :class:`Store`, so that encryption at
rest and deletion by policy can wrap it in one place. The implementation is
SQLAlchemy: a SQLite file by default, PostgreSQL by URL. Calls are blocking;
async code uses :class:`AsyncStore`, which runs them on one worker thread.

Jobs and question banks are versioned: a row is ``(id, version)`` and is
never changed once written; an edit adds the next version. A session records
the exact job and bank versions it uses, so its report can be rebuilt later.

Seeding from the shipped files (:meth:`Store.seed_catalog`) follows one rule:
a shipped job or bank that is not in the database yet becomes version 1; if a
later release changes the file, the change is added as a new version only
while the latest version still came from a shipped file. Once a job or bank
has been edited through the API, the API version wins and changes to its
shipped file are not applied (they are reported, and HR can apply them with
a PUT). A restart with unchanged files writes nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Literal, Sequence, TypeVar

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
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from events import INTERVIEW_ENDED, Event, payload_from_dict
from jobs.models import CandidateProfile, Job, QuestionBank

log = logging.getLogger(__name__)

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
    # The interview it runs (all None: free talk). The exact versions, so
    # that later edits of the job or bank do not change what it was.
    job_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    job_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    bank_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    bank_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Personal data (a CandidateProfile): shown only in the single-session
    # GET, never logged.
    candidate: Mapped[dict | None] = mapped_column(JSON, nullable=True)


class CandidateRow(Base):
    """A candidate's profile (personal data: HR API only, never logged)."""

    __tablename__ = "candidates"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The bank's own id for the person (HRIS), unique when given.
    external_id: Mapped[str | None] = mapped_column(String(128), unique=True, nullable=True)
    profile: Mapped[dict] = mapped_column(JSON)


class CandidateSessionRow(Base):
    """Which candidate a session interviewed (the session keeps its own copy of the profile)."""

    __tablename__ = "candidate_sessions"

    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True)
    candidate_id: Mapped[str] = mapped_column(ForeignKey("candidates.id", ondelete="CASCADE"), index=True)


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


class JobRow(Base):
    """One version of a job; never updated once written."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(String(16))  # "shipped" | "api"
    body: Mapped[dict] = mapped_column(JSON)  # a Job, as JSON


class BankRow(Base):
    """One version of a question bank; never updated once written."""

    __tablename__ = "banks"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(String(16))  # "shipped" | "api"
    body: Mapped[dict] = mapped_column(JSON)  # a QuestionBank, as JSON


class ReportRow(Base):
    """One version of a session's report; never updated once written."""

    __tablename__ = "reports"

    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    body: Mapped[dict] = mapped_column(JSON)  # reports.builder's dict


class DecisionRow(Base):
    """A person's decision on a session (the latest one counts)."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    decision: Mapped[str] = mapped_column(String(16))  # advance | hold | reject
    reason: Mapped[str] = mapped_column(String(4000), default="")
    decided_by: Mapped[str] = mapped_column(String(64), default="hr")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


Source = Literal["shipped", "api"]
VersionedRow = type[JobRow] | type[BankRow]


@dataclass(frozen=True)
class SessionRecord:
    id: str
    created_at: datetime
    expires_at: datetime
    state: str
    job_id: str | None = None
    job_version: int | None = None
    bank_id: str | None = None
    bank_version: int | None = None
    candidate: dict[str, Any] | None = None
    candidate_id: str | None = None  # the candidate resource it interviewed, if any

    def expired(self, now: datetime | None = None) -> bool:
        return (now or utcnow()) >= self.expires_at

    def candidate_profile(self) -> CandidateProfile | None:
        return CandidateProfile.model_validate(self.candidate) if self.candidate is not None else None


@dataclass(frozen=True)
class CandidateRecord:
    id: str
    created_at: datetime
    updated_at: datetime
    external_id: str | None
    profile: dict[str, Any]
    sessions: tuple[str, ...] = ()

    def candidate_profile(self) -> CandidateProfile:
        return CandidateProfile.model_validate(self.profile)


@dataclass(frozen=True, eq=False)
class JobRecord:
    id: str
    version: int
    created_at: datetime
    source: str
    body: dict[str, Any]

    def job(self) -> Job:
        return Job.model_validate(self.body)


@dataclass(frozen=True, eq=False)
class BankRecord:
    id: str
    version: int
    job_id: str
    created_at: datetime
    source: str
    body: dict[str, Any]

    def bank(self) -> QuestionBank:
        return QuestionBank.model_validate(self.body)


@dataclass(frozen=True, eq=False)
class ReportRecord:
    session_id: str
    version: int
    created_at: datetime
    body: dict[str, Any]


@dataclass(frozen=True)
class DecisionRecord:
    session_id: str
    number: int  # 1, 2, ... per session
    decision: str
    reason: str
    decided_by: str
    created_at: datetime


# Called inside a report's transaction with (db, report, decision or None):
# the place to enqueue outbox messages that must commit with it.
ReportHook = Callable[[Session, ReportRecord, "DecisionRecord | None"], None]


@dataclass(frozen=True)
class SeedReport:
    """What seeding did, per kind and id: added, updated, kept (API edit wins)."""

    added: list[str]
    updated: list[str]
    kept: list[str]
    unchanged: list[str]


class AlreadyExists(Exception):
    """A create for an id that is taken (use an update to add a version)."""


class VersionConflict(Exception):
    """The latest version is not the one the caller based its edit on."""

    def __init__(self, latest: int) -> None:
        super().__init__(f"the latest version is {latest}")
        self.latest = latest


def body_of(model: Job | QuestionBank) -> dict[str, Any]:
    """The stored JSON of a job or bank (canonical: unset optional fields left out)."""
    return model.model_dump(mode="json", exclude_none=True)


def _aware(value: datetime) -> datetime:
    # SQLite drops the zone; every time Candor stores is UTC.
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _candidate(row: CandidateRow, sessions: tuple[str, ...] = ()) -> CandidateRecord:
    return CandidateRecord(
        id=row.id,
        created_at=_aware(row.created_at),
        updated_at=_aware(row.updated_at),
        external_id=row.external_id,
        profile=dict(row.profile),
        sessions=sessions,
    )


def _record(row: SessionRow, candidate_id: str | None = None) -> SessionRecord:
    return SessionRecord(
        id=row.id,
        created_at=_aware(row.created_at),
        expires_at=_aware(row.expires_at),
        state=row.state,
        job_id=row.job_id,
        job_version=row.job_version,
        bank_id=row.bank_id,
        bank_version=row.bank_version,
        candidate=row.candidate,
        candidate_id=candidate_id,
    )


def _report_record(row: ReportRow) -> ReportRecord:
    return ReportRecord(session_id=row.session_id, version=row.version, created_at=_aware(row.created_at), body=row.body)


def _decision_record(row: DecisionRow, number: int) -> DecisionRecord:
    return DecisionRecord(
        session_id=row.session_id,
        number=number,
        decision=row.decision,
        reason=row.reason,
        decided_by=row.decided_by,
        created_at=_aware(row.created_at),
    )


def _job_record(row: JobRow) -> JobRecord:
    return JobRecord(
        id=row.id, version=row.version, created_at=_aware(row.created_at), source=row.source, body=row.body
    )


def _bank_record(row: BankRow) -> BankRecord:
    return BankRecord(
        id=row.id,
        version=row.version,
        job_id=row.job_id,
        created_at=_aware(row.created_at),
        source=row.source,
        body=row.body,
    )


class Store:
    """Sessions, their event logs, and versioned jobs and banks in a SQL database."""

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
    def create_session(
        self,
        *,
        session_id: str,
        expires_at: datetime,
        candidate_token: str,
        invite_code: str,
        job: JobRecord | None = None,
        bank: BankRecord | None = None,
        candidate: CandidateProfile | None = None,
        candidate_id: str | None = None,
    ) -> SessionRecord:
        row = SessionRow(
            id=session_id,
            created_at=utcnow(),
            expires_at=expires_at.astimezone(timezone.utc),
            invite_code_hash=token_hash(invite_code),
            state="open",
            job_id=job.id if job else None,
            job_version=job.version if job else None,
            bank_id=bank.id if bank else None,
            bank_version=bank.version if bank else None,
            candidate=candidate.model_dump(mode="json") if candidate is not None else None,
        )
        with Session(self.engine) as db, db.begin():
            db.add(row)
            db.flush()
            db.add(SessionTokenRow(token_hash=token_hash(candidate_token), session_id=session_id))
            if candidate_id is not None:
                db.add(CandidateSessionRow(session_id=session_id, candidate_id=candidate_id))
            return _record(row, candidate_id)

    # -- candidates ---------------------------------------------------------
    def create_candidate(self, profile: CandidateProfile, external_id: str | None = None) -> CandidateRecord:
        """Raises AlreadyExists when ``external_id`` is taken."""
        now = utcnow()
        candidate_id = secrets.token_urlsafe(12)
        row = CandidateRow(
            id=candidate_id,
            created_at=now,
            updated_at=now,
            external_id=external_id,
            profile=profile.model_dump(mode="json"),
        )
        try:
            with Session(self.engine) as db, db.begin():
                db.add(row)
        except IntegrityError as exc:
            raise AlreadyExists(f"a candidate with external_id {external_id!r} exists") from exc
        return self.get_candidate(candidate_id)  # type: ignore[return-value]

    def update_candidate(
        self, candidate_id: str, profile: CandidateProfile, external_id: str | None = None
    ) -> CandidateRecord | None:
        """Replace the profile; sessions keep the copy they were made with."""
        try:
            with Session(self.engine) as db, db.begin():
                row = db.get(CandidateRow, candidate_id)
                if row is None:
                    return None
                row.profile = profile.model_dump(mode="json")
                row.external_id = external_id
                row.updated_at = utcnow()
        except IntegrityError as exc:
            raise AlreadyExists(f"a candidate with external_id {external_id!r} exists") from exc
        return self.get_candidate(candidate_id)

    def get_candidate(self, candidate_id: str) -> CandidateRecord | None:
        with Session(self.engine) as db:
            row = db.get(CandidateRow, candidate_id)
            if row is None:
                return None
            sessions = db.scalars(
                select(CandidateSessionRow.session_id)
                .join(SessionRow, SessionRow.id == CandidateSessionRow.session_id)
                .where(CandidateSessionRow.candidate_id == candidate_id)
                .order_by(SessionRow.created_at)
            )
            return _candidate(row, tuple(sessions))

    def list_candidates(self, limit: int = 100) -> list[CandidateRecord]:
        with Session(self.engine) as db:
            rows = db.scalars(select(CandidateRow).order_by(CandidateRow.created_at.desc()).limit(limit))
            return [_candidate(r) for r in rows]

    def candidate_of_session(self, session_id: str) -> str | None:
        with Session(self.engine) as db:
            row = db.get(CandidateSessionRow, session_id)
            return row.candidate_id if row else None

    def get_session(self, session_id: str) -> SessionRecord | None:
        with Session(self.engine) as db:
            row = db.get(SessionRow, session_id)
            if row is None:
                return None
            link = db.get(CandidateSessionRow, session_id)
            return _record(row, link.candidate_id if link else None)

    def list_sessions(self, limit: int = 100) -> list[SessionRecord]:
        with Session(self.engine) as db:
            rows = db.execute(
                select(SessionRow, CandidateSessionRow.candidate_id)
                .outerjoin(CandidateSessionRow, CandidateSessionRow.session_id == SessionRow.id)
                .order_by(SessionRow.created_at.desc())
                .limit(limit)
            )
            return [_record(r, candidate_id) for r, candidate_id in rows]

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

    # -- jobs and banks (versioned) ----------------------------------------
    def create_job(self, job: Job, *, source: Source = "api") -> JobRecord:
        """Version 1 of a new job; :class:`AlreadyExists` if the id is taken."""
        return _job_record(self._create(JobRow, job.id, body_of(job), source))

    def update_job(
        self, job: Job, *, if_version: int | None = None, source: Source = "api"
    ) -> tuple[JobRecord, bool] | None:
        """Add the next version: ``(record, True)``; ``(latest, False)`` when
        nothing changed; ``None`` if there is no such job; :class:`VersionConflict`
        when ``if_version`` is not the latest."""
        found = self._update(JobRow, job.id, body_of(job), source, if_version)
        return (_job_record(found[0]), found[1]) if found else None

    def get_job(self, job_id: str, version: int | None = None) -> JobRecord | None:
        with Session(self.engine) as db:
            row = self._version(db, JobRow, job_id, version)
            return _job_record(row) if row else None

    def list_jobs(self) -> list[JobRecord]:
        """The latest version of every job, by id."""
        with Session(self.engine) as db:
            return [_job_record(r) for r in self._latest_rows(db, JobRow)]

    def create_bank(self, bank: QuestionBank, *, source: Source = "api") -> BankRecord:
        return _bank_record(self._create(BankRow, bank.id, body_of(bank), source, job_id=bank.job_id))

    def update_bank(
        self, bank: QuestionBank, *, if_version: int | None = None, source: Source = "api"
    ) -> tuple[BankRecord, bool] | None:
        """As :meth:`update_job`."""
        found = self._update(BankRow, bank.id, body_of(bank), source, if_version, job_id=bank.job_id)
        return (_bank_record(found[0]), found[1]) if found else None

    def get_bank(self, bank_id: str, version: int | None = None) -> BankRecord | None:
        with Session(self.engine) as db:
            row = self._version(db, BankRow, bank_id, version)
            return _bank_record(row) if row else None

    def list_banks(self, job_id: str | None = None) -> list[BankRecord]:
        """The latest version of every bank (of one job), by id."""
        with Session(self.engine) as db:
            rows = self._latest_rows(db, BankRow)
            return [_bank_record(r) for r in rows if job_id is None or r.job_id == job_id]

    def default_bank(self, job_id: str) -> BankRecord | None:
        """The job's bank: the one with the job's id, else the first one made for it."""
        banks = {b.id: b for b in self.list_banks(job_id)}
        if job_id in banks or not banks:
            return banks.get(job_id)
        with Session(self.engine) as db:
            first = db.scalar(
                select(BankRow.id)
                .where(BankRow.version == 1, BankRow.id.in_(list(banks)))
                .order_by(BankRow.created_at, BankRow.id)
                .limit(1)
            )
        return banks[first] if first is not None else None

    def seed_catalog(self, entries: Iterable[tuple[Job, QuestionBank]]) -> SeedReport:
        """Write the shipped jobs and banks by the rule in this module's docstring."""
        entries = list(entries)
        try:
            return self._seed(entries)
        except IntegrityError:  # another node seeded at the same moment: look again
            return self._seed(entries)

    def _seed(self, entries: list[tuple[Job, QuestionBank]]) -> SeedReport:
        report = SeedReport(added=[], updated=[], kept=[], unchanged=[])
        now = utcnow()
        with Session(self.engine) as db, db.begin():
            for job, bank in entries:
                for kind, row_type, key, body, extra in (
                    ("job", JobRow, job.id, body_of(job), {}),
                    ("bank", BankRow, bank.id, body_of(bank), {"job_id": bank.job_id}),
                ):
                    latest = self._version(db, row_type, key, None)
                    name = f"{kind} {key}"
                    if latest is None:
                        db.add(row_type(id=key, version=1, created_at=now, source="shipped", body=body, **extra))
                        report.added.append(name)
                    elif latest.body == body:
                        report.unchanged.append(name)
                    elif latest.source == "shipped":
                        version = latest.version + 1
                        db.add(row_type(id=key, version=version, created_at=now, source="shipped", body=body, **extra))
                        report.updated.append(name)
                    else:
                        report.kept.append(name)
        return report

    @staticmethod
    def _version(db: Session, row_type: VersionedRow, key: str, version: int | None) -> Any:
        query = select(row_type).where(row_type.id == key)
        if version is not None:
            query = query.where(row_type.version == version)
        return db.scalar(query.order_by(row_type.version.desc()).limit(1))

    @staticmethod
    def _latest_rows(db: Session, row_type: VersionedRow) -> list[Any]:
        latest = (
            select(row_type.id, func.max(row_type.version).label("version")).group_by(row_type.id).subquery()
        )
        query = (
            select(row_type)
            .join(latest, (row_type.id == latest.c.id) & (row_type.version == latest.c.version))
            .order_by(row_type.id)
        )
        return list(db.scalars(query))

    def _create(self, row_type: VersionedRow, key: str, body: dict, source: str, **extra: Any) -> Any:
        try:
            with Session(self.engine, expire_on_commit=False) as db, db.begin():
                if self._version(db, row_type, key, None) is not None:
                    raise AlreadyExists(key)
                row = row_type(id=key, version=1, created_at=utcnow(), source=source, body=body, **extra)
                db.add(row)
            return row
        except IntegrityError:  # made at the same moment elsewhere
            raise AlreadyExists(key) from None

    def _update(
        self,
        row_type: VersionedRow,
        key: str,
        body: dict,
        source: str,
        if_version: int | None,
        **extra: Any,
    ) -> tuple[Any, bool] | None:
        try:
            with Session(self.engine, expire_on_commit=False) as db, db.begin():
                latest = self._version(db, row_type, key, None)
                if latest is None:
                    return None
                if if_version is not None and if_version != latest.version:
                    raise VersionConflict(latest.version)
                if latest.body == body and all(getattr(latest, k) == v for k, v in extra.items()):
                    return latest, False
                version = latest.version + 1
                row = row_type(id=key, version=version, created_at=utcnow(), source=source, body=body, **extra)
                db.add(row)
            return row, True
        except IntegrityError:  # another edit took this version number first
            with Session(self.engine) as db:
                latest = self._version(db, row_type, key, None)
            raise VersionConflict(latest.version if latest is not None else 0) from None

    # -- reports and decisions ----------------------------------------------
    def get_report(self, session_id: str, version: int | None = None) -> ReportRecord | None:
        """The latest report version (or ``version``); None if there is none."""
        with Session(self.engine) as db:
            query = select(ReportRow).where(ReportRow.session_id == session_id)
            if version is not None:
                query = query.where(ReportRow.version == version)
            row = db.scalar(query.order_by(ReportRow.version.desc()).limit(1))
            return _report_record(row) if row else None

    def list_decisions(self, session_id: str) -> list[DecisionRecord]:
        with Session(self.engine) as db:
            rows = db.scalars(select(DecisionRow).where(DecisionRow.session_id == session_id).order_by(DecisionRow.id))
            return [_decision_record(r, n) for n, r in enumerate(rows, 1)]

    def add_report(
        self,
        session_id: str,
        body: dict[str, Any],
        *,
        only_first: bool = False,
        unless_same: bool = False,
        decision: tuple[str, str, str] | None = None,
        on_write: ReportHook | None = None,
    ) -> tuple[ReportRecord, bool]:
        """Add the session's next report version, and a decision with it.

        ``(record, True)`` when written; ``(latest, False)`` when not:
        ``only_first`` and a report exists already, or ``unless_same`` and
        the latest body is ``body``. ``decision`` is (decision, reason,
        decided_by). ``on_write`` runs in the same transaction (the outbox).
        """
        now = utcnow()
        with Session(self.engine, expire_on_commit=False) as db, db.begin():
            latest = db.scalar(
                select(ReportRow).where(ReportRow.session_id == session_id).order_by(ReportRow.version.desc()).limit(1)
            )
            if latest is not None and decision is None and (only_first or (unless_same and latest.body == body)):
                return _report_record(latest), False
            decided: DecisionRecord | None = None
            if decision is not None:
                row = DecisionRow(
                    session_id=session_id, decision=decision[0], reason=decision[1], decided_by=decision[2], created_at=now
                )
                db.add(row)
                db.flush()
                number = db.scalar(select(func.count()).select_from(DecisionRow).where(DecisionRow.session_id == session_id))
                decided = _decision_record(row, int(number or 1))
            report = ReportRow(
                session_id=session_id, version=(latest.version + 1) if latest else 1, created_at=now, body=body
            )
            db.add(report)
            db.flush()
            record = _report_record(report)
            if on_write is not None:
                on_write(db, record, decided)
        return record, True

    # -- event log --------------------------------------------------------
    def append_events(self, events: Iterable[Event]) -> None:
        rows = [
            EventRow(
                session_id=e.session_id,
                seq=e.seq,
                type=str(e.type),
                media_time=e.media_time,
                wall_time=e.wall_time,
                payload=e.payload.to_dict(),
            )
            for e in events
        ]
        if not rows:
            return
        with Session(self.engine) as db, db.begin():
            db.add_all(rows)

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
                    payload = payload_from_dict(r.type, r.payload or {})
                except ValueError as exc:  # another version's event: kept in the log, not read here
                    log.warning("event %s/%d skipped: %s", r.session_id, r.seq, exc)
                    continue
                events.append(Event(r.session_id, r.seq, r.media_time, r.wall_time, payload))
            return events

    def sessions_without_report(self, ended_type: str = INTERVIEW_ENDED) -> list[str]:
        """Sessions whose interview ended but have no report (the process died in between)."""
        with Session(self.engine) as db:
            reported = select(ReportRow.session_id)
            query = (
                select(EventRow.session_id)
                .where(EventRow.type == ended_type, EventRow.session_id.not_in(reported))
                .distinct()
            )
            return list(db.scalars(query))

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
