"""Reports made from the event log: when an interview ends, when a late final
re-scores an answer, on a rebuild and with each decision.

:class:`Reporting` listens to each session's events (attached once, by
:meth:`Reporting.events_for`), writes the report's next version and enqueues
it for the sinks in one transaction. Its lock keeps one report write at a
time, so versions and decisions are numbered in order.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Any, Callable, Coroutine

from db import AsyncStore, DecisionRecord, ReportRecord
from events import DECISION_RECORDED, REPORT_READY, Event, InterviewEnded, ScoreQuestion
from reports import build_report
from sinks import Outbox

from .eventlog import SessionEvents
from .nodes import RemoteEvents
from .live import SessionRegistry
from .problems import Problem

log = logging.getLogger("candor")


def report_json(record: ReportRecord) -> dict[str, Any]:
    return {
        "session_id": record.session_id,
        "version": record.version,
        "created_at": record.created_at.isoformat(),
        "report": record.body,
    }


def decision_json(record: DecisionRecord, report_version: int) -> dict[str, Any]:
    return {
        "session_id": record.session_id,
        "number": record.number,
        "decision": record.decision,
        "reason": record.reason,
        "decided_by": record.decided_by,
        "decided_at": record.created_at.isoformat(),
        "report_version": report_version,
    }


class Reporting:
    """Writes each session's report versions; see the module docstring."""

    def __init__(self, store: AsyncStore, outbox: Outbox, sessions: SessionRegistry) -> None:
        self.store = store
        self.outbox = outbox
        self.sessions = sessions
        self.lock = asyncio.Lock()  # one report write at a time
        self._tasks: set[asyncio.Task[None]] = set()
        # the event streams that have the report listener (a stream, not a session id: with several nodes a
        # session's stream is made again on the node that takes it over)
        self._watched: weakref.WeakSet[SessionEvents] = weakref.WeakSet()
        # Other listeners every session gets with it (the applications' progress).
        self.listeners: list[Callable[[Event], None]] = []

    async def events_for(self, session_id: str) -> SessionEvents | RemoteEvents | None:
        """The session's event stream, with the report listener attached once."""
        events = await self.sessions.events_for(session_id)
        if isinstance(events, SessionEvents) and events not in self._watched:
            self._watched.add(events)
            events.listeners.append(self._on_event)
            events.listeners.extend(self.listeners)
        return events

    def resume(self, session_ids: list[str]) -> None:
        """Report on interviews that ended while no report was written (the process died in between)."""
        for session_id in session_ids:
            self._spawn(self._on_end(session_id))

    async def drain(self, timeout: float) -> None:
        """Wait (a while) for the reports being written."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work, name="report")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_event(self, event: Event) -> None:
        if isinstance(event.payload, InterviewEnded):
            work = self._on_end(event.session_id)
        elif isinstance(event.payload, ScoreQuestion) and event.payload.revision > 0:
            # A late final re-scored an answer: a report already made is made again.
            work = self._on_rescore(event.session_id)
        else:
            return
        self._spawn(work)

    async def _on_rescore(self, session_id: str) -> None:
        try:
            events = await self.sessions.events_for(session_id)
            if events is not None:
                await events.flush()
            async with self.lock:
                if await self.store.run(self.store.store.get_report, session_id) is not None:
                    await self.write(session_id, unless_same=True)
        except Exception:
            log.exception("report for session %s failed", session_id)

    async def _on_end(self, session_id: str) -> None:
        try:
            events = await self.sessions.events_for(session_id)
            if events is not None:
                await events.flush()
            async with self.lock:
                await self.write(session_id, only_first=True)
        except Exception:
            log.exception("report for session %s failed", session_id)

    async def write(
        self, session_id: str, *, only_first: bool = False, unless_same: bool = False,
        decision: tuple[str, str, str] | None = None,
    ) -> tuple[ReportRecord, DecisionRecord | None, bool]:
        """Build the report from the log, store its next version and enqueue it, in one transaction.

        Call it holding :attr:`lock`.
        """
        store = self.store.store
        outbox = self.outbox

        def work() -> tuple[ReportRecord, DecisionRecord | None, bool]:
            record = store.get_session(session_id)
            if record is None:
                raise Problem(404, "Not found", f"no session {session_id!r}")
            job = store.get_job(record.job_id, record.job_version) if record.job_id else None
            bank = store.get_bank(record.bank_id, record.bank_version) if record.bank_id else None
            body = build_report(record, job, bank, store.read_events(session_id))
            decided: list[DecisionRecord | None] = [None]

            def announce(db: Any, report: ReportRecord, made: DecisionRecord | None) -> None:
                decided[0] = made
                if made is not None:
                    outbox.enqueue_in(db, DECISION_RECORDED, session_id, made.number, decision_json(made, report.version))
                outbox.enqueue_in(db, REPORT_READY, session_id, report.version, report_json(report))

            report, written = store.add_report(
                session_id, body, only_first=only_first, unless_same=unless_same, decision=decision, on_write=announce
            )
            return report, decided[0], written

        return await self.store.run(work)
