"""A WeCom server API on loopback, written from the official docs, for the tests.

A starlette app on loopback (tests/helpers.py's LoopbackServer) that
implements what Candor calls:

* ``GET /cgi-bin/gettoken?corpid&corpsecret``: checks both (40013 wrong corp,
  40001 wrong secret), issues a fresh token valid ``token_ttl_s`` (settable;
  ``expire_tokens()`` makes every issued one answer 42001);
* ``POST /cgi-bin/message/send?access_token``: checks the token (40014
  unknown, 42001 expired), agentid, msgtype, and records the message;
* ``POST /cgi-bin/webhook/send?key``: per key at most ``robot_limit_per_min``
  (20) a minute, then errcode 45009 like WeCom;
* ``POST /cgi-bin/externalcontact/add_msg_template``: returns a msgid and a
  ``fail_list`` of the ids in ``unreachable``;
* ``inject(path, errcode, times)``: the next ``times`` calls of a path answer
  that errcode (-1 busy, 45009, 40003...); ``inject_raw`` answers message/send
  with any HTTP status and body (a proxy's page).

* ``GET /connect/oauth2/authorize`` (open.weixin.qq.com's page, 企业微信网页授权): checks appid
  (the corp id), response_type=code and the scope, then sends the browser back to redirect_uri
  with ``code`` (for the member ``user_in_wecom``, settable) and the same ``state``;
* ``GET /cgi-bin/auth/getuserinfo?access_token&code``: a member's ``userid`` (and a
  ``user_ticket``), or a non-member's ``openid``; a code works once and for 5 minutes, else
  40029 (invalid code).

``post_callback(url, message_xml)`` posts an encrypted callback to Candor
the way WeCom does (WXBizMsgCrypt, msg_signature/timestamp/nonce in the query).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from channels.wecom_crypto import MsgCrypt
from tests.helpers import LoopbackServer, free_port

CORP_ID = "ww0123456789abcdef"
SECRET = "app-secret-for-tests-0123456789"
AGENT_ID = 1000002
CALLBACK_TOKEN = "cbTokenForTests"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters
ROBOT_KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"


@dataclass
class Received:
    path: str
    body: dict[str, Any]
    at: float
    errcode: int


@dataclass
class FakeWeCom:
    corp_id: str = CORP_ID
    secret: str = SECRET
    agent_id: int = AGENT_ID
    token_ttl_s: float = 7200.0
    robot_limit_per_min: int = 20
    robot_window_s: float = 60.0  # the limit's window (shorter in tests that must not wait a minute)
    robot_keys: tuple[str, ...] = (ROBOT_KEY,)
    unreachable: set[str] = field(default_factory=set)  # external_userids that land in fail_list
    # Who is using WeCom when the OAuth page is opened: a member's userid, or ("openid", x) for someone outside the corp.
    user_in_wecom: str | tuple[str, str] = "zhangsan"
    port: int = field(default_factory=free_port)

    def __post_init__(self) -> None:
        self.tokens: dict[str, float] = {}  # token -> expires at (monotonic)
        self.token_calls = 0
        self.received: list[Received] = []  # every call with a body, answered 0 or not
        self.delivered: list[Received] = []  # answered errcode 0
        self._robot_sent: dict[str, deque[float]] = defaultdict(deque)
        self._inject: dict[str, list[int]] = defaultdict(list)
        self._raw: dict[str, list[tuple[int, str]]] = defaultdict(list)
        self._lock = threading.Lock()
        self._server: LoopbackServer | None = None
        self.oauth_codes: dict[str, tuple[str | tuple[str, str], float]] = {}  # code -> (who, issued at)
        self.authorize_requests: list[dict[str, str]] = []

    # -- control ------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def inject(self, path: str, errcode: int, times: int = 1) -> None:
        with self._lock:
            self._inject[path].extend([errcode] * times)

    def inject_raw(self, path: str, status: int, body: str) -> None:
        """The next call of ``path`` gets this HTTP answer as is (a proxy's error page, a broken body)."""
        with self._lock:
            self._raw[path].append((status, body))

    def expire_tokens(self) -> None:
        with self._lock:
            for token in self.tokens:
                self.tokens[token] = 0.0

    def sent(self, path: str) -> list[dict[str, Any]]:
        return [r.body for r in self.delivered if r.path == path]

    # -- endpoints --------------------------------------------------------------
    def _injected(self, path: str) -> int | None:
        with self._lock:
            queue = self._inject.get(path)
            return queue.pop(0) if queue else None

    def _check_token(self, request: Request) -> int:
        token = request.query_params.get("access_token")
        if not token or token not in self.tokens:
            return 40014
        if time.monotonic() >= self.tokens[token]:
            return 42001
        return 0

    async def gettoken(self, request: Request) -> JSONResponse:
        self.token_calls += 1
        if request.query_params.get("corpid") != self.corp_id:
            return _answer(40013)
        if request.query_params.get("corpsecret") != self.secret:
            return _answer(40001)
        code = self._injected("gettoken")
        if code is not None:
            return _answer(code)
        token = secrets.token_urlsafe(48)
        with self._lock:
            self.tokens[token] = time.monotonic() + self.token_ttl_s
        return _answer(0, access_token=token, expires_in=int(self.token_ttl_s))

    async def _record(self, path: str, request: Request, code: int, **extra: Any) -> JSONResponse:
        try:
            body = await request.json()
        except ValueError:
            body, code = {}, 47001  # data format error
        if code == 0:
            injected = self._injected(path)
            code = injected if injected is not None else self._validate(path, body)
        entry = Received(path, body, time.monotonic(), code)
        with self._lock:
            self.received.append(entry)
            if code == 0:
                self.delivered.append(entry)
        return _answer(code, **(extra if code == 0 else {}))

    def _validate(self, path: str, body: dict[str, Any]) -> int:
        if path == "message/send":
            if body.get("agentid") != self.agent_id:
                return 40056  # invalid agentid
            msgtype = body.get("msgtype")
            if msgtype not in ("text", "textcard", "markdown", "template_card") or msgtype not in body:
                return 40008  # invalid msgtype
            if not (body.get("touser") or body.get("toparty") or body.get("totag")):
                return 40031
        if path == "externalcontact/add_msg_template":
            if body.get("chat_type", "single") != "single" or not body.get("sender"):
                return 40003
        return 0

    async def message_send(self, request: Request) -> Response:
        with self._lock:
            raw = self._raw["message/send"].pop(0) if self._raw["message/send"] else None
        if raw is not None:
            return Response(raw[1], status_code=raw[0], media_type="text/html" if raw[1].startswith("<") else "application/json")
        code = self._check_token(request)
        msgid = secrets.token_hex(8)
        return await self._record("message/send", request, code, invaliduser="", msgid=msgid)

    async def add_msg_template(self, request: Request) -> JSONResponse:
        code = self._check_token(request)
        try:
            users = (await request.json()).get("external_userid") or []
        except ValueError:
            users = []
        fail = [u for u in users if u in self.unreachable]
        return await self._record(
            "externalcontact/add_msg_template", request, code, fail_list=fail, msgid="msgGCAAAXtWyujaWJHDDGi0mAAAA"
        )

    async def webhook_send(self, request: Request) -> JSONResponse:
        key = request.query_params.get("key", "")
        if key not in self.robot_keys:
            return await self._record("webhook/send", request, 93000)  # invalid webhook url
        now = time.monotonic()
        with self._lock:
            sent = self._robot_sent[key]
            while sent and now - sent[0] >= self.robot_window_s:
                sent.popleft()
            limited = len(sent) >= self.robot_limit_per_min
            if not limited:
                sent.append(now)
        return await self._record("webhook/send", request, 45009 if limited else 0)

    # -- OAuth2 (网页授权) ------------------------------------------------------------------
    async def authorize(self, request: Request) -> Response:
        q = dict(request.query_params)
        self.authorize_requests.append(q)
        if q.get("appid") != self.corp_id or q.get("response_type") != "code" or q.get("scope") not in ("snsapi_base", "snsapi_privateinfo"):
            return Response("<html>参数错误</html>", status_code=400, media_type="text/html")
        redirect_uri = q.get("redirect_uri", "")
        if not redirect_uri.startswith(("http://", "https://")):
            return Response("<html>redirect_uri 参数错误</html>", status_code=400, media_type="text/html")
        code = secrets.token_urlsafe(24)
        with self._lock:
            self.oauth_codes[code] = (self.user_in_wecom, time.monotonic())
        sep = "&" if "?" in redirect_uri else "?"
        return Response(status_code=302, headers={"Location": f"{redirect_uri}{sep}{urlencode({'code': code, 'state': q.get('state', '')})}"})

    async def getuserinfo(self, request: Request) -> JSONResponse:
        token_code = self._check_token(request)
        if token_code:
            return _answer(token_code)
        with self._lock:
            issued = self.oauth_codes.pop(request.query_params.get("code", ""), None)  # a code works once
        if issued is None or time.monotonic() - issued[1] > 300:
            return _answer(40029)  # invalid code
        who = issued[0]
        if isinstance(who, tuple):
            return _answer(0, openid=who[1])
        return _answer(0, userid=who, user_ticket=secrets.token_urlsafe(16))

    # -- callbacks ------------------------------------------------------------------
    def crypt(self, token: str = CALLBACK_TOKEN, aes_key: str = AES_KEY) -> MsgCrypt:
        return MsgCrypt(token, aes_key, self.corp_id)

    def post_callback(
        self, url: str, message_xml: str, *, crypt: MsgCrypt | None = None, bad_signature: bool = False
    ) -> httpx.Response:
        """POST an encrypted message to Candor's callback URL the way WeCom does."""
        crypt = crypt or self.crypt()
        timestamp, nonce = str(int(time.time())), secrets.token_hex(5)
        encrypted = crypt.encrypt(message_xml)
        signature = crypt.sign(timestamp, nonce, encrypted)
        if bad_signature:
            signature = "0" * 40
        body = (
            f"<xml><ToUserName><![CDATA[{self.corp_id}]]></ToUserName>"
            f"<Encrypt><![CDATA[{encrypted}]]></Encrypt><AgentID><![CDATA[{self.agent_id}]]></AgentID></xml>"
        )
        return httpx.post(
            url,
            params={"msg_signature": signature, "timestamp": timestamp, "nonce": nonce},
            content=body.encode("utf-8"),
            headers={"content-type": "text/xml"},
            timeout=10,
        )

    def verify_url(self, url: str, echo: str = "1616140317555161061", *, crypt: MsgCrypt | None = None) -> httpx.Response:
        """The GET WeCom sends when an admin saves the callback URL."""
        crypt = crypt or self.crypt()
        timestamp, nonce = str(int(time.time())), secrets.token_hex(5)
        echostr = crypt.encrypt(echo)
        return httpx.get(
            url,
            params={"msg_signature": crypt.sign(timestamp, nonce, echostr), "timestamp": timestamp,
                    "nonce": nonce, "echostr": echostr},
            timeout=10,
        )

    # -- life -----------------------------------------------------------------------
    def start(self) -> "FakeWeCom":
        app = Starlette(
            routes=[
                Route("/cgi-bin/gettoken", self.gettoken, methods=["GET"]),
                Route("/cgi-bin/message/send", self.message_send, methods=["POST"]),
                Route("/cgi-bin/webhook/send", self.webhook_send, methods=["POST"]),
                Route("/cgi-bin/externalcontact/add_msg_template", self.add_msg_template, methods=["POST"]),
                Route("/connect/oauth2/authorize", self.authorize, methods=["GET"]),
                Route("/cgi-bin/auth/getuserinfo", self.getuserinfo, methods=["GET"]),
            ]
        )
        self._server = LoopbackServer(app, self.port, name="fake-wecom").start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()


def _answer(errcode: int, **extra: Any) -> JSONResponse:
    messages = {0: "ok", -1: "system busy", 40001: "invalid credential", 40013: "invalid corpid",
                40014: "invalid access_token", 42001: "access_token expired", 45009: "api freq out of limit",
                40029: "invalid code"}
    return JSONResponse({"errcode": errcode, "errmsg": messages.get(errcode, "error"), **extra})
