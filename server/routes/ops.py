"""Operations: readiness, Prometheus metrics and the OpenAPI document."""

from __future__ import annotations

import hmac
from dataclasses import asdict

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .. import rest
from ..admission import node_load
from ..auth import bearer
from ..openapi import Operation, Reply
from ..problems import Problem
from ._common import Resource, json_object, parse_body


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
                "GET", "/v1/ops/nodes", self.list_nodes, "The nodes and their load (one box: this one)", "operations",
                perm="nodes.admin", replies={200: Reply("every live node", rest.NodeList)},
            ),
            Operation(
                "POST", "/v1/ops/drain", self.drain, "Drain this node for a release, or undrain it", "operations",
                perm="nodes.admin", body=rest.Drain, replies={200: Reply("this node now", rest.NodeStatus)},
                description="A draining node takes no new session (several nodes: they are sent to another node); "
                "its live interviews go on. Stop it when candor_sessions_live on its /metrics is 0 (docs/deploy.md).",
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

    def _this_node(self) -> rest.NodeStatus:
        return rest.NodeStatus(id=self.ctx.settings.node_name, url=self.ctx.settings.own_url, **node_load(self.ctx))

    async def list_nodes(self, request: Request) -> Response:
        if self.ctx.nodes is None:
            nodes = [self._this_node()]
        else:
            nodes = [rest.NodeStatus(**{k: v for k, v in asdict(n).items() if k != "at"}) for n in await self.ctx.nodes.cluster.nodes()]
        return JSONResponse(rest.NodeList(this=self.ctx.settings.node_name, nodes=nodes).model_dump())

    async def drain(self, request: Request) -> Response:
        spec = parse_body(rest.Drain, await json_object(request))
        self.ctx.admission.draining = spec.draining
        await self.ctx.audit.record(request, "node.drain" if spec.draining else "node.undrain", "node", self.ctx.settings.node_name)
        if self.ctx.nodes is not None:
            await self.ctx.nodes.cluster.beat()  # the others know at once, not at the next heartbeat
        return JSONResponse(self._this_node().model_dump())

    async def openapi_json(self, request: Request) -> Response:
        return JSONResponse(self.ctx.openapi_document)
