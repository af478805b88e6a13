"""The automation engine: schedules a job's rules on an application's events and runs their actions.

Two halves, as in the outbox:

* :meth:`AutomationEngine.on_entry` runs inside the transaction that adds a
  timeline entry (``Store.entry_hooks``): it writes one ``automation_actions``
  row per action of each rule the entry triggers, due now or after the
  rule's delay. The event and its actions commit together: a crash between
  them loses nothing.
* A worker task claims due rows with a lease, reads the application as it
  is now, evaluates the rule's condition, does the action and, in one
  transaction, enqueues what it sends (outbox rows, keyed by the action's
  id, so a re-run enqueues the same rows), notes it on the application's
  timeline and marks the row done. A worker that dies mid-action leaves its
  lease to run out; the next worker (after a restart) runs the action again
  and finds its earlier steps done (an invite that already moved the
  application reuses its session), so nothing is sent twice. Sending is the
  outbox's: at least once, with one id per message that e-mail
  (``Message-ID``) and WeCom (its duplicate check) use so a person sees one.

Timers are rows with a later ``due_at``: they survive restarts, and the
engine's ``clock`` is settable (tests drive 48 hours in a step).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Awaitable, Callable

from pydantic import ValidationError
from sqlalchemy import or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from applications.pipeline import Status, note
from db import ApplicationRecord, AsyncStore, aware, utcnow
from db.applications import ApplicationEventRow, ApplicationRow
from db.base import after_commit
from db.automation import DONE, FAILED, SCHEDULED, SKIPPED, ActionRecord, ActionRow, action_id, action_record
from db.catalog import JobRow
from jobs.models import Job
from sinks import Outbox, successfactors
from sinks.retry import Backoff

from . import templates as tpl
from .rules import TIMELINE_TO_EVENT, Action, Automation, evaluate

log = logging.getLogger("candor.automation")

MAX_ATTEMPTS = 8  # an action that keeps raising is failed after this many tries (its reason on the timeline)
Inviter = Callable[[ApplicationRecord, dict[str, Any]], Awaitable[ApplicationRecord]]


class ActionFailed(Exception):
    """The action cannot be done as things are (no channel, no contact): failed, with a reason HR read."""


@dataclass(frozen=True)
class AutomationSettings:
    base_url: str
    org_name: str = "Candor"
    feedback: str = "next_step"  # none | next_step | next_step_with_band (issue 11, part 4)
    hr_language: str = "zh"
    timezone: str = "Asia/Shanghai"  # of times written in messages
    enabled: bool = True  # CANDOR_AUTOMATION=false stops scheduling and running everywhere


@dataclass
class Facts:
    """What an action needs to know about its application, read in one go."""

    application: ApplicationRecord
    job: Job | None
    timeline: list[dict[str, Any]]
    contacts: dict[str, str]
    report: dict[str, Any] | None
    session_expires_at: datetime | None
    names: dict[str, Any] = field(default_factory=dict)

    def invite_link(self) -> str | None:
        invites = [e for e in self.timeline if e.get("action") == "invite"]
        return invites[-1].get("details", {}).get("candidate_url") if invites else None

    def language(self) -> str:
        lang = self.application.resume.get("language")
        return lang if lang in tpl.LANGUAGES else "zh"


def contacts_from(record: ApplicationRecord, stored: dict[str, str] | None = None) -> dict[str, str]:
    """The candidate's ways to be reached: what HR or a source stored, else what the resume says."""
    out: dict[str, str] = {}
    personal = (record.parsed or {}).get("personal") or {}
    for kind in ("email", "phone"):
        found = personal.get(kind)
        if isinstance(found, dict) and found.get("value"):
            out[kind] = str(found["value"])
    out.update({k: v for k, v in (stored or {}).items() if v})
    return out


