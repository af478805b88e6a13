"""Tests for server/eventlog.py and the db package on a real SQLite file."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import AsyncIterator, Iterator

import pytest

from events import (
    AnalyzerEvent,
    ConnectionEnded,
    Event,
    FaceAbsent,
    MediaDropped,
    SessionError,
    SpeechEnd,
    SpeechStart,
    TranscriptFinal,
    Word,
)
from server.eventlog import EventWriter, SessionEvents, Watcher
from db import AsyncStore, SessionRecord, Store, token_hash, utcnow

SID = "sess-1"


class WallClock:
    """A fake time.time that ticks 0.5 s per reading."""

    def __init__(self) -> None:
        self.t = 1_700_000_000.0

    def __call__(self) -> float:
        self.t += 0.5
        return self.t


def new_session(store: Store, session_id: str = SID, *, token: str = "tok-1", code: str = "code-1") -> SessionRecord:
    return store.create_session(
        session_id=session_id,
        expires_at=utcnow() + timedelta(hours=1),
        candidate_token=token,
        invite_code=code,
    )


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "c.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{db_path}")
    yield s
    s.close()


@pytest.fixture
async def astore(store: Store) -> AsyncIterator[AsyncStore]:
    new_session(store)
    a = AsyncStore(store)
    yield a
    a.close()


@pytest.fixture
async def writer(astore: AsyncStore) -> AsyncIterator[EventWriter]:
    w = EventWriter(astore)
    w.start()
    yield w
    await asyncio.wait_for(w.close(), 5)


@pytest.fixture
def wall() -> WallClock:
    return WallClock()


@pytest.fixture
def events(writer: EventWriter, wall: WallClock) -> SessionEvents:
    return SessionEvents(SID, next_seq=0, writer=writer, wall_clock=wall)


async def flushed(events: SessionEvents) -> None:
    await asyncio.wait_for(events.flush(), 5)


# -- SessionEvents ------------------------------------------------------------
def _dropped(count: int) -> MediaDropped:
    return MediaDropped(kind="audio", count=count, total=count)


@pytest.mark.asyncio
async def test_publish_assigns_consecutive_seq_and_wall_time(events: SessionEvents, wall: WallClock) -> None:
    start = wall.t
    published = [
        events.publish(1.23456, SpeechStart(utterance_id=1)),
        events.publish(2.0, SpeechEnd(utterance_id=1, start=1.2, end=2.0)),
        events.publish_analyzer_event(AnalyzerEvent(2.5, FaceAbsent(state="start", faces=0, since=1.5))),
        events.publish(None, ConnectionEnded(connection_id="c1", reason="hung up")),
    ]
    assert [e.seq for e in published] == [0, 1, 2, 3]
    assert [e.wall_time for e in published] == [start + 0.5, start + 1.0, start + 1.5, start + 2.0]
    assert [e.session_id for e in published] == [SID] * 4
    assert [e.media_time for e in published] == [1.235, 2.0, 2.5, None]
    assert published[2].type == "face.absent"
    assert published[2].payload == FaceAbsent(state="start", faces=0, since=1.5)
    assert published[3].to_dict()["payload"] == {"connection_id": "c1", "reason": "hung up"}


@pytest.mark.asyncio
async def test_publish_continues_from_next_seq(writer: EventWriter) -> None:
    events = SessionEvents(SID, next_seq=42, writer=writer)
    assert [events.publish(None, _dropped(0)).seq for _ in range(3)] == [42, 43, 44]


@pytest.mark.asyncio
async def test_a_payload_reads_back_as_the_same_typed_payload(events: SessionEvents, store: Store) -> None:
    payload = TranscriptFinal(
        utterance_id=3, text="你好 hello", language="zh", start=0.5, end=1.0, words=(Word("你好", 0.5, 0.8, 0.9),)
    )
    event = events.publish(1.0, payload)
    await flushed(events)
    (back,) = store.read_events(SID)
    assert back == event and back.payload == payload and isinstance(back.payload.words[0], Word)


@pytest.mark.asyncio
async def test_a_logged_event_of_an_unknown_type_is_skipped_not_fatal(events: SessionEvents, store: Store) -> None:
    events.publish(1.0, _dropped(1))
    other = Event(SID, 1, 1.5, 0.0, _dropped(2))
    row = other.to_dict()
    await flushed(events)
    store.append_events([other])
    with store.engine.begin() as db:  # a newer version's event type in the same log
        db.exec_driver_sql("UPDATE events SET type = 'future.event' WHERE seq = 1")
    assert [e.seq for e in store.read_events(SID)] == [0]
    assert row["type"] == "media.dropped"


@pytest.mark.asyncio
async def test_flushed_events_read_back_exactly(events: SessionEvents, store: Store) -> None:
    published = [events.publish(i * 0.1, SessionError(message=f"第 {i} 次", error=str(i))) for i in range(10)]
    await flushed(events)
    assert [e.to_dict() for e in store.read_events(SID)] == [e.to_dict() for e in published]
    assert store.last_seq(SID) == 9


@pytest.mark.asyncio
@pytest.mark.parametrize("from_seq", [0, 1, 5, 9, 10, 50])
async def test_read_events_from_seq_returns_seq_at_or_after_in_order(
    events: SessionEvents, store: Store, from_seq: int
) -> None:
    for i in range(10):
        events.publish(float(i), _dropped(0))
    await flushed(events)
    assert [e.seq for e in store.read_events(SID, from_seq=from_seq)] == list(range(from_seq, 10))
    assert [e.seq for e in store.read_events(SID, from_seq=from_seq, limit=3)] == list(range(from_seq, 10))[:3]


@pytest.mark.asyncio
async def test_events_of_other_sessions_are_not_read(writer: EventWriter, store: Store) -> None:
    new_session(store, "sess-2", token="tok-2", code="code-2")
    one = SessionEvents(SID, next_seq=0, writer=writer)
    two = SessionEvents("sess-2", next_seq=0, writer=writer)
    for i in range(3):
        one.publish(float(i), _dropped(1))
        two.publish(float(i), _dropped(2))
    await flushed(one)
    assert [(e.payload.count, e.seq) for e in store.read_events(SID)] == [(1, 0), (1, 1), (1, 2)]
    assert [(e.payload.count, e.seq) for e in store.read_events("sess-2")] == [(2, 0), (2, 1), (2, 2)]
    assert store.last_seq("nobody") == -1


@pytest.mark.asyncio
async def test_replay_after_reconnect_gives_each_seq_exactly_once(events: SessionEvents, store: Store) -> None:
    """What the events websocket does: subscribe, flush, send history, then
    live events skipping any seq already sent."""
    for i in range(5):
        events.publish(float(i), _dropped(1))
    await flushed(events)
    from_seq = 2  # the watcher had seen 0 and 1 before it dropped

    watcher = events.subscribe()
    assert events.watcher_count == 1
    for i in range(3):  # published between subscribe and the history read
        events.publish(float(i), _dropped(2))
    await flushed(events)
    history = store.read_events(SID, from_seq=from_seq)
    for i in range(4):  # published after the history read: live only
        events.publish(float(i), _dropped(3))

    sent: list[Event] = []
    last = from_seq - 1
    for event in history:
        sent.append(event)
        last = event.seq
    while not watcher.queue.empty():
        event = watcher.queue.get_nowait()
        if event.seq <= last:
            continue
        sent.append(event)
        last = event.seq

    assert [e.seq for e in sent] == list(range(2, 12))
    assert [e.payload.count for e in sent] == [1] * 3 + [2] * 3 + [3] * 4
    # the live queue saw everything since subscribing, history overlapped it
    assert [e.seq for e in history] == list(range(2, 8))
    events.unsubscribe(watcher)
    assert events.watcher_count == 0
    events.publish(None, _dropped(4))
    assert watcher.queue.empty()  # unsubscribed watchers get nothing more


@pytest.mark.asyncio
async def test_slow_watcher_overflows_without_blocking_publish_or_others(
    writer: EventWriter, store: Store
) -> None:
    events = SessionEvents(SID, next_seq=0, writer=writer, watcher_queue=2)
    slow = events.subscribe()
    fast = events.subscribe()
    fast_seen: list[int] = []
    for i in range(6):
        events.publish(float(i), _dropped(0))  # returns at once even though slow is full
        while not fast.queue.empty():
            fast_seen.append(fast.queue.get_nowait().seq)

    assert slow.overflowed.is_set()
    assert not fast.overflowed.is_set()
    assert fast_seen == [0, 1, 2, 3, 4, 5]
    # the slow watcher kept what fitted and is told to reconnect with from_seq
    assert [slow.queue.get_nowait().seq for _ in range(slow.queue.qsize())] == [0, 1]
    # once overflowed, it stays out of the stream even with room again
    events.publish(6.0, _dropped(0))
    assert slow.queue.empty()
    # the log lost nothing
    await flushed(events)
    assert [e.seq for e in store.read_events(SID)] == list(range(7))


@pytest.mark.asyncio
async def test_watcher_offer_never_raises_when_full() -> None:
    watcher = Watcher(maxsize=1)
    event = Event(SID, 0, None, 0.0, _dropped(0))
    watcher.offer(event)
    assert not watcher.overflowed.is_set()
    watcher.offer(event)
    watcher.offer(event)
    assert watcher.overflowed.is_set()
    assert watcher.queue.qsize() == 1


@pytest.mark.asyncio
async def test_a_failing_listener_does_not_stop_publish(events: SessionEvents, store: Store) -> None:
    seen: list[int] = []

    def broken(event: Event) -> None:
        raise RuntimeError("listener bug")

    events.listeners.extend([broken, lambda e: seen.append(e.seq)])
    watcher = events.subscribe()
    events.publish(None, _dropped(0))
    events.publish(None, _dropped(0))
    assert seen == [0, 1]
    assert watcher.queue.qsize() == 2
    await flushed(events)
    assert len(store.read_events(SID)) == 2


@pytest.mark.asyncio
async def test_store_failures_are_retried_and_lose_nothing(
    events: SessionEvents, writer: EventWriter, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_append = store.append_events
    calls: list[list[int]] = []

    def flaky(batch):
        batch = list(batch)
        calls.append([e.seq for e in batch])
        if len(calls) <= 2:
            raise sqlite3.OperationalError("database is locked")
        real_append(batch)

    monkeypatch.setattr(store, "append_events", flaky)
    for i in range(3):
        events.publish(float(i), _dropped(0))
    await asyncio.sleep(0)  # let the writer take its first batch
    for i in range(3, 5):
        events.publish(float(i), _dropped(0))  # published while the writer retries
    await flushed(events)

    assert writer.failures == 2
    assert len(calls) == 3
    # the failed batch is retried, with what arrived meanwhile behind it
    assert calls[1][: len(calls[0])] == calls[0]
    assert calls[2] == calls[1]
    assert [e.seq for e in store.read_events(SID)] == [0, 1, 2, 3, 4]


@pytest.mark.asyncio
async def test_writer_batches_are_capped(astore: AsyncStore, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    sizes: list[int] = []
    real_append = store.append_events

    def counting(batch):
        batch = list(batch)
        sizes.append(len(batch))
        real_append(batch)

    monkeypatch.setattr(store, "append_events", counting)
    writer = EventWriter(astore, max_batch=4)
    writer.start()
    events = SessionEvents(SID, next_seq=0, writer=writer)
    for i in range(10):
        events.publish(float(i), _dropped(0))
    await flushed(events)
    await writer.close()
    assert max(sizes) <= 4
    assert sum(sizes) == 10
    assert [e.seq for e in store.read_events(SID)] == list(range(10))


@pytest.mark.asyncio
async def test_close_writes_pending_events(astore: AsyncStore, store: Store) -> None:
    writer = EventWriter(astore)
    writer.start()
    events = SessionEvents(SID, next_seq=0, writer=writer)
    for i in range(5):
        events.publish(float(i), _dropped(0))
    await asyncio.wait_for(writer.close(), 5)
    assert len(store.read_events(SID)) == 5


# -- Store: sessions, invites, tokens -----------------------------------------
def test_create_and_get_session(store: Store) -> None:
    expires = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    created = store.create_session(session_id="s", expires_at=expires, candidate_token="t", invite_code="c")
    fetched = store.get_session("s")
    assert fetched == created
    assert fetched.expires_at == expires
    assert fetched.created_at.tzinfo is not None
    assert fetched.state == "open"
    assert store.get_session("missing") is None
    store.set_session_state("s", "ended")
    assert store.get_session("s").state == "ended"


def test_invite_redeems_once_only(store: Store) -> None:
    new_session(store, "s", code="invite-abc")
    record = store.redeem_invite("invite-abc")
    assert record is not None and record.id == "s"
    assert store.redeem_invite("invite-abc") is None
    assert store.redeem_invite("never-issued") is None
    assert store.get_session("s") is not None  # the session itself stays


def test_session_for_token(store: Store) -> None:
    new_session(store, "a", token="token-a", code="code-a")
    new_session(store, "b", token="token-b", code="code-b")
    assert store.session_for_token("a", "token-a").id == "a"
    assert store.session_for_token("a", "wrong") is None
    assert store.session_for_token("a", "token-b") is None  # another session's token
    assert store.session_for_token("missing", "token-a") is None


def test_add_token_adds_a_second_valid_token(store: Store) -> None:
    new_session(store, "a", token="token-a", code="code-a")
    new_session(store, "b", token="token-b", code="code-b")
    store.add_token("a", "page-token")
    assert store.session_for_token("a", "page-token").id == "a"
    assert store.session_for_token("a", "token-a").id == "a"  # the first still works
    assert store.session_for_token("b", "page-token") is None


def test_tokens_and_invite_codes_are_stored_only_as_digests(store: Store, db_path: Path) -> None:
    new_session(store, "a", token="secret-token-123", code="secret-code-456")
    store.close()
    raw = b"".join(p.read_bytes() for p in db_path.parent.glob(db_path.name + "*"))
    assert b"secret-token-123" not in raw
    assert b"secret-code-456" not in raw
    with sqlite3.connect(db_path) as conn:
        hashes = [row[0] for row in conn.execute("select token_hash from session_tokens")]
    assert hashes == [token_hash("secret-token-123")]


def test_list_sessions_newest_first(store: Store) -> None:
    for name in ["first", "second", "third"]:
        new_session(store, name, token=f"t-{name}", code=f"c-{name}")
    assert [r.id for r in store.list_sessions()] == ["third", "second", "first"]
    assert [r.id for r in store.list_sessions(limit=1)] == ["third"]


def test_session_record_expired() -> None:
    expires = datetime(2030, 1, 1, tzinfo=timezone.utc)
    record = SessionRecord(id="s", created_at=expires - timedelta(hours=1), expires_at=expires, state="open")
    assert not record.expired(expires - timedelta(seconds=1))
    assert record.expired(expires)
    assert record.expired(expires + timedelta(seconds=1))
    # without an argument it compares with the current time
    future = SessionRecord(id="s", created_at=utcnow(), expires_at=utcnow() + timedelta(days=1), state="open")
    assert not future.expired()
    past = SessionRecord(id="s", created_at=expires, expires_at=utcnow() - timedelta(seconds=1), state="open")
    assert past.expired()


def test_expiry_read_back_from_the_store(store: Store) -> None:
    new_session(store, "s")
    record = store.get_session("s")
    assert not record.expired()
    assert record.expired(utcnow() + timedelta(hours=2))


def test_expiry_in_another_timezone_is_the_same_instant(store: Store) -> None:
    beijing = timezone(timedelta(hours=8))
    expires = datetime(2030, 1, 1, 12, 0, tzinfo=beijing)
    store.create_session(session_id="s", expires_at=expires, candidate_token="t", invite_code="c")
    assert store.get_session("s").expires_at == expires


def test_events_of_a_session_that_no_longer_exists_are_dropped_not_retried(store: Store) -> None:
    # After an erasure a late analyzer result may still arrive: it must not block the log (a foreign key failing
    # forever) nor make the erased session's data key again.
    store.create_session(session_id="kept", expires_at=utcnow() + timedelta(hours=1), candidate_token="t", invite_code="c")
    late = [Event("gone", 0, 1.0, 0.0, _dropped(1)), Event("kept", 0, 1.0, 0.0, _dropped(2))]
    store.append_events(late)
    assert [e.payload.count for e in store.read_events("kept")] == [2]
    assert store.read_events("gone") == []
    assert store.get_data_key("gone") is None


@pytest.mark.asyncio
async def test_two_writers_of_one_session_do_not_stop_the_log(writer: EventWriter, store: Store, wall: WallClock) -> None:
    """Two nodes that both believe they hold a session (a partition): the first event at a seq stays, the
    second is dropped (logged), and the writer goes on with every other event instead of retrying forever."""
    first = SessionEvents(SID, next_seq=0, writer=writer, wall_clock=wall)
    first.publish(1.0, _dropped(1))
    first.publish(2.0, _dropped(2))
    await flushed(first)
    second = SessionEvents(SID, next_seq=1, writer=writer, wall_clock=wall)  # a stale next seq
    second.publish(3.0, _dropped(30))  # seq 1 again: dropped
    second.publish(4.0, _dropped(40))  # seq 2: new
    await asyncio.wait_for(second.flush(), 5)
    logged = store.read_events(SID)
    assert [(e.seq, e.payload.count) for e in logged] == [(0, 1), (1, 2), (2, 40)]
    assert writer.failures == 0
