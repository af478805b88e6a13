"""Tests for sinks/: the outbox delivering to a real HTTP receiver on loopback.

The receiver checks every request with the independent Standard Webhooks
library (``standardwebhooks.Webhook.verify``) and records (webhook-id, body),
so "every report version arrives with exactly one distinct webhook-id and
none is lost" is asserted on what actually crossed the wire.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import random
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from pydantic import ValidationError
from sqlalchemy import Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from standardwebhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from db import AsyncStore
from sinks import DEAD, DELIVERED, FAILED, PENDING, Attempt, Backoff, Outbox, SinkConfig
from sinks.retry import next_step, parse_retry_after, retryable
from sinks.webhook import decode_secret, envelope, sign, webhook_id
from tests.helpers import LoopbackServer, free_port
from tests.outbox_fixtures import FAST as OUTBOX_FAST, Outboxes

ROOT = Path(__file__).resolve().parent.parent
SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()
FAST = {**OUTBOX_FAST, "lease_s": 1.0}


# -- the receiver ---------------------------------------------------------------
@dataclass(frozen=True)
class Reply:
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    sleep_s: float = 0.0


@dataclass(frozen=True)
class Received:
    webhook_id: str
    body: dict
    at: float  # time.monotonic() on arrival
    status: int


class Receiver:
    """The bank's HRIS: a starlette app on a free loopback port, in a thread.

    ``reply(n)`` says how to answer the n-th verified request (0-based).
    It dedupes on webhook-id as Standard Webhooks tells receivers to.
    """

    def __init__(self, secret: str = SECRET, port: int | None = None) -> None:
        self.port = port or free_port()
        self.verifier = Webhook(secret)
        self.received: list[Received] = []
        self.rejected: list[str] = []
        self.processed: dict[str, dict] = {}  # webhook-id -> body, first copy only
        self.duplicates = 0  # copies dropped by webhook-id
        self.reply: Callable[[int], Reply] = lambda n: Reply()
        self._lock = threading.Lock()
        self._server: LoopbackServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def hook(self, request: Request) -> Response:
        raw = await request.body()
        try:
            body = self.verifier.verify(raw, dict(request.headers))
        except WebhookVerificationError as exc:
            self.rejected.append(str(exc))
            return Response(status_code=401)
        msg_id = request.headers["webhook-id"]
        with self._lock:
            reply = self.reply(len(self.received))
            self.received.append(Received(msg_id, body, time.monotonic(), reply.status))
            if 200 <= reply.status < 300:
                if msg_id in self.processed:
                    self.duplicates += 1
                else:
                    self.processed[msg_id] = body
        if reply.sleep_s:
            await asyncio.sleep(reply.sleep_s)
        return Response(status_code=reply.status, headers=dict(reply.headers))

    def start(self) -> "Receiver":
        app = Starlette(routes=[Route("/hook", self.hook, methods=["POST"])])
        self._server = LoopbackServer(app, self.port, name="test-sink").start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()

    def ids_by_version(self) -> dict[tuple[str, str, int], set[str]]:
        """(type, key, version) -> the distinct webhook-ids it arrived with."""
        out: dict[tuple[str, str, int], set[str]] = {}
        for r in list(self.received):
            data = r.body["data"]
            out.setdefault((r.body["type"], data["report_id"], data["version"]), set()).add(r.webhook_id)
        return out


def assert_each_version_once(receiver: Receiver, expected: set[tuple[str, str, int]]) -> None:
    """Every version arrived, each with exactly one distinct webhook-id; nothing bad arrived."""
    assert receiver.rejected == []
    seen = receiver.ids_by_version()
    assert set(seen) == expected
    for version, ids in seen.items():
        assert len(ids) == 1, (version, ids)
    all_ids = [next(iter(ids)) for ids in seen.values()]
    assert len(set(all_ids)) == len(all_ids)
    # After dedupe on webhook-id the receiver processed each version exactly once.
    assert {(b["type"], b["data"]["report_id"], b["data"]["version"]) for b in receiver.processed.values()} == expected
    assert len(receiver.processed) == len(expected)


def report(key: str, version: int) -> dict:
    return {"report_id": key, "version": version, "recommendation": "advance"}


async def until(predicate: Callable[[], object], timeout: float = 10.0, step: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(step)


async def until_async(predicate: Callable[[], object], timeout: float = 10.0, step: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():  # type: ignore[misc]
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(step)


# -- fixtures -----------------------------------------------------------------
@pytest.fixture
def outbox_options() -> dict[str, Any]:
    """Leases of 1 s here (tests/outbox_fixtures.py's fixture, overridden)."""
    return dict(FAST)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.stop()


def sink(receiver: Receiver, **overrides: object) -> SinkConfig:
    values: dict = {"name": "hris", "url": receiver.url, "secret": SECRET, "timeout_s": 2.0}
    values.update(overrides)
    return SinkConfig(**values)


async def all_in(outbox: Outbox, state: str, n: int) -> bool:
    return len(await outbox.list_deliveries(state)) == n


# -- the pure core ----------------------------------------------------------------
def test_signature_matches_the_reference_implementation() -> None:
    body = envelope(
        "report.ready", {"report_id": "r1", "version": 1, "name": "张三"}, datetime(2026, 1, 2, tzinfo=timezone.utc)
    )
    ts = int(time.time())
    ours = sign(decode_secret(SECRET), "msg_abc", ts, body)
    theirs = Webhook(SECRET).sign("msg_abc", datetime.fromtimestamp(ts, tz=timezone.utc), body)
    assert ours == theirs
    assert json.loads(body) == {
        "type": "report.ready",
        "timestamp": "2026-01-02T00:00:00Z",
        "data": {"report_id": "r1", "version": 1, "name": "张三"},
    }


def test_webhook_id_is_one_per_sink_type_key_version() -> None:
    a = webhook_id("hris", "report.ready", "r1", 1)
    assert a == webhook_id("hris", "report.ready", "r1", 1)
    assert a.startswith("msg_") and len(a) == 36
    others = {
        webhook_id("hris", "report.ready", "r1", 2),
        webhook_id("hris", "decision.recorded", "r1", 1),
        webhook_id("audit", "report.ready", "r1", 1),
        webhook_id("hris", "report.ready", "r11", 1),
    }
    assert a not in others and len(others) == 4


def test_sink_config_checks_the_secret() -> None:
    assert SinkConfig(name="hris", url="https://hris.bank.cn/hooks", secret=SECRET).horizon_s == 86400
    for bad in ("not-whsec", "whsec_***", "whsec_" + base64.b64encode(b"short").decode()):
        with pytest.raises(ValidationError):
            SinkConfig(name="hris", url="https://hris.bank.cn/hooks", secret=bad)
    assert SECRET not in repr(SinkConfig(name="hris", url="https://x", secret=SECRET))
    # CANDOR_SINKS is a JSON list of these
    parsed = SinkConfig.model_validate_json(
        json.dumps({"name": "hris", "url": "https://x", "secret": SECRET, "types": ["report.ready"]})
    )
    assert parsed.wants("report.ready") and not parsed.wants("decision.recorded")


def test_full_jitter_backoff_stays_under_the_exponential_ceiling() -> None:
    backoff = Backoff(base_s=1.0, cap_s=300.0)
    rng = random.Random(7)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (9, 256.0), (10, 300.0), (500, 300.0)]:
        delays = [backoff.delay(attempt, rng) for _ in range(200)]
        assert all(0.0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.8  # spread over the whole range, not clustered


def test_retry_after_seconds_and_http_date() -> None:
    now = datetime(2026, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after("2", now) == 2.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=90), usegmt=True), now) == 90.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=90), usegmt=True), now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_next_step() -> None:
    now = datetime(2026, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
    later = now + timedelta(hours=1)
    kw = dict(attempt=1, now=now, expires_at=later, backoff=Backoff(1.0, 300.0), rng=random.Random(1))
    assert next_step(status=204, retry_after=None, **kw).state == DELIVERED  # type: ignore[arg-type]
    for status in (400, 401, 403, 404, 410, 422, 301):
        assert next_step(status=status, retry_after=None, **kw).state == FAILED  # type: ignore[arg-type]
    for status in (None, 408, 429, 500, 502, 503, 504):
        assert retryable(status)
        step = next_step(status=status, retry_after=None, **kw)  # type: ignore[arg-type]
        assert step.state == PENDING and now <= step.next_attempt_at <= now + timedelta(seconds=1)  # type: ignore[operator]
    step = next_step(status=429, retry_after="120", **kw)  # type: ignore[arg-type]
    assert step.next_attempt_at == now + timedelta(seconds=120)
    # Retry-After counts on 429 and 503 only
    assert next_step(status=500, retry_after="120", **kw).next_attempt_at <= now + timedelta(seconds=1)  # type: ignore[arg-type, operator]
    # asked to wait past the horizon, or at the horizon already: dead
    assert next_step(status=503, retry_after="7200", **kw).state == DEAD  # type: ignore[arg-type]
    assert next_step(status=500, retry_after=None, **{**kw, "now": later}).state == DEAD  # type: ignore[arg-type]
    # the last retry falls at the horizon, not after it
    near = dict(kw, attempt=20, expires_at=now + timedelta(seconds=0.5), rng=random.Random(3))
    steps = [next_step(status=500, retry_after=None, **near) for _ in range(50)]  # type: ignore[arg-type]
    assert all(s.state == PENDING and s.next_attempt_at <= now + timedelta(seconds=0.5) for s in steps)  # type: ignore[operator]


# -- delivery over HTTP ---------------------------------------------------------------
async def test_each_report_version_arrives_once_with_its_own_id(outboxes: Outboxes) -> None:
    hris = Receiver().start()
    audit = Receiver().start()
    try:
        seen: list[Attempt] = []
        outbox = await outboxes.start(
            [sink(hris), sink(audit, name="audit", types=("decision.recorded",))], observe=seen.append
        )
        ids = {}
        for key in ("r1", "r2"):
            for version in (1, 2, 3):
                ids[(key, version)] = await outbox.enqueue("report.ready", key, version, report(key, version))
        ids[("r1", "decision")] = await outbox.enqueue("decision.recorded", "r1", 1, report("r1", 1))
        # enqueueing a version again is a no-op with the same id
        assert await outbox.enqueue("report.ready", "r1", 1, report("r1", 1)) == ids[("r1", 1)]
        assert len(ids[("r1", "decision")]) == 2 and all(len(v) == 1 for k, v in ids.items() if k[1] != "decision")

        await until_async(lambda: all_in(outbox, DELIVERED, 8))
        expected = {("report.ready", k, v) for k in ("r1", "r2") for v in (1, 2, 3)} | {("decision.recorded", "r1", 1)}
        assert_each_version_once(hris, expected)
        assert_each_version_once(audit, {("decision.recorded", "r1", 1)})
        assert len(hris.received) == 7 and len(audit.received) == 1
        assert {r.webhook_id for r in hris.received} == {ids[k][0] for k in ids}
        body = hris.received[0].body
        assert set(body) == {"type", "timestamp", "data"} and body["timestamp"].endswith("Z")

        (first,) = ids[("r1", 1)]
        attempts = await outbox.attempts(first)
        assert [(a.number, a.status, a.error, a.outcome) for a in attempts] == [(1, 200, None, "delivered")]
        assert attempts[0].duration_s > 0
        counts = await outbox.counts()
        assert counts["hris"][DELIVERED] == 7 and counts["audit"][DELIVERED] == 1 and counts["hris"][PENDING] == 0
        assert outbox.state_counts() == counts
        assert outbox.attempt_counts[("hris", "delivered")] == 7
        assert sorted((a.sink, a.outcome) for a in seen) == [("audit", "delivered")] + [("hris", "delivered")] * 7
        as_json = json.loads(json.dumps([attempts[0].to_dict(), (await outbox.get(first)).to_dict()]))  # type: ignore[union-attr]
        assert as_json[0]["status"] == 200 and as_json[1]["state"] == DELIVERED and "body" not in as_json[1]
    finally:
        hris.stop()
        audit.stop()


async def test_sink_down_then_up_loses_nothing(receiver: Receiver, outboxes: Outboxes) -> None:
    outbox = await outboxes.start([sink(receiver)])
    ids = [(await outbox.enqueue("report.ready", "r1", v, report("r1", v)))[0] for v in (1, 2, 3)]

    async def refused_twice() -> bool:
        return all([len(await outbox.attempts(i)) >= 2 for i in ids])

    await until_async(refused_twice)  # nothing listens on the port yet
    assert {a.error for a in await outbox.attempts(ids[0])} == {"ConnectError"}
    assert await all_in(outbox, PENDING, 3)

    receiver.start()
    await until_async(lambda: all_in(outbox, DELIVERED, 3))
    assert_each_version_once(receiver, {("report.ready", "r1", v) for v in (1, 2, 3)})
    assert [r.webhook_id for r in receiver.received] == [r.webhook_id for r in receiver.received[:3]]


async def test_slow_sink_is_retried_and_duplicates_share_the_id(receiver: Receiver, outboxes: Outboxes) -> None:
    receiver.reply = lambda n: Reply(sleep_s=1.5) if n < 2 else Reply()
    receiver.start()
    outbox = await outboxes.start([sink(receiver, timeout_s=0.5)])
    for v in (1, 2):
        await outbox.enqueue("report.ready", "r1", v, report("r1", v))
    await until_async(lambda: all_in(outbox, DELIVERED, 2))
    assert_each_version_once(receiver, {("report.ready", "r1", v) for v in (1, 2)})
    assert len(receiver.received) >= 3  # a copy was received but timed out: sent again, same id
    assert receiver.duplicates >= 1 and len(receiver.processed) == 2
    errors = [a.error for d in await outbox.list_deliveries() for a in await outbox.attempts(d.id)]
    assert "Timeout" in errors and all(e in (None, "Timeout") for e in errors)


async def test_500_then_200(receiver: Receiver, outboxes: Outboxes) -> None:
    receiver.reply = lambda n: Reply(500) if n == 0 else Reply(204)
    receiver.start()
    outbox = await outboxes.start([sink(receiver)])
    (msg_id,) = await outbox.enqueue("report.ready", "r1", 1, report("r1", 1))
    await until_async(lambda: all_in(outbox, DELIVERED, 1))
    assert [(a.number, a.status, a.outcome) for a in await outbox.attempts(msg_id)] == [
        (1, 500, "retry"),
        (2, 204, "delivered"),
    ]
    assert [r.webhook_id for r in receiver.received] == [msg_id, msg_id]
    delivery = await outbox.get(msg_id)
    assert delivery is not None and delivery.last_status == 204 and delivery.delivered_at is not None


async def test_429_retry_after_is_honoured(receiver: Receiver, outboxes: Outboxes) -> None:
    receiver.reply = lambda n: Reply(429, (("Retry-After", "2"),)) if n == 0 else Reply()
    receiver.start()
    outbox = await outboxes.start([sink(receiver)])
    (msg_id,) = await outbox.enqueue("report.ready", "r1", 1, report("r1", 1))
    await until_async(lambda: all_in(outbox, DELIVERED, 1), timeout=15)
    first, second = receiver.received
    assert first.webhook_id == second.webhook_id == msg_id
    assert second.at - first.at >= 2.0
    attempts = await outbox.attempts(msg_id)
    assert [a.status for a in attempts] == [429, 200]
    assert (attempts[1].started_at - attempts[0].started_at).total_seconds() >= 2.0


async def test_400_is_not_retried(receiver: Receiver, outboxes: Outboxes) -> None:
    receiver.reply = lambda n: Reply(400)
    receiver.start()
    outbox = await outboxes.start([sink(receiver)])
    (msg_id,) = await outbox.enqueue("report.ready", "r1", 1, report("r1", 1))
    await until_async(lambda: all_in(outbox, FAILED, 1))
    await asyncio.sleep(0.5)  # several backoff periods: still no second try
    assert len(receiver.received) == 1
    delivery = await outbox.get(msg_id)
    assert delivery is not None and delivery.state == FAILED and delivery.last_status == 400
    assert [(a.status, a.outcome) for a in await outbox.attempts(msg_id)] == [(400, "failed")]
    assert (await outbox.counts())["hris"][FAILED] == 1


async def test_horizon_then_replay_with_the_same_id(receiver: Receiver, outboxes: Outboxes) -> None:
    receiver.reply = lambda n: Reply(503)
    receiver.start()
    outbox = await outboxes.start([sink(receiver, horizon_s=1.0)])
    (msg_id,) = await outbox.enqueue("report.ready", "r1", 1, report("r1", 1))
    await until_async(lambda: all_in(outbox, DEAD, 1))
    dead = await outbox.get(msg_id)
    assert dead is not None and dead.last_status == 503 and dead.attempts >= 2
    assert (dead.next_attempt_at - dead.created_at).total_seconds() <= 1.0 + 1e-3  # last try at the horizon
    tries = len(receiver.received)
    await asyncio.sleep(0.3)
    assert len(receiver.received) == tries  # dead stays dead
    assert receiver.processed == {}

    receiver.reply = lambda n: Reply()
    replayed = await outbox.replay(msg_id)
    assert replayed.state == PENDING and replayed.attempts == 0 and replayed.replays == 1
    await until_async(lambda: all_in(outbox, DELIVERED, 1))
    assert {r.webhook_id for r in receiver.received} == {msg_id}
    assert_each_version_once(receiver, {("report.ready", "r1", 1)})
    done = await outbox.get(msg_id)
    assert done is not None and done.attempts == 1 and done.total_attempts == tries + 1
    with pytest.raises(KeyError):
        await outbox.replay("msg_nope")


WORKER = """
import asyncio, os
from db import AsyncStore, Store
from sinks import Outbox, SinkConfig

async def main():
    store = AsyncStore(Store(os.environ["TEST_DB"]))
    outbox = Outbox(store, [SinkConfig.model_validate_json(os.environ["TEST_SINK"])], lease_s=1.0, poll_interval_s=0.05)
    await outbox.start()
    print("worker", outbox.worker_id, flush=True)
    await asyncio.sleep(600)

asyncio.run(main())
"""


async def test_worker_killed_mid_delivery(
    db_url: str, store: AsyncStore, receiver: Receiver, outboxes: Outboxes
) -> None:
    slow = threading.Event()
    slow.set()
    receiver.reply = lambda n: Reply(sleep_s=30) if slow.is_set() else Reply()
    receiver.start()
    config = sink(receiver, timeout_s=3.0)  # the lease: 4 s
    enqueuer = Outbox(store, [config], **FAST)  # type: ignore[arg-type]
    ids = [(await enqueuer.enqueue("report.ready", "r1", v, report("r1", v)))[0] for v in (1, 2)]

    child_sink = json.dumps({"name": "hris", "url": receiver.url, "secret": SECRET, "timeout_s": 3.0})
    env = {**os.environ, "TEST_DB": db_url, "TEST_SINK": child_sink, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", WORKER], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        # Both versions reach the sink from the child, which then waits on the slow answers.
        await until(lambda: len(receiver.received) >= 2 or proc.poll() is not None, timeout=20)
        assert proc.poll() is None, proc.communicate()[0].decode()
        proc.kill()  # SIGKILL: no cleanup, leases left behind
    finally:
        proc.kill()
        output = proc.communicate()[0].decode()
    assert proc.returncode == -9
    child = output.split()[1]
    held = await enqueuer.list_deliveries(PENDING)
    assert len(held) == 2

    def leases() -> list[tuple[str | None, object]]:
        from sinks.outbox import DeliveryRow

        with Session(store.store.engine) as db:
            return [(r.lease_owner, r.locked_until) for r in db.query(DeliveryRow)]

    assert {owner for owner, _ in await store.run(leases)} == {child}

    slow.clear()
    outbox = await outboxes.start([config])
    await until_async(lambda: all_in(outbox, DELIVERED, 2), timeout=15)
    assert_each_version_once(receiver, {("report.ready", "r1", v) for v in (1, 2)})
    assert sorted(r.webhook_id for r in receiver.received) == sorted(ids * 2)
    assert receiver.duplicates == 2  # the copies the killed worker sent, dropped by id
    for msg_id in ids:
        assert [(a.number, a.error, a.outcome) for a in await outbox.attempts(msg_id)] == [
            (1, "LeaseExpired", "lost"),
            (2, None, "delivered"),
        ]
    assert outbox.attempt_counts[("hris", "lost")] == 2 and outbox.attempt_counts[("hris", "delivered")] == 2


class _TestBase(DeclarativeBase):
    pass


class ReportRow(_TestBase):
    """The thing an outbox row announces, in the caller's own table."""

    __tablename__ = "test_reports"
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)


async def test_enqueue_in_a_rolled_back_transaction_sends_nothing(
    store: AsyncStore, receiver: Receiver, outboxes: Outboxes
) -> None:
    receiver.start()
    outbox = await outboxes.start([sink(receiver)], poll_interval_s=30.0)  # only a commit wakes it
    engine = store.store.engine
    _TestBase.metadata.create_all(engine)

    def write(version: int, commit: bool) -> list[str]:
        with Session(engine) as db:
            db.begin()
            db.add(ReportRow(key="r9", version=version))
            ids = outbox.enqueue_in(db, "report.ready", "r9", version, report("r9", version))
            if commit:
                db.commit()
            else:
                db.rollback()
            return ids

    (lost,) = await store.run(write, 1, False)
    (kept,) = await store.run(write, 2, True)
    await until_async(lambda: all_in(outbox, DELIVERED, 1))
    assert [d.id for d in await outbox.list_deliveries()] == [kept]
    assert await outbox.get(lost) is None
    await asyncio.sleep(0.2)
    assert_each_version_once(receiver, {("report.ready", "r9", 2)})
    with Session(engine) as db:
        assert [(r.key, r.version) for r in db.query(ReportRow)] == [("r9", 2)]


async def test_close_releases_deliveries_in_flight(store: AsyncStore, receiver: Receiver, outboxes: Outboxes) -> None:
    slow = threading.Event()
    slow.set()
    receiver.reply = lambda n: Reply(sleep_s=30) if slow.is_set() else Reply()
    receiver.start()
    first = Outbox(store, [sink(receiver, timeout_s=20.0)], **{**FAST, "close_timeout_s": 0.1})  # type: ignore[arg-type]
    await first.start()
    (msg_id,) = await first.enqueue("report.ready", "r1", 1, report("r1", 1))
    await until(lambda: len(receiver.received) == 1)
    await first.close()  # the 21 s lease is released, not left to run out
    slow.clear()
    second = await outboxes.start([sink(receiver, timeout_s=20.0)])
    await until_async(lambda: all_in(second, DELIVERED, 1), timeout=5)
    assert [r.webhook_id for r in receiver.received] == [msg_id, msg_id]
    assert await second.forget("r1") == 1
    assert await second.list_deliveries() == []
