"""Entries, their canonical form, and the hash chain over them.

``hash(n) = SHA-256(hash(n-1) + "\\n" + canonical(entry n))`` with
``hash(0) = GENESIS`` (64 zeros). Each stored entry carries its
``prev_hash`` and its ``hash``: editing any field of an entry changes its
hash; deleting or reordering entries breaks the next entry's link. The
chain does not stop someone who can rewrite every entry from the edit on:
anchor the latest hash outside the database (docs/audit.md).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping

GENESIS = "0" * 64
VERSION = 1  # of the canonical form; part of every hash

# Ids, names of actions and kinds, counts: ASCII words, never free text.
_TOKEN = re.compile(r"^[A-Za-z0-9_.:@/\-]{1,128}$")
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_ADDRESS = re.compile(r"^[A-Za-z0-9_.:\-%\[\]]{1,64}$")
MAX_DETAILS = 32


def check_details(details: Mapping[str, Any]) -> dict[str, Any]:
    """The details as a plain dict, or ValueError: keys are snake_case; values ids, counts, flags or lists of ids.

    This is what keeps personal data out: a name, a phone number with its
    spaces, a reason typed by a person, a score (a float) do not pass.
    """
    if len(details) > MAX_DETAILS:
        raise ValueError(f"at most {MAX_DETAILS} details")
    out: dict[str, Any] = {}
    for key, value in details.items():
        if not isinstance(key, str) or not _KEY.match(key):
            raise ValueError(f"detail key {key!r} is not snake_case")
        out[key] = _detail_value(key, value)
    return out


def _detail_value(key: str, value: Any) -> Any:
    if value is None or isinstance(value, bool) or (isinstance(value, int) and abs(value) < 2**53):
        return value
    if isinstance(value, str):
        if not _TOKEN.match(value):
            raise ValueError(f"detail {key!r} is not an id (ids and counts only: no names, texts or scores)")
        return value
    if isinstance(value, (list, tuple)) and len(value) <= 100:
        return [_detail_value(key, v) for v in value]
    raise ValueError(f"detail {key!r} is a {type(value).__name__}: ids and counts only")


def ref(value: str) -> str:
    """A value as the trail keeps it: itself when it is an id, else ``sha256:`` and 16 hex digits of its digest."""
    if _TOKEN.match(value):
        return value
    return "sha256:" + hashlib.sha256(value.encode("utf-8")).hexdigest()[:16]


def _token(name: str, value: str | None, *, optional: bool = False, pattern: re.Pattern[str] = _TOKEN) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or not pattern.match(value):
        raise ValueError(f"{name} {value!r} is not an id")


@dataclass(frozen=True)
class Entry:
    """One thing someone did: who (user, role, address), what (action), to what (target), when, and ids about it."""

    at: datetime
    actor: str
    role: str
    action: str
    target_type: str
    target_id: str | None = None
    address: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError("at must carry its time zone")
        object.__setattr__(self, "at", self.at.astimezone(timezone.utc))
        _token("actor", self.actor)
        _token("role", self.role)
        _token("action", self.action)
        _token("target_type", self.target_type)
        _token("target_id", self.target_id, optional=True)
        _token("address", self.address, optional=True, pattern=_ADDRESS)
        object.__setattr__(self, "details", check_details(self.details))

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": _time(self.at),
            "actor": self.actor,
            "role": self.role,
            "action": self.action,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "address": self.address,
            "details": dict(self.details),
        }


def _time(at: datetime) -> str:
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(entry: Entry) -> bytes:
    """The entry's one serialisation: sorted-key JSON, no spaces, UTF-8, the time in UTC to the microsecond."""
    doc = {"v": VERSION, **entry.to_dict()}
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def chain_hash(prev_hash: str, entry: Entry) -> str:
    """SHA-256 (hex) over the previous entry's hash and this entry's canonical form."""
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + canonical(entry)).hexdigest()


@dataclass(frozen=True)
class Sealed:
    """An entry as stored: its id (its place: ids only grow), the hash before it and its own."""

    id: int
    entry: Entry
    prev_hash: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, **self.entry.to_dict(), "prev_hash": self.prev_hash, "hash": self.hash}


def seal(entry: Entry, prev_hash: str, id: int = 0) -> Sealed:
    return Sealed(id, entry, prev_hash, chain_hash(prev_hash, entry))


@dataclass(frozen=True)
class Verification:
    """What a walk of the chain found: ``ok``, how many entries it checked, the head, or the first bad entry and why."""

    ok: bool
    entries: int
    head_id: int | None
    head_hash: str
    bad_id: int | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "entries": self.entries, "head": {"id": self.head_id, "hash": self.head_hash},
                "first_bad": None if self.ok else {"id": self.bad_id, "reason": self.reason}}

    def message(self) -> str:
        if self.ok:
            return f"{self.entries} entries, chain intact" + (f" (head {self.head_id} {self.head_hash})" if self.head_id else "")
        return f"entry {self.bad_id} does not verify: {self.reason} ({self.entries} entries before it check out)"


def verify(records: Iterable[Sealed | Exception], prev_hash: str = GENESIS) -> Verification:
    """Walk the records in id order from ``prev_hash``; stop at the first that does not check out.

    A record may be an exception standing in for a row that could not even
    be read back as an entry (a field edited to something no entry holds):
    the storage layer passes ``(id, exc)`` as ``ValueError`` with ``args[1]`` the id.
    """
    count, last_id, last_id_seen = 0, None, None
    for record in records:
        if isinstance(record, Exception):
            bad = record.args[1] if len(record.args) > 1 else None
            return Verification(False, count, last_id, prev_hash, bad, f"unreadable: {record.args[0]}")
        if last_id_seen is not None and record.id <= last_id_seen:
            return Verification(False, count, last_id, prev_hash, record.id, "out of order")
        last_id_seen = record.id
        if record.prev_hash != prev_hash:
            why = "its prev_hash is not the hash of the entry before it (an entry before it was removed, added or changed)"
            return Verification(False, count, last_id, prev_hash, record.id, why)
        expected = chain_hash(prev_hash, record.entry)
        if record.hash != expected:
            return Verification(False, count, last_id, prev_hash, record.id, "its hash does not match its content (the entry was edited)")
        count, last_id, prev_hash = count + 1, record.id, record.hash
    return Verification(True, count, last_id, prev_hash)
