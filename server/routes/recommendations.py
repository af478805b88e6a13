"""Reviewers' recommendations on an interview: ``/v1/sessions/{id}/recommendations``.

A reviewer (or a recruiter, an admin) records advance, hold or reject with a
note; whoever decides reads them beside the report. Not a decision: nothing
moves and nothing reaches the HRIS (db/recommendations.py).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..openapi import Operation, Reply
from ._common import Resource, json_object, parse_body


class RecommendationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    recommendation: Literal["advance", "hold", "reject"]
    note: str = Field(default="", max_length=2000, description="why (for whoever decides)")


class RecommendationInfo(BaseModel):
    session_id: str
    user_id: str
    role: str
    recommendation: Literal["advance", "hold", "reject"]
    note: str
    created_at: str
    updated_at: str


class RecommendationList(BaseModel):
    recommendations: list[RecommendationInfo]


class RecommendationRoutes(Resource):
    def operations(self) -> list[Operation]:
        path = "/v1/sessions/{session_id}/recommendations"
        return [
            Operation("GET", path, self.list_recommendations, "The recommendations people recorded on an interview", "reports",
                      perm="reports.read", replies={200: Reply("each user's latest", RecommendationList)}, problems=(404,)),
            Operation("POST", path, self.recommend, "Record my recommendation on an interview (replaces my earlier one)",
                      "reports", perm="recommendations.write", body=RecommendationCreate,
                      description="Advice to whoever decides: not a decision (nothing moves, nothing is sent).",
                      replies={201: Reply("recorded", RecommendationInfo)}, problems=(404, 422)),
        ]

    async def _session(self, request: Request) -> str:
        session_id = request.path_params["session_id"]
        self.ctx.require_job(request, (await self.ctx.session_record(session_id)).job_id, "session")
        return session_id

    async def list_recommendations(self, request: Request) -> Response:
        session_id = await self._session(request)
        found = await self.ctx.store.run(self.ctx.store.store.recommendations, session_id)
        return JSONResponse({"recommendations": [r.public() for r in found]})

    async def recommend(self, request: Request) -> Response:
        spec = parse_body(RecommendationCreate, await json_object(request))
        session_id = await self._session(request)
        principal = self.ctx.principal(request)
        record = await self.ctx.store.run(
            self.ctx.store.store.recommend, session_id, principal.user_id, principal.role, spec.recommendation, spec.note)
        await self.ctx.audit.record(request, "session.recommend", "session", session_id, recommendation=spec.recommendation)
        return JSONResponse(record.public(), status_code=201)
