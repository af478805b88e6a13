"""``/v1/applications/{id}/contacts``: how to reach a candidate, and what WeCom still allows this month.

Contacts are personal data (db/contacts.py): read and written by HR only,
never logged. The answer also says which channels this deployment has and,
for WeCom external contacts, how many of the month's messages are used:
WeCom lets an enterprise send one customer at most 4 group-send messages
(``add_msg_template``) per natural month.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from channels.wecom import EXTERNAL_MONTHLY_LIMIT
from sinks.outbox import DeliveryRow
from sinks.retry import DELIVERED

from ..openapi import Operation, Reply
from ..problems import Problem
from ._common import Resource, json_object, parse_body, unknown

CHINA = ZoneInfo("Asia/Shanghai")  # WeCom's natural month
EXTERNAL_CHANNEL = "wecom-external"


class Contacts(BaseModel):
    """Each kind's value; null (or "") removes it; kinds left out stay as they are."""

    model_config = ConfigDict(extra="forbid")
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=20)
    wecom_external: str | None = Field(default=None, max_length=64, description="WeCom external_userid")
    wecom_user: str | None = Field(default=None, max_length=64, description="WeCom member userid")


class WeComMonth(BaseModel):
    sent: int = Field(description="wecom-external deliveries to this application this natural month (China time)")
    limit: int = Field(description="WeCom's limit per customer and month")
    month: str = Field(description="YYYY-MM")


class ContactInfo(BaseModel):
    application_id: str
    contacts: dict[str, str]
    channels: dict[str, bool] = Field(description="which ways out this deployment has: email, wecom, wecom_external, sms")
    wecom_external: WeComMonth


def month_start(now: datetime) -> datetime:
    """The start of WeCom's natural month (China time) holding ``now``, in UTC."""
    local = now.astimezone(CHINA)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0).astimezone(timezone.utc)


def external_sent_this_month(engine: Any, application_id: str, now: datetime) -> int:
    """Delivered ``wecom-external`` messages keyed by the application (``key`` = its id, or ``<id>:...``)."""
    start = month_start(now)
    with Session(engine) as db:
        return int(
            db.scalar(
                select(func.count()).where(
                    DeliveryRow.sink == EXTERNAL_CHANNEL,
                    DeliveryRow.state == DELIVERED,
                    or_(DeliveryRow.key == application_id, DeliveryRow.key.startswith(application_id + ":")),
                    DeliveryRow.created_at >= start,
                )
            )
            or 0
        )


class ContactRoutes(Resource):
    def operations(self) -> list[Operation]:
        path = "/v1/applications/{application_id}/contacts"
        return [
            Operation(
                "GET", path, self.get_contacts, "How to reach the candidate, and WeCom's monthly count", "applications",
                description="E-mail, phone, WeCom external contact and member ids (personal data), the channels this "
                "deployment has, and how many WeCom external-contact messages went to this candidate this month "
                f"(WeCom allows {EXTERNAL_MONTHLY_LIMIT} per customer per natural month).",
                replies={200: Reply("the contacts", ContactInfo)}, problems=(404,), perm="contacts.read",
            ),
            Operation(
                "PUT", path, self.put_contacts, "Set the candidate's contacts", "applications", body=Contacts,
                description="Kinds in the body are set (null or empty removes one); kinds left out stay.",
                replies={200: Reply("the contacts now", ContactInfo)}, problems=(400, 404, 422), perm="contacts.write",
            ),
        ]

    async def _exists(self, request: Request) -> str:
        application_id = request.path_params["application_id"]
        record = await self.ctx.store.run(self.ctx.store.store.get_application, application_id)
        if record is None or not self.ctx.principal(request).sees_job(record.job_id):
            raise Problem(404, "Not found", f"no application {application_id!r}")
        return application_id

    async def _answer(self, application_id: str) -> Response:
        store = self.ctx.store
        contacts = await store.run(store.store.contacts, application_id)
        now = datetime.now(timezone.utc)
        sent = await store.run(external_sent_this_month, store.store.engine, application_id, now)
        sinks = self.ctx.outbox.sinks
        channels = {
            "email": "email" in sinks,
            "wecom": "wecom" in sinks,
            "wecom_external": EXTERNAL_CHANNEL in sinks,
            "sms": False,  # no SMS provider ships with Candor (channels/sms.py)
        }
        info = ContactInfo(
            application_id=application_id,
            contacts=contacts,
            channels=channels,
            wecom_external=WeComMonth(sent=sent, limit=EXTERNAL_MONTHLY_LIMIT, month=now.astimezone(CHINA).strftime("%Y-%m")),
        )
        return JSONResponse(info.model_dump(), headers={"Cache-Control": "no-store"})

    async def get_contacts(self, request: Request) -> Response:
        self.ctx.require_hr(request)
        application_id = await self._exists(request)
        await self.ctx.audit.record(request, "contacts.view", "application", application_id)
        return await self._answer(application_id)

    async def put_contacts(self, request: Request) -> Response:
        self.ctx.require_hr(request)
        application_id = await self._exists(request)
        data = await json_object(request)
        body = parse_body(Contacts, data)
        given = {k: getattr(body, k) for k in data}  # only the kinds the body names
        store = self.ctx.store
        try:
            found = await store.run(store.store.set_contacts, application_id, given)
        except ValueError as exc:
            kind = next((k for k in given if str(exc).startswith(k)), "")
            raise unknown(kind, str(exc)) from None
        if not found:
            raise Problem(404, "Not found", f"no application {application_id!r}")
        await self.ctx.audit.record(request, "contacts.update", "application", application_id, kinds=sorted(given))
        return await self._answer(application_id)
