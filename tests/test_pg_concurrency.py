"""Concurrent writers on one PostgreSQL database, as several Candor nodes would be (issue 13).

Each writer has its own engine (its own Store, its own server), so the
database alone decides who wins: two outboxes never send one message twice
and lose none; two HR edits of one job with the same ``If-Match`` give one
new version and one 412; two decisions on one session at once are both
recorded, each with its own number and report version (the API numbers
decisions: a second decision is a new one, never a lost or a failed one);
through two servers (nodes with their Redis: the session's holder numbers its events).
SQLite serialises writers on its file lock; PostgreSQL does not, which is
why these run there only.
"""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
import pytest

from db import AsyncStore, Store
from sinks import DELIVERED, Outbox
from tests.helpers import HR_TOKEN
from tests.outbox_fixtures import FAST
from tests.redis_fixtures import flush_redis
from tests.test_hardening_limits import ApiServer
from tests.test_sinks import Receiver, Reply, sink

HR = {"Authorization": f"Bearer {HR_TOKEN}"}


def at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Run ``calls`` in threads released together; their results, or the exceptions they raised."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int, call: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[i] = call()
        except Exception as exc:  # reported to the test, which names it
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    [t.start() for t in threads]
    [t.join(timeout=60) for t in threads]
    return results


@pytest.fixture
def stores(pg_url: str) -> Iterator[list[Store]]:
    """Two stores on one PostgreSQL database: two engines, as two nodes have."""
    made = [Store(pg_url), Store(pg_url)]
    yield made
    for s in made:
        s.close()


# -- the outbox: leases --------------------------------------------------------------------------


async def test_two_outboxes_on_one_database_send_each_message_once(pg_url: str) -> None:
    receiver = Receiver().start()
    receiver.reply = lambda n: Reply(sleep_s=0.005)  # a little work per message, so both workers overlap
    stores = [AsyncStore(Store(pg_url)), AsyncStore(Store(pg_url))]
    outboxes = [Outbox(s, [sink(receiver)], **FAST) for s in stores]
    try:
        for outbox in outboxes:
            await outbox.start()
        ids = []
        for n in range(120):
            ids += await outboxes[n % 2].enqueue("report.ready", f"r{n}", 1, {"report_id": f"r{n}", "version": 1})
        async with asyncio.timeout(60):
            while (await outboxes[0].counts())["hris"].get(DELIVERED, 0) < 120:
                await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # a second copy, if one were on its way, arrives
    finally:
        for outbox in outboxes:
            await outbox.close()
        for s in stores:
            s.close()
        receiver.stop()
    assert len(set(ids)) == 120
    assert sorted(r.webhook_id for r in receiver.received) == sorted(ids)  # each once, none lost
    assert receiver.duplicates == 0
    sent_by = [sum(n for (name, outcome), n in o.attempt_counts.items() if outcome == "delivered") for o in outboxes]
    assert sum(sent_by) == 120 and min(sent_by) > 0, sent_by  # both workers took part


# -- versioned writes with If-Match ------------------------------------------------------------------


def test_two_nodes_editing_one_job_with_the_same_if_match_one_wins_one_gets_412(tmp_path: Path, pg_url: str) -> None:
    with ApiServer(tmp_path, database_url=pg_url) as a, ApiServer(tmp_path, database_url=pg_url) as b:
        for round_ in range(6):
            current = httpx.get(f"{a.url}/v1/jobs/wealth_manager", headers=HR, timeout=30)
            assert current.status_code == 200, current.text
            etag, job = current.headers["etag"], current.json()["job"]

            def edit(node: ApiServer, who: str) -> httpx.Response:
                body = {**job, "title": {**job["title"], "en": f"Wealth manager ({who} {round_})"}}
                return httpx.put(f"{node.url}/v1/jobs/wealth_manager", json=body, headers={**HR, "If-Match": etag},
                                 timeout=30)

            answers = at_once(lambda: edit(a, "a"), lambda: edit(b, "b"))
            assert all(isinstance(r, httpx.Response) for r in answers), answers
            assert sorted(r.status_code for r in answers) == [200, 412], [(r.status_code, r.text) for r in answers]
            won = next(r for r in answers if r.status_code == 200).json()
            latest = httpx.get(f"{b.url}/v1/jobs/wealth_manager", headers=HR, timeout=30).json()
            assert latest["version"] == won["version"] == current.json()["version"] + 1
            assert latest["job"]["title"] == won["job"]["title"]