class AutomationEngine:
    def __init__(
        self,
        store: AsyncStore,
        outbox: Outbox,
        settings: AutomationSettings,
        *,
        inviter: Inviter | None = None,
        clock: Callable[[], datetime] = utcnow,
        lease_s: float = 60.0,
        poll_interval_s: float = 1.0,
        backoff: Backoff = Backoff(5.0, 900.0),
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.outbox = outbox
        self.settings = settings
        self.inviter = inviter
        self.clock = clock
        self.lease_s = lease_s
        self.poll_interval_s = poll_interval_s
        self.backoff = backoff
        self.rng = rng or random.Random()
        self.worker_id = f"{socket.gethostname()[:64]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.failure: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._running: set[asyncio.Task[None]] = set()
        self._rules: dict[tuple[str, int], Automation] = {}

    @property
    def engine(self) -> Any:
        return self.store.store.engine

    # -- scheduling (inside the entry's transaction) -------------------------------
    def on_entry(self, db: Session, application: ApplicationRow, entry: ApplicationEventRow) -> None:
        if not self.settings.enabled:
            return
        action = (entry.entry or {}).get("action")
        event = TIMELINE_TO_EVENT.get(action or "")
        if event is None:
            return
        version = db.scalar(select(JobRow.version).where(JobRow.id == application.job_id).order_by(JobRow.version.desc()).limit(1))
        if version is None:
            return
        automation = self._automation(db, application.job_id, version)
        rules = automation.triggered_by(action or "")
        if not rules:
            return
        now = self.clock()
        for rule in rules:
            due = now + timedelta(seconds=rule.delay_s())
            for index, act in enumerate(rule.actions()):
                ident = action_id(application.id, rule.id, index, entry.id)
                if db.get(ActionRow, ident) is not None:
                    continue
                db.add(
                    ActionRow(
                        id=ident, application_id=application.id, job_id=application.job_id, job_version=version,
                        rule_id=rule.id, index=index, action=act.name, args=act.args, condition=rule.if_,
                        trigger=event, trigger_entry=entry.id, due_at=due, state=SCHEDULED, attempts=0,
                        result={}, created_at=now, updated_at=now,
                    )
                )
        db.flush()
        after_commit(db, ("automation", id(self)), self.wake)

    def _automation(self, db: Session, job_id: str, version: int) -> Automation:
        key = (job_id, version)
        found = self._rules.get(key)
        if found is None:
            body = db.get(JobRow, (job_id, version))
            try:
                found = Automation.model_validate((body.body if body else {}).get("automation") or {})
            except ValidationError:
                log.error("job %s v%d: its automation does not validate; its rules are not run", job_id, version)
                found = Automation()
            self._rules[key] = found
        return found

    def wake(self) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._wake.set)

    # -- the worker ---------------------------------------------------------------------
    async def start(self) -> None:
        if self._task is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._closing = False
        self._task = self._loop.create_task(self._run_loop(), name="automation-worker")

    async def close(self, timeout: float = 5.0) -> None:
        self._closing = True
        self._wake.set()
        task, self._task = self._task, None
        if task is not None:
            await asyncio.wait([task])
        if self._running:
            _, late = await asyncio.wait(set(self._running), timeout=timeout)
            for t in late:
                t.cancel()
            await asyncio.gather(*self._running, return_exceptions=True)

    async def run_due(self) -> int:
        """Claim and run what is due now, and wait for it (tests with a settable clock; the worker does this too)."""
        claims = await self.store.run(self._claim, 16)
        for claim in claims:
            self._spawn(claim)
        while self._running:  # the worker's own, started by the same wake-up, too
            await asyncio.gather(*set(self._running), return_exceptions=True)
        return len(claims)

    async def _run_loop(self) -> None:
        while not self._closing:
            self._wake.clear()
            try:
                if len(self._running) < 8 and self.settings.enabled:
                    for claim in await self.store.run(self._claim, 8 - len(self._running)):
                        self._spawn(claim)
            except Exception as exc:  # the database may be busy or away: try again
                log.error("automation tick failed: %s", type(exc).__name__, exc_info=not isinstance(exc, SQLAlchemyError))
            if self._closing:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_interval_s)

    def _spawn(self, claim: ActionRecord) -> asyncio.Task[None]:
        assert self._loop is not None or asyncio.get_running_loop()
        loop = self._loop or asyncio.get_running_loop()
        task = loop.create_task(self._execute(claim), name=f"automation-{claim.id}")
        self._running.add(task)

        def done(t: asyncio.Task[None]) -> None:
            self._running.discard(t)
            self._wake.set()
            if not t.cancelled() and t.exception() is not None:
                log.error("automation action %s failed: %s", claim.id, type(t.exception()).__name__)

        task.add_done_callback(done)
        return task

    def _claim(self, limit: int) -> list[ActionRecord]:
        now = self.clock()
        free = or_(ActionRow.locked_until.is_(None), ActionRow.locked_until <= now)
        claims: list[ActionRecord] = []
        with Session(self.engine) as db:
            due = list(
                db.scalars(
                    select(ActionRow.id)
                    .where(ActionRow.state == SCHEDULED, ActionRow.due_at <= now, free)
                    .order_by(ActionRow.due_at)
                    .limit(limit)
                )
            )
            db.commit()
            for ident in due:
                with db.begin():
                    taken = db.execute(
                        update(ActionRow)
                        .where(ActionRow.id == ident, ActionRow.state == SCHEDULED, free)
                        .values(locked_until=now + timedelta(seconds=self.lease_s), lease_owner=self.worker_id)
                    )
                    if taken.rowcount != 1:  # type: ignore[attr-defined]
                        continue
                    row = db.get(ActionRow, ident)
                    assert row is not None
                    claims.append(action_record(row))
        return claims

    async def _execute(self, action: ActionRecord) -> None:
        try:
            facts = await self.store.run(self._facts, action.application_id)
            if facts is None:
                await self.store.run(self._finish, action, SKIPPED, {"reason": "the application is gone"}, [], [])
                return
            if not evaluate(action.condition, facts.names):
                await self.store.run(self._finish, action, SKIPPED, {"reason": "condition not met"}, [], [])
                return
            state, result, sends, notes = await self._do(action, facts)
            await self.store.run(self._finish, action, state, result, sends, notes)
        except ActionFailed as exc:
            reason = str(exc)
            entry = self._note(action, None, "automation", outcome="failed", reason=reason)
            await self.store.run(self._finish, action, FAILED, {"reason": reason}, [], [entry])
        except Exception as exc:
            await self.store.run(self._retry_later, action, type(exc).__name__)
            log.error("automation action %s (%s): %s", action.id, action.action, type(exc).__name__,
                      exc_info=not isinstance(exc, SQLAlchemyError))

    # -- reading ---------------------------------------------------------------------------
    def _facts(self, application_id: str) -> Facts | None:
        store = self.store.store
        record = store.get_application(application_id)
        if record is None:
            return None
        job_record = store.get_job(record.job_id)
        timeline = store.timeline(application_id)
        stored = store.contacts(application_id) if hasattr(store, "contacts") else {}
        contacts = contacts_from(record, stored)
        report = None
        expires = None
        if record.session_id:
            found = store.get_report(record.session_id)
            report = dict(found.body) if found is not None else None
            session = store.get_session(record.session_id)
            expires = session.expires_at if session is not None else None
        facts = Facts(record, job_record.job() if job_record else None, timeline, contacts, report, expires)
        actions = {e.get("action") for e in timeline}
        facts.names = {
            "state": record.state,
            "band": (record.screening or {}).get("decision"),
            "score": record.score,
            "decision": record.outcome if record.state == "decided" else None,
            "source": record.source,
            "opened": "open" in actions,
            "interviewed": "end_interview" in actions,
            "interview_score": (report or {}).get("overall"),
            "has_email": "email" in contacts,
            "has_phone": "phone" in contacts,
            "has_wecom": "wecom_external" in contacts,
            "language": facts.language(),
        }
        return facts

    # -- doing -------------------------------------------------------------------------------
    async def _do(self, action: ActionRecord, facts: Facts) -> tuple[str, dict[str, Any], list[tuple[str, str, dict[str, Any]]], list[dict[str, Any]]]:
        """What the action sends (channel, type, payload) and notes; nothing is written yet."""
        act = Action(action.action, dict(action.args))
        record = facts.application
        if act.name == "invite":
            if record.state == "screened":
                if self.inviter is None:
                    raise ActionFailed("invites are not available on this server")
                record = await self.inviter(record, {"rule": action.rule_id, "automation_action": action.id})
                facts = await self.store.run(self._facts, record.id) or facts
            elif record.state not in ("invited",):
                return SKIPPED, {"reason": f"the application is {record.state}"}, [], []
            return self._to_candidate(action, act, facts, "invite")
        if act.name == "remind":
            if facts.application.state != "invited":
                return SKIPPED, {"reason": f"the application is {facts.application.state}"}, [], []
            return self._to_candidate(action, act, facts, "reminder")
        if act.name == "notify_candidate":
            if record.state != "decided" or record.outcome is None:
                return SKIPPED, {"reason": "no decision by a person yet"}, [], []
            if self.settings.feedback == "none":
                entry = self._note(action, facts, "automation", outcome="skipped",
                                   reason="the bank's feedback policy: candidates are not told")
                return SKIPPED, {"reason": "feedback policy: none"}, [], [entry]
            return self._to_candidate(action, act, facts, "decision")
        if act.name == "notify_hr":
            return self._to_hr(action, act, facts)
        if act.name == "sync":
            return self._sync(action, act, facts)
        raise ActionFailed(f"unknown action {act.name!r}")

    def _variables(self, facts: Facts, language: str, action: ActionRecord | None = None) -> dict[str, Any]:
        record = facts.application
        job = facts.job
        decision = record.outcome if record.state == "decided" else None
        overall = (facts.report or {}).get("overall")
        with_band = self.settings.feedback == "next_step_with_band" and decision in ("advance", "hold")
        deadline = tpl.local_time(facts.session_expires_at, self.settings.timezone) if facts.session_expires_at else ""
        return {
            "candidate_name": record.name or ("候选人" if language == "zh" else "candidate"),
            "job_title": job.title.get(language) if job else record.job_id,
            "org": self.settings.org_name,
            "invite_link": facts.invite_link() or "",
            "deadline": deadline,
            "decision": decision or "",
            "next_step": tpl.NEXT_STEP[decision][language] if decision in tpl.NEXT_STEP else "",
            "band": tpl.band_of(overall, language) if with_band else "",
            "application_link": f"{self.settings.base_url}/hr/applications/{record.id}",
            "interview_score": round(overall) if isinstance(overall, (int, float)) else None,
            "event": tpl.HR_EVENTS.get(action.trigger if action else "", {}).get(language, action.trigger if action else ""),
        }

    def _templates(self, facts: Facts) -> tpl.Templates:
        return tpl.merged(facts.job.automation.templates if facts.job else None)

    def _to_candidate(self, action: ActionRecord, act: Action, facts: Facts, kind: str):  # type: ignore[no-untyped-def]
        name = str(act.args.get("template") or kind)
        if kind == "decision" and name == "decision":
            name = f"decision_{facts.application.outcome}"
        language = facts.language()
        try:
            message = tpl.render(self._templates(facts), name, language, self._variables(facts, language, action))
        except tpl.TemplateProblem as exc:
            raise ActionFailed(str(exc)) from None
        if kind in ("invite", "reminder") and not facts.invite_link():
            raise ActionFailed("the application has no interview link")
        channel, payload, why_not = self._candidate_channel(act, facts, message)
        if channel is None:
            raise ActionFailed("no way to reach the candidate: " + "; ".join(why_not))
        type_ = f"message.{kind}"
        entry = self._note(action, facts, "message_out", send=0, channel=channel, template=name,
                           language=message.language, type=type_)
        return DONE, {"channel": channel, "template": name}, [(channel, type_, payload)], [entry]

    def _candidate_channel(self, act: Action, facts: Facts, message: tpl.Rendered) -> tuple[str | None, dict[str, Any], list[str]]:
        configured = self.outbox.sinks
        why: list[str] = []
        for choice in act.channels():
            if choice == "email":
                if "email" not in configured:
                    why.append("e-mail is not configured on this server (CANDOR_SMTP_URL)")
                elif "email" not in facts.contacts:
                    why.append("no e-mail address on file")
                else:
                    return "email", {"to": [facts.contacts["email"]], "subject": message.subject, "text": message.text, "html": message.html}, why
            elif choice == "wecom":
                if "wecom-external" not in configured:
                    why.append("WeCom external contacts are not configured (CANDOR_WECOM)")
                elif "wecom_external" not in facts.contacts:
                    why.append("the candidate is not a WeCom contact of the bank")
                else:
                    return "wecom-external", {"external_userid": [facts.contacts["wecom_external"]], "text": {"content": message.text}}, why
            elif choice == "sms":
                if "sms" not in configured:
                    why.append("SMS is not configured on this server")
                elif "phone" not in facts.contacts:
                    why.append("no phone number on file")
                else:
                    return "sms", {"to": facts.contacts["phone"], "text": message.text}, why
        return None, {}, why

    def _to_hr(self, action: ActionRecord, act: Action, facts: Facts):  # type: ignore[no-untyped-def]
        language = self.settings.hr_language
        name = str(act.args.get("template") or "hr_notice")
        try:
            message = tpl.render(self._templates(facts), name, language, self._variables(facts, language, action))
        except tpl.TemplateProblem as exc:
            raise ActionFailed(str(exc)) from None
        configured = self.outbox.sinks
        sends: list[tuple[str, str, dict[str, Any]]] = []
        missing: list[str] = []
        if act.args.get("group"):
            channel = f"wecom-robot-{act.args['group']}"
            if channel in configured:
                sends.append((channel, "message.hr_notice", {"msgtype": "markdown", "markdown": {"content": message.text}}))
            else:
                missing.append(f"no WeCom robot for group {act.args['group']!r} (CANDOR_WECOM robots)")
        if act.args.get("users"):
            if "wecom" in configured:
                sends.append(("wecom", "message.hr_notice", {
                    "touser": str(act.args["users"]), "msgtype": "textcard",
                    "textcard": {"title": message.subject, "description": message.text.replace("**", ""),
                                 "url": self._variables(facts, language)["application_link"], "btntxt": "查看" if language == "zh" else "Open"},
                }))
            else:
                missing.append("the WeCom app is not configured (CANDOR_WECOM)")
        if act.args.get("email"):
            if "email" in configured:
                sends.append(("email", "message.hr_notice", {"to": str(act.args["email"]).split("|"), "subject": message.subject,
                                                              "text": message.text.replace("**", ""), "html": message.html}))
            else:
                missing.append("e-mail is not configured on this server (CANDOR_SMTP_URL)")
        if not sends:
            raise ActionFailed("HR could not be notified: " + "; ".join(missing))
        notes = [self._note(action, facts, "automation", outcome="done", send=i, channel=c, type=t)
                 for i, (c, t, _) in enumerate(sends)]
        return DONE, {"channels": [c for c, _, _ in sends], "missing": missing}, sends, notes

    def _sync(self, action: ActionRecord, act: Action, facts: Facts):  # type: ignore[no-untyped-def]
        target = str(act.args.get("target"))
        if target not in self.outbox.sinks:
            raise ActionFailed(f"{target} is not configured on this server")
        record = facts.application
        report = dict(facts.report or {})
        if record.state == "decided" and not (report.get("decision") or {}).get("decision"):
            report["decision"] = {"decision": record.outcome}  # decided on the application's page, not the report's
        made = successfactors.message_for_application(
            application_id=record.id, source=record.source, external_id=record.external_id, state=record.state,
            status_date=aware(record.updated_at), report=report or None, screening_score=record.score,
            report_url=f"{self.settings.base_url}/hr/applications/{record.id}",
        )
        if made is None:
            return SKIPPED, {"reason": "the application did not come from a SuccessFactors order"}, [], []
        _, payload = made
        entry = self._note(action, facts, "sync", send=0, channel=target, type=successfactors.ASSESSMENT_TYPE)
        return DONE, {"channel": target}, [(target, successfactors.ASSESSMENT_TYPE, payload)], [entry]

    def _note(self, action: ActionRecord, facts: Facts | None, kind: str, *, outcome: str | None = None,
              reason: str | None = None, send: int | None = None, **details: Any) -> dict[str, Any]:
        """A timeline entry for what the action did; ``send``: the index of the message it is about."""
        return {"kind": kind, "reason": reason, "send": send, "details": {"rule": action.rule_id, "action": action.action,
                                                             "automation_action": action.id, "outcome": outcome, **details}}

    # -- writing -----------------------------------------------------------------------------
    def _finish(self, action: ActionRecord, state: str, result: dict[str, Any],
                sends: list[tuple[str, str, dict[str, Any]]], notes: list[dict[str, Any]]) -> None:
        """Everything the action sends and notes, and its end, in one transaction (or none of it)."""
        store = self.store.store
        now = self.clock()
        with Session(self.engine) as db, db.begin():
            row = db.get(ActionRow, action.id, with_for_update=True)
            if row is None or row.state != SCHEDULED or row.lease_owner != self.worker_id:
                return  # our lease ran out and another worker has it (or HR cancelled it)
            app = db.get(ApplicationRow, action.application_id)
            # sealed for the candidate (the message names them), found by erasure through it
            subject = app.candidate_id if app is not None else None
            ids = [self.outbox.enqueue_to(db, channel, type_, action.id, i + 1, payload, subject=subject)
                   for i, (channel, type_, payload) in enumerate(sends)]
            if app is not None:
                status = Status(app.state, app.outcome)  # type: ignore[arg-type]
                for spec in notes:
                    details = dict(spec["details"])
                    index = spec.get("send")
                    if index is not None and index < len(ids):
                        details["delivery_id"] = ids[index]
                    entry = note(status, spec["kind"], actor="system", at=now, reason=spec.get("reason"), details=details)
                    store.add_note(app.id, entry.to_dict(), db=db)
            row.state, row.result = state, {**result, "deliveries": ids} if ids else result
            row.updated_at, row.locked_until, row.lease_owner = now, None, None
            row.attempts += 1
        log.info("automation action %s (%s, rule %s): %s", action.id, action.action, action.rule_id, state)

    def _retry_later(self, action: ActionRecord, error: str) -> None:
        now = self.clock()
        with Session(self.engine) as db, db.begin():
            row = db.get(ActionRow, action.id)
            if row is None or row.state != SCHEDULED or row.lease_owner != self.worker_id:
                return
            row.attempts += 1
            row.last_error = error
            row.locked_until, row.lease_owner, row.updated_at = None, None, now
            if row.attempts >= MAX_ATTEMPTS:
                row.state = FAILED
                app = db.get(ApplicationRow, action.application_id)
                if app is not None:
                    entry = note(Status(app.state, app.outcome), "automation", actor="system", at=now,  # type: ignore[arg-type]
                                 reason=f"gave up after {row.attempts} tries ({error})",
                                 details={"rule": action.rule_id, "action": action.action,
                                          "automation_action": action.id, "outcome": "failed"})
                    self.store.store.add_note(app.id, entry.to_dict(), db=db)
            else:
                row.due_at = now + timedelta(seconds=self.backoff.delay(row.attempts, self.rng) + 1.0)

    async def retry(self, action_id_: str) -> ActionRecord | None:
        """HR's "try again" on a failed (or skipped) action: due now, attempts kept."""

        def work() -> ActionRecord | None:
            now = self.clock()
            with Session(self.engine) as db, db.begin():
                row = db.get(ActionRow, action_id_)
                if row is None:
                    return None
                if row.state in (FAILED, SKIPPED):
                    row.state, row.due_at, row.updated_at = SCHEDULED, now, now
                    row.locked_until = row.lease_owner = None
                return action_record(row)

        found = await self.store.run(work)
        self.wake()
        return found

