"""WeCom (企业微信) server API over async httpx: app messages, group robots, external contacts.

Written against developer.work.weixin.qq.com (see docs/wecom.md for what was
checked there):

* ``GET /cgi-bin/gettoken?corpid&corpsecret`` -> ``access_token``, ``expires_in``
  (7200 s). :class:`WeComClient` caches it until ``expires_in`` minus a margin,
  fetches one at a time under an asyncio lock, and on an invalid-token answer
  (40014, 42001; 40001 too) drops it, fetches a new one and retries once.
* ``POST /cgi-bin/message/send`` (:class:`WeComAppChannel`): text, textcard,
  markdown, template_card to members (touser/toparty), with the app's agentid
  and WeCom's duplicate check, so a retried message is not shown twice.
* ``POST /cgi-bin/webhook/send?key=`` (:class:`WeComRobotChannel`): one
  branch's HR group; 20 messages a minute per robot.
* ``POST /cgi-bin/externalcontact/add_msg_template`` (:class:`WeComExternalChannel`):
  a candidate who is the bank's external contact. WeCom makes it a task the
  sender confirms in the client, and a customer receives at most 4 such
  messages per natural month (:data:`EXTERNAL_MONTHLY_LIMIT`).

``errcode`` maps onto the outbox's statuses (:func:`status_for`): 0 -> 200;
-1 (busy), 6000 (version conflict) and frequency limits -> 429, retried later;
anything else -> 400 with ``error="wecom:<errcode>"``: a dead letter HR see.
Tokens, secrets and robot keys travel in query strings: :class:`RedactUrls`
keeps them out of httpx's request log.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Any, Callable

import httpx

from sinks.channel import AddressedChannel, SendResult, result_since

from .settings import WeComConfig

log = logging.getLogger("candor.channels.wecom")

OK = 0
BUSY = -1
TOKEN_CODES = frozenset({40014, 42001, 40001})  # invalid / expired access_token (40001: invalid secret/credential)
RETRY_CODES = frozenset({BUSY, 6000, 45009, 45033, 45011, 130101})  # busy, conflict, frequency / concurrency limits
FREQUENCY_CODES = frozenset({45009, 45033, 45011, 130101})  # 130101: robot "send too fast" (reported, not in the docs)
TOKEN_MARGIN_S = 300.0
ROBOT_RATE_PER_MIN = 20
EXTERNAL_MONTHLY_LIMIT = 4  # add_msg_template: per customer per natural month (WeCom docs)
MSGTYPES = frozenset({"text", "textcard", "markdown", "template_card"})
SECRET_PARAMS = ("access_token", "corpsecret", "key")


def status_for(errcode: int) -> int:
    """An ``errcode`` as the outbox's HTTP-like status (pure)."""
    if errcode == OK:
        return 200
    if errcode in RETRY_CODES:
        return 429
    return 400


class WeComError(Exception):
    """WeCom answered with a non-zero errcode (or not with JSON at all)."""

    def __init__(self, errcode: int | None, http_status: int | None = None) -> None:
        super().__init__(f"wecom errcode {errcode}")
        self.errcode = errcode
        self.http_status = http_status


@dataclass
class _Token:
    value: str
    expires_at: float  # monotonic


