"""Jobs and question banks, versioned.

A row is ``(id, version)`` and is never changed once written; an edit adds
the next version. A session records the exact job and bank versions it
uses, so its report can be rebuilt later.

Seeding from the shipped files (:meth:`CatalogRepository.seed_catalog`)
follows one rule: a shipped job or bank that is not in the database yet
becomes version 1; if a later release changes the file, the change is added
as a new version only while the latest version still came from a shipped
file. Once a job or bank has been edited through the API, the API version
wins and changes to its shipped file are not applied (they are reported, and
HR can apply them with a PUT). A restart with unchanged files writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Literal

from sqlalchemy import JSON, DateTime, Integer, String, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from jobs.models import Job, QuestionBank

from .base import AlreadyExists, Base, Repository, VersionConflict, aware, utcnow


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


Source = Literal["shipped", "api"]
VersionedRow = type[JobRow] | type[BankRow]


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


@dataclass(frozen=True)
class SeedReport:
    """What seeding did, per kind and id: added, updated, kept (API edit wins)."""

    added: list[str]
    updated: list[str]
    kept: list[str]
    unchanged: list[str]


def body_of(model: Job | QuestionBank) -> dict[str, Any]:
    """The stored JSON of a job or bank (canonical: unset optional fields left out)."""
    return model.model_dump(mode="json", exclude_none=True)


def _job_record(row: JobRow) -> JobRecord:
    return JobRecord(
        id=row.id, version=row.version, created_at=aware(row.created_at), source=row.source, body=row.body
    )


def _bank_record(row: BankRow) -> BankRecord:
    return BankRecord(
        id=row.id,
        version=row.version,
        job_id=row.job_id,
        created_at=aware(row.created_at),
        source=row.source,
        body=row.body,
    )


class CatalogRepository(Repository):
    """Versioned jobs and question banks, and the seeding of the shipped ones."""

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
        named = self.get_bank(job_id)  # the usual case, one row: every invite asks (benchmarks/README.md, Automation)
        if named is not None and named.job_id == job_id:
            return named
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
