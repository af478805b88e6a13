"""The transactional outbox: what Candor announces reaches every sink, once per id.

A message (a report version, a recorded decision) is a row in
``outbox_deliveries``, one per sink, written in the same database
transaction as the thing it announces (:meth:`Outbox.enqueue_in`). A worker
task claims due rows with a lease (``locked_until``), POSTs them signed per
Standard Webhooks, and records every attempt in ``outbox_attempts``. A
process that dies mid-delivery leaves its lease to expire; any worker then
takes the row again. Delivery is therefore at least once, and every copy of
one message carries the same ``webhook-id``, derived from (sink, type, key,
version), so the receiver drops duplicates by it.

States: ``pending`` (due at ``next_attempt_at``), ``delivered``, ``failed``
(the sink refused it with a 4xx: retrying cannot help) and ``dead`` (still
failing at the end of the sink's horizon). :meth:`Outbox.replay` puts a
failed, dead or delivered row back to pending, with the same id.

Logs carry ids, sink names and status codes only: bodies hold personal data
and stay in the database, sealed (vault/) for the row's ``subject`` (the
candidate or session the message is about; by default its key), so erasing
a subject makes its queued messages unreadable and findable
(:func:`forget_subject_in`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import time
import uuid
from collections import Counter, deque
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Sequence

import httpx
from sqlalchemy import (
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column

from db import AsyncStore, Base, utcnow
from db.base import after_commit
from db.sealing import OUTBOX_BODY
from vault import VaultError

from . import webhook
from .channel import Channel
from .retry import DEAD, DELIVERED, FAILED, PENDING, STATES, Backoff, next_step

log = logging.getLogger("candor.sinks")

LOST = "lost"  # an attempt whose worker died before it could say how it went
RETRY = "retry"


class DeliveryRow(Base):
    """One message to one sink; its primary key is the ``webhook-id``."""

    __tablename__ = "outbox_deliveries"
    __table_args__ = (Index("ix_outbox_due", "state", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sink: Mapped[str] = mapped_column(String(64), index=True)
    type: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(128), index=True)
    version: Mapped[int] = mapped_column(Integer)
    # Whose personal data the body carries (a candidate or session id): the vault subject it is sealed for.
    subject: Mapped[str] = mapped_column(String(128), index=True)
    body: Mapped[bytes] = mapped_column(LargeBinary)  # the JSON envelope, sealed (vault/)
    state: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # since enqueue or the last replay
    total_attempts: Mapped[int] = mapped_column(Integer, default=0)
    replays: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    lease_owner: Mapped[str | None] = mapped_column(String(128), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(64), nullable=True)


class AttemptRow(Base):
    """One try at a delivery, for HR and operators (no bodies, no answers)."""

    __tablename__ = "outbox_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(ForeignKey("outbox_deliveries.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    duration_s: Mapped[float] = mapped_column(Float)
    status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(String(64), nullable=True)
    outcome: Mapped[str] = mapped_column(String(16))
    worker: Mapped[str] = mapped_column(String(128))


BODY = OUTBOX_BODY  # the sealed column's context (vault AAD): "outbox_deliveries.body"


def forget_subject_in(db: Session, subject: str) -> int:
    """Delete every delivery (and its attempts) about ``subject`` inside ``db``'s transaction: erasure. How many."""
    ids = select(DeliveryRow.id).where(DeliveryRow.subject == subject)
    db.execute(delete(AttemptRow).where(AttemptRow.delivery_id.in_(ids)))
    return int(db.execute(delete(DeliveryRow).where(DeliveryRow.subject == subject)).rowcount)  # type: ignore[attr-defined]


def create_tables(engine: Engine) -> None:
    """Create the outbox tables where missing (``Store`` does it too once imported)."""
    Base.metadata.create_all(engine, tables=[DeliveryRow.__table__, AttemptRow.__table__])  # type: ignore[list-item]


@dataclass(frozen=True)
class Delivery:
    """A delivery as operators see it (the body is left out: personal data)."""

    id: str
    sink: str
    type: str
    key: str
    version: int
    state: str
    attempts: int
    total_attempts: int
    replays: int
    created_at: datetime
    next_attempt_at: datetime
    expires_at: datetime
    delivered_at: datetime | None
    last_status: int | None
    last_error: str | None

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(self)