class WeComClient:
    """``gettoken`` and JSON calls with the token, for one corp's app.

    The token is shared by every call of this client (one per app, like
    WeCom asks: fetching one per call would hit gettoken's own limits).
    """

    def __init__(self, config: WeComConfig, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.clock = clock
        self._token: _Token | None = None
        self._lock = asyncio.Lock()
        self.token_fetches = 0  # how many times gettoken was called (tests, metrics)

    def _url(self, path: str) -> str:
        return f"{self.config.api}/cgi-bin/{path}"

    async def token(self, client: httpx.AsyncClient, *, stale: str | None = None) -> str:
        """The cached token, or a new one. ``stale``: the token WeCom just refused (not used again)."""
        async with self._lock:
            t = self._token
            if t is not None and t.value != stale and self.clock() < t.expires_at:
                return t.value
            self.token_fetches += 1
            answer = await self._get_json(
                client,
                self._url("gettoken"),
                {"corpid": self.config.corp_id, "corpsecret": self.config.secret.get_secret_value()},
            )
            code = int(answer.get("errcode", 0))
            if code != OK or not answer.get("access_token"):
                self._token = None
                log.warning("wecom gettoken: errcode %s", code)
                raise WeComError(code)
            expires_in = float(answer.get("expires_in", 7200))
            margin = min(TOKEN_MARGIN_S, expires_in / 10)
            self._token = _Token(str(answer["access_token"]), self.clock() + max(expires_in - margin, 0.0))
            return self._token.value

    def forget_token(self) -> None:
        self._token = None

    async def _get_json(self, client: httpx.AsyncClient, url: str, params: dict[str, str]) -> dict[str, Any]:
        response = await client.get(url, params=params, timeout=self.config.timeout_s)
        return json_answer(response)

    async def post(self, client: httpx.AsyncClient, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST ``payload`` to ``/cgi-bin/{path}`` with the token; one refresh-and-retry on a token errcode."""
        token = await self.token(client)
        answer = await self._post_json(client, self._url(path), token, payload)
        if int(answer.get("errcode", 0)) in TOKEN_CODES:
            log.info("wecom %s: token refused (errcode %s), refreshing", path, answer.get("errcode"))
            token = await self.token(client, stale=token)
            answer = await self._post_json(client, self._url(path), token, payload)
        return answer

    async def _post_json(
        self, client: httpx.AsyncClient, url: str, token: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        response = await client.post(
            url,
            params={"access_token": token},
            content=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
            headers={"content-type": "application/json; charset=utf-8"},
            timeout=self.config.timeout_s,
        )
        return json_answer(response)


def json_answer(response: httpx.Response) -> dict[str, Any]:
    """WeCom's JSON object, or WeComError for a non-200 or anything but an object."""
    if response.status_code != 200:
        raise WeComError(None, response.status_code)
    try:
        answer = response.json()
    except ValueError:
        raise WeComError(None, response.status_code) from None
    if not isinstance(answer, dict):
        raise WeComError(None, response.status_code)
    return answer


def _data(body: str) -> dict[str, Any]:
    data = json.loads(body)["data"]
    if not isinstance(data, dict):
        raise ValueError("data is an object")
    return data


def result_for(answer: dict[str, Any], started: float, limit_retry_after_s: int = 60) -> SendResult:
    """A WeCom JSON answer as one attempt's result."""
    code = int(answer.get("errcode", 0))
    status = status_for(code)
    # Minute limits block the caller for 60 s (WeCom docs, 访问频率限制): no sooner.
    retry_after = str(limit_retry_after_s) if code in FREQUENCY_CODES else None
    return result_since(started, status, None if code == OK else f"wecom:{code}", retry_after)


async def _attempt(
    name: str,
    msg_id: str,
    config: WeComConfig,
    timeout_s: float,
    call: Callable[[], Any],
    judge: Callable[[dict[str, Any], float], SendResult],
) -> SendResult:
    """Run one call and turn whatever happens into a SendResult; never raises for the network."""
    started = time.monotonic()
    try:
        async with asyncio.timeout(timeout_s):
            answer = await call()
    except TimeoutError:
        return result_since(started, None, "Timeout")
    except WeComError as exc:
        if exc.errcode is None:  # no JSON answer: an HTTP error or a proxy in the way
            status = exc.http_status
            return result_since(started, status if status and status >= 500 else None, f"wecom:http{status}")
        return result_for({"errcode": exc.errcode}, started, config.limit_retry_after_s)
    except httpx.HTTPError as exc:
        return result_since(started, None, type(exc).__name__)
    except (ValueError, TypeError, KeyError):  # JSON, but not WeCom's shape: a proxy page? try again later
        return result_since(started, None, "wecom:bad-answer")
    try:
        result = judge(answer, started)
    except (ValueError, TypeError, KeyError):
        return result_since(started, None, "wecom:bad-answer")
    if result.status is not None and result.status >= 400:
        log.warning("%s %s: %s", name, msg_id, result.error)
    return result


class _AppChannel(AddressedChannel[WeComConfig]):
    """A channel that calls through :class:`WeComClient`, with its access token."""

    def __init__(self, name: str, client: WeComClient, rate_per_min: int | None) -> None:
        super().__init__(name, client.config, rate_per_min=rate_per_min)
        self.client = client

    @property
    def timeout_s(self) -> float:
        return self.config.timeout_s * 3  # a token fetch, a call, and one retry after a refresh


def app_message(config: WeComConfig, data: dict[str, Any]) -> dict[str, Any]:
    """``message/send``'s body from an outbox message's ``data`` (pure); ValueError if unusable."""
    msgtype = data.get("msgtype")
    if msgtype not in MSGTYPES:
        raise ValueError(f"msgtype is one of {', '.join(sorted(MSGTYPES))}")
    if not isinstance(data.get(msgtype), dict):
        raise ValueError(f"the message has its {msgtype} object")
    if not (data.get("touser") or data.get("toparty") or data.get("totag")):
        raise ValueError("touser, toparty or totag")
    out = {k: v for k, v in data.items() if k in ("touser", "toparty", "totag", "msgtype", msgtype, "safe")}
    out["agentid"] = config.agent_id
    if config.duplicate_check_interval_s:
        out["enable_duplicate_check"] = 1
        out["duplicate_check_interval"] = config.duplicate_check_interval_s
    return out


class WeComAppChannel(_AppChannel):
    """The ``wecom`` channel: the bank's app sends to HR members (``message/send``)."""

    def __init__(self, client: WeComClient, *, name: str = "wecom", rate_per_min: int | None = None) -> None:
        super().__init__(name, client, rate_per_min)

    async def send(self, http: httpx.AsyncClient, msg_id: str, body: str) -> SendResult:
        started = time.monotonic()
        try:
            payload = app_message(self.config, _data(body))
        except (ValueError, KeyError, TypeError):
            return result_since(started, 400, "wecom:bad-message")

        def judge(answer: dict[str, Any], t0: float) -> SendResult:
            result = result_for(answer, t0, self.config.limit_retry_after_s)
            if result.ok and (answer.get("invaliduser") or answer.get("invalidparty")):
                # Sent to the others; someone left or is outside the app's visible range.
                return SendResult(result.status, "wecom:invaliduser", None, result.duration_s)
            return result

        return await _attempt(
            self.name, msg_id, self.config, self.timeout_s, lambda: self.client.post(http, "message/send", payload), judge
        )


def robot_message(data: dict[str, Any]) -> dict[str, Any]:
    msgtype = data.get("msgtype")
    if msgtype not in ("text", "markdown", "template_card", "news"):
        raise ValueError("a robot sends text, markdown, news or template_card")
    if not isinstance(data.get(msgtype), dict):
        raise ValueError(f"the message has its {msgtype} object")
    return {"msgtype": msgtype, msgtype: data[msgtype]}


class WeComRobotChannel(AddressedChannel[WeComConfig]):
    """``wecom-robot-<group>``: one group robot (``webhook/send?key=``, no token), 20 messages a minute."""

    def __init__(self, config: WeComConfig, group: str, *, rate_per_min: int = ROBOT_RATE_PER_MIN) -> None:
        super().__init__(f"wecom-robot-{group}", config, rate_per_min=rate_per_min)
        self.group = group

    async def send(self, http: httpx.AsyncClient, msg_id: str, body: str) -> SendResult:
        started = time.monotonic()
        try:
            payload = robot_message(_data(body))
        except (ValueError, KeyError, TypeError):
            return result_since(started, 400, "wecom:bad-message")
        key = self.config.robots[self.group].get_secret_value()

        async def call() -> dict[str, Any]:
            response = await http.post(
                f"{self.config.api}/cgi-bin/webhook/send",
                params={"key": key},
                content=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
                headers={"content-type": "application/json; charset=utf-8"},
                timeout=self.config.timeout_s,
            )
            return json_answer(response)

        def judge(answer: dict[str, Any], t0: float) -> SendResult:
            return result_for(answer, t0, self.config.limit_retry_after_s)

        return await _attempt(self.name, msg_id, self.config, self.timeout_s, call, judge)


def external_message(config: WeComConfig, data: dict[str, Any]) -> dict[str, Any]:
    """``add_msg_template``'s body: ``data`` = {"external_userid": [...], "text": {"content"}, "sender"?}."""
    users = data.get("external_userid")
    if isinstance(users, str):
        users = [users]
    if not users or not all(isinstance(u, str) and u for u in users):
        raise ValueError("external_userid is a list of ids")
    text = data.get("text")
    if not isinstance(text, dict) or not isinstance(text.get("content"), str) or not text["content"]:
        raise ValueError("text.content is required")
    sender = data.get("sender") or config.external_sender
    if not sender:
        raise ValueError("no sender (external_sender in CANDOR_WECOM)")
    out: dict[str, Any] = {"chat_type": "single", "external_userid": list(users), "sender": sender, "text": text}
    if isinstance(data.get("attachments"), list):
        out["attachments"] = data["attachments"]
    return out


class WeComExternalChannel(_AppChannel):
    """``wecom-external``: a task for the sender to send to candidates who are external contacts."""

    def __init__(self, client: WeComClient, *, name: str = "wecom-external", rate_per_min: int | None = None) -> None:
        super().__init__(name, client, rate_per_min)
        self.tasks: dict[str, str] = {}  # outbox msg_id -> WeCom's msgid of the task (this process)

    async def send(self, http: httpx.AsyncClient, msg_id: str, body: str) -> SendResult:
        started = time.monotonic()
        try:
            payload = external_message(self.config, _data(body))
        except (ValueError, KeyError, TypeError):
            return result_since(started, 400, "wecom:bad-message")

        def judge(answer: dict[str, Any], t0: float) -> SendResult:
            result = result_for(answer, t0, self.config.limit_retry_after_s)
            if not result.ok:
                return result
            failed = [u for u in answer.get("fail_list") or [] if u in payload["external_userid"]]
            if answer.get("msgid"):
                self.tasks[msg_id] = str(answer["msgid"])
            if len(failed) == len(payload["external_userid"]):
                # Nobody can get it: not a contact of the sender, or the monthly limit reached.
                return SendResult(400, "wecom:fail_list", None, result.duration_s)
            if failed:
                return SendResult(result.status, f"wecom:fail_list:{len(failed)}", None, result.duration_s)
            return result

        return await _attempt(
            self.name,
            msg_id,
            self.config,
            self.timeout_s,
            lambda: self.client.post(http, "externalcontact/add_msg_template", payload),
            judge,
        )


class RedactUrls(logging.Filter):
    """Takes ``access_token``, ``corpsecret`` and ``key`` out of the URLs httpx logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(_redact(a) for a in record.args)
        return True


def _redact(value: Any) -> Any:
    if isinstance(value, httpx.URL) and value.query:
        params = value.params
        if any(p in params for p in SECRET_PARAMS):
            kept = [(k, "***" if k in SECRET_PARAMS else v) for k, v in params.multi_items()]
            return value.copy_with(params=kept)
    return value


def install_redaction() -> None:
    """Once per process (idempotent): the ``httpx`` logger no longer shows tokens or keys."""
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, RedactUrls) for f in logger.filters):
        logger.addFilter(RedactUrls())
