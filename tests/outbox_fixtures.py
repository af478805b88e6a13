"""The outbox under test: a store on a fresh database (SQLite, then PostgreSQL), outboxes that a test starts and that close after it.

The fixtures (``db_url``, ``store``, ``outbox_options``, ``outboxes``) are
installed in tests/conftest.py. A test starts the real :class:`sinks.Outbox`
with ``await outboxes.start([channel, ...])``, on short test timings
(:data:`FAST`); a module that needs other timings overrides the
``outbox_options`` fixture. ``enqueue_to`` adds a message for one channel
in its own transaction, and ``until_state`` waits for a delivery's state.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, AsyncIterator, Iterator, Sequence

import pytest
from sqlalchemy.orm import Session

from db import AsyncStore, Store
from sinks import Channel, Outbox

# Retries, polls and counts in tens of milliseconds (the outbox never leases for less than an attempt's timeout + 1 s).
FAST: dict[str, float] = dict(
    backoff_base_s=0.05, backoff_cap_s=0.2, poll_interval_s=0.05, lease_s=5.0, counts_interval_s=0.1
)


class Outboxes:
    """The outboxes one test starts on its store; the fixture closes them all when the test ends."""

    def __init__(self, store: AsyncStore, options: dict[str, Any]) -> None:
        self.store = store
        self.options = options
        self.made: list[Outbox] = []

    async def start(self, channels: Sequence[Channel], **options: Any) -> Outbox:
        """A started outbox over ``channels``; ``options`` go to :class:`Outbox` over the module's."""
        outbox = Outbox(self.store, channels, **{**self.options, **options})
        self.made.append(outbox)
        await outbox.start()
        return outbox

    async def close(self) -> None:
        for outbox in self.made:
            await outbox.close()


@pytest.fixture(params=["sqlite", "pg"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The test's database, once on a fresh SQLite file and once on a fresh PostgreSQL database (tests/pg_fixtures.py).

    A test that holds for one backend only (it reads the SQLite file's bytes)
    narrows it: ``@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)``.
    """
    if request.param == "pg":
        return request.getfixturevalue("pg_url")
    return f"sqlite:///{tmp_path}/candor.db"


@pytest.fixture(scope="module", params=["sqlite", "pg"])
def module_db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Like ``db_url``, for a module's fixtures that outlive one test (a server the module's tests share)."""
    if request.param == "pg":
        postgres = request.getfixturevalue("postgres")
        name = postgres.new_database()
        yield postgres.url(name)
        postgres.drop(name)
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('module-db')}/candor.db"


@pytest.fixture(params=["sqlite", "pg"])
def blank_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Like ``db_url``, but empty: no tables and no migration (the migration tests make them)."""
    if request.param == "pg":
        return request.getfixturevalue("blank_pg_url")
    return f"sqlite:///{tmp_path}/blank.db"


@pytest.fixture
def store(db_url: str) -> Iterator[AsyncStore]:
    s = AsyncStore(Store(db_url))
    yield s
    s.close()


@pytest.fixture
def outbox_options() -> dict[str, Any]:
    """Keyword arguments for every :class:`Outbox` a test starts (override it in a module to change them)."""
    return dict(FAST)


@pytest.fixture
async def outboxes(store: AsyncStore, outbox_options: dict[str, Any]) -> AsyncIterator[Outboxes]:
    made = Outboxes(store, outbox_options)
    yield made
    await made.close()


def enqueue_to(outbox: Outbox, channel: str, type_: str, key: str, payload: dict, version: int = 1) -> str:
    """One message for ``channel`` in a transaction of its own, committed; its id. Blocks on the database."""
    with Session(outbox.engine) as db, db.begin():
        return outbox.enqueue_to(db, channel, type_, key, version, payload)


async def until_state(outbox: Outbox, msg_id: str, state: str, timeout: float = 15.0) -> None:
    """Wait until the delivery ``msg_id`` is in ``state`` (delivered, failed...); fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        delivery = await outbox.get(msg_id)
        if delivery is not None and delivery.state == state:
            return
        assert time.monotonic() < deadline, f"{msg_id} not {state}: {delivery}"
        await asyncio.sleep(0.05)
