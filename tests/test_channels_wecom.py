"""WeCom channels through the outbox to a WeCom fake on loopback (tests/wecom_fake.py).

The fake implements the documented endpoints and answers with WeCom's
errcodes; what it received and answered is what these tests assert.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Iterator

import httpx
import pytest
from pydantic import ValidationError

from channels import WeComAppChannel, WeComClient, WeComConfig, WeComExternalChannel, WeComRobotChannel, build_channels
from channels.sms import ChannelNotConfigured, SmsSender, sms_sender
from channels.wecom import RedactUrls, status_for
from channels.wecom_crypto import CallbackError, MsgCrypt, parse_xml, signature
from sinks import DELIVERED, FAILED, PENDING, Outbox
from tests.outbox_fixtures import Outboxes, enqueue_to, until_state
from tests.wecom_fake import AES_KEY, AGENT_ID, CALLBACK_TOKEN, CORP_ID, ROBOT_KEY, SECRET, FakeWeCom

HR_TEXT = {"touser": "zhangsan", "msgtype": "text", "text": {"content": "候选人 A 已完成面试"}}


def config(fake: FakeWeCom, **overrides: object) -> WeComConfig:
    values: dict = {
        "corp_id": CORP_ID,
        "agent_id": AGENT_ID,
        "secret": SECRET,
        "callback_token": CALLBACK_TOKEN,
        "callback_aes_key": AES_KEY,
        "api_base": fake.url,
        "robots": {"shanghai": ROBOT_KEY},
        "external_sender": "hr-wang",
        "timeout_s": 3.0,
    }
    values.update(overrides)
    return WeComConfig(**values)


@pytest.fixture
def fake() -> Iterator[FakeWeCom]:
    server = FakeWeCom().start()
    yield server
    server.stop()


def enqueue(outbox: Outbox, channel: str, key: str, payload: dict, version: int = 1) -> str:
    return enqueue_to(outbox, channel, "notice.sent", key, payload, version)


# -- pure parts ---------------------------------------------------------------------
def test_errcodes_map_onto_outbox_statuses() -> None:
    assert status_for(0) == 200
    assert status_for(-1) == status_for(45009) == status_for(45033) == 429  # retried later
    assert status_for(40003) == status_for(93000) == status_for(40008) == 400  # refused: a dead letter


def test_config_checks_the_aes_key_and_hides_secrets() -> None:
    with pytest.raises(ValidationError, match="43 characters"):
        WeComConfig(corp_id=CORP_ID, agent_id=1, secret="s", callback_aes_key="short")
    with pytest.raises(ValidationError, match="robot"):
        WeComConfig(corp_id=CORP_ID, agent_id=1, secret="s", robots={"Shanghai HR": "k"})
    c = WeComConfig(corp_id=CORP_ID, agent_id=1, secret=SECRET, robots={"sh": ROBOT_KEY})
    assert SECRET not in repr(c) and ROBOT_KEY not in repr(c)
    names = [ch.name for ch in build_channels(config(FakeWeCom(port=1)), None, None)]
    assert names == ["wecom", "wecom-external", "wecom-robot-shanghai"]


def test_crypto_official_vectors() -> None:
    """The sample in WeCom's 加解密方案说明 and its WXBizMsgCrypt samples (corp wx5823bf96d3bd56c7)."""
    crypt = MsgCrypt("QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx5823bf96d3bd56c7")
    echo = crypt.verify_url(
        "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3", "1409659589", "263014780",
        "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==",
    )
    assert echo == "1616140317555161061"
    encrypted = (
        "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3"
        "TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5g"
        "sijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQ"
        "Uax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyP"
        "IGHBZZIs2pDBS8R07+qN+E7Q=="
    )
    assert signature("QDG6eK", "1409659813", "1372623149", encrypted) == "477715d11cdb4164915debcba66cb864d751f3e6"
    body = f"<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    message = crypt.decrypt_body("477715d11cdb4164915debcba66cb864d751f3e6", "1409659813", "1372623149", body)
    assert message == {
        "ToUserName": "wx5823bf96d3bd56c7", "FromUserName": "mycreate", "CreateTime": "1409659813",
        "MsgType": "text", "Content": "hello", "MsgId": "4561255354251345929", "AgentID": "218",
    }


