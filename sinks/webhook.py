"""Standard Webhooks: a signed JSON POST to a REST sink (the bank's HRIS).

https://www.standardwebhooks.com/ — each request carries

    webhook-id:        msg_<...>   the same on every retry of one message
    webhook-timestamp: <unix seconds at send time>
    webhook-signature: v1,<base64 HMAC-SHA256("{id}.{timestamp}.{body}")>

keyed with the base64-decoded bytes of the sink's ``whsec_...`` secret.
The body is the envelope ``{"type", "timestamp", "data"}``, serialised once
when the message is enqueued, so every retry sends the same bytes.

Signing is a pure function (:func:`sign`); :func:`post` is the thin async
shell that sends one attempt and says what happened, never raising for a
network failure.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import ipaddress
import json
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

SECRET_PREFIX = "whsec_"
TYPE_PATTERN = re.compile(r"^[a-z0-9_\-]+(\.[a-z0-9_\-]+)+$")
USER_AGENT = "Candor-Webhooks/1"


def _loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class SinkConfig(BaseModel):
    """One REST sink; ``CANDOR_SINKS`` is a JSON list of these.

    ``secret`` is ``whsec_`` followed by the base64 of 24 to 64 random bytes
    (the spec's range). ``types`` limits which message types go to this sink
    (empty: all). ``horizon_s`` is how long a message is retried before it
    is declared dead.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9_\-]{1,64}$")
    url: str = Field(pattern=r"^https?://")
    secret: SecretStr
    timeout_s: float = Field(default=10.0, gt=0, le=300)
    horizon_s: float = Field(default=24 * 3600.0, gt=0)
    types: tuple[str, ...] = ()
    rate_per_min: int | None = Field(default=None, gt=0)  # at most this many attempts a minute (None: no limit)

    @field_validator("url")
    @classmethod
    def _https_unless_loopback(cls, value: str) -> str:
        """Payloads carry personal data: plain HTTP only to this machine (a local relay, a test receiver)."""
        parts = urlsplit(value)
        if parts.scheme.lower() == "http" and not _loopback(parts.hostname):
            raise ValueError("a sink URL is https:// (plain http:// only to a loopback address: 127.0.0.1, ::1, localhost)")
        if not parts.hostname:
            raise ValueError("a sink URL names a host")
        return value

    @field_validator("secret")
    @classmethod
    def _whsec(cls, value: SecretStr) -> SecretStr:
        decode_secret(value.get_secret_value())
        return value

    def key(self) -> bytes:
        return decode_secret(self.secret.get_secret_value())

    def wants(self, type_: str) -> bool:
        return not self.types or type_ in self.types

    async def send(self, client: httpx.AsyncClient, msg_id: str, body: str) -> "SendResult":
        """One signed POST (:func:`post`): the :class:`sinks.channel.Channel` interface."""
        return await post(client, self, msg_id, body)


def decode_secret(secret: str) -> bytes:
    """``whsec_<base64>`` -> the HMAC key bytes; ValueError names what is wrong."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("a webhook secret starts with 'whsec_' (Standard Webhooks)")
    text = secret[len(SECRET_PREFIX) :]
    try:
        key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a webhook secret is 'whsec_' + base64") from None
    if not 24 <= len(key) <= 64:
        raise ValueError("a webhook secret holds 24 to 64 bytes (Standard Webhooks)")
    return key


def webhook_id(sink: str, type_: str, key: str, version: int) -> str:
    """The message id of one version of one thing to one sink.

    Deterministic, so a retry, a replay or a restart re-sends the same id and
    the receiver can drop duplicates by it.
    """
    material = json.dumps([sink, type_, key, int(version)], ensure_ascii=False, separators=(",", ":"))
    return "msg_" + hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]


def envelope(type_: str, data: dict[str, Any], timestamp: datetime) -> str:
    """The JSON body: ``{"type", "timestamp", "data"}`` in a compact, stable form."""
    if not TYPE_PATTERN.match(type_):
        raise ValueError(f"a message type is dotted lower case (report.ready), got {type_!r}")
    stamp = timestamp.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    return json.dumps({"type": type_, "timestamp": stamp, "data": data}, ensure_ascii=False, separators=(",", ":"))


def sign(key: bytes, msg_id: str, timestamp: int, body: str) -> str:
    """The ``webhook-signature`` value: ``v1,<base64 HMAC-SHA256>``."""
    mac = hmac.new(key, f"{msg_id}.{timestamp}.{body}".encode("utf-8"), hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode("ascii")


def headers(key: bytes, msg_id: str, timestamp: int, body: str) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(key, msg_id, timestamp, body),
    }


@dataclass(frozen=True)
class SendResult:
    """What one attempt got: a status code, or the name of the error."""

    status: int | None
    error: str | None
    retry_after: str | None
    duration_s: float

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


async def post(client: httpx.AsyncClient, sink: SinkConfig, msg_id: str, body: str) -> SendResult:
    """Send one attempt. Network failures and time-outs come back as ``error``.

    ``timeout_s`` bounds the whole exchange (connect, send, wait, read), not
    each phase, so a sink that trickles its answer is cut off too.
    """
    started = time.monotonic()
    sent = headers(sink.key(), msg_id, int(time.time()), body)
    try:
        async with asyncio.timeout(sink.timeout_s):
            response = await client.post(sink.url, content=body.encode("utf-8"), headers=sent, timeout=sink.timeout_s)
    except TimeoutError:
        return SendResult(None, "Timeout", None, time.monotonic() - started)
    except httpx.TimeoutException as exc:
        return SendResult(None, type(exc).__name__, None, time.monotonic() - started)
    except httpx.HTTPError as exc:  # connect refused, reset, protocol errors
        return SendResult(None, type(exc).__name__, None, time.monotonic() - started)
    except OSError as exc:
        return SendResult(None, type(exc).__name__, None, time.monotonic() - started)
    return SendResult(response.status_code, None, response.headers.get("retry-after"), time.monotonic() - started)
