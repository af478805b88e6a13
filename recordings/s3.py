"""S3-compatible object storage for recordings (MinIO, Ceph RGW, AWS S3, Alibaba OSS, ...), through the ``minio`` SDK.

Chosen with ``CANDOR_RECORDINGS_URL``::

    https://ACCESS_KEY:SECRET_KEY@s3.bank.cn/candor-recordings/prod?region=cn-east-1

``https`` or ``http`` (plain HTTP only for a loopback endpoint: the blobs are
sealed, but the credentials are not); the first path segment is the bucket
(which must exist), the rest a prefix for every key; the keys are
percent-encoded in the URL where they hold reserved characters. Blobs are
already sealed by the vault: the object store never holds plaintext media.
"""

from __future__ import annotations

import io
import ipaddress
from urllib.parse import parse_qs, unquote, urlsplit

from minio import Minio
from minio.error import S3Error

from .blobs import check_key

_MISSING = ("NoSuchKey", "NoSuchObject", "NotFound")


class S3BlobStore:
    def __init__(self, client: Minio, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    @classmethod
    def from_url(cls, url: str) -> "S3BlobStore":
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError("CANDOR_RECORDINGS_URL: https://KEY:SECRET@host[:port]/bucket[/prefix]")
        if parts.scheme == "http" and not _loopback(parts.hostname):
            raise ValueError("CANDOR_RECORDINGS_URL: plain http only to a loopback address (use https)")
        bucket, _, prefix = parts.path.lstrip("/").partition("/")
        if not bucket:
            raise ValueError("CANDOR_RECORDINGS_URL names no bucket (https://KEY:SECRET@host/bucket)")
        region = parse_qs(parts.query).get("region", [None])[0]
        endpoint = parts.hostname + (f":{parts.port}" if parts.port else "")
        client = Minio(
            endpoint, access_key=unquote(parts.username or "") or None, secret_key=unquote(parts.password or "") or None,
            secure=parts.scheme == "https", region=region,
        )
        return cls(client, bucket, prefix)

    def _name(self, key: str) -> str:
        return self.prefix + check_key(key)

    def put(self, key: str, data: bytes) -> None:
        self.client.put_object(self.bucket, self._name(key), io.BytesIO(data), len(data))

    def get(self, key: str) -> bytes | None:
        try:
            response = self.client.get_object(self.bucket, self._name(key))
        except S3Error as exc:
            if exc.code in _MISSING:
                return None
            raise
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()

    def delete(self, key: str) -> bool:
        name = self._name(key)
        try:
            self.client.stat_object(self.bucket, name)
        except S3Error as exc:
            if exc.code in _MISSING:
                return False
            raise
        self.client.remove_object(self.bucket, name)
        return True

    def list(self, prefix: str = "") -> list[str]:
        found = self.client.list_objects(self.bucket, prefix=self.prefix + prefix, recursive=True)
        return sorted(o.object_name[len(self.prefix):] for o in found if not o.is_dir)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
