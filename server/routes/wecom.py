"""``/v1/wecom/callback``: WeCom's callbacks to the bank's self-built app.

GET is URL verification (when an admin saves the callback URL): the
signature is checked and the decrypted ``echostr`` is the plain-text answer.
POST is a message or event, encrypted with WXBizMsgCrypt
(channels/wecom_crypto.py): a bad signature is a 401 problem, a body that is
not WeCom's XML a 400; otherwise the answer is ``success`` as soon as the
message is stored (WeCom retries a callback that is not answered within
5 seconds, so storing is kept short, and a retry lands once by MsgId).

A text from a known contact (db/contacts.py ``application_for_contact``
with ``wecom_user`` or ``wecom_external`` = FromUserName) becomes a
``message_in`` note on the application's timeline, its text in the note's
details (personal data: never logged), and a ``candidate.message`` event on
the application's interview session, so the HR watching it live see it.
An ``add_external_contact`` event whose ``State`` is an application id (the
"contact me" QR code of the invite carried it) records the candidate's
external_userid on that application.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from applications.pipeline import Status, note
from channels.wecom_crypto import CallbackError, MsgCrypt
from events.payloads import CandidateMessage

from ..openapi import Operation, Param, Reply
from ..problems import Problem
from ._common import Resource

log = logging.getLogger("candor.wecom")

MAX_BODY = 64 * 1024  # a callback is a few KB of XML
CHANNEL = "wecom"
SIGNED = (
    Param("msg_signature", "query", {"type": "string"}, required=True),
    Param("timestamp", "query", {"type": "string"}, required=True),
    Param("nonce", "query", {"type": "string"}, required=True),
)


class WeComRoutes(Resource):
    def operations(self) -> list[Operation]:
        path = "/v1/wecom/callback"
        return [
            Operation(
                "GET", path, self.verify_url, "WeCom callback URL verification", "wecom", auth=None,
                params=(*SIGNED, Param("echostr", "query", {"type": "string"}, required=True)),
                description="WeCom calls it when the callback URL is saved: the msg_signature is checked and "
                "the decrypted echostr is answered as plain text (docs/wecom.md).",
                replies={200: Reply("the decrypted echostr", None, media_type="text/plain")},
                problems=(400, 401, 404),
            ),
            Operation(
                "POST", path, self.receive, "WeCom callback: a message or event (encrypted XML)", "wecom",
                auth=None, body="text/xml", params=SIGNED,
                description="WXBizMsgCrypt: signature over token, timestamp, nonce and Encrypt; AES-256-CBC. A text "
                "from a candidate's WeCom id lands on the application's timeline and, live, on its session's event "
                "stream (candidate.message). Answered 'success' once stored; a repeated MsgId lands once.",
                replies={200: Reply("success", None, media_type="text/plain")},
                problems=(400, 401, 404, 413),
            ),
        ]

    def _crypt(self) -> MsgCrypt:
        wecom = self.ctx.settings.wecom
        if wecom is None or wecom.callback_token is None or wecom.callback_aes_key is None:
            raise Problem(404, "Not found", "WeCom callbacks are not configured (CANDOR_WECOM callback_token, callback_aes_key)")
        return MsgCrypt(wecom.callback_token.get_secret_value(), wecom.callback_aes_key.get_secret_value(), wecom.corp_id)

    @staticmethod
    def _signed(request: Request) -> tuple[str, str, str]:
        q = request.query_params
        values = (q.get("msg_signature"), q.get("timestamp"), q.get("nonce"))
        if not all(values):
            raise Problem(400, "Bad callback", "msg_signature, timestamp and nonce are required")
        return values  # type: ignore[return-value]

    @staticmethod
    def _problem(exc: CallbackError) -> Problem:
        title = "Bad signature" if exc.status == 401 else "Bad callback"
        return Problem(exc.status, title, exc.reason)

    async def verify_url(self, request: Request) -> Response:
        crypt = self._crypt()
        signature, timestamp, nonce = self._signed(request)
        echostr = request.query_params.get("echostr")
        if not echostr:
            raise Problem(400, "Bad callback", "echostr is required")
        try:
            plain = crypt.verify_url(signature, timestamp, nonce, echostr)
        except CallbackError as exc:
            log.warning("wecom callback URL verification refused: %s", exc.reason)
            raise self._problem(exc) from None
        log.info("wecom callback URL verified")
        return PlainTextResponse(plain)

    async def receive(self, request: Request) -> Response:
        crypt = self._crypt()
        signature, timestamp, nonce = self._signed(request)
        body = await request.body()
        if len(body) > MAX_BODY:
            raise Problem(413, "Callback too large", f"a WeCom callback is at most {MAX_BODY // 1024} KB")
        try:
            message = crypt.decrypt_body(signature, timestamp, nonce, body)
        except CallbackError as exc:
            log.warning("wecom callback refused: %s", exc.reason)
            raise self._problem(exc) from None
        kind = message.get("MsgType", "")
        if kind == "text":
            await self._text(message)
        elif kind == "event" and message.get("Event") == "change_external_contact":
            await self._external_contact(message)
        else:
            log.info("wecom callback: %s %s ignored", kind or "?", message.get("Event", ""))
        return PlainTextResponse("success")

    async def _text(self, message: dict[str, str]) -> None:
        store = self.ctx.store
        sender, msg_id = message.get("FromUserName", ""), message.get("MsgId", "")
        if not sender or not msg_id:
            raise Problem(400, "Bad callback", "a text message has FromUserName and MsgId")
        application_id = None
        for kind in ("wecom_user", "wecom_external"):
            application_id = await store.run(store.store.application_for_contact, kind, sender)
            if application_id is not None:
                break
        if application_id is None:
            log.info("wecom callback: text %s from a sender who is no candidate's contact", msg_id)
            return
        record = await store.run(store.store.get_application, application_id)
        if record is None:
            return
        now = datetime.now(timezone.utc)
        text = message.get("Content", "")
        entry = note(
            Status(record.state, record.outcome),  # type: ignore[arg-type]
            "message_in",
            actor="candidate",
            at=now,
            details={"channel": CHANNEL, "message_id": msg_id, "text": text},
        )
        added = await store.run(store.store.add_message_in, application_id, CHANNEL, msg_id, entry.to_dict())
        if not added:
            log.info("wecom callback: message %s for %s seen before", msg_id, application_id)
            return
        log.info("wecom callback: message %s on %s's timeline", msg_id, application_id)
        if record.session_id:
            events = await self.ctx.sessions.events_for(record.session_id)
            if events is not None:
                events.publish(None, CandidateMessage(application_id, CHANNEL, msg_id, text, now.isoformat()))

    async def _external_contact(self, message: dict[str, str]) -> None:
        if message.get("ChangeType") != "add_external_contact":
            return
        state, external = message.get("State", ""), message.get("ExternalUserID", "")
        if not state or not external:
            return
        store = self.ctx.store
        if await store.run(store.store.get_application, state) is None:
            return
        await store.run(store.store.set_contacts, state, {"wecom_external": external})
        log.info("wecom callback: application %s has a WeCom external contact now", state)