def test_crypto_known_encryption_vector_and_round_trip() -> None:
    """Tencent's WXBizMsgCryptTest: fixed random 'aaaabbbbccccdddd' gives this exact ciphertext."""
    crypt = MsgCrypt("pamtest", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wxb11529c136998cb6")
    encrypted = crypt.encrypt("我是中文abcd123", random_bytes=lambda n: b"aaaabbbbccccdddd")
    assert encrypted == "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=="
    ours = MsgCrypt(CALLBACK_TOKEN, AES_KEY, CORP_ID)
    for text in ("", "x", "候选人" * 100, "a" * 32):
        assert ours.decrypt(ours.encrypt(text)) == text
    with pytest.raises(CallbackError) as other_corp:
        MsgCrypt(CALLBACK_TOKEN, AES_KEY, "ww-other").decrypt(ours.encrypt("hi"))
    assert other_corp.value.status == 401
    with pytest.raises(CallbackError) as bad_sig:
        ours.verify("0" * 40, "1", "2", ours.encrypt("hi"))
    assert bad_sig.value.status == 401
    for body in (b"<xml><a>1</a>", b"<!DOCTYPE x [<!ENTITY e 'boom'>]><xml><a>&e;</a></xml>", b"<root/>"):
        with pytest.raises(CallbackError) as malformed:
            parse_xml(body)
        assert malformed.value.status == 400


async def test_sms_is_not_configured_and_says_so() -> None:
    sender = sms_sender()
    assert isinstance(sender, SmsSender) and sender.configured is False
    with pytest.raises(ChannelNotConfigured) as exc:
        await sender.send("13800000000", "hi", idempotency_key="k")
    assert exc.value.to_note()["error"] == "not_configured" and exc.value.channel == "sms"


def test_httpx_log_lines_lose_tokens_and_keys() -> None:
    record = logging.LogRecord(
        "httpx", logging.INFO, __file__, 1, "HTTP Request: %s %s", (
            "GET", httpx.URL("https://qyapi.weixin.qq.com/cgi-bin/gettoken?corpid=ww1&corpsecret=TOPSECRET"),
        ), None,
    )
    RedactUrls().filter(record)
    line = record.getMessage()
    assert "TOPSECRET" not in line and "corpid=ww1" in line


# -- app messages (message/send) --------------------------------------------------------
async def test_app_message_delivered_with_agentid_and_duplicate_check(fake: FakeWeCom, outboxes: Outboxes) -> None:
    client = WeComClient(config(fake))
    outbox = await outboxes.start([WeComAppChannel(client)])
    ids = [enqueue(outbox, "wecom", f"app-{n}", HR_TEXT) for n in range(3)]
    for msg_id in ids:
        await until_state(outbox, msg_id, DELIVERED)
    sent = fake.sent("message/send")
    assert len(sent) == 3 and fake.token_calls == 1  # one token for all three
    assert sent[0]["agentid"] == AGENT_ID and sent[0]["text"] == HR_TEXT["text"]
    assert sent[0]["enable_duplicate_check"] == 1 and sent[0]["duplicate_check_interval"] == 1800


async def test_expired_token_is_refreshed_and_the_call_retried(fake: FakeWeCom, outboxes: Outboxes) -> None:
    client = WeComClient(config(fake))
    outbox = await outboxes.start([WeComAppChannel(client)])
    first = enqueue(outbox, "wecom", "app-1", HR_TEXT)
    await until_state(outbox, first, DELIVERED)
    fake.expire_tokens()  # WeCom ended it early (another gettoken elsewhere, a reset secret)
    second = enqueue(outbox, "wecom", "app-2", HR_TEXT)
    await until_state(outbox, second, DELIVERED)
    assert fake.token_calls == 2 and client.token_fetches == 2
    assert [r.errcode for r in fake.received] == [0, 42001, 0]
    # One attempt from the outbox's point of view: the refresh happened inside it.
    assert [(a.status, a.outcome) for a in await outbox.attempts(second)] == [(200, "delivered")]


async def test_token_expiry_by_ttl_fetches_a_new_one_before_the_call(fake: FakeWeCom, outboxes: Outboxes) -> None:
    fake.token_ttl_s = 1.0  # cached for ttl minus a margin (a tenth of it here)
    client = WeComClient(config(fake))
    outbox = await outboxes.start([WeComAppChannel(client)])
    await until_state(outbox, enqueue(outbox, "wecom", "app-1", HR_TEXT), DELIVERED)
    await asyncio.sleep(1.0)
    await until_state(outbox, enqueue(outbox, "wecom", "app-2", HR_TEXT), DELIVERED)
    assert fake.token_calls == 2
    assert [r.errcode for r in fake.received] == [0, 0]  # never sent with a stale token


async def test_concurrent_sends_fetch_one_token(fake: FakeWeCom) -> None:
    client = WeComClient(config(fake))
    async with httpx.AsyncClient() as http:
        tokens = await asyncio.gather(*(client.token(http) for _ in range(10)))
    assert len(set(tokens)) == 1 and fake.token_calls == 1


async def test_busy_then_delivered(fake: FakeWeCom, outboxes: Outboxes) -> None:
    fake.inject("message/send", -1, times=2)
    outbox = await outboxes.start([WeComAppChannel(WeComClient(config(fake)))])
    msg_id = enqueue(outbox, "wecom", "app-1", HR_TEXT)
    await until_state(outbox, msg_id, DELIVERED)
    assert [(a.status, a.error, a.outcome) for a in await outbox.attempts(msg_id)] == [
        (429, "wecom:-1", "retry"), (429, "wecom:-1", "retry"), (200, None, "delivered"),
    ]
    assert len(fake.sent("message/send")) == 1


async def test_answers_that_are_not_wecoms_are_retried(fake: FakeWeCom, outboxes: Outboxes) -> None:
    fake.inject_raw("message/send", 502, "<html>Bad Gateway</html>")
    fake.inject_raw("message/send", 200, '{"errcode": "busy?"}')
    fake.inject_raw("message/send", 200, "[]")
    outbox = await outboxes.start([WeComAppChannel(WeComClient(config(fake)))])
    msg_id = enqueue(outbox, "wecom", "app-1", HR_TEXT)
    await until_state(outbox, msg_id, DELIVERED)
    assert [(a.status, a.error, a.outcome) for a in await outbox.attempts(msg_id)] == [
        (502, "wecom:http502", "retry"), (None, "wecom:bad-answer", "retry"), (None, "wecom:http200", "retry"),
        (200, None, "delivered"),
    ]


async def test_refused_message_is_a_visible_dead_letter(fake: FakeWeCom, outboxes: Outboxes) -> None:
    fake.inject("message/send", 40003)  # invalid UserID
    outbox = await outboxes.start([WeComAppChannel(WeComClient(config(fake)))])
    msg_id = enqueue(outbox, "wecom", "app-1", HR_TEXT)
    await until_state(outbox, msg_id, FAILED)
    await asyncio.sleep(0.3)
    assert len(fake.received) == 1 and fake.sent("message/send") == []
    delivery = await outbox.get(msg_id)
    assert delivery is not None and (delivery.last_status, delivery.last_error) == (400, "wecom:40003")
    assert [d.id for d in await outbox.list_deliveries(FAILED, sink="wecom")] == [msg_id]
    # An operator fixes the cause and replays it: same id, delivered.
    await outbox.replay(msg_id)
    await until_state(outbox, msg_id, DELIVERED)


async def test_wrong_secret_is_refused_not_retried_forever(fake: FakeWeCom, outboxes: Outboxes) -> None:
    outbox = await outboxes.start([WeComAppChannel(WeComClient(config(fake, secret="not-the-secret")))])
    msg_id = enqueue(outbox, "wecom", "app-1", HR_TEXT)
    await until_state(outbox, msg_id, FAILED)
    assert (await outbox.get(msg_id)).last_error == "wecom:40001"  # type: ignore[union-attr]
    assert fake.sent("message/send") == []


async def test_bad_message_is_refused_before_wecom(fake: FakeWeCom, outboxes: Outboxes) -> None:
    outbox = await outboxes.start([WeComAppChannel(WeComClient(config(fake)))])
    msg_id = enqueue(outbox, "wecom", "app-1", {"touser": "zhangsan", "msgtype": "voice", "voice": {}})
    await until_state(outbox, msg_id, FAILED)
    assert fake.received == [] and (await outbox.get(msg_id)).last_error == "wecom:bad-message"  # type: ignore[union-attr]


async def test_wecom_down_then_up(outboxes: Outboxes) -> None:
    fake = FakeWeCom()  # not started: connection refused
    outbox = await outboxes.start([WeComAppChannel(WeComClient(config(fake)))])
    msg_id = enqueue(outbox, "wecom", "app-1", HR_TEXT)
    deadline = time.monotonic() + 10
    while not await outbox.attempts(msg_id):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    assert (await outbox.attempts(msg_id))[0].error == "ConnectError"
    fake.start()
    try:
        await until_state(outbox, msg_id, DELIVERED)
    finally:
        fake.stop()


# -- group robots (webhook/send) -------------------------------------------------------------
ROBOT_MD = {"msgtype": "markdown", "markdown": {"content": "**3** 位候选人今日完成面试"}}


async def test_robot_limiter_keeps_to_20_a_minute(fake: FakeWeCom, outboxes: Outboxes) -> None:
    channel = WeComRobotChannel(config(fake), "shanghai")
    assert channel.rate_per_min == 20
    outbox = await outboxes.start([channel])
    ids = [enqueue(outbox, channel.name, f"digest-{n}", ROBOT_MD) for n in range(22)]
    deadline = time.monotonic() + 10
    while len(fake.delivered) < 20:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)
    assert len(fake.received) == 20 and all(r.errcode == 0 for r in fake.received)  # never hit 45009
    states = [(await outbox.get(i)).state for i in ids]  # type: ignore[union-attr]
    assert states.count(DELIVERED) == 20 and states.count(PENDING) == 2  # the rest wait their minute


