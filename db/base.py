"""What every repository shares: the declarative ``Base``, the engine, time
and token helpers, the errors, and :class:`AsyncStore`.

The implementation is SQLAlchemy: a SQLite file by default, PostgreSQL by
URL. Repository calls are blocking; async code uses :class:`AsyncStore`,
which runs them on one worker thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from sqlalchemy import create_engine, event as sa_event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session

from vault import Erased

if TYPE_CHECKING:
    from vault import Vault

    from .store import Store

T = TypeVar("T")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def aware(value: datetime) -> datetime:
    # SQLite drops the zone; every time Candor stores is UTC.
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def after_commit(db: Session, key: object, callback: Callable[[], None]) -> None:
    """Call ``callback`` once when ``db``'s transaction commits (once per ``key`` however often this is called).

    For waking a worker about rows the transaction wrote: before the commit
    the worker could not see them, after a rollback there is nothing to see.
    """
    flag = ("candor.after_commit", key)
    if db.info.get(flag):
        return
    db.info[flag] = True

    def committed(_db: Session) -> None:
        db.info.pop(flag, None)
        callback()

    sa_event.listen(db, "after_commit", committed, once=True)


def token_hash(token: str) -> str:
    """Tokens are stored only as SHA-256 digests."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Base(DeclarativeBase):
    pass


class AlreadyExists(Exception):
    """A create for an id that is taken (use an update to add a version)."""


class VersionConflict(Exception):
    """The latest version is not the one the caller based its edit on."""

    def __init__(self, latest: int) -> None:
        super().__init__(f"the latest version is {latest}")
        self.latest = latest


def open_engine(url: str) -> Engine:
    """An engine for ``url`` (a SQLite file's folder is made; WAL and foreign keys on)."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        _private_file(Path(url.removeprefix("sqlite:///").split("?", 1)[0]))
    engine = create_engine(url, future=True)
    if url.startswith("sqlite"):
        sa_event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _private_file(path: Path) -> None:
    """The SQLite file readable by this user only (0600; its -wal and -shm files take the same mode).

    It holds candidates' personal data: made 0600 before SQLite opens it, and an older file made so.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    for name in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if name.exists() and name.stat().st_mode & 0o077:
                os.chmod(name, 0o600)
        except OSError:
            pass  # not ours to change (another user's file): SQLite still opens it


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    # Deleted content is overwritten with zeros, not left in free space (erasure: db/erasure.py). The page
    # images the WAL holds are cleared by the checkpoint (TRUNCATE) each erasure runs.
    cur.execute("PRAGMA secure_delete=ON")
    cur.close()


_RAISE = object()

# The subject whose data key keys the lookup hashes (Repository.lookup_hash): not a person; never erased.
# Wrapped by the master key like every data key, so a rotation keeps it (and the hashes stay valid).
LOOKUP_SUBJECT = "candor:lookup"


class Repository:
    """One resource's rows and queries, on a shared engine.

    Personal data is sealed at rest (vault/, docs/encryption.md): each
    repository seals its personal columns with :meth:`_seal` as it writes
    them and opens them with :meth:`_open` as it reads, so callers see plain
    values. ``vault`` is set by :class:`~db.store.Store`.
    """

    vault: Vault

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _seal(self, db: Session | None, subject: str, context: str, value: Any) -> bytes:
        """``value`` as JSON, sealed for ``subject`` (a candidate or session id) and ``context`` (table.column).

        Inside ``db`` (the writer's transaction), so a subject's new data key commits with its first content.
        """
        return self.vault.seal_json(subject, value, context, db=db)

    def _open(self, db: Session | None, subject: str, context: str, blob: bytes | None, *, erased: Any = _RAISE) -> Any:
        """What :meth:`_seal` sealed (None stays None).

        Once the subject was erased (its data key is gone): ``erased`` when given, else ``vault.Erased``.
        Any other failure (another master key, a changed byte) raises ``vault.VaultError``, always.
        """
        if blob is None:
            return None
        try:
            return self.vault.open_json(subject, bytes(blob), context, db=db)
        except Erased:
            if erased is _RAISE:
                raise
            return erased

    @property
    def lookup_key(self) -> bytes:
        """The key of the lookup hashes: the data key of :data:`LOOKUP_SUBJECT` (the store makes it once)."""
        key = self.vault.data_key(LOOKUP_SUBJECT, create=False)
        if key is None:
            raise RuntimeError("the store has no lookup key (it is made when the Store opens)")
        return key

    def lookup_hash(self, kind: str, value: str) -> str:
        """A keyed hash (HMAC-SHA256) of a value (the caller normalises it), for exact-match lookups of sealed columns.

        The key is the vault's lookup key (a data key of its own, wrapped by the master key like
        every other): a copy of the database alone cannot test guesses against these hashes.
        """
        return hmac.new(self.lookup_key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


class AsyncStore:
    """Runs :class:`~db.store.Store` calls on one worker thread, off the event loop."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(*args, **kwargs))

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self.store.close()
