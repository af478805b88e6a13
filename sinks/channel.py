"""What the outbox sends through: one interface for every way out of Candor.

A channel is anything the outbox (:mod:`sinks.outbox`) can hand a stored
message to and hear back how it went: the bank's REST sink (Standard
Webhooks, :class:`sinks.webhook.SinkConfig`), SAP SuccessFactors, e-mail over
SMTP, a WeCom app, a WeCom group robot. The outbox owns durability (a row
per message, leases, retries with backoff, dead letters, attempts for HR to
see); a channel only says how one attempt went, as an HTTP-like status:

* 2xx: delivered;
* 408, 429 or 5xx, or no status with ``error`` set: try again later (429 and
  503 may carry ``retry_after`` in seconds or as an HTTP date);
* any other 4xx: the far end refused this message, retrying cannot help
  (the row becomes ``failed``, a dead letter an operator can replay).

A channel that speaks something else (SMTP reply codes, WeCom ``errcode``)
maps its answers onto that and keeps the original in ``error`` (for example
``"wecom:45009"``), which HR see on the attempt.

``body`` is the envelope the outbox stored when the message was enqueued,
``{"type", "timestamp", "data"}`` as compact JSON; a channel reads what it
needs from ``data``. The same ``msg_id`` comes with every retry of one
message: channels that can (e-mail's ``Message-ID``, WeCom's duplicate
check) use it so that a person is not told the same thing twice.

:class:`AddressedChannel` is what e-mail, WeCom and SuccessFactors share: a
channel that takes only messages addressed to it by name, bounded and
retried as its settings say. :func:`result_since` makes one attempt's
:class:`SendResult` with its duration.
"""

from __future__ import annotations

import time
from typing import Generic, Protocol, TypeVar, runtime_checkable

import httpx

from .webhook import SendResult

__all__ = ["AddressedChannel", "Channel", "SendResult", "result_since"]


@runtime_checkable
class Channel(Protocol):
    """A named way out; ``CANDOR_SINKS`` webhooks are one kind, e-mail and WeCom others."""

    @property
    def name(self) -> str: ...  # unique among the outbox's channels; [a-z0-9_-]{1,64}

    @property
    def timeout_s(self) -> float: ...  # one attempt's bound (the lease is longer)

    @property
    def horizon_s(self) -> float: ...  # how long a message is retried before it is dead

    @property
    def rate_per_min(self) -> int | None: ...  # at most this many attempts a minute (None: no limit)

    def wants(self, type_: str) -> bool:
        """Whether a broadcast of ``type_`` (report.ready, decision.recorded) comes here.

        Channels that only take messages addressed to them by name (e-mail,
        WeCom) answer False.
        """
        ...

    async def send(self, client: httpx.AsyncClient, msg_id: str, body: str) -> SendResult:
        """One attempt at one message; never raises for a network failure (say it in ``error``)."""
        ...


class ChannelTiming(Protocol):
    """The settings every addressed channel has (pydantic models: SmtpConfig, WeComConfig...)."""

    @property
    def timeout_s(self) -> float: ...

    @property
    def horizon_s(self) -> float: ...


ConfigT = TypeVar("ConfigT", bound=ChannelTiming)


class AddressedChannel(Generic[ConfigT]):
    """A :class:`Channel` that takes only messages addressed to it by name (``Outbox.enqueue_to``).

    One attempt's bound and the retry horizon come from ``config``; a
    subclass writes ``send`` (and may bound an attempt differently by
    overriding ``timeout_s``).
    """

    def __init__(self, name: str, config: ConfigT, *, rate_per_min: int | None = None) -> None:
        self.config = config
        self._name = name
        self._rate = rate_per_min

    @property
    def name(self) -> str:
        return self._name

    @property
    def timeout_s(self) -> float:
        return self.config.timeout_s

    @property
    def horizon_s(self) -> float:
        return self.config.horizon_s

    @property
    def rate_per_min(self) -> int | None:
        return self._rate

    def wants(self, type_: str) -> bool:
        return False  # never a broadcast: addressed by name only


def result_since(
    started: float, status: int | None, error: str | None = None, retry_after: str | None = None
) -> SendResult:
    """One attempt's result; its duration counts from ``started`` (a ``time.monotonic()`` reading)."""
    return SendResult(status, error, retry_after, time.monotonic() - started)
