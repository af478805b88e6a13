"""Erasure: a candidate's personal data deleted everywhere, in one transaction, leaving an anonymous tombstone.

:meth:`ErasureRepository.erase_candidate` deletes every row that is about the
candidate (their profile, applications and timelines, contacts, inbound
messages, outcomes, automation actions, sessions with their tokens, event
logs, reports and decisions, outbox deliveries that carry them, the job
boards' stored answers), scrubs the upload batches' per-file results that
name them, forgets their data keys (the candidate id and every session id
are vault subjects: what another copy still holds sealed becomes unreadable),
and writes:

* ``candidate_tombstones``: the candidate id (a random token, nothing about
  the person), when and why it was erased, and counts of what was deleted,
  so a second request answers "already erased" and the audit trail's ids
  still resolve to "erased";
* ``erased_applications``: one anonymous row per erased application, so
  that the funnel and the dashboard (analytics) keep counting it. It has a
  fresh random id (not the application's: the audit trail and the HRIS know
  that one), the job, the source, the day it was received and its timeline
  reduced to what moved (action, from, to, outcome, actor kind, the day).
  No name, contact, resume, answer, score, reason or free text.

The audit trail (``audit_log``) is never touched: it holds ids only and its
hash chain must still verify after an erasure.

SQLite: ``PRAGMA secure_delete=ON`` (db/base.py) zeroes deleted content in
the pages it rewrites; :meth:`ErasureRepository.checkpoint` then copies the
WAL into the file and truncates it, so no old page image stays in ``-wal``.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable

from sqlalchemy import JSON, DateTime, MetaData, String, Table, cast, delete, func, inspect, or_, select
from sqlalchemy import String as SAString
from sqlalchemy.orm import Mapped, Session, mapped_column

from events import CONSENT_GIVEN, CONSENT_WITHDRAWN, TRANSCRIPT_FINAL

from .applications import FILES as BATCH_FILES, ApplicationEventRow, ApplicationRow, BatchRow, InboundRow, state_counts
from .automation import ActionRow
from .base import Base, Repository, aware, utcnow
from .candidates import CandidateRow
from .contacts import ContactRow, InboundMessageRow
from .events import EventRow
from .outcomes import OutcomeRow
from .reports import DecisionRow, ReportRow
from .selfid import SelfIdRow
from .sessions import CandidateSessionRow, SessionRow, SessionTokenRow

log = logging.getLogger(__name__)

# Tables other modules define that hold rows about a candidate, by the column that names them.
OUTBOX_TABLE = "outbox_deliveries"  # sinks/outbox.py (db imports nothing from sinks)
OUTBOX_ATTEMPTS_TABLE = "outbox_attempts"

REASONS = ("request", "candidate", "retention")  # HR's DELETE, the candidate's own page, the retention purge


class TombstoneRow(Base):
    """What is left of an erased candidate: nothing that identifies them."""

    __tablename__ = "candidate_tombstones"

    candidate_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    erased_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(String(16))
    counts: Mapped[dict] = mapped_column(JSON)  # what was deleted, by kind


class ErasedApplicationRow(Base):
    """An erased application as statistics: the funnel keeps counting it, nobody can tell whose it was."""

    __tablename__ = "erased_applications"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # fresh, random: not the application's id
    job_id: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[str | None] = mapped_column(String(64), nullable=True)
    received_on: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)  # the day, 00:00 UTC
    state: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    timeline: Mapped[list] = mapped_column(JSON)  # [{action, from, to, outcome, actor, at (the day)}]
    erased_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RetentionMarkRow(Base):
    """Sessions whose recordings the retention purge has deleted (so the hook is asked once)."""

    __tablename__ = "retention_marks"

    session_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    recordings_purged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class Tombstone:
    candidate_id: str
    erased_at: datetime
    reason: str
    counts: dict[str, int]
    session_ids: tuple[str, ...] = ()  # this erasure's sessions (not stored: for the hooks)
    external_id: str | None = None  # the bank's id, for the candidate.erased message only (not stored)
    already: bool = False  # erased before this call

    def to_dict(self) -> dict[str, Any]:
        return {"candidate_id": self.candidate_id, "erased_at": self.erased_at.isoformat(), "reason": self.reason,
                "counts": dict(self.counts)}


# Called inside the erasure's transaction with (db, tombstone): the place to enqueue candidate.erased.
ErasureHook = Callable[[Session, Tombstone], None]


def _day(value: datetime) -> datetime:
    value = aware(value)
    return value.replace(hour=0, minute=0, second=0, microsecond=0)


def _anonymous_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """A timeline entry as statistics: what moved and on which day; no reason, details, or person."""
    at = entry.get("at")
    try:
        day = _day(datetime.fromisoformat(str(at))).isoformat() if at else None
    except ValueError:
        day = None
    return {"action": entry.get("action"), "from": entry.get("from"), "to": entry.get("to"),
            "outcome": entry.get("outcome"), "actor": entry.get("actor"), "at": day}


def _step(entry: dict[str, Any]) -> dict[str, Any]:
    """A timeline entry as the candidate sees it: what happened and when (a message's channel); no reason or person."""
    step = {"action": entry.get("action"), "to": entry.get("to"), "at": entry.get("at")}
    if entry.get("action") in ("message_out", "message_in"):
        step["channel"] = (entry.get("details") or {}).get("channel")
    return step


def _like_any(column: Any, ids: Iterable[str]) -> Any:
    """column's text contains any of the ids (LIKE with _ and % escaped)."""
    clauses = []
    for value in ids:
        escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        clauses.append(cast(column, SAString).like(f"%{escaped}%", escape="\\"))
    return or_(*clauses) if clauses else None


def _table(db: Session, name: str) -> Table | None:
    """Another module's table, by name: from the metadata where imported, else reflected; None where absent."""
    table = Base.metadata.tables.get(name)
    bind = db.connection()
    if not inspect(bind).has_table(name):
        return None
    return table if table is not None else Table(name, MetaData(), autoload_with=bind)


class ErasureRepository(Repository):
    """Erasing candidates, the retention purge's queries, and the anonymous statistics erasure leaves."""

    erasure_hooks: list[Callable[[str, tuple[str, ...]], Any]]  # after an erasure commits: (candidate_id, session_ids)
    recording_purge_hooks: list[Callable[[tuple[str, ...]], int]]  # the retention purge: session ids -> files deleted

    # -- erase -------------------------------------------------------------------------------
    def tombstone(self, candidate_id: str) -> Tombstone | None:
        with Session(self.engine) as db:
            row = db.get(TombstoneRow, candidate_id)
            return _tombstone(row, already=True) if row is not None else None

    def erase_candidate(
        self, candidate_id: str, *, reason: str = "request", now: datetime | None = None, on_erase: ErasureHook | None = None
    ) -> Tombstone | None:
        """Delete everything about the candidate in one transaction; the tombstone (``already`` when erased
        before), or None if there never was such a candidate. ``on_erase`` runs inside the transaction."""
        if reason not in REASONS:
            raise ValueError(f"reason is one of {', '.join(REASONS)}")
        now = now or utcnow()
        with Session(self.engine) as db, db.begin():
            done = db.get(TombstoneRow, candidate_id)
            if done is not None:
                return _tombstone(done, already=True)
            candidate = db.get(CandidateRow, candidate_id, with_for_update=True)
            if candidate is None:
                # Another erasure (a second node's purge, a second DELETE) held the row and committed while this
                # one waited for it: it is erased, and the answer is its tombstone, not "no such candidate".
                done = db.get(TombstoneRow, candidate_id, populate_existing=True)
                return _tombstone(done, already=True) if done is not None else None
            counts: dict[str, int] = {}

            def count(kind: str, result: Any) -> None:
                counts[kind] = counts.get(kind, 0) + int(result.rowcount or 0)

            apps = list(db.scalars(select(ApplicationRow).where(ApplicationRow.candidate_id == candidate_id)))
            app_ids = [a.id for a in apps]
            session_ids = set(db.scalars(select(CandidateSessionRow.session_id).where(CandidateSessionRow.candidate_id == candidate_id)))
            session_ids |= {a.session_id for a in apps if a.session_id}
            sids = sorted(session_ids)
            action_ids = list(db.scalars(select(ActionRow.id).where(ActionRow.application_id.in_(app_ids)))) if app_ids else []

            # The statistics first, from the rows about to go.
            for app in apps:
                timeline = self.timeline(app.id)  # type: ignore[attr-defined]  # its repository's reader (opens what is sealed)
                db.add(ErasedApplicationRow(
                    id=f"erased_{secrets.token_urlsafe(9)}", job_id=app.job_id, source=app.source,
                    received_on=_day(app.created_at), state=app.state, outcome=app.outcome,
                    timeline=[_anonymous_entry(e) for e in timeline], erased_at=now,
                ))

            # Outbox deliveries that carry them: by key (a session's reports and decisions, automation's
            # messages, SuccessFactors' f"{application_id}:{state}") or by an id in the body. Sent or not.
            outbox = _table(db, OUTBOX_TABLE)
            if outbox is not None:
                ids = [candidate_id, *app_ids, *sids]
                keyed = [outbox.c.key.in_([*sids, *action_ids])] if (sids or action_ids) else []
                if "subject" in outbox.c:  # sealed for them (sinks/outbox.py): the row names its subject
                    keyed.append(outbox.c.subject.in_([candidate_id, *sids]))
                keyed += [outbox.c.key.like(f"{a.replace('_', chr(92) + '_')}:%", escape="\\") for a in app_ids]
                body = _like_any(outbox.c.body, ids)
                which = or_(*keyed, body) if body is not None else or_(*keyed)
                doomed = select(outbox.c.id).where(which)
                attempts = _table(db, OUTBOX_ATTEMPTS_TABLE)
                if attempts is not None:
                    db.execute(delete(attempts).where(attempts.c.delivery_id.in_(doomed)))
                count("outbox_deliveries", db.execute(delete(outbox).where(which)))

            # The bias audit's voluntary self-identification (db/selfid.py): by candidate, application or session.
            whose = [SelfIdRow.candidate_id == candidate_id]
            if app_ids:
                whose.append(SelfIdRow.application_id.in_(app_ids))
            if sids:
                whose.append(SelfIdRow.session_id.in_(sids))
            count("self_identification", db.execute(delete(SelfIdRow).where(or_(*whose))))
            if app_ids:
                count("contacts", db.execute(delete(ContactRow).where(ContactRow.application_id.in_(app_ids))))
                count("inbound_messages", db.execute(delete(InboundMessageRow).where(InboundMessageRow.application_id.in_(app_ids))))
                count("outcomes", db.execute(delete(OutcomeRow).where(OutcomeRow.application_id.in_(app_ids))))
                count("automation_actions", db.execute(delete(ActionRow).where(ActionRow.application_id.in_(app_ids))))
                count("timeline_entries", db.execute(delete(ApplicationEventRow).where(ApplicationEventRow.application_id.in_(app_ids))))
                # A job board's stored first answer is the application as JSON, sealed for the candidate.
                inbound = or_(InboundRow.subject == candidate_id, _like_any(InboundRow.answer, app_ids))
                count("inbound_deliveries", db.execute(delete(InboundRow).where(inbound)))
                # Upload batches: the per-file results that name them keep their place, not their file name.
                scrubbed = 0
                # The results are sealed for the batch (db/applications.py): open each batch of their jobs, scrub, seal again.
                jobs = sorted({a.job_id for a in apps})
                for batch in db.scalars(select(BatchRow).where(BatchRow.job_id.in_(jobs))):
                    files, changed = [], False
                    for f in self._open(db, batch.id, BATCH_FILES, batch.files, erased=[]):  # type: ignore[attr-defined]
                        if isinstance(f, dict) and f.get("application_id") in app_ids:
                            f = {"index": f.get("index"), "status": "erased"}
                            scrubbed += 1
                            changed = True
                        files.append(f)
                    if changed:
                        batch.files = self._seal(db, batch.id, BATCH_FILES, files)  # type: ignore[attr-defined]
                counts["batch_files"] = scrubbed
            if sids:
                count("events", db.execute(delete(EventRow).where(EventRow.session_id.in_(sids))))
                count("reports", db.execute(delete(ReportRow).where(ReportRow.session_id.in_(sids))))
                count("decisions", db.execute(delete(DecisionRow).where(DecisionRow.session_id.in_(sids))))
                db.execute(delete(SessionTokenRow).where(SessionTokenRow.session_id.in_(sids)))
                db.execute(delete(CandidateSessionRow).where(CandidateSessionRow.session_id.in_(sids)))
                db.execute(delete(RetentionMarkRow).where(RetentionMarkRow.session_id.in_(sids)))
            db.execute(delete(CandidateSessionRow).where(CandidateSessionRow.candidate_id == candidate_id))
            if app_ids:
                count("applications", db.execute(delete(ApplicationRow).where(ApplicationRow.id.in_(app_ids))))
            if sids:
                count("sessions", db.execute(delete(SessionRow).where(SessionRow.id.in_(sids))))
            external_id = candidate.external_id
            db.delete(candidate)
            counts["candidates"] = 1
            # Crypto-shredding: the data keys of the candidate and of each session (vault/).
            vault = getattr(self, "vault", None)
            forgotten = 0
            if vault is not None:
                for subject in (candidate_id, *sids):
                    forgotten += 1 if vault.forget(subject, db=db) else 0
            counts["data_keys"] = forgotten
            row = TombstoneRow(candidate_id=candidate_id, erased_at=now, reason=reason, counts=counts)
            db.add(row)
            db.flush()
            stone = Tombstone(candidate_id, now, reason, dict(counts), tuple(sids), external_id)
            if on_erase is not None:
                on_erase(db, stone)
        return stone

    def applications_of(self, candidate_id: str) -> list[Any]:
        """The candidate's applications (ApplicationRecord, opened), oldest first."""
        with Session(self.engine) as db:
            return [self._record(r, db) for r in db.scalars(select(ApplicationRow).where(  # type: ignore[attr-defined]
                ApplicationRow.candidate_id == candidate_id).order_by(ApplicationRow.created_at))]

    def application_sessions_of(self, candidate_id: str) -> list[str]:
        """The sessions the candidate's applications' invites made."""
        with Session(self.engine) as db:
            return [s for s in db.scalars(select(ApplicationRow.session_id).where(
                ApplicationRow.candidate_id == candidate_id, ApplicationRow.session_id.is_not(None)))]

    def checkpoint(self, tries: int = 20) -> bool:
        """SQLite: copy the WAL into the database file and truncate it (no old page images left in ``-wal``).

        True when done (always on other databases); False when readers kept it from completing ``tries`` times.
        """
        if self.engine.dialect.name != "sqlite":
            return True
        for attempt in range(tries):
            with self.engine.connect() as conn:
                busy = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()[0]
            if not busy:
                return True
            time.sleep(0.05 * (attempt + 1))
        log.warning("WAL checkpoint after erasure: readers kept it from completing")
        return False

    # -- the candidate's own view ----------------------------------------------------------------
    def session_for_any_token(self, candidate_token: str) -> SessionRow | None:
        """The session a candidate token opens (whichever session it is), or None."""
        from .base import token_hash

        with Session(self.engine, expire_on_commit=False) as db:
            row = db.scalar(
                select(SessionRow).join(SessionTokenRow, SessionTokenRow.session_id == SessionRow.id)
                .where(SessionTokenRow.token_hash == token_hash(candidate_token))
            )
            if row is not None:
                db.expunge(row)
            return row

    def candidate_of(self, session_id: str) -> str | None:
        """The candidate a session interviewed: its link, or its application's candidate."""
        with Session(self.engine) as db:
            link = db.get(CandidateSessionRow, session_id)
            if link is not None:
                return link.candidate_id
            return db.scalar(select(ApplicationRow.candidate_id).where(ApplicationRow.session_id == session_id))

    def candidate_data(self, candidate_id: str) -> dict[str, Any] | None:
        """Everything the candidate's own page shows and lets them download (see docs/retention.md).

        Read through the other repositories' own methods (get_candidate, timeline, contacts,
        read_events...), so what they store sealed (vault/) comes back open here too.
        """
        store: Any = self
        candidate = store.get_candidate(candidate_id)
        if candidate is None:
            return None
        apps = self.applications_of(candidate_id)
        sids = sorted(set(candidate.sessions) | {a.session_id for a in apps if a.session_id})
        applications = []
        for app in apps:
            job = store.get_job(app.job_id, app.job_version)
            entries = store.timeline(app.id)
            applications.append({
                "id": app.id,
                "job": {"id": app.job_id, "title": job.body.get("title") if job is not None else None},
                "state": app.state,
                "received_at": app.created_at.isoformat(),
                "source": app.source,
                "contacts": store.contacts(app.id),
                "resume": {"filename": (app.resume or {}).get("filename"), "text": store.resume_text(app.id)},
                "timeline": [_step(e) for e in entries],
                "messages_sent": [
                    {"at": e.get("at"), "channel": (e.get("details") or {}).get("channel"), "template": (e.get("details") or {}).get("template")}
                    for e in entries if e.get("action") == "message_out"
                ],
            })
        sessions = []
        for sid in sids:
            session = store.get_session(sid)
            if session is None:
                continue
            events = store.read_events(sid, 0, None, (CONSENT_GIVEN, CONSENT_WITHDRAWN, TRANSCRIPT_FINAL))
            consents = [
                {"event": str(e.type), "at": datetime.fromtimestamp(e.wall_time, tz=timezone.utc).isoformat(),
                 **{k: v for k, v in e.payload.to_dict().items() if k in ("policy", "voice", "face", "emotion", "given_at")}}
                for e in events if e.type != TRANSCRIPT_FINAL
            ]
            answers = [{"text": e.payload.text, "start": e.payload.start, "end": e.payload.end}
                       for e in events if e.type == TRANSCRIPT_FINAL]
            sessions.append({
                "id": sid, "created_at": session.created_at.isoformat(), "state": session.state, "job_id": session.job_id,
                "consent": consents, "answers": answers, "report_exists": store.get_report(sid) is not None,
            })
        return {
            "candidate": {"id": candidate.id, "created_at": candidate.created_at.isoformat(), "profile": dict(candidate.profile)},
            "applications": applications,
            "sessions": sessions,
        }

    # -- retention ----------------------------------------------------------------------------------
    def candidates_expired(self, now: datetime, months_for: Callable[[str | None], int | None]) -> list[str]:
        """Candidates whose last activity is older than their jobs' retention (``months_for(job_id)``; None: kept).

        The last activity is the latest change of any of their applications (their campaign's end for them),
        or of the candidate and their sessions where they have no application. With applications to several
        jobs, each job's period must have passed (the longest wins).
        """
        last: dict[str, list[tuple[str | None, datetime]]] = {}
        with Session(self.engine) as db:
            # Two grouped queries, not one per candidate: the purge must not hold the store long.
            for candidate_id, job_id, changed in db.execute(
                select(ApplicationRow.candidate_id, ApplicationRow.job_id, func.max(ApplicationRow.updated_at))
                .group_by(ApplicationRow.candidate_id, ApplicationRow.job_id)
            ):
                last.setdefault(candidate_id, []).append((job_id, aware(changed)))
            without = select(CandidateRow.id, CandidateRow.updated_at).where(
                CandidateRow.id.not_in(select(ApplicationRow.candidate_id)))
            for candidate_id, changed in db.execute(without):
                last[candidate_id] = [(None, aware(changed))]
            for candidate_id, job_id, created in db.execute(
                select(CandidateSessionRow.candidate_id, SessionRow.job_id, func.max(SessionRow.created_at))
                .join(SessionRow, SessionRow.id == CandidateSessionRow.session_id)
                .group_by(CandidateSessionRow.candidate_id, SessionRow.job_id)
            ):
                if candidate_id in last and last[candidate_id][0][0] is None:  # only those without applications
                    last[candidate_id].append((job_id, aware(created)))
        due = []
        for candidate_id, pairs in last.items():
            expired = True
            for job_id, changed in pairs:
                months = months_for(job_id)
                if months is None or changed + timedelta(days=30.44 * months) > now:
                    expired = False
                    break
            if expired:
                due.append(candidate_id)
        return sorted(due)

    def recordings_expired(self, now: datetime, days_for: Callable[[str | None], int | None]) -> list[str]:
        """Sessions decided more than ``days_for(job_id)`` days ago whose recordings were not purged yet."""
        due = []
        with Session(self.engine) as db:
            marked = select(RetentionMarkRow.session_id)
            rows = db.execute(
                select(DecisionRow.session_id, func.max(DecisionRow.created_at), SessionRow.job_id)
                .join(SessionRow, SessionRow.id == DecisionRow.session_id)
                .where(DecisionRow.session_id.not_in(marked))
                .group_by(DecisionRow.session_id, SessionRow.job_id)
            )
            for session_id, decided_at, job_id in rows:
                days = days_for(job_id)
                if days is not None and aware(decided_at) + timedelta(days=days) <= now:
                    due.append(session_id)
        return sorted(due)

    def mark_recordings_purged(self, session_ids: Iterable[str], now: datetime) -> None:
        with Session(self.engine) as db, db.begin():
            for sid in session_ids:
                if db.get(RetentionMarkRow, sid) is None:
                    db.add(RetentionMarkRow(session_id=sid, recordings_purged_at=now))

    # -- statistics -------------------------------------------------------------------------------------
    def erased_analytics_rows(self, *, job_id: str | None = None, since: datetime | None = None, until: datetime | None = None) -> list[Any]:
        """The erased applications as :class:`analytics.Row` (no scores, no later outcome), for the dashboard."""
        from analytics import Row

        query = select(ErasedApplicationRow)
        if job_id:
            query = query.where(ErasedApplicationRow.job_id == job_id)
        if since is not None:
            query = query.where(ErasedApplicationRow.received_on >= _day(since))
        if until is not None:
            query = query.where(ErasedApplicationRow.received_on < until)
        with Session(self.engine) as db:
            return [
                Row(id=r.id, job_id=r.job_id, source=r.source, created_at=aware(r.received_on), state=r.state, outcome=r.outcome,
                    timeline=[dict(e) for e in r.timeline])
                for r in db.scalars(query.order_by(ErasedApplicationRow.received_on, ErasedApplicationRow.id))
            ]

    def erased_counts(self, job_id: str | None = None) -> dict[str, int]:
        """Erased applications per final state (as :meth:`counts_by_state` keys them)."""
        query = select(ErasedApplicationRow.state, ErasedApplicationRow.outcome, func.count()).group_by(
            ErasedApplicationRow.state, ErasedApplicationRow.outcome)
        if job_id:
            query = query.where(ErasedApplicationRow.job_id == job_id)
        return state_counts(self.engine, query)

    def tombstone_count(self) -> int:
        with Session(self.engine) as db:
            return int(db.scalar(select(func.count()).select_from(TombstoneRow)) or 0)


def _tombstone(row: TombstoneRow, *, already: bool) -> Tombstone:
    return Tombstone(row.candidate_id, aware(row.erased_at), row.reason, dict(row.counts), already=already)


__all__ = [
    "ErasedApplicationRow",
    "ErasureHook",
    "ErasureRepository",
    "RetentionMarkRow",
    "Tombstone",
    "TombstoneRow",
]
