"""Reports and decisions: a session's report versions and the people's decisions on it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from events import INTERVIEW_ENDED

from .base import Base, Repository, aware, utcnow
from .events import EventRow


class ReportRow(Base):
    """One version of a session's report; never updated once written."""

    __tablename__ = "reports"

    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    body: Mapped[bytes] = mapped_column(LargeBinary)  # reports.builder's dict, sealed (vault/) for the session


class DecisionRow(Base):
    """A person's decision on a session (the latest one counts)."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    decision: Mapped[str] = mapped_column(String(16))  # advance | hold | reject
    reason: Mapped[bytes] = mapped_column(LargeBinary)  # HR's words, sealed (vault/) for the session
    decided_by: Mapped[str] = mapped_column(String(64), default="hr")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


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


BODY, REASON = "reports.body", "decisions.reason"  # the sealed columns' contexts (vault AAD)


class ReportRepository(Repository):
    """Report versions and decisions, written together in one transaction (bodies and reasons sealed for the session)."""

    def _report_record(self, row: ReportRow, db: Session | None = None) -> ReportRecord:
        return ReportRecord(session_id=row.session_id, version=row.version, created_at=aware(row.created_at),
                            body=self._open(db, row.session_id, BODY, row.body))

    def _decision_record(self, row: DecisionRow, number: int, db: Session | None = None, reason: str | None = None) -> DecisionRecord:
        return DecisionRecord(
            session_id=row.session_id,
            number=number,
            decision=row.decision,
            reason=reason if reason is not None else self._open(db, row.session_id, REASON, row.reason),
            decided_by=row.decided_by,
            created_at=aware(row.created_at),
        )

    def get_report(self, session_id: str, version: int | None = None) -> ReportRecord | None:
        """The latest report version (or ``version``); None if there is none."""
        with Session(self.engine) as db:
            query = select(ReportRow).where(ReportRow.session_id == session_id)
            if version is not None:
                query = query.where(ReportRow.version == version)
            row = db.scalar(query.order_by(ReportRow.version.desc()).limit(1))
            return self._report_record(row, db) if row else None

    def latest_reports_of_bank(self, bank_id: str) -> list[ReportRecord]:
        """The latest report of every session that ran the bank (any version of it)."""
        from .sessions import SessionRow

        with Session(self.engine) as db:
            latest = (
                select(ReportRow.session_id, func.max(ReportRow.version).label("version"))
                .join(SessionRow, SessionRow.id == ReportRow.session_id)
                .where(SessionRow.bank_id == bank_id)
                .group_by(ReportRow.session_id)
                .subquery()
            )
            rows = db.scalars(
                select(ReportRow).join(
                    latest, (ReportRow.session_id == latest.c.session_id) & (ReportRow.version == latest.c.version)
                ).order_by(ReportRow.session_id)
            )
            return [self._report_record(r, db) for r in rows]

    def list_decisions(self, session_id: str) -> list[DecisionRecord]:
        with Session(self.engine) as db:
            rows = db.scalars(select(DecisionRow).where(DecisionRow.session_id == session_id).order_by(DecisionRow.id))
            return [self._decision_record(r, n, db) for n, r in enumerate(rows, 1)]

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
        from .sessions import SessionRow

        now = utcnow()
        with Session(self.engine, expire_on_commit=False) as db, db.begin():
            # One writer per session at a time, whichever node it runs on: the next version and the decision's
            # number are read, then written. PostgreSQL locks the session's row until the commit (two nodes
            # deciding at once are two numbered decisions, not a duplicate key). SQLite ignores FOR UPDATE: it
            # is one node, whose report writes take the report lock (server/reporting.py).
            db.execute(select(SessionRow.id).where(SessionRow.id == session_id).with_for_update())
            latest = db.scalar(
                select(ReportRow).where(ReportRow.session_id == session_id).order_by(ReportRow.version.desc()).limit(1)
            )
            if latest is not None and decision is None and only_first:
                return self._report_record(latest, db), False
            if latest is not None and decision is None and unless_same:
                before = self._report_record(latest, db)
                if before.body == body:
                    return before, False
            decided: DecisionRecord | None = None
            if decision is not None:
                row = DecisionRow(
                    session_id=session_id, decision=decision[0], reason=self._seal(db, session_id, REASON, decision[1]),
                    decided_by=decision[2], created_at=now,
                )
                db.add(row)
                db.flush()
                number = db.scalar(select(func.count()).select_from(DecisionRow).where(DecisionRow.session_id == session_id))
                decided = self._decision_record(row, int(number or 1), reason=decision[1])
            report = ReportRow(
                session_id=session_id, version=(latest.version + 1) if latest else 1, created_at=now,
                body=self._seal(db, session_id, BODY, body),
            )
            db.add(report)
            db.flush()
            record = ReportRecord(session_id=session_id, version=report.version, created_at=aware(report.created_at), body=body)
            if on_write is not None:
                on_write(db, record, decided)
        return record, True

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
