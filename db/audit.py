"""The audit log: an append-only table of who did what to whom, hash-chained.

Each row is one :class:`audit.Entry`, sealed to the row before it
(``prev_hash``, ``hash``; see ``audit/chain.py``). :meth:`AuditRepository.append_audit`
is the only write: it reads the newest row's hash and inserts the next row
in one transaction that holds the table's write lock, so two writers (two
threads, two processes, two nodes) cannot both build on the same head and
fork the chain:

* SQLite: ``BEGIN IMMEDIATE`` takes the database's write lock before the
  head is read (another writer waits on the busy timeout).
* PostgreSQL: ``pg_advisory_xact_lock`` on a fixed key, held to the commit
  (a ``SELECT ... FOR UPDATE`` on the head locks nothing while the table is
  empty; the advisory lock does).

Nothing here updates or deletes a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterator

from sqlalchemy import JSON, DateTime, Index, Integer, String, insert, inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column

from audit import GENESIS, Entry, Sealed, Verification, seal, verify

from .base import Base, Repository, aware

# pg_advisory_xact_lock's key for "appending to audit_log" (any constant; this is b"candor-a" as a bigint).
PG_LOCK_KEY = int.from_bytes(b"candor-a", "big", signed=True)
CHUNK = 1000


class AuditRow(Base):
    __tablename__ = "audit_log"
    # AUTOINCREMENT on SQLite: an id is never given out twice, even after the newest row is deleted.
    __table_args__ = (
        Index("ix_audit_actor", "actor", "id"),
        Index("ix_audit_action", "action", "id"),
        Index("ix_audit_target", "target_type", "target_id", "id"),
        Index("ix_audit_at", "at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    details: Mapped[dict] = mapped_column(JSON)  # ids and counts only (audit.check_details)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


@dataclass(frozen=True)
class AuditQuery:
    """Filters of a read; ``before``: only ids below it (the cursor, newest first)."""

    actor: str | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    before: int | None = None
    after: int | None = None


def _sealed(row: Any) -> Sealed:
    entry = Entry(
        at=aware(row.at), actor=row.actor, role=row.role, action=row.action, target_type=row.target_type,
        target_id=row.target_id, address=row.address, details=row.details if row.details is not None else {},
    )
    return Sealed(row.id, entry, row.prev_hash, row.hash)


def _where(query: Any, q: AuditQuery) -> Any:
    t = AuditRow
    for column, value in ((t.actor, q.actor), (t.action, q.action), (t.target_type, q.target_type), (t.target_id, q.target_id)):
        if value is not None:
            query = query.where(column == value)
    if q.since is not None:
        query = query.where(t.at >= q.since)
    if q.until is not None:
        query = query.where(t.at < q.until)
    if q.before is not None:
        query = query.where(t.id < q.before)
    if q.after is not None:
        query = query.where(t.id > q.after)
    return query


class AuditRepository(Repository):
    """Appends to the audit log (never edits), pages through it, and verifies its chain."""

    def _lock(self, conn: Connection) -> None:
        dialect = conn.dialect.name
        if dialect == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif dialect == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})
        else:  # pragma: no cover - Candor runs on SQLite or PostgreSQL
            raise RuntimeError(f"the audit log cannot lock a {dialect} database")

    def append_audit(self, entry: Entry) -> Sealed:
        """Seal ``entry`` to the newest row and insert it, under the table's write lock; the row as stored."""
        with self.engine.connect() as conn:
            self._lock(conn)
            head = conn.execute(select(AuditRow.hash).order_by(AuditRow.id.desc()).limit(1)).scalar()
            sealed = seal(entry, head or GENESIS)
            values = {"at": entry.at, "actor": entry.actor, "role": entry.role, "action": entry.action,
                      "target_type": entry.target_type, "target_id": entry.target_id, "address": entry.address,
                      "details": dict(entry.details), "prev_hash": sealed.prev_hash, "hash": sealed.hash}
            new_id = conn.execute(insert(AuditRow).values(**values).returning(AuditRow.id)).scalar_one()
            conn.commit()
        return Sealed(new_id, sealed.entry, sealed.prev_hash, sealed.hash)

    def audit_page(self, query: AuditQuery, limit: int, *, newest_first: bool = True) -> list[Sealed]:
        order = AuditRow.id.desc() if newest_first else AuditRow.id.asc()
        with self.engine.connect() as conn:
            rows = conn.execute(_where(select(AuditRow), query).order_by(order).limit(limit)).all()
        return [_sealed(r) for r in rows]

    def audit_head(self) -> tuple[int | None, str]:
        """The newest entry's id and hash (``None`` and GENESIS while the log is empty)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(AuditRow.id, AuditRow.hash).order_by(AuditRow.id.desc()).limit(1)).first()
        return (row.id, row.hash) if row else (None, GENESIS)

    def audit_table_exists(self) -> bool:
        return inspect(self.engine).has_table(AuditRow.__tablename__)

    def _all_rows(self) -> Iterator[Sealed | Exception]:
        """Every row in id order, read in chunks (a row that is not an entry any more: a ValueError naming it)."""
        last = 0
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(select(AuditRow).where(AuditRow.id > last).order_by(AuditRow.id).limit(CHUNK)).all()
            if not rows:
                return
            for row in rows:
                try:
                    yield _sealed(row)
                except (ValueError, TypeError, AttributeError) as exc:
                    yield ValueError(str(exc), row.id)
                    return
                last = row.id

    def verify_audit(self) -> Verification:
        """Walk the whole chain from the first entry (blocking; safe on any thread)."""
        return verify(self._all_rows())
