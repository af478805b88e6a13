"""Later outcomes (what became of a candidate after the pre-interview), the money spent per source, and the analytics' rows.

An outcome is one row per application, replaced as HR (or an HR system)
learn more: the on-site interview's result, the probation rating, the
12-month performance. These are personal data: read through the HR API only
and never logged. :meth:`OutcomeRepository.analytics_rows` gathers, for the
dashboard, each application with its timeline, its latest report's scores
and its outcome, as :class:`analytics.Row`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Sequence

from sqlalchemy import DateTime, Float, ForeignKey, Integer, String, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from analytics import Cost, Outcome, Row

from .applications import ApplicationEventRow, ApplicationRow
from .base import Base, Repository, aware, utcnow
from .reports import BODY, ReportRow

CHUNK = 500  # ids per IN (...) query


class OutcomeRow(Base):
    __tablename__ = "application_outcomes"

    application_id: Mapped[str] = mapped_column(String(64), ForeignKey("applications.id", ondelete="CASCADE"), primary_key=True)
    onsite: Mapped[str | None] = mapped_column(String(8), nullable=True)  # pass | fail
    probation_rating: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 1-5
    performance_12m: Mapped[float | None] = mapped_column(Float, nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(String(64))


class SourceCostRow(Base):
    """What a source cost: for one job, or (job_id NULL) for all jobs."""

    __tablename__ = "source_costs"
    __table_args__ = (UniqueConstraint("source", "job_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(64), index=True)
    job_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    cost: Mapped[float] = mapped_column(Float)
    currency: Mapped[str] = mapped_column(String(3))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class OutcomeRecord:
    application_id: str
    onsite: str | None
    probation_rating: int | None
    performance_12m: float | None
    recorded_at: datetime
    recorded_by: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "application_id": self.application_id,
            "onsite": self.onsite,
            "probation_rating": self.probation_rating,
            "performance_12m": self.performance_12m,
            "recorded_at": self.recorded_at.isoformat(),
            "recorded_by": self.recorded_by,
        }


@dataclass(frozen=True)
class SourceCostRecord:
    source: str
    job_id: str | None
    cost: float
    currency: str
    updated_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "job_id": self.job_id, "cost": self.cost, "currency": self.currency,
                "updated_at": self.updated_at.isoformat()}


def _outcome(row: OutcomeRow) -> OutcomeRecord:
    return OutcomeRecord(row.application_id, row.onsite, row.probation_rating, row.performance_12m, aware(row.recorded_at), row.recorded_by)


def _chunks(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def report_scores(body: dict[str, Any]) -> tuple[float | None, dict[tuple[str, str | None], float]]:
    """A report's overall score and each answered question's overall (practice and unanswered left out)."""
    overall = body.get("overall")
    per_question: dict[tuple[str, str | None], float] = {}
    for q in body.get("questions") or []:
        score = q.get("score") or {}
        if q.get("practice") or q.get("status") == "no_answer" or score.get("overall") is None:
            continue
        per_question[(str(q["question_id"]), q.get("alternative"))] = float(score["overall"])
    return (float(overall) if overall is not None else None), per_question


class OutcomeRepository(Repository):
    """Later outcomes per application, source costs, and the rows the dashboard is computed from."""

    def put_outcome(
        self, application_id: str, *, onsite: str | None, probation_rating: int | None, performance_12m: float | None, recorded_by: str
    ) -> OutcomeRecord | None:
        """Record (or replace) an application's later outcome; None if there is no such application."""
        with Session(self.engine) as db, db.begin():
            if db.get(ApplicationRow, application_id) is None:
                return None
            row = db.get(OutcomeRow, application_id)
            if row is None:
                row = OutcomeRow(application_id=application_id)
                db.add(row)
            row.onsite, row.probation_rating, row.performance_12m = onsite, probation_rating, performance_12m
            row.recorded_at, row.recorded_by = utcnow(), recorded_by
            db.flush()
            return _outcome(row)

    def get_outcome(self, application_id: str) -> OutcomeRecord | None:
        with Session(self.engine) as db:
            row = db.get(OutcomeRow, application_id)
            return _outcome(row) if row is not None else None

    def put_source_cost(self, source: str, job_id: str | None, cost: float, currency: str) -> SourceCostRecord:
        """Set what ``source`` cost for ``job_id`` (None: all jobs), replacing an earlier figure."""
        with Session(self.engine) as db, db.begin():
            # job_id IS NULL is not caught by the unique constraint on every database: look it up first
            row = db.scalars(select(SourceCostRow).where(SourceCostRow.source == source, SourceCostRow.job_id.is_(job_id) if job_id is None else SourceCostRow.job_id == job_id)).first()
            if row is None:
                row = SourceCostRow(source=source, job_id=job_id)
                db.add(row)
            row.cost, row.currency, row.updated_at = cost, currency, utcnow()
            db.flush()
            return SourceCostRecord(row.source, row.job_id, row.cost, row.currency, aware(row.updated_at))

    def source_costs(self) -> list[Cost]:
        with Session(self.engine) as db:
            return [Cost(r.source, r.job_id, r.cost, r.currency) for r in db.scalars(select(SourceCostRow).order_by(SourceCostRow.id))]

    def analytics_rows(self, *, job_id: str | None = None, since: datetime | None = None, until: datetime | None = None) -> list[Row]:
        """Every application received in [since, until) (for one job, or all), with what the figures need."""
        query = select(ApplicationRow)
        if job_id:
            query = query.where(ApplicationRow.job_id == job_id)
        if since is not None:
            query = query.where(ApplicationRow.created_at >= since)
        if until is not None:
            query = query.where(ApplicationRow.created_at < until)
        with Session(self.engine) as db:
            apps = list(db.scalars(query.order_by(ApplicationRow.created_at, ApplicationRow.id)))
            ids = [a.id for a in apps]
            timelines: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
            outcomes: dict[str, OutcomeRow] = {}
            for part in _chunks(ids):
                for event in db.scalars(select(ApplicationEventRow).where(ApplicationEventRow.application_id.in_(part)).order_by(ApplicationEventRow.id)):
                    # Only the plain step (action, from, to, outcome, actor, at): all the figures read, kept
                    # once a candidate was erased; the sealed words are not opened for statistics.
                    timelines[event.application_id].append(dict(event.plain or {}))
                for outcome in db.scalars(select(OutcomeRow).where(OutcomeRow.application_id.in_(part))):
                    outcomes[outcome.application_id] = outcome
            sessions = [a.session_id for a in apps if a.session_id]
            reports: dict[str, dict[str, Any]] = {}
            for part in _chunks(sessions):
                latest = (
                    select(ReportRow.session_id, func.max(ReportRow.version).label("version"))
                    .where(ReportRow.session_id.in_(part)).group_by(ReportRow.session_id).subquery()
                )
                for report in db.scalars(select(ReportRow).join(latest, (ReportRow.session_id == latest.c.session_id) & (ReportRow.version == latest.c.version))):
                    reports[report.session_id] = self._open(db, report.session_id, BODY, report.body, erased={})
        rows = []
        for a in apps:
            overall, per_question = report_scores(reports.get(a.session_id or "", {}))
            o = outcomes.get(a.id)
            rows.append(Row(
                id=a.id, job_id=a.job_id, source=a.source, created_at=aware(a.created_at), state=a.state, outcome=a.outcome,
                match_score=a.score, interview_score=overall, question_scores=per_question, timeline=timelines[a.id],
                later=Outcome(o.onsite, o.probation_rating, o.performance_12m) if o is not None else None,
            ))
        return rows
