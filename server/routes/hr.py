"""HR sign-in: a user's login + password (+ TOTP code), the bootstrap token, or WeCom single sign-on.

Each sets the HttpOnly ``candor_hr`` cookie naming a sign-in kept in the
database (server/auth.py). Failures count per address and per account
(server/limits.py, shared by every node through Redis: 429 with Retry-After) and each is in
the audit trail.

WeCom OAuth2 (企业微信网页授权, docs/accounts.md): ``GET /v1/hr/wecom/login``
redirects to ``open.weixin.qq.com/connect/oauth2/authorize`` with a
``state`` bound to a cookie; WeCom sends the browser back to
``/v1/hr/wecom/callback?code&state``, whose code ``auth/getuserinfo``
(with the app's access_token) turns into the member's ``userid``; the user
with that ``wecom_userid`` is signed in.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import secrets
from typing import Any
from urllib.parse import quote, urlencode

import httpx
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from channels.wecom import TOKEN_CODES, WeComClient, WeComError, json_answer

from .. import rest
from ..accounts import totp_step, verify_password
from ..audit import Actor
from ..auth import HR_COOKIE, audit_failure, client_address, cross_site
from ..openapi import Operation, Param, Reply
from ..problems import Problem
from ._common import NO_BODY, Resource, json_body

log = logging.getLogger("candor.auth")


class SignInMethods(BaseModel):
    password: bool
    token: bool = Field(description="the bootstrap token (CANDOR_HR_TOKEN) is accepted")
    wecom: bool = Field(description="WeCom single sign-on is configured: GET /v1/hr/wecom/login")
WECOM_STATE_COOKIE = "candor_wecom_state"
WECOM_CALLBACK = "/v1/hr/wecom/callback"
NEXT_PATH = re.compile(r"^/hr(/[A-Za-z0-9_\-]+){0,2}/?$")  # where a WeCom sign-in may land: the HR page's own views


class HrRoutes(Resource):
    """``/v1/hr/login``, ``/v1/hr/logout`` and WeCom's ``/v1/hr/wecom/login`` and ``/callback``."""

    _wecom: WeComClient | None = None

    def operations(self) -> list[Operation]:
        return [
            Operation(
                "POST", "/v1/hr/login", self.hr_login, "HR sign-in: sets the HttpOnly HR cookie", "hr", auth=None,
                body=rest.HrLogin, description="JSON or a form: login + password, and totp (the 6-digit code) once the user "
                "enrolled a second factor (without it: 401 with type .../totp-required); or token (CANDOR_HR_TOKEN, the "
                "bootstrap admin, while CANDOR_HR_TOKEN_ENABLED). After 10 failures in 15 minutes from one address or "
                "for one account, 429 with Retry-After.",
                replies={204: Reply("signed in", headers={"Set-Cookie": HR_COOKIE}, **NO_BODY)}, problems=(401, 403, 429),
            ),
            Operation(
                "POST", "/v1/hr/logout", self.hr_logout, "HR sign-out: ends the sign-in on the server and clears the cookie", "hr", auth=None,
                replies={204: Reply("signed out", **NO_BODY)},
            ),
            Operation(
                "GET", "/v1/hr/methods", self.sign_in_methods, "How one may sign in here (for the sign-in page)", "hr", auth=None,
                replies={200: Reply("the ways", SignInMethods)},
            ),
            Operation(
                "GET", "/v1/hr/wecom/login", self.wecom_login, "WeCom single sign-on: to WeCom's OAuth2 page", "hr", auth=None,
                params=(Param("next", "query", {"type": "string", "maxLength": 200}, "a path on this site to go to afterwards"),),
                replies={302: Reply("to open.weixin.qq.com/connect/oauth2/authorize", headers={"Location": "WeCom's page"}, **NO_BODY)},
                problems=(404,),
            ),
            Operation(
                "GET", WECOM_CALLBACK, self.wecom_callback, "WeCom single sign-on: WeCom's redirect back with a code", "hr", auth=None,
                params=(Param("code", "query", {"type": "string", "maxLength": 512}, required=True),
                        Param("state", "query", {"type": "string", "maxLength": 128}, required=True)),
                replies={303: Reply("signed in: to the HR page (or the login's next)", headers={"Location": "/hr", "Set-Cookie": HR_COOKIE}, **NO_BODY)},
                problems=(400, 403, 404, 429, 502),
            ),
        ]

    # -- login + password, or the bootstrap token --------------------------------------------------
    async def hr_login(self, request: Request) -> Response:
        hr = self.ctx.hr
        if hr.cookie_cross_site(request) or cross_site(request, hr.own_hosts):
            raise Problem(403, "Cross-site request", "sign in from Candor's own page", slug="cross-site")
        data = await self._credentials(request)
        login = _text(data.get("login"), 64)
        token = _text(data.get("token"), 256)
        account = login.strip().lower() if login else "hr"
        user = await self.ctx.store.run(self.ctx.store.store.user_by_login, account) if login else None
        # The trail names the account by its user id; a login that is no user's is "unknown", never the typed text
        # (people type passwords into the login field).
        target = user.id if user is not None else ("hr" if login is None else "unknown")
        keys = [("hr-login", "address", client_address(request)), ("hr-login", "account", account)]
        wait = await hr.failures.retry_after(keys)
        if wait is not None:
            audit_failure("hr-login", request, 429, hr.failures.limit)
            await self.ctx.audit.record(request, "hr.sign_in_failed", "account", target, status=429)
            raise Problem(429, "Too many attempts", f"too many failed sign-ins; try again in {wait} s", slug="rate-limited", headers={"Retry-After": str(wait)})

        async def fail(detail: str, slug: str | None = None, *, count: bool = True) -> Problem:
            await self.ctx.audit.record(request, "hr.sign_in_failed", "account", target, status=401)
            audit_failure("hr-login", request, 401, await hr.failures.failed(keys) if count else 0)
            return Problem(401, "Unauthorised", detail, **({"slug": slug} if slug else {}))

        if login is None:
            if not hr.token_ok(token):
                raise await fail("wrong HR token" if hr.token_enabled else "sign in with a login and password")
            user_id, role, method = "hr", "admin", "token"
        else:
            password = _text(data.get("password"), 256) or ""
            ok = await asyncio.to_thread(verify_password, user.password_hash if user else None, password)  # argon2: off the loop
            if user is None or not ok or user.disabled:
                raise await fail("wrong login or password")
            if user.totp_enabled:
                code = _text(data.get("totp"), 16)
                if code is None:  # the password was right: ask for the code (not a failure)
                    raise await fail("enter the 6-digit code from your authenticator app", "totp-required", count=False)
                step = totp_step(user.totp_secret, code)
                if step is None or not await self.ctx.store.run(self.ctx.store.store.use_totp_step, user.id, step):
                    raise await fail("wrong code (or one used already: wait for the next)", "totp-invalid")
            user_id, role, method = user.id, user.role, "password"
        old = request.cookies.get(HR_COOKIE)
        if old:  # a new sign-in replaces the browser's old one (which ends on the server)
            await self.ctx.store.run(hr.revoke, old)
        value = await self.ctx.store.run(hr.new_sign_in, user_id, method)
        response = Response(status_code=204)
        self._set_cookie(response, value)
        await self.ctx.audit.record(self.ctx.audit.hr_actor(request, user_id, role), "hr.sign_in", "account", user_id, method=method)
        return response

    async def _credentials(self, request: Request) -> dict[str, Any]:
        if request.headers.get("content-type", "").startswith("application/json"):
            data = await json_body(request)
            return data if isinstance(data, dict) else {}
        form = await request.form()
        return {k: v for k, v in form.items() if isinstance(v, str)}

    def _set_cookie(self, response: Response, value: str) -> None:
        response.set_cookie(
            HR_COOKIE, value, max_age=self.ctx.settings.hr_cookie_max_age_s, httponly=True, samesite="strict",
            secure=self.ctx.settings.cookie_secure, path="/",
        )

    async def hr_logout(self, request: Request) -> Response:
        cookie = request.cookies.get(HR_COOKIE)
        principal = await self.ctx.hr.principal(request) if cookie else None
        if principal is not None:  # recorded while the sign-in still names who
            await self.ctx.audit.record(Actor(principal.user_id, principal.role, self.ctx.audit.address(request)),
                                        "hr.sign_out", "account", principal.user_id)
        if cookie:
            await self.ctx.store.run(self.ctx.hr.revoke, cookie)  # ended on the server: a copy of the cookie stops working too
        response = Response(status_code=204)
        response.delete_cookie(HR_COOKIE, path="/")
        return response

    async def sign_in_methods(self, request: Request) -> Response:
        return JSONResponse({"password": True, "token": self.ctx.hr.token_enabled, "wecom": self.ctx.settings.wecom is not None})

    # -- WeCom single sign-on -------------------------------------------------------------------------
    def _wecom_client(self) -> WeComClient:
        config = self.ctx.settings.wecom
        if config is None:
            raise Problem(404, "Not configured", "WeCom is not configured (CANDOR_WECOM)", slug="wecom-not-configured")
        if self._wecom is None or self._wecom.config is not config:
            self._wecom = WeComClient(config)
        return self._wecom

    async def wecom_login(self, request: Request) -> Response:
        config = self._wecom_client().config
        state = secrets.token_urlsafe(24)
        query = urlencode({
            "appid": config.corp_id, "redirect_uri": self.ctx.settings.base_url + WECOM_CALLBACK, "response_type": "code",
            "scope": "snsapi_base", "state": state, "agentid": str(config.agent_id),
        }, quote_via=quote)
        response = RedirectResponse(f"{self.ctx.settings.wecom_oauth_url}?{query}#wechat_redirect", status_code=302)
        # Lax, not Strict: the callback is a top-level navigation from WeCom's page, which a Strict cookie would not follow.
        # The page to land on rides along (only one of the HR page's own paths: no open redirect).
        after = request.query_params.get("next", "")
        value = state + ("|" + after if NEXT_PATH.match(after) else "")
        response.set_cookie(WECOM_STATE_COOKIE, value, max_age=600, httponly=True, samesite="lax",
                            secure=self.ctx.settings.cookie_secure, path=WECOM_CALLBACK)
        return response

    async def wecom_callback(self, request: Request) -> Response:
        client = self._wecom_client()
        hr = self.ctx.hr
        address = client_address(request)
        keys = [("wecom-login", "address", address)]
        wait = await hr.failures.retry_after(keys)
        if wait is not None:
            await self.ctx.audit.record(request, "hr.sign_in_failed", "account", "wecom", status=429)
            raise Problem(429, "Too many attempts", f"too many failed sign-ins; try again in {wait} s", slug="rate-limited", headers={"Retry-After": str(wait)})

        async def fail(status: int, title: str, detail: str, slug: str) -> Problem:
            await self.ctx.audit.record(request, "hr.sign_in_failed", "account", "wecom", status=status, method="wecom")
            audit_failure("wecom-login", request, status, await hr.failures.failed(keys))
            return Problem(status, title, detail, slug=slug)

        code = request.query_params.get("code", "")
        state = request.query_params.get("state", "")
        expected, _, after = request.cookies.get(WECOM_STATE_COOKIE, "").partition("|")
        if not expected or not state or not hmac.compare_digest(state.encode(), expected.encode()):
            raise await fail(400, "State mismatch", "start again from the sign-in page (the WeCom state does not match)", "state-mismatch")
        if not code or len(code) > 512:
            raise await fail(400, "No code", "WeCom sent no code", "no-code")
        try:
            answer = await _getuserinfo(client, code)
        except (WeComError, httpx.HTTPError) as exc:
            log.warning("wecom getuserinfo failed: %s", type(exc).__name__)
            raise Problem(502, "WeCom unavailable", "WeCom did not answer; try again", slug="wecom-unavailable")
        errcode = int(answer.get("errcode", 0) or 0)
        userid = answer.get("userid") or answer.get("UserId")  # auth/getuserinfo; the older user/getuserinfo said UserId
        if errcode != 0:
            log.info("wecom getuserinfo: errcode %s", errcode)
            raise await fail(403, "WeCom refused the code", "the sign-in code is invalid or used; try again", "wecom-code")
        if not isinstance(userid, str) or not userid:
            raise await fail(403, "Not a member", "only members of the bank's WeCom may sign in", "wecom-not-member")
        user = await self.ctx.store.run(self.ctx.store.store.user_by_wecom, userid)
        if user is None or user.disabled:
            raise await fail(403, "No Candor account", "no Candor user is linked to this WeCom member; ask an admin", "wecom-no-user")
        value = await self.ctx.store.run(hr.new_sign_in, user.id, "wecom")
        response = RedirectResponse(after if NEXT_PATH.match(after) else "/hr", status_code=303)
        self._set_cookie(response, value)
        response.delete_cookie(WECOM_STATE_COOKIE, path=WECOM_CALLBACK)
        await self.ctx.audit.record(self.ctx.audit.hr_actor(request, user.id, user.role), "hr.sign_in", "account", user.id, method="wecom")
        return response


async def _getuserinfo(client: WeComClient, code: str) -> dict[str, Any]:
    """``GET /cgi-bin/auth/getuserinfo?access_token&code`` (one token refresh when WeCom says the token is stale)."""
    url = f"{client.config.api}/cgi-bin/auth/getuserinfo"
    async with httpx.AsyncClient(timeout=client.config.timeout_s) as http:
        token = await client.token(http)
        answer = await _get(http, url, token, code)
        if int(answer.get("errcode", 0) or 0) in TOKEN_CODES:
            token = await client.token(http, stale=token)
            answer = await _get(http, url, token, code)
    return answer


async def _get(http: httpx.AsyncClient, url: str, token: str, code: str) -> dict[str, Any]:
    return json_answer(await http.get(url, params={"access_token": token, "code": code}))


def _text(value: object, limit: int) -> str | None:
    """A string field of the body, or None ({"token": 123} is a wrong token, not a crash)."""
    return value if isinstance(value, str) and 0 < len(value) <= limit else None
