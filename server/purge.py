"""Erasure and retention at the server's edge: :class:`Erasure` erases one candidate, :class:`Purge` what expired.

:meth:`Erasure.erase` is the one way a candidate is erased (HR's
``DELETE /v1/candidates/{id}``, the candidate's own "withdraw and delete",
the retention purge): it ends the candidate's live sessions and drops what
this process holds of them, writes out the event log, erases in one
transaction (db/erasure.py) with ``candidate.erased`` queued to the sinks in
the same transaction, runs the registered erasure hooks (recordings delete
their files: ``Store.erasure_hooks``), checkpoints the SQLite WAL, and
records the erasure in the audit trail (ids and counts only).

:class:`Purge` runs once a day (an asyncio task, like the audit anchor) and
from ``python -m server purge [--dry-run]``: recordings of sessions decided
longer ago than the retention's ``recordings_days_after_decision`` (through
``Store.recording_purge_hooks``), and candidates whose last activity is older
than ``personal_data_months_after_campaign`` (the same erasure). Periods: the
policy profile's (server/policy.py), a job's ``retention`` over them.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable

from db import Store
from db.erasure import Tombstone
from events import CANDIDATE_ERASED, CandidateErased
from sinks import Outbox

from .audit import SYSTEM, Actor
from .policy import Policy, Retention

if TYPE_CHECKING:
    from starlette.requests import HTTPConnection

    from .context import Context

log = logging.getLogger("candor.erasure")

PURGE_EVERY_S = 24 * 3600


def erased_payload(stone: Tombstone) -> dict[str, Any]:
    """``candidate.erased``'s data: ids and a time, no personal data."""
    return CandidateErased(
        candidate_id=stone.candidate_id, erased_at=stone.erased_at.isoformat(), reason=stone.reason, external_id=stone.external_id,
    ).to_dict()


ERASURES_SUBJECT = "candor:erasures"  # the data key of candidate.erased messages: never forgotten


def announce(outbox: Outbox | None) -> Callable[[Any, Tombstone], None] | None:
    """The in-transaction hook that queues ``candidate.erased`` for every sink that wants it."""
    if outbox is None:
        return None

    def enqueue(db: Any, stone: Tombstone) -> None:
        # Ids and a time only; sealed for a subject of Candor's own, not the candidate (whose key was just forgotten).
        outbox.enqueue_in(db, CANDIDATE_ERASED, stone.candidate_id, 1, erased_payload(stone), subject=ERASURES_SUBJECT)

    return enqueue


def run_erasure_hooks(store: Store, stone: Tombstone) -> list[str]:
    """Call each of ``store.erasure_hooks`` with (candidate_id, session_ids); the names of those that failed."""
    failed = []
    for hook in list(getattr(store, "erasure_hooks", ())):
        try:
            hook(stone.candidate_id, stone.session_ids)
        except Exception as exc:  # a file store away: say so in the audit entry, never lose the rest
            name = re.sub(r"[^A-Za-z0-9_.:\-]", "", getattr(hook, "__name__", type(hook).__name__))[:64] or "hook"
            log.error("erasure hook %s failed for candidate %s: %s", name, stone.candidate_id, type(exc).__name__)
            failed.append(name)
    return failed


def erase_sync(store: Store, outbox: Outbox | None, candidate_id: str, *, reason: str, now: datetime) -> tuple[Tombstone | None, list[str]]:
    """The blocking part of an erasure (db, hooks, checkpoint): for the purge command and the async shell."""
    stone = store.erase_candidate(candidate_id, reason=reason, now=now, on_erase=announce(outbox))
    if stone is None or stone.already:
        return stone, []
    failed = run_erasure_hooks(store, stone)
    try:
        store.checkpoint()
    except Exception as exc:  # readers in the way: the next checkpoint (SQLite's own, or the next erasure) does it
        log.warning("WAL checkpoint after erasure did not complete: %s", type(exc).__name__)
    return stone, failed


def audit_details(stone: Tombstone, failed: list[str]) -> dict[str, Any]:
    counts = {k: v for k, v in sorted(stone.counts.items()) if isinstance(v, int)}
    return {"reason": stone.reason, **dict(list(counts.items())[:28]), **({"hooks_failed": failed} if failed else {})}


