"""Personal data sealed at rest: envelope encryption with AES-256-GCM (issue 12, section 3).

Each *subject* (a candidate; a session that has no candidate) has its own
random 256-bit data key. Content is sealed with the subject's data key;
the data key is stored only *wrapped* (encrypted) by a master key that
never touches the database (``CANDOR_MASTER_KEY`` or a key file; a KMS in
production implements :class:`KeyWrapper`). So:

- a copy of the database alone reads as noise;
- rotating the master key re-wraps the data keys (:meth:`Vault.rotate`)
  without re-encrypting any content;
- erasing a subject deletes its data key (:meth:`Vault.forget`): every
  copy of its content, in any row, file or backup, is unreadable from then
  on ("crypto-shredding"), on top of deleting the rows themselves.

A sealed blob is ``b"CV1" + nonce (12 bytes) + ciphertext + tag``; the
associated data binds it to its subject and a context (e.g.
``"applications.resume_text"``), so a blob copied into another candidate's
row, or another column, does not open.

This module is pure (no database, no settings): :class:`DataKeys` is the
storage of wrapped keys (``db/keys.py`` implements it on the store's
engine, inside the caller's transaction when one is given).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"CV1"
NONCE_BYTES = 12
KEY_BYTES = 32


class VaultError(Exception):
    """A blob that does not open: tampered, sealed for another subject or context, or under an unknown master key."""


class Erased(VaultError):
    """The subject's data key is gone: its content was erased and cannot be read."""


def _aad(subject: str, context: str) -> bytes:
    return json.dumps([subject, context], ensure_ascii=False).encode()


