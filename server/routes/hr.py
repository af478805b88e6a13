"""HR sign-in: the HttpOnly cookie the HR page uses instead of the bearer token."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from .. import rest
from ..auth import HR_COOKIE
from ..openapi import Operation, Reply
from ..problems import Problem
from ._common import NO_BODY, Resource, json_body


class HrRoutes(Resource):
    """``/v1/hr/login`` and ``/v1/hr/logout``."""

    def operations(self) -> list[Operation]:
        return [
            Operation(
                "POST", "/v1/hr/login", self.hr_login, "HR sign-in: sets the HttpOnly HR cookie", "hr", auth=None,
                body=rest.HrLogin, description="JSON, or a form with a token field.",
                replies={204: Reply("signed in", headers={"Set-Cookie": HR_COOKIE}, **NO_BODY)},
            ),
            Operation(
                "POST", "/v1/hr/logout", self.hr_logout, "HR sign-out: clears the cookie", "hr", auth=None,
                replies={204: Reply("signed out", **NO_BODY)},
            ),
        ]

    async def hr_login(self, request: Request) -> Response:
        token: str | None = None
        if request.headers.get("content-type", "").startswith("application/json"):
            data = await json_body(request)
            value = data.get("token") if isinstance(data, dict) else None
            token = value if isinstance(value, str) else None  # {"token": 123} is a wrong token, not a crash
        else:
            form = await request.form()
            value = form.get("token")
            token = value if isinstance(value, str) else None
        if not self.ctx.hr.token_ok(token):
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
        return response

    async def hr_logout(self, request: Request) -> Response:
        response = Response(status_code=204)
        response.delete_cookie(HR_COOKIE, path="/")
        return response
