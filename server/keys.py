"""The master key from the settings, and ``python -m server keys new|rotate`` (vault/, docs/compliance.md)."""

from __future__ import annotations

import sys

from db.keys import DEFAULT_MASTER_KEY_FILE
from vault import LocalKeyWrapper, master_key_from_file, new_master_key, parse_master_key

from .settings import Settings


def wrapper_from(settings: Settings) -> LocalKeyWrapper:
    """CANDOR_MASTER_KEY, else CANDOR_MASTER_KEY_FILE, else var/master-key (made once); older keys still unwrap."""
    if settings.master_key is not None:
        current = parse_master_key(settings.master_key.get_secret_value())
    elif settings.master_key_file is not None:
        current = master_key_from_file(settings.master_key_file)
    else:
        current = master_key_from_file(DEFAULT_MASTER_KEY_FILE, create=True)
    older = [parse_master_key(k.get_secret_value()) for k in settings.master_keys_old]
    return LocalKeyWrapper(current, older)


def keys_command(command: str, database_url: str | None, source_url: str | None = None) -> int:
    if command == "new":
        print(new_master_key())
        return 0
    from db import Store

    settings = Settings()
    wrapper = wrapper_from(settings)
    if command == "seal-existing":
        return seal_existing_command(source_url or "", database_url or settings.database_url, wrapper)
    store = Store(database_url or settings.database_url, master=wrapper)
    try:
        count = store.vault.rotate(wrapper)
    finally:
        store.close()
    print(f"{count} data keys re-wrapped with master key {wrapper.key_id}", file=sys.stderr)
    return 0


def seal_existing_command(source_url: str, database_url: str, wrapper: LocalKeyWrapper) -> int:
    """Copy a database made before sealing at rest into a new one, sealed (db/sealing.py); counts only on stderr."""
    import sinks.outbox  # noqa: F401  (its tables are copied too)
    from db import Store
    from db.sealing import NotPlain, seal_existing

    if not source_url or source_url == database_url:
        print("give the old database with --from, and a new, empty one as --database-url", file=sys.stderr)
        return 2
    store = Store(database_url, master=wrapper)
    try:
        counts = seal_existing(source_url, store)
    except NotPlain as exc:
        print(str(exc), file=sys.stderr)
        return 1
    finally:
        store.close()
    total = sum(counts.values())
    print(f"{total} rows in {len(counts)} tables copied and sealed with master key {wrapper.key_id}; "
          "now destroy the old database and its backups (they hold personal data in the clear)", file=sys.stderr)
    return 0
