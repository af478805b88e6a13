"""E-mail over SMTP (aiosmtplib): the outbox's ``email`` channel.

``data`` of a message: ``{"to": [addr, ...], "subject", "text", "html"?,
"reply_to"?}``. :func:`build_message` (pure) makes a multipart/alternative
message with ``Message-ID: <{msg_id}@{from domain}>``, the same on every
retry of one outbox message, so a mail client shows a duplicate once.

SMTP replies map onto the outbox's HTTP-like statuses (sinks/channel.py):
2xx delivered; 4xx (try later) and connection failures retried; 5xx is a
refusal (400, error ``smtp:<code>``): the row becomes a dead letter HR and
operators see. Logs carry ids and codes, never addresses or text.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from email.message import EmailMessage
from email.utils import formataddr, formatdate, getaddresses, parseaddr
from typing import Any

import aiosmtplib
import httpx

from sinks.channel import AddressedChannel, SendResult, result_since

from .settings import SmtpConfig

log = logging.getLogger("candor.channels.email")


class BadMessage(ValueError):
    """The stored message cannot become an e-mail (missing recipients, subject...): a refusal."""


def message_id(msg_id: str, domain: str) -> str:
    return f"<{msg_id}@{domain}>"


def build_message(config: SmtpConfig, msg_id: str, data: dict[str, Any], *, date: float | None = None) -> EmailMessage:
    """The e-mail for one outbox message (pure: same input, same headers but Date)."""
    to = data.get("to")
    if isinstance(to, str):
        to = [to]
    if not to or not all(isinstance(a, str) and "@" in parseaddr(a)[1] for a in to):
        raise BadMessage("to is a list of e-mail addresses")
    subject, text = data.get("subject"), data.get("text")
    if not isinstance(subject, str) or not subject.strip() or not isinstance(text, str):
        raise BadMessage("subject and text are required")
    msg = EmailMessage()
    msg["Message-ID"] = message_id(msg_id, config.from_domain)
    msg["Date"] = formatdate(date, localtime=False, usegmt=True)
    msg["From"] = config.mail_from
    msg["To"] = ", ".join(formataddr(pair) for pair in getaddresses(to))
    msg["Subject"] = subject
    if isinstance(data.get("reply_to"), str):
        msg["Reply-To"] = data["reply_to"]
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: auto-responders do not answer it
    msg.set_content(text)
    if isinstance(data.get("html"), str) and data["html"]:
        msg.add_alternative(data["html"], subtype="html")
    return msg


def _status(code: int) -> int:
    """An SMTP reply code as the outbox's HTTP-like status."""
    if 200 <= code < 300:
        return 200
    if 400 <= code < 500:
        return 503  # transient: try again later
    return 400  # permanent refusal: a dead letter


class EmailChannel(AddressedChannel[SmtpConfig]):
    """The ``email`` channel: one SMTP transaction per attempt."""

    def __init__(self, config: SmtpConfig, *, name: str = "email", rate_per_min: int | None = None) -> None:
        super().__init__(name, config, rate_per_min=rate_per_min)

    async def send(self, client: httpx.AsyncClient, msg_id: str, body: str) -> SendResult:
        started = time.monotonic()
        try:
            message = build_message(self.config, msg_id, json.loads(body)["data"])
        except (BadMessage, ValueError, KeyError, TypeError) as exc:
            log.warning("email %s: not an e-mail: %s", msg_id, type(exc).__name__)
            return result_since(started, 400, "email:bad-message")
        c = self.config
        try:
            async with asyncio.timeout(c.timeout_s):
                errors, _ = await aiosmtplib.send(
                    message,
                    hostname=c.host,
                    port=c.port,
                    username=c.username,
                    password=c.password.get_secret_value() if c.password else None,
                    use_tls=c.use_tls,
                    start_tls=True if c.start_tls else False,
                    validate_certs=c.validate_certs,
                    timeout=c.timeout_s,
                )
        except TimeoutError:
            return result_since(started, None, "Timeout")
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = sorted({r.code for r in exc.recipients})
            worst = max(codes) if codes else 550
            return result_since(started, _status(worst), f"smtp:{worst}")
        except aiosmtplib.SMTPResponseException as exc:  # a reply code: 4xx, 5xx (auth, data, sender)
            return result_since(started, _status(exc.code), f"smtp:{exc.code}")
        except (aiosmtplib.SMTPException, OSError) as exc:  # no answer: connect, TLS, disconnect
            return result_since(started, None, type(exc).__name__)
        if errors:  # some recipients refused, the others accepted: delivered, say so
            codes = sorted({r.code for r in errors.values()})
            return result_since(started, 250, f"smtp:partial:{codes[-1]}")
        return result_since(started, 250)
