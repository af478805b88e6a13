"""A real PostgreSQL for the tests: one server per test run, a fresh database per test.

The suite runs its database tests twice, on SQLite and on PostgreSQL, through
one fixture (``db_url`` in tests/outbox_fixtures.py). The PostgreSQL side is
:func:`postgres`, session-scoped:

* ``CANDOR_TEST_POSTGRES_URL`` set (an admin URL whose role may create
  databases; ``.ci/run`` starts Debian's cluster and sets it): that server.
* Otherwise a private server for this run: ``initdb`` and ``pg_ctl`` from
  /usr/lib/postgresql/*/bin (or PATH) into a temporary folder, on a free
  loopback port, stopped at the end. As root, initdb refuses to run, so the
  server runs as the ``postgres`` user (``runuser``) in a folder it owns.
* Neither: the PostgreSQL tests skip, which fails under ``CI=true``
  (tests/suite_rules.py).

Each test gets its own database, copied (``CREATE DATABASE ... TEMPLATE``)
from one migrated once per run, and dropped after it: tests stay independent,
and each costs a copy, not a migration.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest
from psycopg.errors import InsufficientPrivilege
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.pool import NullPool

from db.migrate import upgrade
from deploy.cluster import ClusterError, pg_bin_dir
from tests.helpers import free_port

ENV_URL = "CANDOR_TEST_POSTGRES_URL"
TEMPLATE = "candor_test_template"


def _pg_bin(name: str) -> str | None:
    """``name`` (initdb, pg_ctl) from the newest /usr/lib/postgresql/N/bin (as ``make cluster`` finds it), else from PATH."""
    try:
        return str(pg_bin_dir() / name)
    except ClusterError:
        return shutil.which(name)


@dataclass
class Postgres:
    """A PostgreSQL server the tests may create and drop databases on."""

    admin: URL  # to the maintenance database, as a role that may CREATE DATABASE
    prefix: str = field(default_factory=lambda: f"candor_t{os.getpid()}_")
    _numbers: Iterator[int] = field(default_factory=itertools.count)

    def url(self, database: str) -> str:
        return self.admin.set(database=database).render_as_string(hide_password=False)

    def _admin(self, *statements: str) -> None:
        # CREATE/DROP DATABASE cannot run in a transaction: autocommit, on a connection of its own.
        engine = create_engine(self.admin, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        try:
            with engine.connect() as connection:
                for statement in statements:
                    connection.execute(text(statement))
        finally:
            engine.dispose()

    def make_template(self) -> None:
        """The database every test's is copied from: empty, then migrated to head (db/migrate.py)."""
        self._admin(f'DROP DATABASE IF EXISTS "{self.prefix}{TEMPLATE}" WITH (FORCE)',
                    f'CREATE DATABASE "{self.prefix}{TEMPLATE}"')
        engine = create_engine(self.url(self.prefix + TEMPLATE))
        try:
            upgrade(engine)
        finally:
            engine.dispose()  # a template must have no connections when it is copied

    def new_database(self, *, blank: bool = False) -> str:
        """A fresh database at the head revision (a copy of the template), or ``blank`` (no tables); its name."""
        name = f"{self.prefix}{next(self._numbers)}"
        self._admin(f'CREATE DATABASE "{name}"' if blank else f'CREATE DATABASE "{name}" TEMPLATE "{self.prefix}{TEMPLATE}"')
        return name

    def drop(self, name: str) -> None:
        # FORCE ends what a test left connected (a server thread's pool, a child process). An autovacuum
        # worker in the database belongs to no role, so a role without pg_signal_backend may not end it:
        # FORCE then fails. Plain DROP DATABASE asks autovacuum to leave and waits; the test's own
        # connections are gone by then or FORCE would have been refused for them first.
        for attempt in range(5):
            try:
                self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                return
            except ProgrammingError as error:
                if not isinstance(error.orig, InsufficientPrivilege):
                    raise
                time.sleep(0.2 * (attempt + 1))
        self._admin(f'DROP DATABASE IF EXISTS "{name}"')

    def drop_template(self) -> None:
        self.drop(self.prefix + TEMPLATE)


