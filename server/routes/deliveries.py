"""The outbox as operators and HR see it: deliveries (no bodies: personal data), their attempts, replay.

Every way out (the HRIS webhook, e-mail, WeCom, SuccessFactors) is a
delivery of the one outbox (sinks/outbox.py). A refused message is a
``failed`` delivery and one that ran out of time is ``dead``: both stay here,
with every attempt, until someone replays them (same id, so the far end drops
a copy it already has).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sinks import STATES

from ..openapi import Operation, Param, Reply
from ..problems import Problem
from ._common import Resource

STATE = Param("state", "query", {"type": "string", "enum": list(STATES)}, "only this state")
SINK = Param("sink", "query", {"type": "string"}, "only this channel (hris, email, wecom, wecom-robot-<group>, successfactors...)")
KEY = Param("key", "query", {"type": "string"}, "only this key (a session, an automation action)")
LIMIT = Param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 500}, "at most this many (100)")


class DeliveryRoutes(Resource):
    def operations(self) -> list[Operation]:
        return [
            Operation(
                "GET", "/v1/deliveries", self.list_deliveries, "Outbox deliveries, newest first (dead letters: state=failed or dead)",
                "deliveries", params=(STATE, SINK, KEY, LIMIT), replies={200: Reply("the deliveries, without their bodies")},
                problems=(401, 422), perm="deliveries.read",
            ),
            Operation(
                "GET", "/v1/deliveries/{delivery_id}", self.get_delivery, "One delivery and every attempt at it",
                "deliveries", replies={200: Reply("the delivery and its attempts")}, problems=(401, 404), perm="deliveries.read",
            ),
            Operation(
                "POST", "/v1/deliveries/{delivery_id}/replay", self.replay, "Send a delivery again, with the same id",
                "deliveries", body_required=False, replies={200: Reply("the delivery, pending again")}, problems=(401, 404, 409), perm="deliveries.write",
            ),
        ]

    async def list_deliveries(self, request: Request) -> Response:
        self.ctx.require_hr(request)
        q = request.query_params
        state = q.get("state") or None
        if state is not None and state not in STATES:
            raise Problem(422, "Invalid query", f"state is one of {', '.join(STATES)}", errors=[{"field": "state", "message": "unknown state"}])
        raw = q.get("limit", "100")
        if not raw.isdigit() or len(raw) > 3 or not 1 <= int(raw) <= 500:
            raise Problem(422, "Invalid query", "limit is 1 to 500", errors=[{"field": "limit", "message": "1 to 500"}])
        found = await self.ctx.outbox.list_deliveries(state, sink=q.get("sink") or None, key=q.get("key") or None, limit=int(raw))
        return JSONResponse({"deliveries": [d.to_dict() for d in found]})

    async def get_delivery(self, request: Request) -> Response:
        self.ctx.require_hr(request)
        delivery_id = request.path_params["delivery_id"]
        found = await self.ctx.outbox.get(delivery_id)
        if found is None:
            raise Problem(404, "Not found", f"no delivery {delivery_id!r}")
        attempts = await self.ctx.outbox.attempts(delivery_id)
        return JSONResponse({**found.to_dict(), "attempts_list": [a.to_dict() for a in attempts]})

    async def replay(self, request: Request) -> Response:
        self.ctx.require_hr(request)
        delivery_id = request.path_params["delivery_id"]
        try:
            replayed = await self.ctx.outbox.replay(delivery_id)
        except KeyError:
            raise Problem(404, "Not found", f"no delivery {delivery_id!r}")
        except LookupError as exc:
            raise Problem(409, "Channel not configured", str(exc))
        await self.ctx.audit.record(request, "delivery.replay", "delivery", delivery_id, sink=replayed.sink)
        return JSONResponse(replayed.to_dict())
