"""Candidates: the profiles HR interview (personal data: this HR API only, never logged)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from db import AlreadyExists, CandidateRecord

from .. import rest
from ..openapi import Operation, Reply
from ..problems import Problem
from ._common import Resource, json_object, parse_body


class CandidateRoutes(Resource):
    """``/v1/candidates``."""

    def operations(self) -> list[Operation]:
        return [
            Operation(
                "POST", "/v1/candidates", self.create_candidate, "Create a candidate (a profile HR interview)",
                "candidates", body=rest.CandidateCreate,
                description="Personal data: shown only through this HR API, never logged. A session made with "
                "candidate_id records a copy of the profile as it was then.",
                replies={201: Reply("created", rest.CandidateInfo, headers={"Location": "its URL"})},
                problems=(400, 409, 422), perm="candidates.write",
            ),
            Operation(
                "GET", "/v1/candidates", self.list_candidates, "List candidates (latest 100)", "candidates",
                replies={200: Reply("the candidates", rest.CandidateList)}, perm="candidates.read",
            ),
            Operation(
                "GET", "/v1/candidates/{candidate_id}", self.get_candidate, "Show a candidate and their sessions",
                "candidates", replies={200: Reply("the candidate", rest.CandidateInfo)}, problems=(404, 410), perm="candidates.read",
            ),
            Operation(
                "PUT", "/v1/candidates/{candidate_id}", self.update_candidate,
                "Replace a candidate's profile (sessions keep their copy)", "candidates", body=rest.CandidateCreate,
                replies={200: Reply("the candidate", rest.CandidateInfo)}, problems=(400, 404, 409, 422), perm="candidates.write",
            ),
        ]

    async def create_candidate(self, request: Request) -> Response:
        self.ctx.require_hr(request)
        spec = parse_body(rest.CandidateCreate, await json_object(request))
        try:
            record = await self.ctx.store.run(self.ctx.store.store.create_candidate, spec.profile, spec.external_id)
        except AlreadyExists as exc:
            raise Problem(409, "Already exists", str(exc))
        return JSONResponse(_candidate_json(record), status_code=201, headers={"Location": f"/v1/candidates/{record.id}"})

    async def _visible(self, request: Request, candidate_ids: list[str]) -> set[str]:
        """Row scoping: of these candidates, those a user given some jobs may see (linked to one of them, or to no job yet)."""
        principal = self.ctx.principal(request)
        if principal.job_ids is None:
            return set(candidate_ids)
        jobs = await self.ctx.store.run(self.ctx.store.store.candidate_jobs, candidate_ids)
        return {cid for cid, linked in jobs.items() if not linked or linked & set(principal.job_ids)}

    async def list_candidates(self, request: Request) -> Response:
        self.ctx.require_hr(request)
        records = await self.ctx.store.run(self.ctx.store.store.list_candidates)
        visible = await self._visible(request, [r.id for r in records])
        records = [r for r in records if r.id in visible]
        return JSONResponse(
            {
                "candidates": [
                    {"id": r.id, "created_at": r.created_at.isoformat(), "external_id": r.external_id, "name": r.profile.get("name")}
                    for r in records
                ]
            }
        )

    async def get_candidate(self, request: Request) -> Response:
        self.ctx.require_hr(request)
        candidate_id = request.path_params["candidate_id"]
        record = await self.ctx.store.run(self.ctx.store.store.get_candidate, candidate_id)
        if record is not None and record.id not in await self._visible(request, [record.id]):
            record = None  # another job's candidate: as if there were none
        if record is None:
            if await self.ctx.store.run(self.ctx.store.store.tombstone, candidate_id) is not None:  # DELETE erased it
                raise Problem(410, "Erased", f"candidate {candidate_id!r} was erased", slug="erased")
            raise Problem(404, "Not found", f"no candidate {candidate_id!r}")
        return JSONResponse(_candidate_json(record))

    async def update_candidate(self, request: Request) -> Response:
        self.ctx.require_hr(request)
        spec = parse_body(rest.CandidateCreate, await json_object(request))
        candidate_id = request.path_params["candidate_id"]
        if candidate_id not in await self._visible(request, [candidate_id]):
            raise Problem(404, "Not found", f"no candidate {candidate_id!r}")
        try:
            record = await self.ctx.store.run(self.ctx.store.store.update_candidate, candidate_id, spec.profile, spec.external_id)
        except AlreadyExists as exc:
            raise Problem(409, "Already exists", str(exc))
        if record is None:
            raise Problem(404, "Not found", f"no candidate {candidate_id!r}; POST /v1/candidates makes one")
        return JSONResponse(_candidate_json(record))


def _candidate_json(record: CandidateRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "created_at": record.created_at.isoformat(),
        "updated_at": record.updated_at.isoformat(),
        "external_id": record.external_id,
        "profile": record.profile,
        "sessions": list(record.sessions),
    }
