"""Candidates: a person's profile HR interview (personal data: HR API only, never logged)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, LargeBinary, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from jobs.models import CandidateProfile

from .base import AlreadyExists, Base, Repository, aware, utcnow
from .sessions import CandidateSessionRow, SessionRow


class CandidateRow(Base):
    """A candidate's profile (personal data: HR API only, never logged)."""

    __tablename__ = "candidates"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The bank's own id for the person (HRIS), unique when given.
    external_id: Mapped[str | None] = mapped_column(String(128), unique=True, nullable=True)
    profile: Mapped[bytes] = mapped_column(LargeBinary)  # sealed (vault/): a CandidateProfile as JSON, subject the candidate id


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


PROFILE = "candidates.profile"  # the sealed column's context (vault AAD)


class CandidateRepository(Repository):
    """Candidates and the sessions that interviewed them (the profile sealed for the candidate)."""

    def _candidate(self, row: CandidateRow, sessions: tuple[str, ...] = (), db: Session | None = None) -> CandidateRecord:
        return CandidateRecord(
            id=row.id,
            created_at=aware(row.created_at),
            updated_at=aware(row.updated_at),
            external_id=row.external_id,
            profile=dict(self._open(db, row.id, PROFILE, row.profile)),
            sessions=sessions,
        )

    def create_candidate(self, profile: CandidateProfile, external_id: str | None = None) -> CandidateRecord:
        """Raises AlreadyExists when ``external_id`` is taken."""
        now = utcnow()
        candidate_id = secrets.token_urlsafe(12)
        try:
            with Session(self.engine) as db, db.begin():
                db.add(CandidateRow(
                    id=candidate_id,
                    created_at=now,
                    updated_at=now,
                    external_id=external_id,
                    profile=self._seal(db, candidate_id, PROFILE, profile.model_dump(mode="json")),
                ))
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
                row.profile = self._seal(db, candidate_id, PROFILE, profile.model_dump(mode="json"))
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
            return self._candidate(row, tuple(sessions), db)

    def list_candidates(self, limit: int = 100) -> list[CandidateRecord]:
        with Session(self.engine) as db:
            rows = db.scalars(select(CandidateRow).order_by(CandidateRow.created_at.desc()).limit(limit))
            return [self._candidate(r, db=db) for r in rows]

    def candidate_of_session(self, session_id: str) -> str | None:
        with Session(self.engine) as db:
            row = db.get(CandidateSessionRow, session_id)
            return row.candidate_id if row else None
