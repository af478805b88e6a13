"""Operations: readiness, Prometheus metrics and the OpenAPI document."""

from __future__ import annotations

import hmac

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .. import rest
from ..auth import bearer
from ..openapi import Operation, Reply
from ..problems import Problem
from ._common import Resource


class OpsRoutes(Resource):
    """``/healthz``, ``/metrics``, ``/openapi.json``."""

    def operations(self) -> list[Operation]:
        return [
            Operation(
                "GET", "/healthz", self.healthz, "Readiness: 200 once the models are loaded and warm", "operations",
                auth=None,
                replies={
                    200: Reply("ready", rest.Health),
                    503: Reply("models loading", rest.Health, headers={"Retry-After": "seconds"}),
                    500: Reply("model loading failed", rest.Health),
                },
            ),
            Operation(
                "GET", "/metrics", self.metrics_route, "Prometheus metrics", "operations", auth=None,
                description="Open, or with Authorization: Bearer <CANDOR_METRICS_TOKEN> when that is set.", problems=(401,),
                replies={200: Reply("Prometheus text format 0.0.4", media_type="text/plain")},
            ),
            Operation(
                "GET", "/openapi.json", self.openapi_json, "This document", "operations", auth=None,
                replies={200: Reply("the OpenAPI 3.1 document")},
            ),
        ]

    async def healthz(self, request: Request) -> Response:
        if self.ctx.models.error:
            return JSONResponse({"status": "error", "detail": self.ctx.models.error}, status_code=500)
        if not self.ctx.models.ready.is_set():
            return JSONResponse({"status": "starting"}, status_code=503, headers={"Retry-After": "5"})
        return JSONResponse({"status": "ok"})

    async def metrics_route(self, request: Request) -> Response:
        expected = self.ctx.settings.metrics_token
        if expected is not None:
            given = bearer(request)
            if given is None or not hmac.compare_digest(given.encode(), expected.get_secret_value().encode()):
                raise Problem(401, "Unauthorised", "the metrics need Authorization: Bearer <CANDOR_METRICS_TOKEN>", headers={"WWW-Authenticate": "Bearer"})
        return Response(self.ctx.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    async def openapi_json(self, request: Request) -> Response:
        return JSONResponse(self.ctx.openapi_document)