class PrivateServer:
    """initdb + pg_ctl in a temporary folder on a free loopback port; trust authentication, loopback only.

    Durability is off (fsync, full-page writes): the data lives for one test run.
    """

    def __init__(self, initdb: str, pg_ctl: str) -> None:
        self.initdb, self.pg_ctl = initdb, pg_ctl
        self.root = Path(tempfile.mkdtemp(prefix="candor-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0  # initdb refuses root: run the server as the postgres user

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = ["runuser", "-u", "postgres", "--", *args] if self.as_postgres else list(args)
        return subprocess.run(command, capture_output=True, text=True, timeout=120)

    def start(self) -> URL:
        if self.as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        os.chmod(self.root, 0o700)
        made = self._run(self.initdb, "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                         "--locale=C.UTF-8", "--no-sync")
        if made.returncode != 0:
            raise RuntimeError(f"initdb failed: {made.stderr.strip()[-500:]}")
        options = (f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.root} "
                   "-c fsync=off -c full_page_writes=off -c synchronous_commit=off -c max_connections=200")
        started = self._run(self.pg_ctl, "-D", str(self.data), "-l", str(self.root / "log"), "-o", options,
                            "-w", "-t", "60", "start")
        if started.returncode != 0:
            log = (self.root / "log").read_text(errors="replace")[-800:] if (self.root / "log").exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {started.stderr.strip()[-300:]} {log}")
        return URL.create("postgresql+psycopg", username="postgres", host="127.0.0.1", port=self.port,
                          database="postgres")

    def stop(self) -> None:
        if self.data.exists():
            self._run(self.pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def _wait_until_up(url: URL, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        engine = create_engine(url)
        try:
            with engine.connect():
                return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
        finally:
            engine.dispose()


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """The run's PostgreSQL (``CANDOR_TEST_POSTGRES_URL``, else a private server); skips when there is none."""
    server: PrivateServer | None = None
    if os.environ.get(ENV_URL):
        admin = make_url(os.environ[ENV_URL])
    else:
        initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
        if initdb is None or pg_ctl is None:
            pytest.skip(f"no PostgreSQL: set {ENV_URL} or install the postgresql package (initdb, pg_ctl)")
        server = PrivateServer(initdb, pg_ctl)
        try:
            admin = server.start()
        except (RuntimeError, OSError, subprocess.SubprocessError) as e:
            server.stop()
            pytest.skip(f"could not start a private PostgreSQL: {e}")
    try:
        _wait_until_up(admin)
        pg = Postgres(admin)
        pg.make_template()
        yield pg
        pg.drop_template()
    finally:
        if server is not None:
            server.stop()


@pytest.fixture
def pg_url(postgres: Postgres) -> Iterator[str]:
    """A fresh PostgreSQL database for one test, at the head migration; dropped after it."""
    name = postgres.new_database()
    yield postgres.url(name)
    postgres.drop(name)


@pytest.fixture
def blank_pg_url(postgres: Postgres) -> Iterator[str]:
    """An empty PostgreSQL database (no tables, no revision), for the migration tests; dropped after it."""
    name = postgres.new_database(blank=True)
    yield postgres.url(name)
    postgres.drop(name)


def stored_bytes(url: str, folder: Path) -> bytes:
    """What a copy of the database would hold, for tests that look for plain personal data in it.

    SQLite: the bytes of the files under ``folder`` (the database, its -wal and
    -shm). PostgreSQL: every value of every table, binary columns as their raw
    bytes, the rest as text (what a dump would carry).
    """
    if make_url(url).get_backend_name() == "sqlite":
        return b"".join(p.read_bytes() for p in sorted(folder.glob("*.db*")))
    engine = create_engine(url, poolclass=NullPool)
    parts: list[bytes] = []
    try:
        with engine.connect() as connection:
            for table in inspect(connection).get_table_names():
                for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                    for value in row:
                        if isinstance(value, (bytes, memoryview)):
                            parts.append(bytes(value))
                        elif value is not None:
                            parts.append(str(value).encode("utf-8"))
    finally:
        engine.dispose()
    return b"\n".join(parts)