def test_two_stores_creating_one_job_one_creates_the_other_is_told_it_exists(stores: list[Store]) -> None:
    from db import AlreadyExists
    from jobs.models import Job

    for n in range(6):
        job = Job.model_validate({"id": f"teller_{n}", "title": {"zh": "柜员", "en": "Teller"},
                                  "requirements": {"education": "associate"}})
        results = at_once(lambda: stores[0].create_job(job), lambda: stores[1].create_job(job))
        assert sorted(type(r).__name__ for r in results) == sorted(["JobRecord", AlreadyExists.__name__]), results
        assert [r.version for r in stores[0].list_jobs() if r.id == job.id] == [1]


# -- decisions -------------------------------------------------------------------------------------


def test_two_decisions_on_one_session_at_once_are_two_numbered_decisions(stores: list[Store]) -> None:
    first, second = stores
    for n in range(6):
        sid = f"s{n}"
        first.create_session(session_id=sid, expires_at=datetime.now(timezone.utc) + timedelta(hours=1),
                             candidate_token=f"t{n}", invite_code=f"c{n}")
        first.add_report(sid, {"overall": 50})
        results = at_once(
            lambda: first.add_report(sid, {"overall": 50, "by": "a"}, decision=("advance", "strong answers", "hr_a")),
            lambda: second.add_report(sid, {"overall": 50, "by": "b"}, decision=("reject", "weak answers", "hr_b")),
        )
        assert not any(isinstance(r, Exception) for r in results), results
        versions = sorted(r[0].version for r in results)
        assert versions == [2, 3] and all(written for _, written in results)
        decisions = first.list_decisions(sid)
        assert sorted(d.decision for d in decisions) == ["advance", "reject"]
        assert [d.number for d in decisions] == [1, 2]
        assert first.get_report(sid).version == 3  # type: ignore[union-attr]


def test_two_nodes_recording_decisions_on_one_session_at_once(tmp_path: Path, pg_url: str, redis_url: str) -> None:
    """Both are recorded, numbered 1 and 2, each with its report version and its event: none is lost, none hangs.

    Two nodes with their Redis (issue 13): one holds the session and numbers its events; the other sends its
    decision's event there (server/nodes.py), so no seq is written twice.
    """
    flush_redis(redis_url)
    cluster = dict(database_url=pg_url, redis_url=redis_url, node_heartbeat_s=0.3, node_ttl_s=3.0)
    from events import Event, payload_from_dict
    from tests.test_reports import interview_events

    with ApiServer(tmp_path, node_id="a", **cluster) as a, ApiServer(tmp_path, node_id="b", **cluster) as b:
        for round_ in range(3):
            sid = f"decided_twice_{round_}"
            store = Store(pg_url)  # an interview another node ran and reported: neither of these holds its log
            try:
                store.create_session(session_id=sid, expires_at=datetime.now(timezone.utc) + timedelta(hours=1),
                                     candidate_token=f"t{round_}", invite_code=f"c{round_}",
                                     job=store.get_job("wealth_manager"), bank=store.default_bank("wealth_manager"))
                store.append_events(
                    Event(session_id=sid, seq=i, media_time=mt, wall_time=1_700_000_000.0 + i,
                          payload=payload_from_dict(ty, payload))
                    for i, (ty, mt, payload) in enumerate(interview_events("persuade_client", "elderly_high_risk"))
                )
                store.add_report(sid, {"overall": 65.0})
            finally:
                store.close()

            def decide(node: ApiServer, decision: str) -> httpx.Response:
                return httpx.post(f"{node.url}/v1/sessions/{sid}/decision", json={"decision": decision, "reason": "面试表现"},
                                  headers=HR, timeout=10)

            answers = at_once(lambda: decide(a, "advance"), lambda: decide(b, "hold"))
            assert all(isinstance(r, httpx.Response) for r in answers), answers
            assert [r.status_code for r in answers] == [201, 201], [(r.status_code, r.text) for r in answers]
            assert sorted((r.json()["number"], r.json()["report_version"]) for r in answers) == [(1, 2), (2, 3)]
            store = Store(pg_url)
            try:
                assert sorted(d.decision for d in store.list_decisions(sid)) == ["advance", "hold"]
                deadline = time.monotonic() + 10  # the event sent to the holder is logged there a moment later
                while len(logged := [e for e in store.read_events(sid) if e.type == "decision.recorded"]) < 2:
                    assert time.monotonic() < deadline, logged
                    time.sleep(0.1)
                assert len(logged) == 2 and len({e.seq for e in logged}) == 2, logged
                seqs = [e.seq for e in store.read_events(sid)]
                assert seqs == list(range(len(seqs)))  # one numbering: no seq twice, none skipped
            finally:
                store.close()


