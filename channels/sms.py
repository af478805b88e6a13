"""SMS: an adapter interface and its honest "not configured" state.

Candor ships no SMS provider (a bank contracts its own: Alibaba Cloud SMS,
Tencent Cloud SMS, an operator gateway). A provider implements
:class:`SmsSender`; until one is configured, :func:`sms_sender` gives
:class:`NotConfigured`, whose ``send`` raises :class:`ChannelNotConfigured`
with a message the automation can put on the application's timeline. There
is no fake provider: a message that was not sent is never reported sent.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


class ChannelNotConfigured(RuntimeError):
    """A way out that this deployment has not set up; ``channel`` names it."""

    def __init__(self, channel: str, hint: str) -> None:
        super().__init__(f"{channel} is not configured: {hint}")
        self.channel = channel
        self.hint = hint

    def to_note(self) -> dict[str, str]:
        """For a timeline note (no personal data)."""
        return {"channel": self.channel, "error": "not_configured", "hint": self.hint}


@runtime_checkable
class SmsSender(Protocol):
    """A bank's SMS provider: one text to one phone number, a provider message id back."""

    @property
    def configured(self) -> bool: ...

    async def send(self, phone: str, text: str, *, idempotency_key: str) -> str: ...


class NotConfigured:
    """The SMS state when no provider is set: says so, sends nothing."""

    configured = False
    HINT = "Candor has no SMS provider; reach the candidate by e-mail or WeCom, or add an SmsSender (docs/wecom.md)"

    async def send(self, phone: str, text: str, *, idempotency_key: str) -> str:
        raise ChannelNotConfigured("sms", self.HINT)


def sms_sender(provider: SmsSender | None = None) -> SmsSender:
    return provider if provider is not None else NotConfigured()
