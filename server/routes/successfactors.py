"""``POST /v1/successfactors/orders``: SAP SuccessFactors orders an assessment; Candor takes it and invites.

SF raises an assessment order when a candidate reaches the requisition's
assessment status (the ``rcm_assessment_alert`` event). The bank's
integration (SF's event notification subscription, or the middleware that
reads the order) posts it here as JSON; Candor makes the application
(source ``successfactors``, external_id = the order id), screens it, invites
the candidate (the interview session) and answers with what SF shows:
the order's status and the assessment URL. The result goes back through the
outbox's ``successfactors`` channel (sinks/successfactors.py).

Authentication is HTTP Basic (user ``order_user``, password
``order_secret`` from ``CANDOR_SUCCESSFACTORS``): SF's outbound event
subscriptions and SAP's middleware both send Basic credentials; a body
signature is not something SF can make. Use it over HTTPS only.

Idempotent per order id: the same order again answers the first answer,
and makes nothing new. Logs carry order and application ids only.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import json
import logging
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from db import ApplicationRecord
from sinks.successfactors import CHANNEL, SuccessFactorsConfig

from .. import rest
from ..openapi import Operation, Param, Reply
from ..problems import Problem
from ._common import Resource, parse_body, unknown
from .applications import ApplicationRoutes
from .sessions import SessionRoutes

log = logging.getLogger(__name__)

SOURCE = CHANNEL  # the applications' source
MAX_ORDER_BYTES = 512 * 1024  # an order with a resume's text
REALM = 'Basic realm="candor-successfactors", charset="UTF-8"'


class OrderCandidate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    firstName: str | None = Field(default=None, max_length=200)
    lastName: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=64)


class SuccessFactorsOrder(BaseModel):
    """An assessment order from SF, as the bank's integration posts it.

    Fields an order carries beyond these are ignored (an integration may
    forward the whole order).
    """

    model_config = ConfigDict(extra="ignore")

    orderId: str = Field(min_length=1, max_length=64, description="SF's assessment order id (JobApplicationAssessmentOrder)")
    jobReqId: str | None = Field(default=None, max_length=64, description="SF's job requisition id")
    packageCode: str | None = Field(default=None, max_length=128, description="the assessment package ordered")
    applicationId: str | None = Field(default=None, max_length=64, description="SF's job application id")
    candidate: OrderCandidate | None = None
    resumeText: str | None = Field(default=None, max_length=200_000)

    @field_validator("orderId", "jobReqId", "applicationId", mode="before")
    @classmethod
    def _number_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class OrderAnswer(BaseModel):
    orderId: str
    status: str = Field(description="the order's status in SF's terms (the mapping's statuses)")
    assessmentURL: str | None = Field(description="the candidate's interview link")
    applicationId: str = Field(description="Candor's application")
    sessionId: str | None


class SuccessFactorsRoutes(Resource):
    """``/v1/successfactors/orders``."""

    _locks: dict[str, asyncio.Lock] = {}

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self.applications = ApplicationRoutes(ctx)

    def operations(self) -> list[Operation]:
        return [
            Operation(
                "POST", "/v1/successfactors/orders", self.take_order, "SAP SuccessFactors orders an assessment",
                "integrations", auth=None, body=SuccessFactorsOrder,
                params=(Param("Authorization", "header", {"type": "string"}, "Basic: order_user and order_secret of CANDOR_SUCCESSFACTORS", required=True),),
                description="Makes the application (source successfactors, external_id = orderId) for the Candor job "
                "the mapping gives for jobReqId (or packageCode), screens it and invites the candidate. The same "
                "orderId again gets the first answer. The result goes back to SF as a JobApplicationAssessmentReport "
                "(docs/successfactors.md).",
                replies={201: Reply("taken and invited", OrderAnswer), 200: Reply("the same order again: the first answer", OrderAnswer)},
                problems=(400, 401, 404, 409, 413, 422, 503),
            ),
        ]

    def _config(self) -> SuccessFactorsConfig:
        config = self.ctx.settings.successfactors
        if config is None or config.order_secret is None:
            raise Problem(404, "Not found", "SuccessFactors orders are not configured here (CANDOR_SUCCESSFACTORS.order_secret)")
        return config

    def _authenticate(self, request: Request, config: SuccessFactorsConfig) -> None:
        assert config.order_secret is not None
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        try:
            user, _, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
        except (binascii.Error, ValueError, UnicodeDecodeError):
            user, password = "", ""
        good_user = hmac.compare_digest(user.encode(), config.order_user.encode())
        good_password = hmac.compare_digest(password.encode(), config.order_secret.get_secret_value().encode())
        if scheme.lower() != "basic" or not (good_user and good_password):
            raise Problem(401, "Unauthorized", "SuccessFactors orders need HTTP Basic with order_user and order_secret",
                          headers={"WWW-Authenticate": REALM})

    def _job_id(self, order: SuccessFactorsOrder, config: SuccessFactorsConfig) -> str:
        mapping = config.mapping
        if order.jobReqId is not None and order.jobReqId in mapping.requisitions:
            return mapping.requisitions[order.jobReqId]
        if order.packageCode is not None and order.packageCode in mapping.packages:
            return mapping.packages[order.packageCode]
        raise Problem(
            422, "Unknown job mapping",
            f"no Candor job is configured for requisition {order.jobReqId!r} or package {order.packageCode!r} "
            "(CANDOR_SUCCESSFACTORS mapping.requisitions / mapping.packages)",
            slug="unknown-job-mapping", errors=[{"field": "jobReqId", "message": "not in the mapping"}],
        )

    async def take_order(self, request: Request) -> Response:
        config = self._config()
        self._authenticate(request, config)
        raw = await request.body()
        if len(raw) > MAX_ORDER_BYTES:
            raise Problem(413, "Too large", f"an order is at most {MAX_ORDER_BYTES // 1024} KB")
        try:
            data = json.loads(raw)
        except ValueError:
            raise Problem(400, "Malformed JSON", "the request body is not JSON")
        if not isinstance(data, dict):
            raise Problem(422, "Invalid body", "the body must be a JSON object", errors=[{"field": "", "message": "expected an object"}])
        order = parse_body(SuccessFactorsOrder, data)
        store = self.ctx.store
        lock = self._locks.setdefault(order.orderId, asyncio.Lock())
        try:
            async with lock:  # one copy of an order at a time in this process; the store's unique row covers the rest
                first = await store.run(store.store.inbound_answer, SOURCE, order.orderId)
                if first is not None:
                    return JSONResponse(first[1], status_code=200)
                job = await self.applications._job(self._job_id(order, config))
                text = order.resumeText or _contact_text(order)
                if not text:
                    raise unknown("candidate", "an order needs the candidate (name, e-mail) or resumeText")
                record, created = await self.applications._take(
                    job, None, None, text, source=SOURCE, external_id=order.orderId, actor="system"
                )
                record, url = await self._invited(record)
                answer = OrderAnswer(
                    orderId=order.orderId,
                    status=config.mapping.statuses.get(record.state, "In Progress"),
                    assessmentURL=url,
                    applicationId=record.id,
                    sessionId=record.session_id,
                ).model_dump()
                status, body = await store.run(store.store.record_inbound, SOURCE, order.orderId, 201, answer, record.candidate_id)
        finally:
            if not lock.locked():
                self._locks.pop(order.orderId, None)
        log.info("successfactors order %s -> application %s (%s)", order.orderId, record.id, "new" if created else "known person")
        return JSONResponse(body, status_code=status)

    async def _invited(self, record: ApplicationRecord) -> tuple[ApplicationRecord, str | None]:
        """Invite a screened application (as the system: SF asked); an invited one keeps its link."""
        if record.state == "screened":
            session = await SessionRoutes(self.ctx).open(rest.SessionCreate(job_id=record.job_id, candidate_id=record.candidate_id))
            details = {"session_id": session["id"], "candidate_url": session["candidate_url"], "watch_url": session["watch_url"]}
            record = await self.applications._move(record, "invite", "system", details=details, session_id=session["id"])
            return record, session["candidate_url"]
        if record.session_id:  # the same person's application was invited before
            return record, (await self.applications._json(record))["invite_url"]
        raise Problem(409, "Not allowed now", f"the candidate's application for this job is {record.state}: nothing to invite",
                      slug="transition", state=record.state, action="invite")


def _contact_text(order: SuccessFactorsOrder) -> str:
    """With no resume: the candidate's name and contacts, read as a (very short) resume."""
    c = order.candidate
    if c is None:
        return ""
    name = " ".join(p for p in (c.firstName, c.lastName) if p)
    return "\n".join(p for p in (name, c.email, c.phone) if p)
