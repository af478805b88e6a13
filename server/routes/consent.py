"""Consent: the candidate's consent to analysis, per the deployment's policy; nothing is analysed before it."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from db import token_hash, utcnow
from events import ConsentWithdrawn

from .. import rest
from ..auth import bearer, is_exchanged
from ..openapi import Operation, Reply
from ..policy import Consent
from ..problems import Problem
from ._common import NO_BODY, Resource, json_object, parse_body


class ConsentRoutes(Resource):
    """``/v1/sessions/{id}/consent``: give (POST) and withdraw (DELETE)."""

    def operations(self) -> list[Operation]:
        return [
            Operation(
                "POST", "/v1/sessions/{session_id}/consent", self.give_consent,
                "The candidate's consent to analysis, per the deployment's policy", "candidate",
                auth="candidate", body=rest.ConsentCreate,
                description="Nothing is analysed before it: WHIP answers 403 (consent-required) until then. "
                "Under pipl, voice and face are asked separately and face may be declined (no face analysis); "
                "under eu, no emotion inference runs. Posting again replaces the consent; a live connection "
                "whose consent changes is ended so that the next one analyses exactly what is consented to. "
                "Only the token the candidate's link exchanged may give consent (403 candidate-consent-only with HR's "
                "copy); the consent records which token gave it (given_with). "
                "recording (optional, off by default): each answer's audio, and video with face consent, is kept "
                "sealed for HR to play back (docs/recordings.md); without it nothing of the media is kept. "
                "Publishes consent.given.",
                replies={200: Reply("recorded", rest.ConsentInfo)},
                problems=(400, 401, 403, 422),
            ),
            Operation(
                "DELETE", "/v1/sessions/{session_id}/consent", self.withdraw_consent,
                "Withdraw consent: the connection ends and analysis stops", "candidate", auth="candidate",
                description="Publishes consent.withdrawn. What was analysed before stays in the session's log "
                "(deletion is by the retention policy).",
                replies={204: Reply("withdrawn", **NO_BODY)},
                problems=(401,),
            ),
        ]

    async def give_consent(self, request: Request) -> Response:
        record = await self.ctx.candidate(request)
        token = bearer(request)
        if not is_exchanged(token) and self.ctx.settings.consent_needs_candidate_link:
            raise Problem(
                403, "Consent from the candidate", "consent is given on the candidate's own page, with the token its "
                "interview link exchanged (POST /v1/candidate/exchange), not with HR's copy", slug="candidate-consent-only",
            )
        given_with = f"link:{token_hash(token)[:12]}" if is_exchanged(token) else "hr-token"
        spec = parse_body(rest.ConsentCreate, await json_object(request))
        granted = {"voice": spec.voice, "face": spec.face}
        errors = self.ctx.policy.check(granted)
        if errors:
            raise Problem(
                422, "Consent required", errors[0]["message"], slug="consent-required", errors=errors
            )
        consent = Consent(
            policy=self.ctx.policy.name,
            voice=spec.voice,
            face=spec.face,
            # emotion inference needs the policy's leave and the face or the voice
            emotion=self.ctx.policy.emotion and (spec.face or spec.voice),
            given_at=utcnow().isoformat(),
            given_with=given_with,
            recording=spec.recording,
        )
        events = await self.ctx.events_for(record.id)
        assert events is not None
        session = self.ctx.sessions.get_live(record.id)
        events.publish(session.media_time if session is not None else None, consent.given())
        await self.ctx.sessions.set_consent(record.id, consent)
        return JSONResponse(consent.public(), headers=self.ctx.cors_headers(request))

    async def withdraw_consent(self, request: Request) -> Response:
        record = await self.ctx.candidate(request)
        events = await self.ctx.events_for(record.id)
        assert events is not None
        session = self.ctx.sessions.get_live(record.id)
        withdrawn = ConsentWithdrawn(policy=self.ctx.policy.name)
        events.publish(session.media_time if session is not None else None, withdrawn)
        await self.ctx.sessions.set_consent(record.id, None)
        return Response(status_code=204, headers=self.ctx.cors_headers(request))
