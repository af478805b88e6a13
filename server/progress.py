"""An invited application follows its interview: interviewing, interviewed, and HR's decision on the report.

A listener on every session's events (attached with the report listener):
the candidate's media first flowing moves the application to
``interviewing``, ``interview.ended`` to ``interviewed``, and a
``decision.recorded`` on the session's report is the application's decision
(a person's, named on the timeline). Sessions without an application (free
talk, load tests) cost one lookup on those three events.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone
from typing import Any

from applications.pipeline import Status, TransitionError, allowed, apply
from db import AsyncStore
from events import DecisionRecorded, Event, InterviewEnded, MediaFlowing

log = logging.getLogger(__name__)


class ApplicationProgress:
    def __init__(self, store: AsyncStore) -> None:
        self.store = store
        self.lock = asyncio.Lock()  # one step at a time: events of one session arrive in order
        self._tasks: set[asyncio.Task[None]] = set()

    def on_event(self, event: Event) -> None:
        payload = event.payload
        if isinstance(payload, MediaFlowing):
            step: tuple[str, str, str | None, str | None, dict[str, Any]] = ("start_interview", "system", None, None, {})
        elif isinstance(payload, InterviewEnded):
            step = ("end_interview", "system", None, None, {"questions": payload.questions})
        elif isinstance(payload, DecisionRecorded):
            step = ("decide", "hr", payload.decision, payload.reason, {"decision_number": payload.number})
        else:
            return
        task = asyncio.get_running_loop().create_task(self._step(event.session_id, *step), name="application-progress")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _step(
        self, session_id: str, action: str, actor: str, outcome: str | None, reason: str | None, details: dict[str, Any]
    ) -> None:
        store = self.store.store
        try:
            async with self.lock:
                record = await self.store.run(store.application_for_session, session_id)
                if record is None:
                    return
                status = Status(record.state, record.outcome)  # type: ignore[arg-type]
                if action == "start_interview" and status.state == "interviewing":
                    return  # the candidate reconnected: still the same interview
                if allowed(status, action, actor) is not None:
                    return  # e.g. a reconnect's media.flowing while already interviewing, or a withdrawn application
                new, entry = apply(
                    status, action, actor=actor, actor_id="hr" if actor == "hr" else None,
                    at=datetime.now(timezone.utc), outcome=outcome, reason=reason,
                    details={"session_id": session_id, **details},
                )
                await self.store.run(
                    store.move_application, record.id, expect_state=record.state, state=new.state,
                    outcome=new.outcome, entry=entry.to_dict(),
                )
        except TransitionError:
            return
        except Exception:
            log.exception("application progress for session %s failed", session_id)

    async def drain(self, timeout: float) -> None:
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)
