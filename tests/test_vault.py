"""The vault (issue 12, section 3): envelope encryption per subject, rotation, crypto-shredding."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

from db import Store
from vault import Erased, LocalKeyWrapper, VaultError, key_id_of, new_master_key, parse_master_key

ROOT = Path(__file__).resolve().parent.parent


def _store(tmp_path: Path, master: bytes) -> Store:
    return Store(f"sqlite:///{tmp_path / 'candor.db'}", master=LocalKeyWrapper(master))


def test_sealed_content_opens_only_for_its_subject_and_context(tmp_path: Path) -> None:
    master = os.urandom(32)
    store = _store(tmp_path, master)
    blob = store.vault.seal("cand-1", "张伟 13800138000".encode(), "profile")
    assert "张伟".encode() not in blob and b"13800138000" not in blob
    assert store.vault.open("cand-1", blob, "profile").decode() == "张伟 13800138000"
    store.vault.seal("cand-2", b"x", "profile")  # cand-2 has its own key
    with pytest.raises(VaultError):
        store.vault.open("cand-2", blob, "profile")  # another candidate's key
    with pytest.raises(VaultError):
        store.vault.open("cand-1", blob, "resume_text")  # another column
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(VaultError):
        store.vault.open("cand-1", tampered, "profile")
    store.close()
    # The data key in the database is wrapped: the raw file does not hold it, and a store with the same
    # master key (a restart) opens the content; another master key does not.
    again = _store(tmp_path, master)
    assert again.vault.open_json("cand-1", again.vault.seal_json("cand-1", {"a": 1})) == {"a": 1}
    assert again.vault.open("cand-1", blob, "profile").decode() == "张伟 13800138000"
    again.close()
    other = _store(tmp_path, os.urandom(32))
    with pytest.raises(VaultError):
        other.vault.open("cand-1", blob, "profile")
    other.close()


def test_forget_erases_every_copy(tmp_path: Path) -> None:
    store = _store(tmp_path, os.urandom(32))
    blob = store.vault.seal("cand-1", b"answer text", "events")
    assert store.vault.forget("cand-1") is True
    with pytest.raises(Erased):
        store.vault.open("cand-1", blob, "events")
    assert store.vault.forget("cand-1") is False
    store.close()


def test_rotation_rewraps_keys_without_touching_content(tmp_path: Path) -> None:
    old, new = os.urandom(32), os.urandom(32)
    store = _store(tmp_path, old)
    blobs = {s: store.vault.seal(s, s.encode(), "c") for s in ("a", "b", "c")}
    store.close()
    rotating = Store(f"sqlite:///{tmp_path / 'candor.db'}", master=LocalKeyWrapper(new, [old]))
    assert rotating.vault.rotate(rotating.vault.wrapper) == 4  # a, b, c and the store's lookup key (db.base.LOOKUP_SUBJECT)
    assert {k.key_id for k in rotating.data_keys()} == {key_id_of(new)}
    rotating.close()
    after = _store(tmp_path, new)  # the old master key is no longer needed
    assert all(after.vault.open(s, b, "c") == s.encode() for s, b in blobs.items())
    after.close()


def test_a_key_made_in_a_rolled_back_transaction_is_not_used(tmp_path: Path) -> None:
    from sqlalchemy.orm import Session

    store = _store(tmp_path, os.urandom(32))
    with Session(store.engine) as db:
        db.begin()
        store.vault.seal("cand-9", b"x", "c", db=db)
        db.rollback()
    assert store.get_data_key("cand-9") is None
    blob = store.vault.seal("cand-9", b"y", "c")  # a fresh key, stored
    assert store.vault.open("cand-9", blob, "c") == b"y"
    store.close()


def test_master_key_formats() -> None:
    raw = os.urandom(32)
    assert parse_master_key(raw.hex()) == raw
    assert parse_master_key(base64.b64encode(raw).decode()) == raw
    assert parse_master_key(base64.urlsafe_b64encode(raw).decode().rstrip("=")) == raw
    assert len(parse_master_key(new_master_key())) == 32
    for bad in ("", "short", "zz" * 32, base64.b64encode(b"x" * 16).decode()):
        with pytest.raises(ValueError):
            parse_master_key(bad)


def test_keys_cli_new_and_rotate(tmp_path: Path) -> None:
    old, new = os.urandom(32), os.urandom(32)
    store = _store(tmp_path, old)
    blob = store.vault.seal("cand-1", b"kept", "c")
    store.close()
    printed = subprocess.run([sys.executable, "-m", "server", "keys", "new"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert len(parse_master_key(printed.stdout)) == 32
    env = {**os.environ, "CANDOR_MASTER_KEY": new.hex(), "CANDOR_MASTER_KEYS_OLD": f'["{old.hex()}"]'}
    done = subprocess.run([sys.executable, "-m", "server", "keys", "rotate", "--database-url", f"sqlite:///{tmp_path / 'candor.db'}"],
                          cwd=ROOT, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert "2 data keys re-wrapped" in done.stderr  # cand-1 and the lookup key
    after = _store(tmp_path, new)
    assert after.vault.open("cand-1", blob, "c") == b"kept"
    after.close()
