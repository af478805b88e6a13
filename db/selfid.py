"""Voluntary self-identification (sex, age band, ethnicity where allowed), kept apart from everything else.

Its own table, keyed by the application and the candidate: nothing that scores,
screens, reports, sends to a sink or logs reads it. The only readers are the
bias audit (:meth:`SelfIdRepository.self_ids_for_applications`) and the
candidate's own page (:meth:`SelfIdRepository.self_id_answered`). Every read
and write of these values is in this module, so that encryption at rest can
wrap them here. The values are never logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from sqlalchemy import DateTime, Integer, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from .applications import ApplicationRow
from .base import Base, Repository, aware, utcnow

CHUNK = 500


class SelfIdRow(Base):
    __tablename__ = "self_identifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(String(64), unique=True)  # the interview it was asked after
    application_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    candidate_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    sex: Mapped[str | None] = mapped_column(String(32), nullable=True)
    age_band: Mapped[str | None] = mapped_column(String(32), nullable=True)
    ethnicity: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class SelfId:
    """What a candidate chose to say (None: not answered; "prefer_not_to_say": declined)."""

    sex: str | None = None
    age_band: str | None = None
    ethnicity: str | None = None
    updated_at: datetime | None = None

    def groups(self) -> dict[str, str | None]:
        return {"sex": self.sex, "age_band": self.age_band, "ethnicity": self.ethnicity}


def _self_id(row: SelfIdRow) -> SelfId:
    return SelfId(row.sex, row.age_band, row.ethnicity, aware(row.updated_at))


def _chunks(ids: list[str]) -> Iterable[list[str]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


class SelfIdRepository(Repository):
    """Self-identification rows: written by the candidate, read only by the bias audit."""

    def put_self_id(
        self, session_id: str, *, application_id: str | None, candidate_id: str | None,
        sex: str | None, age_band: str | None, ethnicity: str | None,
    ) -> None:
        """Record (or replace) what the candidate of ``session_id`` chose to say."""
        now = utcnow()
        with Session(self.engine) as db, db.begin():
            row = db.scalars(select(SelfIdRow).where(SelfIdRow.session_id == session_id)).first()
            if row is None:
                row = SelfIdRow(session_id=session_id, created_at=now)
                db.add(row)
            row.application_id, row.candidate_id = application_id, candidate_id
            row.sex, row.age_band, row.ethnicity, row.updated_at = sex, age_band, ethnicity, now

    def self_id_answered(self, session_id: str) -> bool:
        """Whether the candidate of ``session_id`` has answered (the page does not ask again); never the answer."""
        with Session(self.engine) as db:
            return db.scalars(select(SelfIdRow.id).where(SelfIdRow.session_id == session_id)).first() is not None

    def delete_self_id(self, *, session_id: str | None = None, candidate_id: str | None = None,
                       application_id: str | None = None) -> int:
        """Remove the rows of a session, a candidate or an application (withdrawal, erasure); how many went."""
        conditions = [c for c in (
            SelfIdRow.session_id == session_id if session_id is not None else None,
            SelfIdRow.candidate_id == candidate_id if candidate_id is not None else None,
            SelfIdRow.application_id == application_id if application_id is not None else None,
        ) if c is not None]
        if not conditions:
            raise ValueError("name a session, a candidate or an application")
        with Session(self.engine) as db, db.begin():
            result = db.execute(delete(SelfIdRow).where(*conditions))
            return int(result.rowcount or 0)

    def self_ids_for_applications(self, application_ids: Iterable[str]) -> dict[str, SelfId]:
        """For each application: its own answer, else its candidate's latest (from another application).

        The bias audit's one read. Applications with neither are left out (unknown in every category).
        """
        app_ids = list(application_ids)
        by_app: dict[str, SelfId] = {}
        by_cand: dict[str, SelfId] = {}
        candidate_of: dict[str, str] = {}
        with Session(self.engine) as db:
            for part in _chunks(app_ids):
                for app_id, cand_id in db.execute(select(ApplicationRow.id, ApplicationRow.candidate_id).where(ApplicationRow.id.in_(part))):
                    candidate_of[app_id] = cand_id
                for row in db.scalars(select(SelfIdRow).where(SelfIdRow.application_id.in_(part)).order_by(SelfIdRow.updated_at, SelfIdRow.id)):
                    by_app[row.application_id] = _self_id(row)  # type: ignore[index]
            cand_ids = sorted(set(candidate_of.values()))
            for part in _chunks(cand_ids):
                for row in db.scalars(select(SelfIdRow).where(SelfIdRow.candidate_id.in_(part)).order_by(SelfIdRow.updated_at, SelfIdRow.id)):
                    by_cand[row.candidate_id] = _self_id(row)  # type: ignore[index]
        out: dict[str, SelfId] = {}
        for app_id in app_ids:
            if app_id in by_app:
                out[app_id] = by_app[app_id]
            elif candidate_of.get(app_id) in by_cand:
                out[app_id] = by_cand[candidate_of[app_id]]
        return out
