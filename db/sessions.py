"""Sessions: the interview a session runs, its candidate tokens and its one-time invite code."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from jobs.models import CandidateProfile

from .base import Base, Repository, aware, token_hash, utcnow

if TYPE_CHECKING:
    from .catalog import BankRecord, JobRecord


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
    # GET, never logged. Sealed (vault/), subject the session id.
    candidate: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


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


CANDIDATE = "sessions.candidate"  # the sealed column's context (vault AAD)


def _record(row: SessionRow, candidate_id: str | None = None, candidate: dict[str, Any] | None = None) -> SessionRecord:
    return SessionRecord(
        id=row.id,
        created_at=aware(row.created_at),
        expires_at=aware(row.expires_at),
        state=row.state,
        job_id=row.job_id,
        job_version=row.job_version,
        bank_id=row.bank_id,
        bank_version=row.bank_version,
        candidate=candidate,
        candidate_id=candidate_id,
    )


class SessionRepository(Repository):
    """Sessions, their tokens and invite codes (the candidate's profile copy sealed for the session)."""

    def _session(self, row: SessionRow, candidate_id: str | None = None, db: Session | None = None) -> SessionRecord:
        return _record(row, candidate_id, self._open(db, row.id, CANDIDATE, row.candidate))

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
        )
        profile = candidate.model_dump(mode="json") if candidate is not None else None
        with Session(self.engine) as db, db.begin():
            # The session's data key is made with it, before the event writer, reports and the outbox need it
            # (so no two of their transactions race to make it).
            self.vault.data_key(session_id, create=True, db=db)
            if profile is not None:
                row.candidate = self._seal(db, session_id, CANDIDATE, profile)
            db.add(row)
            db.flush()
            db.add(SessionTokenRow(token_hash=token_hash(candidate_token), session_id=session_id))
            if candidate_id is not None:
                db.add(CandidateSessionRow(session_id=session_id, candidate_id=candidate_id))
            return _record(row, candidate_id, profile)

    def get_session(self, session_id: str) -> SessionRecord | None:
        with Session(self.engine) as db:
            row = db.get(SessionRow, session_id)
            if row is None:
                return None
            link = db.get(CandidateSessionRow, session_id)
            return self._session(row, link.candidate_id if link else None, db)

    def list_sessions(self, limit: int = 100) -> list[SessionRecord]:
        with Session(self.engine) as db:
            rows = db.execute(
                select(SessionRow, CandidateSessionRow.candidate_id)
                .outerjoin(CandidateSessionRow, CandidateSessionRow.session_id == SessionRow.id)
                .order_by(SessionRow.created_at.desc())
                .limit(limit)
            )
            return [self._session(r, candidate_id, db) for r, candidate_id in rows]

    def session_for_token(self, session_id: str, candidate_token: str) -> SessionRecord | None:
        with Session(self.engine) as db:
            row = db.scalar(
                select(SessionRow)
                .join(SessionTokenRow, SessionTokenRow.session_id == SessionRow.id)
                .where(SessionRow.id == session_id, SessionTokenRow.token_hash == token_hash(candidate_token))
            )
            return self._session(row, None, db) if row else None

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
            return self._session(row, None, db)

    def set_session_state(self, session_id: str, state: str) -> None:
        with Session(self.engine) as db, db.begin():
            db.execute(update(SessionRow).where(SessionRow.id == session_id).values(state=state))
