"""Ways out besides the bank's webhooks: e-mail, WeCom (app, group robots, external contacts), SMS.

Every channel implements :class:`sinks.channel.Channel`; the outbox owns
retries and dead letters. :func:`build_channels` makes the configured ones
from the settings, once, at the server edge.
"""

from __future__ import annotations

from sinks.channel import Channel

from .email import EmailChannel
from .settings import SmtpConfig, WeComConfig
from .sms import ChannelNotConfigured, NotConfigured, SmsSender, sms_sender
from .wecom import (
    EXTERNAL_MONTHLY_LIMIT,
    WeComAppChannel,
    WeComClient,
    WeComExternalChannel,
    WeComRobotChannel,
    install_redaction,
)

__all__ = [
    "EXTERNAL_MONTHLY_LIMIT",
    "ChannelNotConfigured",
    "EmailChannel",
    "NotConfigured",
    "SmsSender",
    "SmtpConfig",
    "WeComAppChannel",
    "WeComClient",
    "WeComConfig",
    "WeComExternalChannel",
    "WeComRobotChannel",
    "build_channels",
    "sms_sender",
]


def build_channels(wecom: WeComConfig | None, smtp_url: str | None, mail_from: str | None) -> list[Channel]:
    """The channels these settings configure: ``email``, ``wecom``, ``wecom-external``, ``wecom-robot-<group>``."""
    out: list[Channel] = []
    if smtp_url:
        if not mail_from:
            raise ValueError("CANDOR_SMTP_URL is set: set CANDOR_MAIL_FROM too")
        out.append(EmailChannel(SmtpConfig.from_url(smtp_url, mail_from)))
    if wecom is not None:
        install_redaction()
        client = WeComClient(wecom)
        out.append(WeComAppChannel(client))
        if wecom.external_sender:
            out.append(WeComExternalChannel(client))
        out.extend(WeComRobotChannel(wecom, group) for group in sorted(wecom.robots))
    return out
