"""Erasure on request: ``DELETE /v1/candidates/{id}`` (docs/retention.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from db.erasure import Tombstone

from ..openapi import Operation, Reply
from ..problems import Problem
from ..purge import Erasure
from ._common import Resource


class ErasureInfo(BaseModel):
    """The anonymous tombstone an erased candidate leaves."""

    candidate_id: str
    erased_at: datetime
    reason: str = Field(description="request (HR), candidate (their own page) or retention (the purge)")
    counts: dict[str, int] = Field(description="what was deleted, by kind (applications, sessions, events, reports, ...)")
    already_erased: bool = Field(description="true when an earlier request erased it (nothing was done this time)")


def tombstone_json(stone: Tombstone) -> dict[str, Any]:
    return {**stone.to_dict(), "already_erased": stone.already}


class ErasureRoutes(Resource):
    """``DELETE /v1/candidates/{candidate_id}``."""

    def operations(self) -> list[Operation]:
        return [
            Operation(
                "DELETE", "/v1/candidates/{candidate_id}", self.erase_candidate,
                "Erase a candidate's personal data everywhere (keeps an anonymous tombstone)", "candidates",
                description="One transaction deletes the profile, applications and their timelines, contacts, inbound "
                "messages, outcomes, automation actions, sessions with their tokens, event logs, reports and decisions, "
                "outbox deliveries that carry them (sent or not), the job boards' stored answers, and scrubs upload "
                "batches' file results; the candidate's data keys are forgotten (crypto-shredding). Live sessions are ended "
                "first; recordings go through the erasure hooks. Applications stay in the statistics as anonymous rows. "
                "Queues candidate.erased to the sinks and records candidate.erased in the audit trail. Idempotent: a "
                "second DELETE answers 200 with the same tombstone (already_erased: true); GET then answers 410.",
                replies={200: Reply("erased (or erased before)", ErasureInfo)},
                problems=(401, 403, 404), perm="candidates.erase",
            ),
        ]

    async def erase_candidate(self, request: Request) -> Response:
        # Permission "candidates.erase" (admin only), checked by the router (server/permissions.py).
        candidate_id = request.path_params["candidate_id"]
        if len(candidate_id) > 64:
            raise Problem(404, "Not found", "no such candidate")
        stone = await Erasure(self.ctx).erase(candidate_id, reason="request", by=request)
        if stone is None:
            raise Problem(404, "Not found", f"no candidate {candidate_id!r}")
        return JSONResponse(tombstone_json(stone), headers={"Cache-Control": "no-store"})
