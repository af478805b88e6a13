"""WeCom's callbacks to a real Candor on loopback, posted encrypted the way WeCom does (tests/wecom_fake.py).

A candidate's WeCom message lands on the application's timeline once (WeCom
retries by MsgId) and reaches the HR watching the interview's event stream
live; bad signatures and malformed bodies are problems; the text never
reaches the logs.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
import websockets

from tests.helpers import HR_TOKEN, LiveServer, make_settings
from tests.test_contacts import WECOM, vocabulary_models
from tests.test_intake import ZH_RESUME
from tests.wecom_fake import CORP_ID, FakeWeCom

HR = {"Authorization": f"Bearer {HR_TOKEN}"}
TEXT = "我的麦克风没有声音，怎么办？"


@pytest.fixture()
def server(tmp_path: Path, db_url: str) -> Iterator[LiveServer]:
    settings = make_settings(tmp_path, database_url=db_url, contact_key="test-contact-key", wecom=WECOM)
    live = LiveServer(settings, vocabulary_models()).start()
    yield live
    live.stop()


def text_message(sender: str, msg_id: str, content: str = TEXT) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA[{sender}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId><AgentID>1000002</AgentID></xml>"
    )


def application(server: LiveServer, *, invite: bool) -> dict[str, Any]:
    made = httpx.post(f"{server.url}/v1/applications", data={"job_id": "wealth_manager"},
                      files={"resume": ("简历.txt", ZH_RESUME.encode())}, headers=HR, timeout=30)
    assert made.status_code == 201, made.text
    app = made.json()
    if invite:
        invited = httpx.post(f"{server.url}/v1/applications/{app['id']}/invite", headers=HR, timeout=30)
        assert invited.status_code == 200, invited.text
        app = invited.json()
    return app


def timeline(server: LiveServer, app_id: str) -> list[dict[str, Any]]:
    return httpx.get(f"{server.url}/v1/applications/{app_id}/timeline", headers=HR, timeout=10).json()["entries"]


def test_url_verification(server: LiveServer) -> None:
    fake = FakeWeCom()
    url = f"{server.url}/v1/wecom/callback"
    answer = fake.verify_url(url, echo="5927782489442352469")
    assert answer.status_code == 200 and answer.text == "5927782489442352469"
    forged = fake.verify_url(url, crypt=fake.crypt(token="not-the-token"))
    assert forged.status_code == 401 and forged.headers["content-type"].startswith("application/problem+json")
    assert httpx.get(url, timeout=10).status_code == 400  # no signature at all


async def test_candidate_message_reaches_timeline_and_live_watchers_once(
    server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    app = await asyncio.to_thread(application, server, invite=True)
    session_id = app["session_id"]
    assert session_id
    put = httpx.put(f"{server.url}/v1/applications/{app['id']}/contacts", json={"wecom_user": "candidate-ouyang"},
                    headers=HR, timeout=10)
    assert put.status_code == 200
    fake = FakeWeCom()
    url = f"{server.url}/v1/wecom/callback"
    ws_url = server.url.replace("http://", "ws://") + f"/v1/sessions/{session_id}/events"
    async with websockets.connect(ws_url, additional_headers=HR, open_timeout=10) as ws:
        answer = await asyncio.to_thread(fake.post_callback, url, text_message("candidate-ouyang", "7001"))
        assert answer.status_code == 200 and answer.text == "success"
        deadline = time.monotonic() + 10
        while True:
            event = json.loads(await asyncio.wait_for(ws.recv(), timeout=max(0.1, deadline - time.monotonic())))
            if event["type"] == "candidate.message":
                break
        assert event["payload"]["text"] == TEXT and event["payload"]["message_id"] == "7001"
        assert event["payload"]["application_id"] == app["id"] and event["payload"]["channel"] == "wecom"
        # WeCom retries (no answer within 5 s on its side): the same MsgId lands once.
        again = await asyncio.to_thread(fake.post_callback, url, text_message("candidate-ouyang", "7001"))
        assert again.status_code == 200 and again.text == "success"
    notes = [e for e in timeline(server, app["id"]) if e["action"] == "message_in"]
    assert len(notes) == 1
    assert notes[0]["actor"] == "candidate"
    assert notes[0]["details"] == {"channel": "wecom", "message_id": "7001", "text": TEXT}
    assert "message 7001 on" in caplog.text  # the server's log lines are captured: ids only
    assert TEXT not in caplog.text and "candidate-ouyang" not in caplog.text


def test_callbacks_off_without_keys(tmp_path: Path, db_url: str) -> None:
    settings = make_settings(tmp_path, database_url=db_url, wecom={k: v for k, v in WECOM.items() if not k.startswith("callback_")})
    live = LiveServer(settings, vocabulary_models()).start()
    try:
        answer = FakeWeCom().post_callback(f"{live.url}/v1/wecom/callback", text_message("x", "1"))
        assert answer.status_code == 404 and "not configured" in answer.json()["detail"]
    finally:
        live.stop()


def test_unknown_sender_is_answered_and_nothing_lands(server: LiveServer) -> None:
    app = application(server, invite=False)
    answer = FakeWeCom().post_callback(f"{server.url}/v1/wecom/callback", text_message("a-stranger", "7002"))
    assert answer.status_code == 200 and answer.text == "success"
    assert [e for e in timeline(server, app["id"]) if e["action"] == "message_in"] == []


def test_bad_signature_and_malformed_bodies(server: LiveServer) -> None:
    app = application(server, invite=False)
    httpx.put(f"{server.url}/v1/applications/{app['id']}/contacts", json={"wecom_user": "candidate-ouyang"},
              headers=HR, timeout=10)
    fake, url = FakeWeCom(), f"{server.url}/v1/wecom/callback"
    forged = fake.post_callback(url, text_message("candidate-ouyang", "7003"), bad_signature=True)
    assert forged.status_code == 401 and forged.json()["title"] == "Bad signature"
    other_corp = fake.post_callback(url, text_message("candidate-ouyang", "7004"),
                                    crypt=fake.crypt().__class__(fake.crypt().token, fake.crypt().encoding_aes_key, "ww-other"))
    assert other_corp.status_code == 401
    params = {"msg_signature": "0" * 40, "timestamp": "1", "nonce": "2"}
    for body in (b"not xml", b"<xml><Encrypt>", b"<xml><ToUserName>x</ToUserName></xml>"):
        bad = httpx.post(url, params=params, content=body, timeout=10)
        assert bad.status_code == 400, body
    assert [e for e in timeline(server, app["id"]) if e["action"] == "message_in"] == []


def test_add_external_contact_event_records_the_candidates_external_id(server: LiveServer) -> None:
    app = application(server, invite=False)
    event = (
        f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        "<Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[add_external_contact]]></ChangeType>"
        "<UserID><![CDATA[hr-wang]]></UserID><ExternalUserID><![CDATA[wmCandidateOuyang]]></ExternalUserID>"
        f"<State><![CDATA[{app['id']}]]></State><WelcomeCode><![CDATA[WELCOMECODE]]></WelcomeCode></xml>"
    )
    answer = FakeWeCom().post_callback(f"{server.url}/v1/wecom/callback", event)
    assert answer.status_code == 200 and answer.text == "success"
    contacts = httpx.get(f"{server.url}/v1/applications/{app['id']}/contacts", headers=HR, timeout=10).json()
    assert contacts["contacts"]["wecom_external"] == "wmCandidateOuyang"
    # and a text from that external contact now finds the application
    answer = FakeWeCom().post_callback(f"{server.url}/v1/wecom/callback", text_message("wmCandidateOuyang", "7005", "好的"))
    assert answer.status_code == 200
    notes = [e for e in timeline(server, app["id"]) if e["action"] == "message_in"]
    assert [n["details"]["text"] for n in notes] == ["好的"]
