"""Schema migrations (issue 13, section 1): Alembic's head is the code's schema; older databases upgrade in place."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

import sinks.outbox  # noqa: F401  (the outbox's tables are part of the schema)
from db import Base, Store
from db.migrate import BASELINE, current, head, upgrade
from jobs.models import CandidateProfile

ROOT = Path(__file__).resolve().parent.parent


def differences(url: str) -> list:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)
    finally:
        engine.dispose()


def test_the_migrations_make_exactly_the_codes_schema(blank_db_url: str) -> None:
    url = blank_db_url
    # The test can fail: an empty database differs from the code's schema in every table.
    assert differences(url)
    engine = create_engine(url)
    assert upgrade(engine) == (None, head())
    assert current(engine) == head()
    engine.dispose()
    assert differences(url) == []  # a model changed without a migration shows here
    store = Store(url)  # the server opens it as its own
    assert store.get_candidate(store.create_candidate(CandidateProfile(name="迁移测试")).id) is not None
    store.close()


def test_a_database_made_before_migrations_is_stamped_and_keeps_its_data(blank_db_url: str) -> None:
    url = blank_db_url
    old = Store(url)  # create_all, as every release before issue 13
    made = old.create_candidate(CandidateProfile(name="老数据"))
    old.close()
    engine = create_engine(url)
    assert current(engine) is None
    assert upgrade(engine) == (BASELINE, head())
    assert upgrade(engine) == (head(), head())  # again: nothing to do
    engine.dispose()
    assert differences(url) == []
    again = Store(url)
    assert again.get_candidate(made.id).profile["name"] == "老数据"
    again.close()


def test_python_m_server_migrate(blank_db_url: str) -> None:
    url = blank_db_url
    env = {**os.environ, "CANDOR_DATABASE_URL": url}
    check = subprocess.run([sys.executable, "-m", "server", "migrate", "--check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert check.returncode == 1 and "no revision" in check.stderr
    done = subprocess.run([sys.executable, "-m", "server", "migrate"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert f"schema empty -> {head()}" in done.stdout
    check = subprocess.run([sys.executable, "-m", "server", "migrate", "--check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert check.returncode == 0 and head() in check.stdout


def test_the_server_migrates_at_start_or_refuses_a_database_behind_it(tmp_path: Path) -> None:
    import pytest
    from sqlalchemy import text

    from db.migrate import SchemaBehind
    from server.app import create_app
    from tests.helpers import make_settings

    settings = make_settings(tmp_path)  # SQLite: CANDOR_MIGRATE defaults to auto
    Store(settings.database_url).close()  # a database an older release made (create_all, no revision)
    engine = create_engine(settings.database_url)
    assert current(engine) is None
    create_app(settings, load_models=False).state.candor.store.close()
    assert current(engine) == head()
    with engine.begin() as connection:  # pretend the database is a revision behind this release
        connection.execute(text("UPDATE alembic_version SET version_num = '0000_older'"))
    engine.dispose()
    with pytest.raises(SchemaBehind, match="python -m server migrate"):
        create_app(make_settings(tmp_path, migrate="off"), load_models=False)
