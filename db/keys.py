"""Wrapped data keys (vault.DataKeys on the store's engine): one row per subject, never the key itself."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from datetime import datetime
from typing import Iterator

from sqlalchemy import DateTime, LargeBinary, String, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from vault import KeyWrapper, LocalKeyWrapper, Vault, WrappedKey, master_key_from_file

from .base import Base, Repository, after_commit, utcnow


class DataKeyRow(Base):
    __tablename__ = "data_keys"

    subject: Mapped[str] = mapped_column(String(128), primary_key=True)
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)  # the data key sealed by the master key key_id
    key_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def _record(row: DataKeyRow) -> WrappedKey:
    return WrappedKey(row.subject, bytes(row.wrapped), row.key_id)


class DataKeyRepository(Repository):
    """vault.DataKeys: ``db`` is the caller's transaction (the key commits with the content it seals), or None for one of its own."""

    @contextmanager
    def _in(self, db: Session | None) -> Iterator[Session]:
        if db is not None:
            yield db
            return
        with Session(self.engine) as own, own.begin():
            yield own

    def get_data_key(self, subject: str, db: Session | None = None) -> WrappedKey | None:
        with self._in(db) as s:
            row = s.get(DataKeyRow, subject)
            return None if row is None else _record(row)

    def add_data_key(self, key: WrappedKey, db: Session | None = None) -> WrappedKey:
        if db is not None:
            existing = db.get(DataKeyRow, key.subject)
            if existing is not None:
                return _record(existing)
            db.add(DataKeyRow(subject=key.subject, wrapped=key.wrapped, key_id=key.key_id, created_at=utcnow()))
            db.flush()
            return key
        try:
            with Session(self.engine) as s, s.begin():
                s.add(DataKeyRow(subject=key.subject, wrapped=key.wrapped, key_id=key.key_id, created_at=utcnow()))
            return key
        except IntegrityError:  # another writer made the subject's key first: use theirs
            stored = self.get_data_key(key.subject)
            assert stored is not None
            return stored

    def delete_data_key(self, subject: str, db: Session | None = None) -> bool:
        with self._in(db) as s:
            return bool(s.execute(delete(DataKeyRow).where(DataKeyRow.subject == subject)).rowcount)

    def data_keys(self) -> list[WrappedKey]:
        with Session(self.engine) as s:
            return [_record(r) for r in s.scalars(select(DataKeyRow).order_by(DataKeyRow.subject))]

    def rewrap_data_key(self, key: WrappedKey) -> None:
        with Session(self.engine) as s, s.begin():
            s.execute(update(DataKeyRow).where(DataKeyRow.subject == key.subject).values(wrapped=key.wrapped, key_id=key.key_id))




DEFAULT_MASTER_KEY_FILE = Path("var/master-key")


def vault_for(keys: DataKeyRepository, wrapper: KeyWrapper) -> Vault:
    """A vault over these keys; a key made inside a transaction is cached once that transaction commits."""
    return Vault(keys, wrapper, on_commit=lambda db, done: after_commit(db, ("vault-key", id(done)), done))


def default_master() -> LocalKeyWrapper:
    """The embedded default: the master key in var/master-key (made once, mode 0600). Production sets CANDOR_MASTER_KEY."""
    return LocalKeyWrapper(master_key_from_file(DEFAULT_MASTER_KEY_FILE, create=True))
