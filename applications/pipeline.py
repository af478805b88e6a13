"""An application's way through the pre-interview process, as a table of transitions.

``applied → screened (advance | review | pool) → invited → interviewing →
interviewed → decided (advance | hold | reject)``, and ``withdrawn`` from
anywhere (a candidate may still step back after a decision to go on).
Every transition is a :class:`TimelineEntry` (what, who, when, why) on the
application's timeline.

Two rules are the bank's, not the code's convenience:

* Nothing is rejected without a person (PIPL Art. 24): screening may put an
  application in the ``pool``, but only a person's ``confirm_pool`` or
  ``decide`` rejects it, and the entry names that person.
* A person may always overrule the score: HR may invite an application that
  screening put in the pool, and decide at any step after screening.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

State = Literal["applied", "screened", "invited", "interviewing", "interviewed", "decided", "withdrawn"]
STATES: tuple[State, ...] = ("applied", "screened", "invited", "interviewing", "interviewed", "decided", "withdrawn")
SCREENED = ("advance", "review", "pool")  # the outcome of "screened"
DECIDED = ("advance", "hold", "reject")  # the outcome of "decided"
Action = Literal["receive", "screen", "invite", "start_interview", "end_interview", "confirm_pool", "decide", "withdraw"]
# "receive" only starts a timeline (receive()); the others move an application on (apply()).
ACTIONS: tuple[Action, ...] = ("screen", "invite", "start_interview", "end_interview", "confirm_pool", "decide", "withdraw")
Actor = Literal["system", "hr", "candidate"]
# Timeline notes: what happened to an application without moving it (note()).
Note = Literal["open", "message_out", "message_in", "automation", "sync"]
NOTES: tuple[Note, ...] = ("open", "message_out", "message_in", "automation", "sync")

# action -> (the states it may start from, the state it leads to, who may take it)
_TABLE: dict[str, tuple[frozenset[str], str, frozenset[str]]] = {
    # screening runs again when the resume or the job changes, until someone is invited
    "screen": (frozenset({"applied", "screened"}), "screened", frozenset({"system", "hr"})),
    "invite": (frozenset({"screened"}), "invited", frozenset({"hr", "system"})),
    "start_interview": (frozenset({"invited", "interviewing"}), "interviewing", frozenset({"system"})),
    "end_interview": (frozenset({"interviewing"}), "interviewed", frozenset({"system"})),
    "confirm_pool": (frozenset({"screened"}), "decided", frozenset({"hr"})),
    "decide": (frozenset({"screened", "invited", "interviewing", "interviewed", "decided"}), "decided", frozenset({"hr"})),
    "withdraw": (
        frozenset({"applied", "screened", "invited", "interviewing", "interviewed", "decided"}),
        "withdrawn",
        frozenset({"candidate", "hr"}),
    ),
}


class TransitionError(ValueError):
    """The action is not allowed from the application's state (or not by this actor)."""

    def __init__(self, message: str, *, state: str, action: str) -> None:
        super().__init__(message)
        self.state = state
        self.action = action


@dataclass(frozen=True)
class Status:
    """Where an application stands: its state and, for screened and decided, the outcome."""

    state: State = "applied"
    outcome: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"state": self.state, "outcome": self.outcome}


@dataclass(frozen=True)
class TimelineEntry:
    action: Action | Note
    from_state: State | None  # None: the application was received
    to_state: State
    outcome: str | None
    actor: Actor
    actor_id: str | None  # the person (HR account) where a person acted
    at: datetime
    reason: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "from": self.from_state,
            "to": self.to_state,
            "outcome": self.outcome,
            "actor": self.actor,
            "actor_id": self.actor_id,
            "at": self.at.isoformat(),
            "reason": self.reason,
            "details": dict(self.details),
        }


def receive(*, actor: str, at: datetime, actor_id: str | None = None, details: dict[str, Any] | None = None) -> tuple[Status, TimelineEntry]:
    """A new application and the first entry of its timeline (who sent it: HR, a job board, an upload batch)."""
    entry = TimelineEntry(
        action="receive", from_state=None, to_state="applied", outcome=None, actor=actor,  # type: ignore[arg-type]
        actor_id=actor_id, at=at, details=dict(details or {}),
    )
    return Status(), entry


def allowed(status: Status, action: str, actor: str) -> str | None:
    """None when ``actor`` may take ``action`` from ``status``; otherwise why not."""
    if action not in _TABLE:
        return f"unknown action {action!r}"
    sources, _, actors = _TABLE[action]
    if actor not in actors:
        return f"{action} is not taken by {actor}"
    if status.state not in sources:
        return f"an application that is {_label(status)} cannot be {action.replace('_', ' ')}"
    if action == "confirm_pool" and status.outcome != "pool":
        return f"only a pooled application is confirmed from the pool (this one is {_label(status)})"
    return None


def apply(
    status: Status,
    action: str,
    *,
    actor: str,
    at: datetime,
    outcome: str | None = None,
    actor_id: str | None = None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> tuple[Status, TimelineEntry]:
    """The application's next status and the timeline entry that records the step."""
    refused = allowed(status, action, actor)
    if refused is not None:
        raise TransitionError(refused, state=status.state, action=action)
    target = _TABLE[action][1]
    if action == "screen":
        if outcome not in SCREENED:
            raise TransitionError(f"screening's outcome is one of {', '.join(SCREENED)}", state=status.state, action=action)
    elif action == "confirm_pool":
        outcome = "reject"
    elif action == "decide":
        if outcome not in DECIDED:
            raise TransitionError(f"a decision is one of {', '.join(DECIDED)}", state=status.state, action=action)
    else:
        outcome = None
    if actor == "hr" and action in ("confirm_pool", "decide") and not actor_id:
        raise TransitionError("a person's decision names the person", state=status.state, action=action)
    new = Status(target, outcome)  # type: ignore[arg-type]
    entry = TimelineEntry(
        action=action,  # type: ignore[arg-type]
        from_state=status.state,
        to_state=new.state,
        outcome=outcome,
        actor=actor,  # type: ignore[arg-type]
        actor_id=actor_id,
        at=at,
        reason=reason,
        details=dict(details or {}),
    )
    return new, entry


def note(
    status: Status,
    kind: str,
    *,
    actor: str,
    at: datetime,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> TimelineEntry:
    """A timeline entry that does not move the application (from and to are its state).

    ``open``: the candidate opened the invite; ``message_out``/``message_in``:
    a message to or from the candidate or HR (its channel and delivery id,
    never its text); ``automation``: a rule's action ran, was skipped or
    failed (the rule and the outcome); ``sync``: the result went to the HR
    system.
    """
    if kind not in NOTES:
        raise ValueError(f"a note is one of {', '.join(NOTES)}")
    return TimelineEntry(
        action=kind,  # type: ignore[arg-type]
        from_state=status.state,
        to_state=status.state,
        outcome=status.outcome,
        actor=actor,  # type: ignore[arg-type]
        actor_id=None,
        at=at,
        reason=reason,
        details=dict(details or {}),
    )


def _label(status: Status) -> str:
    return f"{status.state} ({status.outcome})" if status.outcome else status.state
