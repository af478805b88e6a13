"""An application's states and the timeline of its transitions (applications/pipeline.py)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from applications.pipeline import ACTIONS, STATES, Status, TransitionError, allowed, apply, receive

AT = datetime(2026, 12, 5, 9, 0, tzinfo=timezone.utc)


def test_the_whole_way_through_records_every_step() -> None:
    status = Status()
    steps = [
        ("screen", "system", "advance", None),
        ("invite", "hr", None, "hr-li"),
        ("start_interview", "system", None, None),
        ("end_interview", "system", None, None),
        ("decide", "hr", "advance", "hr-li"),
    ]
    timeline = []
    for action, actor, outcome, who in steps:
        status, entry = apply(status, action, actor=actor, at=AT, outcome=outcome, actor_id=who, reason="test")
        timeline.append(entry)
    assert status == Status("decided", "advance")
    assert [(e.from_state, e.to_state) for e in timeline] == [
        ("applied", "screened"), ("screened", "invited"), ("invited", "interviewing"),
        ("interviewing", "interviewed"), ("interviewed", "decided"),
    ]
    assert timeline[-1].to_dict()["actor_id"] == "hr-li" and timeline[0].to_dict()["outcome"] == "advance"


def test_nothing_is_rejected_without_a_person() -> None:
    pooled, _ = apply(Status(), "screen", actor="system", at=AT, outcome="pool")
    assert pooled == Status("screened", "pool")
    # the system cannot reject, nor confirm the pool
    with pytest.raises(TransitionError, match="not taken by system"):
        apply(pooled, "decide", actor="system", at=AT, outcome="reject")
    with pytest.raises(TransitionError, match="not taken by system"):
        apply(pooled, "confirm_pool", actor="system", at=AT)
    # a person's rejection names the person
    with pytest.raises(TransitionError, match="names the person"):
        apply(pooled, "confirm_pool", actor="hr", at=AT)
    rejected, entry = apply(pooled, "confirm_pool", actor="hr", actor_id="hr-wang", at=AT)
    assert rejected == Status("decided", "reject") and entry.actor_id == "hr-wang"
    # only a pooled application is confirmed from the pool
    review, _ = apply(Status(), "screen", actor="system", at=AT, outcome="review")
    assert "only a pooled application" in (allowed(review, "confirm_pool", "hr") or "")


def test_a_person_may_overrule_the_pool_and_anyone_may_withdraw() -> None:
    pooled = Status("screened", "pool")
    invited, _ = apply(pooled, "invite", actor="hr", actor_id="hr-li", at=AT)
    assert invited.state == "invited"
    for state in STATES:
        if state == "withdrawn":
            continue
        gone, entry = apply(Status(state), "withdraw", actor="candidate", at=AT, reason="took another offer")
        assert gone.state == "withdrawn" and entry.reason == "took another offer"
    with pytest.raises(TransitionError, match="cannot be withdraw"):
        apply(Status("withdrawn"), "withdraw", actor="hr", at=AT)


def test_every_refusal_says_why() -> None:
    refusals = 0
    for state in STATES:
        for action in ACTIONS:
            for actor in ("system", "hr", "candidate"):
                why = allowed(Status(state, "pool" if state == "screened" else None), action, actor)
                if why is not None:
                    refusals += 1
                    assert action.split("_")[0] in why or actor in why, why
    assert refusals > 50
    with pytest.raises(TransitionError, match="outcome is one of"):
        apply(Status(), "screen", actor="system", at=AT, outcome="reject")
    with pytest.raises(TransitionError, match="cannot be invite"):
        apply(Status(), "invite", actor="hr", at=AT)  # not screened yet


def test_a_timeline_starts_with_the_application_received() -> None:
    status, entry = receive(actor="system", at=AT, details={"source": "liepin"})
    assert status == Status("applied") and entry.to_dict()["from"] is None and entry.details == {"source": "liepin"}
    assert "receive" not in ACTIONS  # not a step an application takes later
