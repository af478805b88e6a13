"""HR accounts: the users API (admins), who am I, TOTP enrolment and API tokens (issue 12, section 1).

Every change is in the audit trail (ids only: never a login's password, a
code, a secret or a token). A password an admin sets or resets, and an API
token, are shown once, in the answer that made them.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from db import AlreadyExists, utcnow

from ..accounts import check_login, check_password, hash_password, new_totp_secret, one_time_password, totp_step, totp_uri, verify_password
from ..auth import API_TOKEN_PREFIX, new_token
from ..openapi import Operation, Reply
from ..permissions import PERMISSIONS, SELF, check_scopes
from ..problems import Problem
from ._common import NO_BODY, Resource, json_object, parse_body

Role = Literal["admin", "recruiter", "reviewer", "auditor"]
JobIds = list[str]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    login: str = Field(min_length=2, max_length=64)
    display_name: str = Field(min_length=1, max_length=100)
    role: Role
    job_ids: JobIds = Field(default_factory=list, max_length=500)
    wecom_userid: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-.@]{1,64}$")
    password: str | None = Field(default=None, min_length=10, max_length=256, description="none: a one-time password is made and shown once")


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    display_name: str | None = Field(default=None, min_length=1, max_length=100)
    role: Role | None = None
    job_ids: JobIds | None = Field(default=None, max_length=500)
    wecom_userid: str | None = Field(default=None, max_length=64, pattern=r"^([A-Za-z0-9_\-.@]{1,64})?$", description='"" unlinks')
    disabled: bool | None = None


class UserInfo(BaseModel):
    id: str
    login: str
    display_name: str
    role: Role
    job_ids: list[str]
    disabled: bool
    totp_enabled: bool
    wecom_userid: str | None
    has_password: bool
    created_at: str
    updated_at: str


class UserCreated(BaseModel):
    user: UserInfo
    one_time_password: str | None = Field(default=None, description="shown once: give it to the user, who changes it")


class UserList(BaseModel):
    users: list[UserInfo]


class Me(BaseModel):
    user_id: str
    login: str
    role: str
    permissions: list[str]
    job_ids: list[str] | None
    via: str
    display_name: str | None = None
    totp_enabled: bool = False
    wecom_sso: bool = False


class TotpStart(BaseModel):
    secret: str
    otpauth_uri: str


class TotpConfirm(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=6, max_length=8)


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    current_password: str = Field(max_length=256)
    new_password: str = Field(min_length=10, max_length=256)


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    scopes: list[str] = Field(default_factory=list, max_length=len(PERMISSIONS), description="permissions; none: all of the role's")
    expires_in_days: int | None = Field(default=90, ge=1, le=3650, description="null: never expires")


class TokenInfo(BaseModel):
    id: str
    user_id: str
    name: str
    scopes: list[str]
    created_at: str
    expires_at: str | None
    last_used_at: str | None
    revoked_at: str | None


class TokenCreated(TokenInfo):
    token: str = Field(description="shown once: the bearer value")


class TokenList(BaseModel):
    tokens: list[TokenInfo]


class UserRoutes(Resource):
    """``/v1/users`` (admin), ``/v1/me`` (anyone signed in), and API tokens."""

    def operations(self) -> list[Operation]:
        user = "/v1/users/{user_id}"
        return [
            Operation("GET", "/v1/me", self.me, "Who am I: user, role, permissions (the HR page hides what the role cannot do)",
                      "users", perm=SELF, replies={200: Reply("you", Me)}),
            Operation("POST", "/v1/me/password", self.change_password, "Change my password", "users", perm=SELF,
                      body=PasswordChange, replies={204: Reply("changed: other sign-ins ended", **NO_BODY)}, problems=(400, 409, 422)),
            Operation("POST", "/v1/me/totp", self.totp_start, "Start TOTP enrolment: the secret and otpauth URI", "users",
                      perm=SELF, body_required=False, replies={200: Reply("scan it, then confirm a code", TotpStart)},
                      problems=(409,), description="Until confirmed, sign-in needs no code. Starting again replaces the secret."),
            Operation("POST", "/v1/me/totp/confirm", self.totp_confirm, "Confirm TOTP enrolment with a code", "users",
                      perm=SELF, body=TotpConfirm, replies={204: Reply("enrolled: sign-ins need a code from now on", **NO_BODY)},
                      problems=(409, 422)),
            Operation("GET", "/v1/me/tokens", self.my_tokens, "My API tokens", "users", perm=SELF,
                      replies={200: Reply("the tokens (never their values)", TokenList)}),
            Operation("POST", "/v1/me/tokens", self.create_token, "Make an API token (shown once)", "users", perm=SELF,
                      body=TokenCreate, replies={201: Reply("the token, once", TokenCreated)}, problems=(409, 422)),
            Operation("DELETE", "/v1/me/tokens/{token_id}", self.revoke_my_token, "Revoke one of my API tokens", "users",
                      perm=SELF, replies={204: Reply("revoked", **NO_BODY)}, problems=(404,)),
            Operation("GET", "/v1/users", self.list_users, "List users", "users", perm="users.admin",
                      replies={200: Reply("every user", UserList)}),
            Operation("POST", "/v1/users", self.create_user, "Add a user", "users", perm="users.admin", body=UserCreate,
                      replies={201: Reply("added; the one-time password when none was given", UserCreated)}, problems=(409, 422)),
            Operation("GET", user, self.get_user, "Show a user", "users", perm="users.admin",
                      replies={200: Reply("the user", UserInfo)}, problems=(404,)),
            Operation("PATCH", user, self.update_user, "Change a user's name, role, jobs, WeCom id; disable or enable",
                      "users", perm="users.admin", body=UserUpdate, replies={200: Reply("the user", UserInfo)},
                      problems=(404, 409, 422), description="Disabling, or a new role, ends the user's sign-ins."),
            Operation("POST", user + "/password", self.reset_password, "Reset a user's password (a one-time password, shown once)",
                      "users", perm="users.admin", body_required=False, replies={200: Reply("the new one-time password", UserCreated)},
                      problems=(404,)),
            Operation("DELETE", user + "/totp", self.reset_totp, "Reset a user's TOTP (they enrol again)", "users",
                      perm="users.admin", replies={204: Reply("reset", **NO_BODY)}, problems=(404,)),
            Operation("GET", user + "/tokens", self.user_tokens, "A user's API tokens", "users", perm="users.admin",
                      replies={200: Reply("the tokens", TokenList)}, problems=(404,)),
            Operation("DELETE", user + "/tokens/{token_id}", self.revoke_user_token, "Revoke a user's API token", "users",
                      perm="users.admin", replies={204: Reply("revoked", **NO_BODY)}, problems=(404,)),
        ]

    @property
    def _store(self) -> Any:
        return self.ctx.store.store

    # -- me --------------------------------------------------------------------------------------
    async def me(self, request: Request) -> Response:
        principal = self.ctx.principal(request)
        out = principal.public()
        out["wecom_sso"] = self.ctx.settings.wecom is not None
        if principal.user_id != "hr":
            user = await self.ctx.store.run(self._store.get_user, principal.user_id)
            if user is not None:
                out.update(display_name=user.display_name, totp_enabled=user.totp_enabled)
        return JSONResponse(out)

    async def _my_user(self, request: Request) -> Any:
        principal = self.ctx.principal(request)
        if principal.user_id == "hr":
            raise Problem(409, "Bootstrap admin", "the bootstrap admin (CANDOR_HR_TOKEN) has no account to change: add a user",
                          slug="bootstrap-admin")
        user = await self.ctx.store.run(self._store.get_user, principal.user_id)
        if user is None:
            raise Problem(404, "Not found", "no such user")
        return user

    async def change_password(self, request: Request) -> Response:
        user = await self._my_user(request)
        spec = parse_body(PasswordChange, await json_object(request))
        if not await asyncio.to_thread(verify_password, user.password_hash, spec.current_password):
            await self.ctx.audit.record(request, "user.password_change_failed", "user", user.id)
            raise Problem(400, "Wrong password", "the current password is wrong", slug="wrong-password")
        new_hash = await asyncio.to_thread(hash_password, spec.new_password)
        await self.ctx.store.run(self._store.update_user, user.id, password_hash=new_hash)  # ends every sign-in, this one too
        await self.ctx.audit.record(request, "user.password_change", "user", user.id)
        return Response(status_code=204)

    async def totp_start(self, request: Request) -> Response:
        user = await self._my_user(request)
        if user.totp_enabled:
            raise Problem(409, "Already enrolled", "TOTP is on; an admin resets it (DELETE /v1/users/{id}/totp)", slug="totp-enrolled")
        secret = new_totp_secret()
        await self.ctx.store.run(lambda: self._store.update_user(user.id, totp_secret=secret, totp_enabled=False, totp_last_step=None))
        await self.ctx.audit.record(request, "user.totp_start", "user", user.id)
        return JSONResponse({"secret": secret, "otpauth_uri": totp_uri(secret, user.login, self.ctx.settings.org_name)},
                            headers={"Cache-Control": "no-store"})

    async def totp_confirm(self, request: Request) -> Response:
        user = await self._my_user(request)
        spec = parse_body(TotpConfirm, await json_object(request))
        if user.totp_enabled:
            raise Problem(409, "Already enrolled", "TOTP is on already", slug="totp-enrolled")
        if user.totp_secret is None:
            raise Problem(409, "Not started", "POST /v1/me/totp first", slug="totp-not-started")
        step = totp_step(user.totp_secret, spec.code)
        if step is None or not await self.ctx.store.run(self._store.use_totp_step, user.id, step):
            await self.ctx.audit.record(request, "user.totp_confirm_failed", "user", user.id)
            raise Problem(422, "Wrong code", "code: not the current code of this secret",
                          errors=[{"field": "code", "message": "not the current code"}])
        await self.ctx.store.run(self._store.update_user, user.id, totp_enabled=True)
        await self.ctx.audit.record(request, "user.totp_enabled", "user", user.id)
        return Response(status_code=204)

    # -- API tokens ----------------------------------------------------------------------------------
    async def my_tokens(self, request: Request) -> Response:
        principal = self.ctx.principal(request)
        tokens = await self.ctx.store.run(self._store.list_api_tokens, principal.user_id)
        return JSONResponse({"tokens": [t.public() for t in tokens]})

    async def create_token(self, request: Request) -> Response:
        principal = self.ctx.principal(request)
        spec = parse_body(TokenCreate, await json_object(request))
        if principal.user_id == "hr":
            raise Problem(409, "Bootstrap admin", "the bootstrap admin has CANDOR_HR_TOKEN: add a user for API tokens", slug="bootstrap-admin")
        if principal.via == "api-token":
            raise Problem(403, "Forbidden", "an API token cannot make API tokens: sign in", slug="forbidden")
        try:
            scopes = check_scopes(spec.scopes)
        except ValueError as exc:
            raise Problem(422, "Invalid body", f"scopes: {exc}", errors=[{"field": "scopes", "message": str(exc)}])
        beyond = set(scopes) - principal.perms
        if beyond:
            message = f"your role does not have {', '.join(sorted(beyond))}"
            raise Problem(422, "Invalid body", f"scopes: {message}", errors=[{"field": "scopes", "message": message}])
        value = API_TOKEN_PREFIX + new_token()
        expires = utcnow() + timedelta(days=spec.expires_in_days) if spec.expires_in_days else None
        record = await self.ctx.store.run(self._store.create_api_token, principal.user_id, value, spec.name, scopes, expires)
        await self.ctx.audit.record(request, "token.create", "token", record.id, scopes=len(scopes))
        return JSONResponse({**record.public(), "token": value}, status_code=201, headers={"Cache-Control": "no-store"})

    async def revoke_my_token(self, request: Request) -> Response:
        principal = self.ctx.principal(request)
        await self._revoke(request, principal.user_id, request.path_params["token_id"])
        return Response(status_code=204)

    async def _revoke(self, request: Request, user_id: str, token_id: str) -> None:
        token = await self.ctx.store.run(self._store.get_api_token, token_id)
        if token is None or token.user_id != user_id:
            raise Problem(404, "Not found", "no such token")
        await self.ctx.store.run(self._store.revoke_api_token, token_id)
        await self.ctx.audit.record(request, "token.revoke", "token", token_id, user=user_id)

    # -- users (admin) -----------------------------------------------------------------------------------
    async def list_users(self, request: Request) -> Response:
        users = await self.ctx.store.run(self._store.list_users)
        return JSONResponse({"users": [u.public() for u in users]})

    async def _user(self, request: Request) -> Any:
        user = await self.ctx.store.run(self._store.get_user, request.path_params["user_id"])
        if user is None:
            raise Problem(404, "Not found", "no such user")
        return user

    async def _check_jobs(self, job_ids: list[str] | None) -> None:
        """Every job id given is a job (a typo would give a recruiter nothing, silently)."""
        if not job_ids:
            return
        store = self._store
        missing = await self.ctx.store.run(lambda: [j for j in dict.fromkeys(job_ids) if store.get_job(j) is None])
        if missing:
            message = f"no job {missing[0]!r}" + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
            raise Problem(422, "Invalid body", f"job_ids: {message}", errors=[{"field": "job_ids", "message": message}])

    async def get_user(self, request: Request) -> Response:
        return JSONResponse((await self._user(request)).public())

    async def create_user(self, request: Request) -> Response:
        spec = parse_body(UserCreate, await json_object(request))
        try:
            login = check_login(spec.login)
            if spec.password is not None:
                check_password(spec.password)
        except ValueError as exc:
            field = "login" if "login" in str(exc) else "password"
            raise Problem(422, "Invalid body", f"{field}: {exc}", errors=[{"field": field, "message": str(exc)}])
        await self._check_jobs(spec.job_ids)
        password = spec.password or one_time_password()
        password_hash = await asyncio.to_thread(hash_password, password)
        try:
            user = await self.ctx.store.run(
                lambda: self._store.create_user(login, spec.display_name, spec.role, password_hash=password_hash,
                                                job_ids=spec.job_ids, wecom_userid=spec.wecom_userid))
        except AlreadyExists:
            raise Problem(409, "Taken", "that login or WeCom userid is taken", slug="taken")
        await self.ctx.audit.record(request, "user.create", "user", user.id, role=user.role, jobs=len(user.job_ids))
        return JSONResponse({"user": user.public(), "one_time_password": None if spec.password else password},
                            status_code=201, headers={"Location": f"/v1/users/{user.id}", "Cache-Control": "no-store"})

    async def update_user(self, request: Request) -> Response:
        user = await self._user(request)
        spec = parse_body(UserUpdate, await json_object(request))
        changes = spec.model_dump(exclude_unset=True)
        await self._check_jobs(changes.get("job_ids"))
        if "wecom_userid" in changes and not changes["wecom_userid"]:
            changes["wecom_userid"] = None
        for name in ("display_name", "role", "disabled", "job_ids"):
            if name in changes and changes[name] is None:
                del changes[name]
        if user.role == "admin" and not user.disabled and (changes.get("disabled") or changes.get("role", "admin") != "admin"):
            if await self.ctx.store.run(self._store.count_admins) <= 1 and not self.ctx.hr.token_enabled:
                raise Problem(409, "Last admin", "this is the last admin (and CANDOR_HR_TOKEN is off): add another first",
                              slug="last-admin")
        try:
            updated = await self.ctx.store.run(lambda: self._store.update_user(user.id, **changes))
        except AlreadyExists:
            raise Problem(409, "Taken", "that WeCom userid is taken", slug="taken")
        assert updated is not None
        await self.ctx.audit.record(request, "user.update", "user", user.id, fields=sorted(changes),
                                    role=updated.role, disabled=updated.disabled)
        return JSONResponse(updated.public())

    async def reset_password(self, request: Request) -> Response:
        user = await self._user(request)
        password = one_time_password()
        password_hash = await asyncio.to_thread(hash_password, password)
        updated = await self.ctx.store.run(self._store.update_user, user.id, password_hash=password_hash)
        await self.ctx.audit.record(request, "user.password_reset", "user", user.id)
        return JSONResponse({"user": updated.public(), "one_time_password": password}, headers={"Cache-Control": "no-store"})

    async def reset_totp(self, request: Request) -> Response:
        user = await self._user(request)
        await self.ctx.store.run(lambda: self._store.update_user(user.id, totp_secret=None, totp_enabled=False, totp_last_step=None))
        await self.ctx.audit.record(request, "user.totp_reset", "user", user.id)
        return Response(status_code=204)

    async def user_tokens(self, request: Request) -> Response:
        user = await self._user(request)
        tokens = await self.ctx.store.run(self._store.list_api_tokens, user.id)
        return JSONResponse({"tokens": [t.public() for t in tokens]})

    async def revoke_user_token(self, request: Request) -> Response:
        user = await self._user(request)
        await self._revoke(request, user.id, request.path_params["token_id"])
        return Response(status_code=204)