def seal_with(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return MAGIC + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def open_with(key: bytes, blob: bytes, aad: bytes) -> bytes:
    if not isinstance(blob, (bytes, bytearray, memoryview)) or bytes(blob[:3]) != MAGIC or len(blob) < 3 + NONCE_BYTES + 16:
        raise VaultError("not a sealed blob")
    blob = bytes(blob)
    try:
        return AESGCM(key).decrypt(blob[3:3 + NONCE_BYTES], blob[3 + NONCE_BYTES:], aad)
    except InvalidTag:
        raise VaultError("the blob does not open (tampered, or sealed for another subject or context)") from None


def is_sealed(value: object) -> bool:
    return isinstance(value, (bytes, bytearray)) and bytes(value[:3]) == MAGIC


# -- master keys ------------------------------------------------------------------------------
class KeyWrapper(Protocol):
    """Wraps and unwraps data keys with a master key: a local key (:class:`LocalKeyWrapper`) or a KMS."""

    @property
    def key_id(self) -> str:
        """The id of the master key new wraps use (stored beside each wrapped key)."""

    def wrap(self, data_key: bytes, subject: str) -> bytes: ...

    def unwrap(self, wrapped: bytes, subject: str, key_id: str) -> bytes: ...


def parse_master_key(text: str) -> bytes:
    """A 256-bit key written as 64 hex digits or base64 (standard or URL-safe) of 32 bytes."""
    text = text.strip()
    if len(text) == 2 * KEY_BYTES:
        try:
            return bytes.fromhex(text)
        except ValueError:
            pass
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_" if ("-" in text or "_" in text) else None, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != KEY_BYTES:
        raise ValueError("a master key is 32 random bytes, as 64 hex digits or base64 (e.g. `python -m server keys new`)")
    return raw


def new_master_key() -> str:
    """A fresh master key, base64."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode()


def key_id_of(master: bytes) -> str:
    """A master key's public id: not the key, and not enough to find it."""
    return hmac.new(master, b"candor master key id", hashlib.sha256).hexdigest()[:16]


class LocalKeyWrapper:
    """Master keys held by this process: the current one wraps, any of them (older ones during a rotation) unwrap."""

    def __init__(self, current: bytes, older: Iterable[bytes] = ()) -> None:
        self._keys = {key_id_of(k): k for k in (*older, current)}
        self._current = key_id_of(current)

    @property
    def key_id(self) -> str:
        return self._current

    def wrap(self, data_key: bytes, subject: str) -> bytes:
        return seal_with(self._keys[self._current], data_key, _aad(subject, "data-key"))

    def unwrap(self, wrapped: bytes, subject: str, key_id: str) -> bytes:
        master = self._keys.get(key_id)
        if master is None:
            raise VaultError(f"data key wrapped by unknown master key {key_id} (give it as an older key while rotating)")
        return open_with(master, wrapped, _aad(subject, "data-key"))


def master_key_from_file(path: Path, *, create: bool = False) -> bytes:
    """The master key kept in a file (made once, mode 0600, when ``create``: the embedded default)."""
    if create and not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(new_master_key() + "\n")
    return parse_master_key(path.read_text())


# -- data keys ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class WrappedKey:
    subject: str
    wrapped: bytes
    key_id: str


class DataKeys(Protocol):
    """Where wrapped data keys are kept. ``db`` is the caller's open transaction, when there is one."""

    def get_data_key(self, subject: str, db: Any = None) -> WrappedKey | None: ...

    def add_data_key(self, key: WrappedKey, db: Any = None) -> WrappedKey:
        """Store it unless the subject has one already; the one stored (a concurrent writer may have won)."""

    def delete_data_key(self, subject: str, db: Any = None) -> bool: ...

    def data_keys(self) -> Iterable[WrappedKey]: ...

    def rewrap_data_key(self, key: WrappedKey) -> None: ...


class Vault:
    """Seals and opens subjects' content; makes, caches, rotates and forgets their data keys. Thread-safe."""

    def __init__(self, keys: DataKeys, wrapper: KeyWrapper, *, cache_size: int = 4096,
                 on_commit: Callable[[Any, Callable[[], None]], None] | None = None) -> None:
        self._keys = keys
        self._wrapper = wrapper
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        # Called with (db, callback) to run callback when db's transaction commits: a key made in a
        # transaction is cached only once it is stored for good (db.base.after_commit).
        self._on_commit = on_commit

    @property
    def wrapper(self) -> KeyWrapper:
        return self._wrapper

    # -- keys --------------------------------------------------------------------------------
    def _cached(self, subject: str) -> bytes | None:
        with self._lock:
            key = self._cache.get(subject)
            if key is not None:
                self._cache.move_to_end(subject)
            return key

    def _remember(self, subject: str, key: bytes) -> None:
        with self._lock:
            self._cache[subject] = key
            self._cache.move_to_end(subject)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def data_key(self, subject: str, *, create: bool, db: Any = None) -> bytes | None:
        key = self._cached(subject)
        if key is not None:
            return key
        stored = self._keys.get_data_key(subject, db)
        if stored is None:
            if not create:
                return None
            fresh = os.urandom(KEY_BYTES)
            stored = self._keys.add_data_key(WrappedKey(subject, self._wrapper.wrap(fresh, subject), self._wrapper.key_id), db)
            key = self._wrapper.unwrap(stored.wrapped, subject, stored.key_id)
            if db is not None and self._on_commit is not None:
                self._on_commit(db, lambda: self._remember(subject, key))
                return key
            if db is not None:
                return key  # not cached: the transaction may still roll back
        else:
            key = self._wrapper.unwrap(stored.wrapped, subject, stored.key_id)
        self._remember(subject, key)
        return key

    def forget(self, subject: str, db: Any = None) -> bool:
        """Erase the subject's data key: everything sealed for it becomes unreadable, everywhere."""
        with self._lock:
            self._cache.pop(subject, None)
        return self._keys.delete_data_key(subject, db)

    def rotate(self, wrapper: KeyWrapper) -> int:
        """Re-wrap every data key with ``wrapper``'s current master key (which must still unwrap the old ones); how many."""
        count = 0
        for stored in list(self._keys.data_keys()):
            if stored.key_id == wrapper.key_id:
                continue
            key = wrapper.unwrap(stored.wrapped, stored.subject, stored.key_id)
            self._keys.rewrap_data_key(WrappedKey(stored.subject, wrapper.wrap(key, stored.subject), wrapper.key_id))
            count += 1
        self._wrapper = wrapper
        return count

    # -- content -----------------------------------------------------------------------------
    def seal(self, subject: str, data: bytes, context: str = "", *, db: Any = None) -> bytes:
        key = self.data_key(subject, create=True, db=db)
        assert key is not None
        return seal_with(key, data, _aad(subject, context))

    def open(self, subject: str, blob: bytes, context: str = "", *, db: Any = None) -> bytes:
        key = self.data_key(subject, create=False, db=db)
        if key is None:
            raise Erased(f"subject {subject!r} has no data key (erased)")
        return open_with(key, blob, _aad(subject, context))

    def seal_json(self, subject: str, value: Any, context: str = "", *, db: Any = None) -> bytes:
        return self.seal(subject, json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode(), context, db=db)

    def open_json(self, subject: str, blob: bytes, context: str = "", *, db: Any = None) -> Any:
        return json.loads(self.open(subject, blob, context, db=db))


__all__ = [
    "DataKeys", "Erased", "KeyWrapper", "LocalKeyWrapper", "Vault", "VaultError", "WrappedKey", "is_sealed", "key_id_of",
    "master_key_from_file", "new_master_key", "open_with", "parse_master_key", "seal_with",
]