@dataclass(frozen=True)
class Attempt:
    delivery_id: str
    sink: str
    number: int
    started_at: datetime
    duration_s: float
    status: int | None  # None: no answer (see error)
    error: str | None  # the error's class name: ConnectError, Timeout, LeaseExpired...
    outcome: str  # delivered, retry, failed, dead, lost

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(self)


def _jsonable(value: Any) -> dict[str, Any]:
    out = asdict(value)
    for name, item in out.items():
        if isinstance(item, datetime):
            out[name] = item.isoformat()
    return out


@dataclass(frozen=True)
class _Claim:
    id: str
    sink: str
    body: str


def _utc(value: datetime) -> datetime:
    # SQLite drops the zone; every time the outbox stores is UTC.
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else _utc(value)


def _delivery(row: DeliveryRow) -> Delivery:
    return Delivery(
        id=row.id,
        sink=row.sink,
        type=row.type,
        key=row.key,
        version=row.version,
        state=row.state,
        attempts=row.attempts,
        total_attempts=row.total_attempts,
        replays=row.replays,
        created_at=_utc(row.created_at),
        next_attempt_at=_utc(row.next_attempt_at),
        expires_at=_utc(row.expires_at),
        delivered_at=_utc_or_none(row.delivered_at),
        last_status=row.last_status,
        last_error=row.last_error,
    )