# -- automation's actions: leases ------------------------------------------------------------------------


def test_two_automation_engines_claim_each_due_action_once(stores: list[Store]) -> None:
    from sqlalchemy.orm import Session

    from automation.engine import AutomationEngine, AutomationSettings
    from db.automation import SCHEDULED, ActionRow

    now = datetime.now(timezone.utc)
    with Session(stores[0].engine) as db, db.begin():
        db.add_all(ActionRow(id=f"act_{n}", application_id=f"app_{n}", job_id="wealth_manager", job_version=1,
                             rule_id="remind", index=0, action="send", args={}, condition=None, trigger="invited",
                             trigger_entry=n, due_at=now - timedelta(seconds=1), state=SCHEDULED, attempts=0, result={},
                             created_at=now, updated_at=now)
                   for n in range(60))
    async_stores = [AsyncStore(s) for s in stores]
    engines = [AutomationEngine(s, None, AutomationSettings(base_url="http://127.0.0.1"))  # type: ignore[arg-type]
               for s in async_stores]
    claimed: list[list[str]] = [[], []]
    for _ in range(10):  # each takes up to 8 at a time, as a worker with free slots does, until none is due
        got = at_once(lambda: engines[0]._claim(8), lambda: engines[1]._claim(8))
        assert not any(isinstance(g, Exception) for g in got), got
        for mine, batch in zip(claimed, got):
            mine += [a.id for a in batch]
    assert not set(claimed[0]) & set(claimed[1])  # no action leased by both
    assert sorted(claimed[0] + claimed[1]) == sorted(f"act_{n}" for n in range(60))  # and none left behind
    with Session(stores[0].engine) as db:
        owners = {r.id: r.lease_owner for r in db.query(ActionRow)}
    assert all(owners[i] == engines[0].worker_id for i in claimed[0])
    assert all(owners[i] == engines[1].worker_id for i in claimed[1])


# -- erasure (the purge, a DELETE): two at once ------------------------------------------------------------


def test_two_erasures_of_one_candidate_at_once_erase_once_and_both_answer_the_tombstone(stores: list[Store]) -> None:
    from jobs.models import CandidateProfile

    for n in range(4):
        candidate = stores[0].create_candidate(CandidateProfile(name=f"候选人{n}"))
        got = at_once(lambda: stores[0].erase_candidate(candidate.id, reason="request"),
                      lambda: stores[1].erase_candidate(candidate.id, reason="retention"))
        assert not any(isinstance(g, Exception) or g is None for g in got), got
        assert sorted(g.already for g in got) == [False, True]  # one erased; the other found it erased
        assert got[0].erased_at == got[1].erased_at and got[0].reason == got[1].reason
