"""Automation's actions: one row per (rule, action, application, triggering timeline entry).

A row is written in the transaction that adds the timeline entry which
triggers it (``ApplicationRepository.entry_hooks``), so an event and its
actions commit together or not at all. Its id is derived from what it is, so
scheduling it twice is a no-op. ``due_at`` is when it runs (a timer is just
a later ``due_at``: it survives restarts with the row). A worker claims due
rows with a lease; one that dies leaves the lease to run out and another
takes the row again. The row's final state is written in the same
transaction as what the action sent (outbox rows) and noted (timeline).

States: ``scheduled``, ``done``, ``skipped`` (its condition was not met when
it fell due), ``failed`` (it could not be done: no channel, no contact; the
reason is on the application's timeline) and ``cancelled`` (HR stopped it).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Integer, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from .base import Base, Repository, aware

SCHEDULED, DONE, SKIPPED, FAILED, CANCELLED = "scheduled", "done", "skipped", "failed", "cancelled"
ACTION_STATES = (SCHEDULED, DONE, SKIPPED, FAILED, CANCELLED)


class ActionRow(Base):
    __tablename__ = "automation_actions"
    __table_args__ = (Index("ix_automation_due", "state", "due_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    application_id: Mapped[str] = mapped_column(String(64), index=True)
    job_id: Mapped[str] = mapped_column(String(64))
    job_version: Mapped[int] = mapped_column(Integer)
    rule_id: Mapped[str] = mapped_column(String(64))
    index: Mapped[int] = mapped_column(Integer)  # the action's place in the rule's do list
    action: Mapped[str] = mapped_column(String(32))
    args: Mapped[dict] = mapped_column(JSON)
    condition: Mapped[str | None] = mapped_column(String(500), nullable=True)
    trigger: Mapped[str] = mapped_column(String(32))  # the event: screened, invited, decided...
    trigger_entry: Mapped[int] = mapped_column(Integer)  # the timeline entry's id
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(16), default=SCHEDULED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    lease_owner: Mapped[str | None] = mapped_column(String(128), nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(300), nullable=True)  # no personal data
    result: Mapped[dict] = mapped_column(JSON, default=dict)  # delivery ids, session id, why skipped
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def action_id(application_id: str, rule_id: str, index: int, trigger_entry: int) -> str:
    material = json.dumps([application_id, rule_id, index, trigger_entry], separators=(",", ":"))
    return "act_" + hashlib.sha256(material.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class ActionRecord:
    id: str
    application_id: str
    job_id: str
    job_version: int
    rule_id: str
    index: int
    action: str
    args: dict[str, Any]
    condition: str | None
    trigger: str
    trigger_entry: int
    due_at: datetime
    state: str
    attempts: int
    last_error: str | None
    result: dict[str, Any]
    created_at: datetime
    updated_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "rule": self.rule_id,
            "action": self.action,
            "args": dict(self.args),
            "if": self.condition,
            "trigger": self.trigger,
            "job_version": self.job_version,
            "due_at": self.due_at.isoformat(),
            "state": self.state,
            "attempts": self.attempts,
            "last_error": self.last_error,
            "result": dict(self.result),
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


def action_record(row: ActionRow) -> ActionRecord:
    return ActionRecord(
        id=row.id, application_id=row.application_id, job_id=row.job_id, job_version=row.job_version,
        rule_id=row.rule_id, index=row.index, action=row.action, args=dict(row.args), condition=row.condition,
        trigger=row.trigger, trigger_entry=row.trigger_entry, due_at=aware(row.due_at), state=row.state,
        attempts=row.attempts, last_error=row.last_error, result=dict(row.result or {}),
        created_at=aware(row.created_at), updated_at=aware(row.updated_at),
    )


class AutomationRepository(Repository):
    """Reading and cancelling actions; the automation engine claims and finishes them in its own transactions."""

    def actions_of(self, application_id: str) -> list[ActionRecord]:
        with Session(self.engine) as db:
            rows = db.scalars(
                select(ActionRow).where(ActionRow.application_id == application_id)
                .order_by(ActionRow.trigger_entry, ActionRow.created_at, ActionRow.index, ActionRow.id)
            )
            return [action_record(r) for r in rows]

    def cancel_action(self, action_id_: str, now: datetime) -> ActionRecord | None:
        """Stop a scheduled action (a timer HR do not want); None if there is none, the record as it is otherwise."""
        with Session(self.engine) as db, db.begin():
            db.execute(
                update(ActionRow)
                .where(ActionRow.id == action_id_, ActionRow.state == SCHEDULED)
                .values(state=CANCELLED, updated_at=now, locked_until=None, lease_owner=None)
            )
            row = db.get(ActionRow, action_id_)
            return action_record(row) if row is not None else None