class Outbox:
    """Outbox rows in, signed webhooks out; one background worker per process.

    Several processes may run workers on one database: a row is claimed by a
    conditional UPDATE, so only one of them holds it at a time. A claim lasts
    ``max(lease_s, timeout_s + 1)`` seconds; a worker that dies leaves it to
    expire, and the row is sent again (same id). Leases compare the workers'
    own clocks: keep them in sync (NTP) where several hosts share a database.

    At most ``max_in_flight`` requests per sink are open at once, so a sink
    that hangs cannot hold up the others. Rows of a sink that is no longer
    configured stay pending, untouched, until it is configured again.

    Close the outbox before the store it uses.
    """

    def __init__(
        self,
        store: AsyncStore,
        sinks: Sequence[Channel],
        *,
        backoff_base_s: float = 1.0,
        backoff_cap_s: float = 300.0,
        lease_s: float = 60.0,
        poll_interval_s: float = 1.0,
        max_in_flight: int = 4,
        close_timeout_s: float = 5.0,
        counts_interval_s: float = 5.0,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
        observe: Callable[[Attempt], None] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        names = [s.name for s in sinks]
        if len(names) != len(set(names)):
            raise ValueError("sink names must be unique")
        if max_in_flight < 1 or lease_s <= 0 or poll_interval_s <= 0:
            raise ValueError("max_in_flight, lease_s and poll_interval_s must be positive")
        self.store = store
        self.sinks: dict[str, Channel] = {s.name: s for s in sinks}
        self.backoff = Backoff(backoff_base_s, backoff_cap_s)
        self.lease_s = lease_s
        self.poll_interval_s = poll_interval_s
        self.max_in_flight = max_in_flight
        self.close_timeout_s = close_timeout_s
        self.counts_interval_s = counts_interval_s
        self.clock = clock
        self.rng = rng or random.Random()
        self.observe = observe
        self.worker_id = f"{socket.gethostname()[:64]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.attempt_counts: Counter[tuple[str, str]] = Counter()  # (sink, outcome) -> attempts
        self.failure: BaseException | None = None  # why the worker task stopped, if it did
        self.last_error: str | None = None  # the last failed tick (database busy or away), cleared by a good one
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self._closing = False
        self._inflight: dict[str, asyncio.Task[None]] = {}
        self._inflight_per_sink: Counter[str] = Counter()
        self._sent_at: dict[str, deque[float]] = {name: deque() for name in self.sinks}  # monotonic, last minute
        self._counts: dict[str, dict[str, int]] = self._zero_counts()
        self._counts_at = 0.0

    @property
    def engine(self) -> Engine:
        return self.store.store.engine

    # -- enqueue ------------------------------------------------------------
    def enqueue_in(
        self, session: Session, type_: str, key: str, version: int, payload: dict[str, Any], *, subject: str | None = None
    ) -> list[str]:
        """Add the message to every sink that wants ``type_``, inside the caller's transaction.

        Nothing is sent unless that transaction commits. Enqueueing the same
        (type, key, version) again is a no-op that returns the same ids: a
        version is immutable, the first body stays. Returns the webhook ids.
        ``subject``: whose personal data the payload carries (the body is
        sealed for it; erasure finds the row by it); by default ``key``.
        """
        if not 0 < len(key) <= 128 or len(type_) > 64:
            raise ValueError("a key is 1 to 128 characters, a type at most 64")
        body = webhook.envelope(type_, payload, self.clock())
        return [self._add(session, sink, type_, key, version, body, subject)
                for sink in self.sinks.values() if sink.wants(type_)]

    def enqueue_to(
        self, session: Session, sink_name: str, type_: str, key: str, version: int, payload: dict[str, Any],
        *, subject: str | None = None,
    ) -> str:
        """Add a message for one channel by name (an e-mail, a WeCom message), inside the caller's transaction.

        Like :meth:`enqueue_in`, idempotent per (sink, type, key, version):
        the id is the same and the first body stays. ``LookupError`` if no
        channel of that name is configured.
        """
        sink = self.sinks.get(sink_name)
        if sink is None:
            raise LookupError(f"no channel {sink_name!r} is configured")
        return self._add(session, sink, type_, key, version, webhook.envelope(type_, payload, self.clock()), subject)

    @property
    def vault(self) -> Any:
        return self.store.store.vault

    def _add(self, session: Session, sink: Channel, type_: str, key: str, version: int, body: str, subject: str | None) -> str:
        if not 0 < len(key) <= 128 or len(type_) > 64:
            raise ValueError("a key is 1 to 128 characters, a type at most 64")
        if subject is not None and not 0 < len(subject) <= 128:
            raise ValueError("a subject is 1 to 128 characters")
        now = self.clock()
        msg_id = webhook.webhook_id(sink.name, type_, key, version)
        if session.get(DeliveryRow, msg_id) is None:
            subject = subject or key
            session.add(
                DeliveryRow(
                    id=msg_id,
                    sink=sink.name,
                    type=type_,
                    key=key,
                    version=version,
                    subject=subject,
                    body=self.vault.seal(subject, body.encode(), BODY, db=session),
                    state=PENDING,
                    attempts=0,
                    total_attempts=0,
                    replays=0,
                    created_at=now,
                    next_attempt_at=now,
                    expires_at=now + timedelta(seconds=sink.horizon_s),
                )
            )
            session.flush()
        self._wake_after_commit(session)
        return msg_id

    async def enqueue(
        self, type_: str, key: str, version: int, payload: dict[str, Any], *, subject: str | None = None
    ) -> list[str]:
        """:meth:`enqueue_in` in a transaction of its own."""

        def work() -> list[str]:
            with Session(self.engine) as db, db.begin():
                return self.enqueue_in(db, type_, key, version, payload, subject=subject)

        return await self.store.run(work)

    def _wake_after_commit(self, session: Session) -> None:
        after_commit(session, ("outbox", id(self)), self.wake)

    def wake(self) -> None:
        """Look for due rows now (safe from any thread)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._wake.set)

    # -- operator API ---------------------------------------------------------
    async def replay(self, delivery_id: str) -> Delivery:
        """Send a delivery again with the same webhook-id.

        A failed, dead or delivered row goes back to pending with its attempt
        count and horizon started afresh; a pending one is made due now.
        KeyError if there is no such delivery, LookupError if its sink is no
        longer configured.
        """
        result = await self.store.run(self._replay, delivery_id)
        self.wake()
        return result

    def _replay(self, delivery_id: str) -> Delivery:
        now = self.clock()
        with Session(self.engine) as db, db.begin():
            row = db.get(DeliveryRow, delivery_id)
            if row is None:
                raise KeyError(delivery_id)
            sink = self.sinks.get(row.sink)
            if sink is None:
                raise LookupError(f"sink {row.sink!r} is not configured")
            if row.state != PENDING:
                row.state = PENDING
                row.attempts = 0
                row.replays += 1
                row.expires_at = now + timedelta(seconds=sink.horizon_s)
                row.delivered_at = None
                row.locked_until = None
                row.lease_owner = None
            row.next_attempt_at = now
            db.flush()
            log.info("webhook %s to %s: replay %d", row.id, row.sink, row.replays)
            return _delivery(row)

    async def get(self, delivery_id: str) -> Delivery | None:
        def work() -> Delivery | None:
            with Session(self.engine) as db:
                row = db.get(DeliveryRow, delivery_id)
                return _delivery(row) if row else None

        return await self.store.run(work)

    async def list_deliveries(
        self, state: str | None = None, *, sink: str | None = None, key: str | None = None, limit: int = 100
    ) -> list[Delivery]:
        """Newest first, optionally only one state, sink or key."""
        if state is not None and state not in STATES:
            raise ValueError(f"state is one of {', '.join(STATES)}")

        def work() -> list[Delivery]:
            query = select(DeliveryRow)
            if state is not None:
                query = query.where(DeliveryRow.state == state)
            if sink is not None:
                query = query.where(DeliveryRow.sink == sink)
            if key is not None:
                query = query.where(DeliveryRow.key == key)
            query = query.order_by(DeliveryRow.created_at.desc(), DeliveryRow.id).limit(limit)
            with Session(self.engine) as db:
                return [_delivery(r) for r in db.scalars(query)]

        return await self.store.run(work)

    async def attempts(self, delivery_id: str) -> list[Attempt]:
        """Every attempt at one delivery, oldest first."""

        def work() -> list[Attempt]:
            query = (
                select(AttemptRow, DeliveryRow.sink)
                .join(DeliveryRow, DeliveryRow.id == AttemptRow.delivery_id)
                .where(AttemptRow.delivery_id == delivery_id)
                .order_by(AttemptRow.number, AttemptRow.id)
            )
            with Session(self.engine) as db:
                return [
                    Attempt(
                        delivery_id=a.delivery_id,
                        sink=sink,
                        number=a.number,
                        started_at=_utc(a.started_at),
                        duration_s=a.duration_s,
                        status=a.status,
                        error=a.error,
                        outcome=a.outcome,
                    )
                    for a, sink in db.execute(query)
                ]

        return await self.store.run(work)

    async def forget(self, key: str) -> int:
        """Delete every delivery (and attempt) about ``key``: deletion by policy."""

        def work() -> int:
            with Session(self.engine) as db, db.begin():
                ids = select(DeliveryRow.id).where(DeliveryRow.key == key)
                db.execute(delete(AttemptRow).where(AttemptRow.delivery_id.in_(ids)))
                done = db.execute(delete(DeliveryRow).where(DeliveryRow.key == key))
                return int(done.rowcount)  # type: ignore[attr-defined]

        return await self.store.run(work)

    # -- metrics ---------------------------------------------------------------
    def _zero_counts(self) -> dict[str, dict[str, int]]:
        return {name: {state: 0 for state in STATES} for name in self.sinks}

    def _count_sync(self) -> dict[str, dict[str, int]]:
        counts = self._zero_counts()
        query = select(DeliveryRow.sink, DeliveryRow.state, func.count()).group_by(DeliveryRow.sink, DeliveryRow.state)
        with Session(self.engine) as db:
            for sink, state, n in db.execute(query):
                counts.setdefault(sink, {s: 0 for s in STATES})[state] = int(n)
        return counts

    async def counts(self) -> dict[str, dict[str, int]]:
        """Deliveries per sink and state, fresh from the database."""
        self._counts = await self.store.run(self._count_sync)
        self._counts_at = time.monotonic()
        return self._counts

    def state_counts(self) -> dict[str, dict[str, int]]:
        """The last counts the worker saw (at most ``counts_interval_s`` old); never blocks.

        For a Prometheus collector: ``candor_outbox_deliveries{sink, state}``,
        with ``attempt_counts`` for ``candor_outbox_attempts_total{sink, outcome}``.
        """
        return {sink: dict(states) for sink, states in self._counts.items()}

    # -- worker ------------------------------------------------------------------
    async def start(self) -> None:
        if self._task is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._closing = False
        await self.store.run(create_tables, self.engine)
        self._client = httpx.AsyncClient(transport=self._transport, follow_redirects=False)
        self._task = self._loop.create_task(self._run(), name="outbox-worker")
        self._task.add_done_callback(self._worker_done)

    async def close(self) -> None:
        """Stop claiming, let deliveries in flight finish (``close_timeout_s``), release the rest."""
        self._closing = True
        self._wake.set()
        task, self._task = self._task, None
        if task is not None:
            await asyncio.wait([task])  # a failure of its own is in self.failure
        inflight = dict(self._inflight)
        if inflight:
            _, late = await asyncio.wait(inflight.values(), timeout=self.close_timeout_s)
            for t in late:
                t.cancel()
            await asyncio.gather(*inflight.values(), return_exceptions=True)
            cancelled = [i for i, t in inflight.items() if t in late]
            if cancelled:
                with contextlib.suppress(SQLAlchemyError, RuntimeError):
                    await self.store.run(self._release, cancelled)
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        if self.failure is not None:
            raise RuntimeError("the outbox worker failed") from self.failure

    def _worker_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            self.failure = exc
            log.error("outbox worker stopped: %s", type(exc).__name__)

    async def _run(self) -> None:
        while not self._closing:
            self._wake.clear()
            try:
                slots = {name: self._slots(name) for name in self.sinks}
                slots = {name: n for name, n in slots.items() if n > 0}
                if slots:
                    claims, lost = await self.store.run(self._claim, slots, frozenset(self._inflight))
                    for attempt in lost:
                        self._observed(attempt)
                    for claim in claims:
                        self._spawn(claim)
                if time.monotonic() - self._counts_at >= self.counts_interval_s:
                    await self.counts()
            except Exception as exc:  # the database may be busy or away: try again
                self.last_error = type(exc).__name__
                log.error(
                    "outbox worker tick failed: %s", type(exc).__name__, exc_info=not isinstance(exc, SQLAlchemyError)
                )
            else:
                self.last_error = None
            if self._closing:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_interval_s)

    def _slots(self, name: str) -> int:
        """How many more rows of this sink may be claimed now: in-flight cap and rate limit."""
        free = self.max_in_flight - self._inflight_per_sink[name]
        rate = self.sinks[name].rate_per_min
        if rate is None:
            return free
        sent, now = self._sent_at[name], time.monotonic()
        while sent and now - sent[0] >= 60.0:
            sent.popleft()
        return min(free, rate - len(sent))

    def _spawn(self, claim: _Claim) -> None:
        assert self._loop is not None
        if self.sinks[claim.sink].rate_per_min is not None:
            self._sent_at[claim.sink].append(time.monotonic())
        task = self._loop.create_task(self._deliver(claim), name=f"outbox-{claim.id}")
        self._inflight[claim.id] = task
        self._inflight_per_sink[claim.sink] += 1

        def done(t: asyncio.Task[None]) -> None:
            self._inflight.pop(claim.id, None)
            self._inflight_per_sink[claim.sink] -= 1
            self._wake.set()
            if not t.cancelled() and t.exception() is not None:
                # The lease will expire and the row will be sent again.
                log.error("webhook %s: delivery failed: %s", claim.id, type(t.exception()).__name__)

        task.add_done_callback(done)

    def _lease(self, sink: Channel) -> timedelta:
        return timedelta(seconds=max(self.lease_s, sink.timeout_s + 1.0))

    def _claim(self, slots: dict[str, int], inflight: frozenset[str]) -> tuple[list[_Claim], list[Attempt]]:
        """Lease up to ``slots[sink]`` due rows of each sink; also say which leases had run out."""
        now = self.clock()
        claims: list[_Claim] = []
        lost: list[Attempt] = []
        free = or_(DeliveryRow.locked_until.is_(None), DeliveryRow.locked_until <= now)
        with Session(self.engine) as db:
            for sink_name, limit in slots.items():
                sink = self.sinks[sink_name]
                due = db.execute(
                    select(DeliveryRow.id, DeliveryRow.subject, DeliveryRow.body, DeliveryRow.locked_until)
                    .where(
                        DeliveryRow.state == PENDING,
                        DeliveryRow.sink == sink_name,
                        DeliveryRow.next_attempt_at <= now,
                        free,
                    )
                    .order_by(DeliveryRow.next_attempt_at)
                    .limit(limit)
                ).all()
                db.commit()
                for msg_id, subject, sealed, locked_until in due:
                    if msg_id in inflight:
                        continue
                    with db.begin():
                        taken = db.execute(
                            update(DeliveryRow)
                            .where(DeliveryRow.id == msg_id, DeliveryRow.state == PENDING, free)
                            .values(locked_until=now + self._lease(sink), lease_owner=self.worker_id)
                        )
                        if taken.rowcount != 1:  # type: ignore[attr-defined]
                            continue  # another worker was quicker
                        if locked_until is not None:
                            # A lease ran out: its worker died or hung mid-delivery.
                            attempt, dead = self._lost(db, msg_id, sink, _utc(locked_until), now)
                            lost.append(attempt)
                            if dead:
                                continue
                        try:
                            body = self.vault.open(subject, sealed, BODY, db=db).decode()
                        except VaultError as exc:
                            # Its subject was erased (or it was sealed under another master key): nothing can
                            # be sent; the row fails so HR and operators see it (ids only in the log).
                            db.execute(update(DeliveryRow).where(DeliveryRow.id == msg_id).values(
                                state=FAILED, last_error=type(exc).__name__, locked_until=None, lease_owner=None))
                            log.warning("webhook %s to %s: its body does not open (%s): failed", msg_id, sink_name,
                                        type(exc).__name__)
                            continue
                    claims.append(_Claim(msg_id, sink_name, body))
        return claims, lost

    def _lost(
        self, db: Session, msg_id: str, sink: Channel, locked_until: datetime, now: datetime
    ) -> tuple[Attempt, bool]:
        """Record the attempt a dead worker left behind; True if the horizon has passed too."""
        row = db.get(DeliveryRow, msg_id)
        assert row is not None
        started = locked_until - self._lease(sink)
        row.total_attempts += 1
        row.last_status, row.last_error = None, "LeaseExpired"
        dead = now >= _utc(row.expires_at)
        db.add(
            AttemptRow(
                delivery_id=msg_id,
                number=row.total_attempts,
                started_at=started,
                duration_s=0.0,
                status=None,
                error="LeaseExpired",
                outcome=LOST,
                worker=self.worker_id,
            )
        )
        log.warning("webhook %s to %s: a worker lost its lease mid-delivery", msg_id, sink.name)
        if dead:
            row.state, row.locked_until, row.lease_owner = DEAD, None, None
            log.warning("webhook %s to %s: dead (horizon passed)", msg_id, sink.name)
        attempt = Attempt(msg_id, sink.name, row.total_attempts, started, 0.0, None, "LeaseExpired", LOST)
        return attempt, dead

    async def _deliver(self, claim: _Claim) -> None:
        assert self._client is not None
        sink = self.sinks[claim.sink]
        started = self.clock()
        result = await sink.send(self._client, claim.id, claim.body)
        attempt = await self.store.run(self._finish, claim, result, started)
        if attempt is not None:
            self._observed(attempt)

    def _observed(self, attempt: Attempt) -> None:
        self.attempt_counts[(attempt.sink, attempt.outcome)] += 1
        if self.observe is not None:
            try:
                self.observe(attempt)
            except Exception as exc:
                log.error("outbox observer failed: %s", type(exc).__name__)

    def _finish(self, claim: _Claim, result: webhook.SendResult, started: datetime) -> Attempt | None:
        now = self.clock()
        with Session(self.engine) as db, db.begin():
            row = db.get(DeliveryRow, claim.id)
            if row is None:
                return None  # forgotten meanwhile
            owned = row.state == PENDING and row.lease_owner == self.worker_id
            step = next_step(
                status=result.status,
                retry_after=result.retry_after,
                attempt=row.attempts + 1,
                now=now,
                expires_at=_utc(row.expires_at),
                backoff=self.backoff,
                rng=self.rng,
            )
            outcome = RETRY if step.state == PENDING else step.state
            row.attempts += 1
            row.total_attempts += 1
            row.last_status, row.last_error = result.status, result.error
            db.add(
                AttemptRow(
                    delivery_id=row.id,
                    number=row.total_attempts,
                    started_at=started,
                    duration_s=result.duration_s,
                    status=result.status,
                    error=result.error,
                    outcome=outcome,
                    worker=self.worker_id,
                )
            )
            if owned or (step.state == DELIVERED and row.state == PENDING):
                # Not owned: our lease ran out and another worker has the row;
                # it decides what comes next, unless we got it through.
                row.state = step.state
                if step.next_attempt_at is not None:
                    row.next_attempt_at = step.next_attempt_at
                if step.state == DELIVERED:
                    row.delivered_at = now
                if owned:
                    row.locked_until, row.lease_owner = None, None
            what = result.status if result.status is not None else result.error
            if step.state in (FAILED, DEAD):
                log.warning(
                    "webhook %s to %s: attempt %d -> %s, %s", row.id, row.sink, row.total_attempts, what, step.state
                )
            else:
                log.info("webhook %s to %s: attempt %d -> %s, %s", row.id, row.sink, row.total_attempts, what, outcome)
            return Attempt(
                delivery_id=row.id,
                sink=row.sink,
                number=row.total_attempts,
                started_at=started,
                duration_s=result.duration_s,
                status=result.status,
                error=result.error,
                outcome=outcome,
            )

    def _release(self, ids: list[str]) -> None:
        with Session(self.engine) as db, db.begin():
            db.execute(
                update(DeliveryRow)
                .where(DeliveryRow.id.in_(ids), DeliveryRow.lease_owner == self.worker_id)
                .values(locked_until=None, lease_owner=None)
            )
