"""Reviewers' recommendations on an interview (issue 12, section 1: a reviewer "records a recommendation").

A recommendation is advice to the person who decides: advance, hold or
reject, with an optional note, by one user on one session. It is not a
decision (``decisions``, db/reports.py): nothing is sent to the HRIS and the
candidate's state does not move. Each user has at most one per session (a
new one replaces theirs). The note is the reviewer's text: personal data,
never logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from .base import Base, Repository, aware, utcnow

RECOMMENDATIONS = ("advance", "hold", "reject")


class RecommendationRow(Base):
    __tablename__ = "recommendations"
    __table_args__ = (UniqueConstraint("session_id", "user_id", name="uq_recommendation_user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(16))
    recommendation: Mapped[str] = mapped_column(String(16))
    note: Mapped[bytes] = mapped_column(LargeBinary)  # the reviewer's words, sealed for the session (vault/)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class RecommendationRecord:
    session_id: str
    user_id: str
    role: str
    recommendation: str
    note: str
    created_at: datetime
    updated_at: datetime

    def public(self) -> dict[str, Any]:
        return {"session_id": self.session_id, "user_id": self.user_id, "role": self.role,
                "recommendation": self.recommendation, "note": self.note,
                "created_at": self.created_at.isoformat(), "updated_at": self.updated_at.isoformat()}


NOTE = "recommendations.note"  # the sealed column's context (subject: the session)


class RecommendationRepository(Repository):
    def _recommendation(self, db: Session, row: RecommendationRow) -> RecommendationRecord:
        return RecommendationRecord(row.session_id, row.user_id, row.role, row.recommendation,
                                    self._open(db, row.session_id, NOTE, row.note, erased=""),
                                    aware(row.created_at), aware(row.updated_at))

    def recommend(self, session_id: str, user_id: str, role: str, recommendation: str, note: str = "") -> RecommendationRecord:
        """Record (or replace) this user's recommendation on the session."""
        if recommendation not in RECOMMENDATIONS:
            raise ValueError(f"a recommendation is one of {', '.join(RECOMMENDATIONS)}")
        now = utcnow()
        with Session(self.engine) as db, db.begin():
            row = db.scalars(select(RecommendationRow).where(
                RecommendationRow.session_id == session_id, RecommendationRow.user_id == user_id)).first()
            if row is None:
                row = RecommendationRow(session_id=session_id, user_id=user_id, created_at=now)
                db.add(row)
            row.role, row.recommendation, row.updated_at = role, recommendation, now
            row.note = self._seal(db, session_id, NOTE, note)
            db.flush()
            return self._recommendation(db, row)

    def recommendations(self, session_id: str) -> list[RecommendationRecord]:
        with Session(self.engine) as db:
            rows = db.scalars(select(RecommendationRow).where(RecommendationRow.session_id == session_id)
                              .order_by(RecommendationRow.updated_at))
            return [self._recommendation(db, r) for r in rows]
