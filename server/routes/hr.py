"""HR sign-in: the HttpOnly cookie the HR page uses instead of the bearer token."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from .. import rest
from ..auth import HR_COOKIE, audit_failure, client_address, cross_site
from ..openapi import Operation, Reply
from ..problems import Problem
from ._common import NO_BODY, Resource, json_body


class HrRoutes(Resource):
    """``/v1/hr/login`` and ``/v1/hr/logout``."""

    def operations(self) -> list[Operation]:
        return [
            Operation(
                "POST", "/v1/hr/login", self.hr_login, "HR sign-in: sets the HttpOnly HR cookie", "hr", auth=None,
                body=rest.HrLogin, description="JSON, or a form with a token field. After 10 failures in 15 minutes from one address "
                "(or 10 in all), 429 with Retry-After.",
                replies={204: Reply("signed in", headers={"Set-Cookie": HR_COOKIE}, **NO_BODY)}, problems=(401, 403, 429),
            ),
            Operation(
                "POST", "/v1/hr/logout", self.hr_logout, "HR sign-out: ends the sign-in on the server and clears the cookie", "hr", auth=None,
                replies={204: Reply("signed out", **NO_BODY)},
            ),
        ]

    async def hr_login(self, request: Request) -> Response:
        hr = self.ctx.hr
        if hr.cookie_cross_site(request) or cross_site(request, hr.own_hosts):
            raise Problem(403, "Cross-site request", "sign in from Candor's own page", slug="cross-site")
        keys = [("hr-login", "address", client_address(request)), ("hr-login", "account", "hr")]
        wait = hr.failures.retry_after(keys)
        if wait is not None:
            audit_failure("hr-login", request, 429, hr.failures.limit)
            await self.ctx.audit.record(request, "hr.sign_in_failed", "account", "hr", status=429)
            raise Problem(429, "Too many attempts", f"too many failed sign-ins; try again in {wait} s", slug="rate-limited", headers={"Retry-After": str(wait)})
        token: str | None = None
        if request.headers.get("content-type", "").startswith("application/json"):
            data = await json_body(request)
            value = data.get("token") if isinstance(data, dict) else None
            token = value if isinstance(value, str) else None  # {"token": 123} is a wrong token, not a crash
        else:
            form = await request.form()
            value = form.get("token")
            token = value if isinstance(value, str) else None
        if not hr.token_ok(token):
            await self.ctx.audit.record(request, "hr.sign_in_failed", "account", "hr", status=401)
            audit_failure("hr-login", request, 401, hr.failures.failed(keys))
            raise Problem(401, "Unauthorised", "wrong HR token")
        response = Response(status_code=204)
        response.set_cookie(
            HR_COOKIE,
            self.ctx.hr.cookie_value(),
            max_age=self.ctx.settings.hr_cookie_max_age_s,
            httponly=True,
            samesite="strict",
            secure=self.ctx.settings.cookie_secure,
            path="/",
        )
        await self.ctx.audit.record(self.ctx.audit.hr_actor(request), "hr.sign_in", "account", "hr")
        return response

    async def hr_logout(self, request: Request) -> Response:
        await self.ctx.audit.record(request, "hr.sign_out", "account", "hr")  # while the sign-in still names who
        self.ctx.hr.revoke(request.cookies.get(HR_COOKIE))  # ended on the server: a copy of the cookie stops working too
        response = Response(status_code=204)
        response.delete_cookie(HR_COOKIE, path="/")
        return response