async def test_robot_rate_limited_by_wecom_then_delivered_later(fake: FakeWeCom, outboxes: Outboxes) -> None:
    # Another Candor node shares the robot, so WeCom's own count says no first.
    fake.robot_limit_per_min, fake.robot_window_s = 2, 1.0
    channel = WeComRobotChannel(config(fake, limit_retry_after_s=1), "shanghai")
    outbox = await outboxes.start([channel])
    ids = [enqueue(outbox, channel.name, f"digest-{n}", ROBOT_MD) for n in range(3)]
    for msg_id in ids:
        await until_state(outbox, msg_id, DELIVERED)
    limited = [r for r in fake.received if r.errcode == 45009]
    assert limited and len(fake.delivered) == 3
    attempts = [a for i in ids for a in await outbox.attempts(i)]
    retried = [a for a in attempts if a.error == "wecom:45009"]
    assert retried and all(a.status == 429 and a.outcome == "retry" for a in retried)


async def test_robot_with_a_wrong_key_is_refused(fake: FakeWeCom, outboxes: Outboxes) -> None:
    channel = WeComRobotChannel(config(fake, robots={"beijing": "not-a-key"}), "beijing")
    outbox = await outboxes.start([channel])
    msg_id = enqueue(outbox, channel.name, "digest-1", ROBOT_MD)
    await until_state(outbox, msg_id, FAILED)
    assert (await outbox.get(msg_id)).last_error == "wecom:93000"  # type: ignore[union-attr]


# -- external contacts (add_msg_template) --------------------------------------------------------
async def test_external_contact_task_and_fail_list(fake: FakeWeCom, outboxes: Outboxes) -> None:
    fake.unreachable = {"wmUnreachable"}
    channel = WeComExternalChannel(WeComClient(config(fake)))
    outbox = await outboxes.start([channel])
    ok = enqueue(outbox, channel.name, "app-1", {"external_userid": ["wmCandidateA"], "text": {"content": "面试提醒"}})
    gone = enqueue(outbox, channel.name, "app-2", {"external_userid": ["wmUnreachable"], "text": {"content": "面试提醒"}})
    await until_state(outbox, ok, DELIVERED)
    await until_state(outbox, gone, FAILED)
    (sent, _) = fake.sent("externalcontact/add_msg_template")
    assert sent == {"chat_type": "single", "external_userid": ["wmCandidateA"], "sender": "hr-wang",
                    "text": {"content": "面试提醒"}}
    assert channel.tasks[ok] == "msgGCAAAXtWyujaWJHDDGi0mAAAA"
    assert (await outbox.get(gone)).last_error == "wecom:fail_list"  # type: ignore[union-attr]
