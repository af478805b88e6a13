"""The candidate's own data (PIPL Art. 44-47): what Candor holds about them, a copy, and withdrawal with erasure.

Reached from the candidate page (web_client/candidate/mydata.js) with the
token the invite link gave: ``GET /v1/me/data`` and ``POST /v1/me/withdraw``.
What is shown, and what is not (scores and HR's notes), is in docs/retention.md.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from db import aware, utcnow

from ..audit import Actor
from ..auth import bearer, is_exchanged
from ..openapi import Operation, Param, Reply
from ..problems import Problem
from ..purge import Erasure
from ._common import Resource, json_object, parse_body


class MyData(BaseModel):
    candidate: dict[str, Any] = Field(description="id, created_at and the profile as given")
    applications: list[dict[str, Any]] = Field(description="job, state, when received, contacts, the resume's text, "
                                               "the timeline's steps and the messages sent (channel, template, when)")
    sessions: list[dict[str, Any]] = Field(description="each interview: consent given or withdrawn and when, the "
                                           "transcript of the answers, whether a report exists (its scores are not shown)")
    recordings: int = Field(description="answers' recordings kept")
    retention: dict[str, Any] = Field(description="how long this is kept (the policy's periods)")
    generated_at: str


class WithdrawRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    erase: StrictBool = Field(default=True, description="also erase everything at once (default); false: withdraw only")


class WithdrawResult(BaseModel):
    withdrawn: list[str] = Field(description="the applications withdrawn now")
    erased: bool
    erased_at: str | None = None


class MyDataRoutes(Resource):
    """``/v1/me/data`` and ``/v1/me/withdraw`` (the candidate's token)."""

    def operations(self) -> list[Operation]:
        return [
            Operation(
                "GET", "/v1/me/data", self.my_data, "What Candor holds about the candidate this token belongs to",
                "candidate", auth="candidate",
                params=(Param("download", "query", {"type": "string", "enum": ["1"]}, "1: as a JSON file (Content-Disposition)"),),
                description="Only with the token the candidate's link exchanged (403 with HR's copy). PIPL Art. 44-45: the profile, applications and their states, contacts, the resume's text, "
                "consent given and when, the answers' transcripts, whether recordings exist, the messages sent. Not "
                "shown: scores, HR's notes and reasons (ask HR to explain a decision: PIPL Art. 24). The token works until "
                "its session expires and for my_data_days after.",
                replies={200: Reply("their data", MyData)},
                problems=(401, 403, 404),
            ),
            Operation(
                "POST", "/v1/me/withdraw", self.withdraw_mine, "Withdraw the candidate's applications and erase their data",
                "candidate", auth="candidate", body=WithdrawRequest, body_required=False,
                description="PIPL Art. 15 and 47: every open application is withdrawn (timeline: withdraw by the candidate), "
                "and with erase (the default) everything is erased at once, as DELETE /v1/candidates/{id} does "
                "(reason: candidate). The token stops working with it.",
                replies={200: Reply("done", WithdrawResult)},
                problems=(400, 401, 403, 404, 422),
            ),
        ]

    async def _whose(self, request: Request) -> tuple[str, str]:
        """(session id, candidate id) of the request's candidate token; 401 or 404 otherwise."""
        token = bearer(request)
        if token is None:
            raise Problem(401, "Unauthorised", "send the candidate token as Authorization: Bearer", headers={"WWW-Authenticate": "Bearer"})
        store = self.ctx.store.store
        session = await self.ctx.store.run(store.session_for_any_token, token) if len(token) <= 512 else None
        if session is None:
            raise Problem(401, "Unauthorised", "the token is not valid", headers={"WWW-Authenticate": "Bearer"})
        if not is_exchanged(token):  # HR's copy of the candidate token: HR have their own API (and audit entries)
            raise Problem(403, "The candidate's own link", "this page is the candidate's: use the token their interview "
                          "link exchanged (POST /v1/candidate/exchange), not HR's copy", slug="candidate-link-only")
        if self.ctx.audit.clock() >= aware(session.expires_at) + timedelta(days=self.ctx.settings.my_data_days):
            raise Problem(401, "Token expired", "this link has expired; ask HR for your data", slug="token-expired",
                          headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        candidate_id = await self.ctx.store.run(store.candidate_of, session.id)
        if candidate_id is None:
            raise Problem(404, "No personal data", "this interview link holds no candidate profile", slug="no-candidate")
        return session.id, candidate_id

    async def my_data(self, request: Request) -> Response:
        session_id, candidate_id = await self._whose(request)
        store = self.ctx.store.store
        data = await self.ctx.store.run(store.candidate_data, candidate_id)
        if data is None:
            raise Problem(404, "No personal data", "nothing is held about you any more", slug="no-candidate")
        sids = [s["id"] for s in data["sessions"]]
        recordings = 0
        for probe in list(getattr(store, "recording_probes", ())):  # the recordings package: session ids -> how many kept
            recordings += int(await self.ctx.store.run(probe, tuple(sids)) or 0)
        body = {**data, "recordings": recordings, "retention": self.ctx.policy.retention.public(),
                "generated_at": utcnow().isoformat()}
        await self.ctx.audit.record(Actor.candidate(session_id, self.ctx.audit.address(request)), "candidate.data_viewed",
                                    "candidate", candidate_id, download=request.query_params.get("download") == "1")
        headers = {"Cache-Control": "no-store"}
        if request.query_params.get("download") == "1":
            headers["Content-Disposition"] = 'attachment; filename="candor-my-data.json"'
        return JSONResponse(body, headers=headers)

    async def withdraw_mine(self, request: Request) -> Response:
        session_id, candidate_id = await self._whose(request)
        spec = parse_body(WithdrawRequest, await json_object(request, empty_ok=True))
        actor = Actor.candidate(session_id, self.ctx.audit.address(request))
        from .applications import ApplicationRoutes

        store = self.ctx.store.store
        apps = await self.ctx.store.run(store.applications_of, candidate_id)
        withdrawn = []
        routes = ApplicationRoutes(self.ctx)
        for record in apps:
            if record.state == "withdrawn":
                continue
            moved = await routes._move(record, "withdraw", "candidate", reason="withdrawn by the candidate")
            withdrawn.append(moved.id)
            await self.ctx.audit.record(actor, "application.withdraw", "application", moved.id, state=moved.state)
        erased_at = None
        if spec.erase:
            stone = await Erasure(self.ctx).erase(candidate_id, reason="candidate", by=actor)
            erased_at = stone.erased_at.isoformat() if stone is not None else None
        return JSONResponse({"withdrawn": withdrawn, "erased": erased_at is not None, "erased_at": erased_at},
                            headers={"Cache-Control": "no-store"})

