"""Invites: the candidate page exchanges the one-time code of its link for a session token."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from applications.pipeline import Status, note

from .. import rest
from ..auth import audit_failure, client_address, exchanged_token
from ..openapi import Operation, Reply
from ..problems import Problem
from ._common import Resource, json_body


class InviteRoutes(Resource):
    """``POST /v1/candidate/exchange``."""

    def operations(self) -> list[Operation]:
        return [
            Operation(
                "POST", "/v1/candidate/exchange", self.exchange, "Exchange a one-time invite code for a token",
                "candidate", auth=None, body=rest.ExchangeRequest,
                replies={200: Reply("the candidate token and WHIP URL", rest.ExchangeResponse)},
                problems=(400, 404, 410, 413, 422, 429),
            ),
        ]

    async def exchange(self, request: Request) -> Response:
        failures = self.ctx.hr.failures
        address_key = ("exchange", "address", client_address(request))
        wait = await failures.retry_after([address_key])
        if wait is not None:
            audit_failure("exchange", request, 429, failures.limit)
            await self.ctx.audit.record(request, "candidate.exchange_failed", "invite", None, status=429)
            raise Problem(429, "Too many attempts", f"too many failed codes; try again in {wait} s", slug="rate-limited", headers={"Retry-After": str(wait)})
        data = await json_body(request)
        code = data.get("code") if isinstance(data, dict) else None
        if not isinstance(code, str) or not code:
            raise Problem(422, "Invalid body", "field 'code' is required", errors=[{"field": "code", "message": "required"}])
        keys = [address_key, ("exchange", "code", code[:128])]
        wait = await failures.retry_after(keys)
        if wait is not None:
            audit_failure("exchange", request, 429, failures.limit)
            await self.ctx.audit.record(request, "candidate.exchange_failed", "invite", None, status=429)
            raise Problem(429, "Too many attempts", f"too many failed tries; try again in {wait} s", slug="rate-limited", headers={"Retry-After": str(wait)})
        record = await self.ctx.store.run(self.ctx.store.store.redeem_invite, code)
        if record is None:
            audit_failure("exchange", request, 404, await failures.failed(keys))
            await self.ctx.audit.record(request, "candidate.exchange_failed", "invite", None, status=404)
            raise Problem(404, "Invite not valid", "this interview link was already used or does not exist; ask for a new link", slug="invite-invalid")
        if record.expired():
            audit_failure("exchange", request, 410, await failures.failed(keys))
            await self.ctx.audit.record(request, "candidate.exchange_failed", "invite", None, status=410)
            raise Problem(410, "Invite expired", "this interview link has expired; ask for a new link", slug="invite-expired")
        # The one-time code becomes the session's token: a fresh token is
        # issued to the page and the HR-issued one stays valid as well.
        token = exchanged_token()
        await self.ctx.store.run(self.ctx.store.store.add_token, record.id, token)
        await self.ctx.store.run(_opened, self.ctx.store.store, record.id)
        consent = await self.ctx.sessions.consent(record.id)
        return JSONResponse(
            {
                "session_id": record.id,
                "token": token,
                "whip_url": f"{self.ctx.settings.base_url}/whip/{record.id}",
                "ice_servers": [s.public() for s in self.ctx.settings.ice_servers],
                "expires_at": record.expires_at.isoformat(),
                "language_hint": self.ctx.settings.asr_languages[0] if self.ctx.settings.asr_languages else "zh",
                # what the page's video sender is capped at (the server samples video_fps; more is decoded for nothing)
                "video": {"max_fps": self.ctx.settings.video_fps, "max_bitrate": self.ctx.settings.video_max_kbps * 1000 or None},
                "policy": self.ctx.policy.public(),
                "consent": consent.public() if consent is not None else None,
            }
        )


def _opened(store: Any, session_id: str) -> None:
    """The invite's application (if it has one) says on its timeline that the candidate opened the link."""
    application = store.application_for_session(session_id)
    if application is None:
        return
    entry = note(Status(application.state, application.outcome), "open", actor="candidate", at=datetime.now(timezone.utc),
                 details={"session_id": session_id})
    store.add_note(application.id, entry.to_dict())
