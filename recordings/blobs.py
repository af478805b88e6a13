"""Where recordings' bytes live: one interface, :class:`BlobStore`.

Keys are relative paths such as ``"<session id>/answer-3.webm.sealed"``.
Everything handed to a store is already sealed by the vault (a store never
sees plaintext media), so a store only has to keep bytes and delete them.

:class:`LocalBlobStore` (the default) keeps files under a folder
(``CANDOR_RECORDINGS_DIR``, ``var/recordings``), folders 0700 and files 0600,
written to a temporary name and renamed so a reader never sees half a file.
:class:`recordings.s3.S3BlobStore` keeps them in S3-compatible object storage.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Protocol

_KEY = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}(/[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}){0,3}$")


class BlobStore(Protocol):
    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes | None:
        """The bytes, or None where there is no such blob."""

    def delete(self, key: str) -> bool:
        """True where a blob was deleted."""

    def list(self, prefix: str = "") -> list[str]:
        """Keys that start with ``prefix``, sorted."""


def check_key(key: str) -> str:
    if not isinstance(key, str) or not _KEY.match(key) or ".." in key.split("/"):
        raise ValueError(f"not a blob key: {key!r}")
    return key


class LocalBlobStore:
    """Blobs as files under ``root`` (0600; folders 0700)."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, key: str) -> bool:
        path = self._path(key)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        parent = path.parent
        if parent != self.root:
            try:
                parent.rmdir()  # the session's folder, once empty
            except OSError:
                pass
        return True

    def list(self, prefix: str = "") -> list[str]:
        # a session's keys are under its own folder: walk only that one
        base = self.root / prefix.split("/")[0] if "/" in prefix else self.root
        if not base.is_dir():
            return []
        found = []
        for dirpath, _dirs, files in os.walk(base):
            for name in files:
                if name.startswith("."):
                    continue  # a write in progress
                key = Path(dirpath, name).relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    found.append(key)
        return sorted(found)
