"""Schema migrations with Alembic (migrations/): upgrade a database to the code's schema, in place, with its data.

A database made before migrations existed (``Base.metadata.create_all``: every
release until issue 13) holds the baseline's tables but no ``alembic_version``:
it is stamped at the baseline first, then upgraded. An empty database is
upgraded from nothing. ``python -m server migrate`` runs it for operators.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
BASELINE = "0001_baseline"


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return config


def head() -> str:
    return ScriptDirectory(str(MIGRATIONS)).get_current_head() or ""


def current(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the database to the head revision: (the revision it was at, or None; the head)."""
    config = alembic_config(engine)
    before = current(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        if before is None and inspect(connection).has_table("candidates"):
            command.stamp(config, BASELINE)  # made by create_all before migrations: it is the baseline
            stamped = BASELINE
        else:
            stamped = before
        command.upgrade(config, "head")
    return stamped if before is None and stamped else before, head()


class SchemaBehind(Exception):
    """The database's schema is older than this release's, and migrating at start is off."""


def prepare(engine: Engine, *, auto: bool) -> tuple[str | None, str] | None:
    """At start: upgrade (``auto``), or refuse a database behind the code (SchemaBehind); what an upgrade did, or None."""
    if auto:
        return upgrade(engine)
    at, latest = current(engine), head()
    if at is not None and at != latest:
        raise SchemaBehind(f"the database's schema is at {at}, this release needs {latest}: "
                           "run `python -m server migrate` (docs/database.md), or set CANDOR_MIGRATE=auto")
    return None
