"""E-mail through the outbox to a real SMTP server on loopback (aiosmtpd).

What crossed the wire is asserted: the mail the server accepted (parsed by
the stdlib), its Message-ID across retries, and the outbox's attempts.
"""

from __future__ import annotations

import asyncio
import time
from typing import Iterator

import pytest

from channels import EmailChannel, SmtpConfig, build_channels
from channels.email import build_message
from sinks import DELIVERED, FAILED, Outbox
from tests.outbox_fixtures import Outboxes, enqueue_to, until_state
from tests.smtp_server import SmtpServer

FROM = "Candor HR <hr@bank.example.cn>"


def mail(to: str = "li.lei@example.com", **extra: object) -> dict:
    return {"to": [to], "subject": "面试邀请 Interview invitation", "text": "请点击链接", "html": "<p>请点击链接</p>", **extra}


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """Not started yet: a test sets the replies it needs, then starts it."""
    server = SmtpServer()
    yield server
    server.stop()


@pytest.fixture
def smtp_auth() -> Iterator[SmtpServer]:
    """Started, with AUTH after STARTTLS for the user candor, password s3cret."""
    server = SmtpServer(require_auth=("candor", "s3cret")).start()
    yield server
    server.stop()


def enqueue(outbox: Outbox, key: str, payload: dict) -> str:
    return enqueue_to(outbox, "email", "invite.sent", key, payload)


# -- the pure parts ---------------------------------------------------------------
def test_smtp_url_forms() -> None:
    plain = SmtpConfig.from_url("smtp://relay.bank.cn", FROM)
    assert (plain.host, plain.port, plain.use_tls, plain.start_tls, plain.username) == ("relay.bank.cn", 25, False, False, None)
    tls = SmtpConfig.from_url("smtp://u%40bank:p%3Ass@mail.bank.cn:587?starttls=true", FROM)
    assert (tls.port, tls.start_tls, tls.username, tls.password.get_secret_value()) == (587, True, "u@bank", "p:ss")
    implicit = SmtpConfig.from_url("smtps://u:p@mail.bank.cn", FROM)
    assert (implicit.port, implicit.use_tls) == (465, True)
    assert "p:ss" not in repr(tls) and "p:ss" not in str(tls)
    with pytest.raises(ValueError, match="smtp://"):
        SmtpConfig.from_url("http://mail.bank.cn", FROM)
    with pytest.raises(ValueError, match="starttls"):
        SmtpConfig.from_url("smtps://mail.bank.cn?starttls=true", FROM)
    with pytest.raises(ValueError, match="MAIL_FROM"):
        build_channels(None, "smtp://mail.bank.cn", None)


def test_message_is_multipart_with_a_stable_message_id() -> None:
    config = SmtpConfig.from_url("smtp://relay.bank.cn", FROM)
    one = build_message(config, "msg_abc", mail(reply_to="hr-team@bank.example.cn"))
    two = build_message(config, "msg_abc", mail())
    assert one["Message-ID"] == two["Message-ID"] == "<msg_abc@bank.example.cn>"
    assert one.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in one.iter_parts()] == ["text/plain", "text/html"]
    assert one["Reply-To"] == "hr-team@bank.example.cn" and one["Date"]


# -- through the outbox to the server ------------------------------------------------
async def test_delivered_with_auth(smtp_auth: SmtpServer, outboxes: Outboxes) -> None:
    channel = EmailChannel(SmtpConfig.from_url(smtp_auth.url(user="candor", password="s3cret"), FROM))
    outbox = await outboxes.start([channel])
    msg_id = enqueue(outbox, "app-1", mail())
    await until_state(outbox, msg_id, DELIVERED)
    (received,) = smtp_auth.messages
    assert received["Message-ID"] == f"<{msg_id}@bank.example.cn>"
    assert received["Subject"] == "面试邀请 Interview invitation"
    assert received["To"] == "li.lei@example.com"
    assert received.get_body(("plain",)).get_content().strip() == "请点击链接"
    assert received.get_body(("html",)).get_content().strip() == "<p>请点击链接</p>"
    assert smtp_auth.envelopes == [("hr@bank.example.cn", ["li.lei@example.com"])]
    assert [(a.status, a.outcome) for a in await outbox.attempts(msg_id)] == [(250, "delivered")]


async def test_wrong_password_is_a_dead_letter(smtp_auth: SmtpServer, outboxes: Outboxes) -> None:
    channel = EmailChannel(SmtpConfig.from_url(smtp_auth.url(user="candor", password="wrong"), FROM))
    outbox = await outboxes.start([channel])
    msg_id = enqueue(outbox, "app-1", mail())
    await until_state(outbox, msg_id, FAILED)
    assert smtp_auth.messages == [] and smtp_auth.auth_failures >= 1
    delivery = await outbox.get(msg_id)
    assert delivery is not None and delivery.last_error == "smtp:535"


async def test_temporary_failure_is_retried_with_the_same_message_id(smtp: SmtpServer, outboxes: Outboxes) -> None:
    smtp.replies = ["451 4.3.0 Mailbox busy, try later", "421 4.7.0 Too many connections"]
    smtp.start()
    outbox = await outboxes.start([EmailChannel(SmtpConfig.from_url(smtp.url(), FROM))])
    msg_id = enqueue(outbox, "app-1", mail())
    await until_state(outbox, msg_id, DELIVERED)
    assert smtp.transactions == 3 and len(smtp.messages) == 1
    attempts = await outbox.attempts(msg_id)
    assert [(a.error, a.outcome) for a in attempts] == [("smtp:451", "retry"), ("smtp:421", "retry"), (None, "delivered")]
    assert smtp.messages[0]["Message-ID"] == f"<{msg_id}@bank.example.cn>"


async def test_refused_recipient_is_failed_and_visible(smtp: SmtpServer, outboxes: Outboxes) -> None:
    smtp.rcpt_reply = "550 5.1.1 No such user"
    smtp.start()
    outbox = await outboxes.start([EmailChannel(SmtpConfig.from_url(smtp.url(), FROM))])
    msg_id = enqueue(outbox, "app-1", mail())
    await until_state(outbox, msg_id, FAILED)
    await asyncio.sleep(0.3)  # several backoff periods: no second try
    assert smtp.messages == []
    assert [(a.status, a.error, a.outcome) for a in await outbox.attempts(msg_id)] == [(400, "smtp:550", "failed")]
    assert (await outbox.counts())["email"][FAILED] == 1


async def test_server_down_then_up_loses_nothing(outboxes: Outboxes) -> None:
    server = SmtpServer()  # not listening yet
    outbox = await outboxes.start([EmailChannel(SmtpConfig.from_url(server.url(), FROM))])
    msg_id = enqueue(outbox, "app-1", mail())
    deadline = time.monotonic() + 10
    while not await outbox.attempts(msg_id):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    first = (await outbox.attempts(msg_id))[0]
    assert first.status is None and first.outcome == "retry" and first.error
    server.start()
    try:
        await until_state(outbox, msg_id, DELIVERED)
        assert len(server.messages) == 1
    finally:
        server.stop()


async def test_a_message_without_recipients_is_refused(smtp: SmtpServer, outboxes: Outboxes) -> None:
    smtp.start()
    outbox = await outboxes.start([EmailChannel(SmtpConfig.from_url(smtp.url(), FROM))])
    msg_id = enqueue(outbox, "app-1", {"to": [], "subject": "x", "text": "y"})
    await until_state(outbox, msg_id, FAILED)
    assert smtp.transactions == 0
    assert (await outbox.get(msg_id)).last_error == "email:bad-message"  # type: ignore[union-attr]