class Erasure:
    """Erases candidates for the running server (see the module docstring)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def sessions_of(self, candidate_id: str) -> list[str]:
        store = self.ctx.store.store

        def find() -> list[str]:
            record = store.get_candidate(candidate_id)
            found = set(record.sessions) if record is not None else set()
            found |= {s for s in store.application_sessions_of(candidate_id)}
            return sorted(found)

        return await self.ctx.store.run(find)

    async def erase(self, candidate_id: str, *, reason: str, by: HTTPConnection | Actor) -> Tombstone | None:
        """Erase the candidate (None: no such candidate; ``already``: erased before, nothing done)."""
        ctx = self.ctx
        store = ctx.store.store
        done = await ctx.store.run(store.tombstone, candidate_id)
        if done is not None:
            return done
        # Live sessions end first, and what they wrote reaches the log before it is deleted.
        for session_id in await self.sessions_of(candidate_id):
            await ctx.sessions.forget(session_id, "erased")
        await ctx.writer.flush()
        stone, failed = await ctx.store.run(erase_sync, store, ctx.outbox, candidate_id, reason=reason, now=ctx.audit.clock())
        if stone is None or stone.already:
            return stone
        await ctx.audit.record(by, str(CANDIDATE_ERASED), "candidate", candidate_id, **audit_details(stone, failed))
        log.info("candidate %s erased (%s): %d applications, %d sessions", candidate_id, reason,
                 stone.counts.get("applications", 0), stone.counts.get("sessions", 0))
        return stone


# -- retention -----------------------------------------------------------------------------------
@dataclass
class PurgeReport:
    """What a purge did (or, dry, would do): counts for the audit trail, ids for the operator."""

    dry_run: bool
    candidates: list[str] = field(default_factory=list)
    recording_sessions: list[str] = field(default_factory=list)
    recordings_deleted: int = 0
    hooks_failed: list[str] = field(default_factory=list)

    def details(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "candidates_erased": len(self.candidates),
                "recording_sessions": len(self.recording_sessions), "recordings_deleted": self.recordings_deleted,
                **({"hooks_failed": self.hooks_failed[:20]} if self.hooks_failed else {})}


def retention_lookup(store: Store, policy: Policy) -> Callable[[str | None], Retention]:
    """job id -> the retention that applies (the policy's, the job's latest ``retention`` over it); cached per purge."""
    cache: dict[str | None, Retention] = {}

    def of(job_id: str | None) -> Retention:
        if job_id not in cache:
            record = store.get_job(job_id) if job_id else None
            cache[job_id] = policy.retention.for_job(record.job() if record is not None else None)
        return cache[job_id]

    return of


def purge_sync(store: Store, outbox: Outbox | None, policy: Policy, now: datetime, *, dry_run: bool = False,
               erase: Callable[[str], Any] | None = None) -> PurgeReport:
    """Find what expired and (unless ``dry_run``) delete it; ``erase`` erases one candidate (default: :func:`erase_sync`)."""
    retention = retention_lookup(store, policy)
    report = PurgeReport(dry_run)
    report.recording_sessions = store.recordings_expired(now, lambda job: retention(job).recordings_days_after_decision)
    report.candidates = store.candidates_expired(now, lambda job: retention(job).personal_data_months_after_campaign)
    if dry_run:
        return report
    if report.recording_sessions:
        for hook in list(getattr(store, "recording_purge_hooks", ())):
            try:
                report.recordings_deleted += int(hook(tuple(report.recording_sessions)) or 0)
            except Exception as exc:
                log.error("recording purge hook failed: %s", type(exc).__name__)
                report.hooks_failed.append(re.sub(r"[^A-Za-z0-9_.:\-]", "", getattr(hook, "__name__", "hook"))[:64] or "hook")
        if not report.hooks_failed:
            store.mark_recordings_purged(report.recording_sessions, now)
    for candidate_id in report.candidates:
        if erase is not None:
            erase(candidate_id)
            continue
        _, failed = erase_sync(store, outbox, candidate_id, reason="retention", now=now)
        report.hooks_failed.extend(failed)
    return report


class Purge:
    """The daily retention purge of the running server."""

    def __init__(self, ctx: Context, *, every_s: float = PURGE_EVERY_S, first_after_s: float = 60.0) -> None:
        self.ctx = ctx
        self.every_s = every_s
        self.first_after_s = first_after_s  # the first run a minute after start, not in the way of it
        self._task: asyncio.Task[None] | None = None
        self.last: PurgeReport | None = None

    async def run(self, *, dry_run: bool = False, by: Actor = SYSTEM) -> PurgeReport:
        """One purge now: recordings through the hooks, then each expired candidate through :class:`Erasure`."""
        ctx = self.ctx
        store = ctx.store.store
        # Candidates are only listed here: each is erased below, live sessions ended and audited one by one.
        # In a thread of its own, not the store's: the scan and the recording hooks' file work take a while.
        report = await asyncio.to_thread(purge_sync, store, ctx.outbox, ctx.policy, ctx.audit.clock(), dry_run=dry_run,
                                         erase=lambda _candidate_id: None)
        if not dry_run:
            erasure = Erasure(ctx)
            for candidate_id in report.candidates:
                await erasure.erase(candidate_id, reason="retention", by=by)
        await ctx.audit.record(by, "retention.purge", "retention", None, **report.details())
        self.last = report
        log.info("retention purge%s: %d candidates, recordings of %d sessions", " (dry run)" if dry_run else "",
                 len(report.candidates), len(report.recording_sessions))
        return report

    def start(self) -> None:
        async def loop() -> None:
            await asyncio.sleep(self.first_after_s)
            while True:
                try:
                    await self.run()
                except Exception:
                    log.exception("retention purge failed")
                await asyncio.sleep(self.every_s)

        self._task = asyncio.get_running_loop().create_task(loop(), name="retention-purge")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None


def purge_command(dry_run: bool, database_url: str | None) -> int:
    """``python -m server purge [--dry-run]``: one purge against the database, outside the server."""
    from audit import Entry, ref
    from db import AsyncStore, utcnow

    from .keys import wrapper_from
    from .policy import PROFILES
    from .settings import Settings

    settings = Settings()
    store = Store(database_url or settings.database_url, master=wrapper_from(settings))
    try:
        # The sinks as configured: candidate.erased rows are queued here; the server's worker sends them.
        outbox = Outbox(AsyncStore(store), list(settings.sinks)) if settings.sinks else None
        policy = PROFILES[settings.policy]
        now = utcnow()
        report = purge_sync(store, outbox, policy, now, dry_run=dry_run)
        if not dry_run:
            for candidate_id in report.candidates:
                store.append_audit(Entry(now, ref(SYSTEM.user), SYSTEM.role, str(CANDIDATE_ERASED), "candidate", ref(candidate_id), None,
                                         {"reason": "retention"}))
        store.append_audit(Entry(now, ref(SYSTEM.user), SYSTEM.role, "retention.purge", "retention", None, None, report.details()))
    finally:
        store.close()
    verb = "would erase" if dry_run else "erased"
    print(f"{verb} {len(report.candidates)} candidates; recordings of {len(report.recording_sessions)} sessions "
          f"{'due' if dry_run else 'purged'} ({report.recordings_deleted} files)")
    return 0
