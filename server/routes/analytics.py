"""The recruiting dashboard's data (``/v1/analytics/...``), later outcomes per application, and source costs.

Every figure is computed by :mod:`analytics` (a pure core) over the
applications received in the date range, for one job or all, and comes as
JSON or as CSV (``?format=csv`` or ``Accept: text/csv``; UTF-8 with a BOM so
Excel shows Chinese). No group of 1-4 people is shown by its number
(docs/analytics.md). Outcomes and scores are personal data: never logged.
"""

from __future__ import annotations

import asyncio
import math
import re
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Callable, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

import analytics
from analytics import suppress, tables

from ..openapi import Operation, Param, Reply
from ..problems import Problem
from ._common import Resource, json_object, parse_body, unknown

CSV_MEDIA = "text/csv; charset=utf-8"


class OutcomeBody(BaseModel):
    """``PUT /v1/applications/{id}/outcomes``: what became of the candidate (the whole record: a field left out is cleared)."""

    model_config = ConfigDict(extra="forbid")
    onsite: Literal["pass", "fail"] | None = Field(default=None, description="the on-site interview's result")
    probation_rating: int | None = Field(default=None, ge=1, le=5, description="the probation rating, 1 (lowest) to 5")
    performance_12m: float | None = Field(default=None, description="the 12-month performance rating, on the bank's own scale")

    @field_validator("performance_12m")
    @classmethod
    def _finite(cls, v: float | None) -> float | None:
        if v is not None and not math.isfinite(v):
            raise ValueError("must be a finite number")
        return v


class OutcomeInfo(BaseModel):
    application_id: str
    onsite: Literal["pass", "fail"] | None
    probation_rating: int | None
    performance_12m: float | None
    recorded_at: str | None = Field(description="when last recorded; null: nothing recorded yet")
    recorded_by: str | None


class CostBody(BaseModel):
    """``PUT /v1/analytics/sources/{source}/cost``: what a source cost, for one job or (no job_id) all jobs."""

    model_config = ConfigDict(extra="forbid")
    cost: float = Field(ge=0, description="the money spent on the source")
    currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$", description="ISO 4217 code")
    job_id: str | None = Field(default=None, max_length=64, description="the job; null: all jobs")

    @field_validator("cost")
    @classmethod
    def _finite(cls, v: float) -> float:
        if not math.isfinite(v):
            raise ValueError("must be a finite number")
        return v


class CostInfo(BaseModel):
    source: str
    job_id: str | None
    cost: float
    currency: str
    updated_at: str


class Figure(BaseModel):
    """A figure: the filter it was computed for, then its own fields (docs/analytics.md)."""

    model_config = ConfigDict(extra="allow")
    job_id: str | None
    from_: str | None = Field(alias="from")
    to: str | None
    applications: int | None = Field(description="applications in the range; null when 1-4 (suppressed)")
    min_group: int = Field(description="groups smaller than this are shown as null with suppressed: true")


FILTERS = (
    Param("job_id", "query", {"type": "string"}, "one job (default: all)"),
    Param("from", "query", {"type": "string", "format": "date"}, "received on or after this day (UTC), YYYY-MM-DD"),
    Param("to", "query", {"type": "string", "format": "date"}, "received on or before this day (UTC), YYYY-MM-DD"),
    Param("format", "query", {"type": "string", "enum": ["json", "csv"]}, "csv: a table with a header row (or send Accept: text/csv)"),
)

# name -> (summary, what it computes from the rows and costs, its CSV rows)
FIGURES: dict[str, tuple[str, str]] = {
    "funnel": ("The funnel: applied → screened → invited → interviewed → advanced, conversion and drop-off, interview pass rate",
               "A stage counts the applications that reached it through every stage before it."),
    "scores": ("Match and interview score histograms (bins of 10) and per-question spreads",
               "Per question and personalised version: n, mean, p10/p25/p50/p75/p90 (no min or max: each is one person's)."),
    "sources": ("Per source: applications, pass rate, mean scores, cost per hire", "Cost per hire is the entered cost over the applications advanced."),
    "stages": ("Time in each stage: p50 and p90 (seconds)", "Over the applications that entered the stage and left it."),
    "invites": ("Invites: opened, started, completed, and their rates", "Of the applications invited."),
    "validity": ("Do the scores predict the later outcomes? Spearman's rho, n and 95% CI, by job",
                 "Fisher z with the Bonett-Wright standard error; at least 5 pairs."),
}


def _day(request: Request, name: str) -> date | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        message = "a day as YYYY-MM-DD"
        raise Problem(422, "Invalid query", f"{name}: {message}", errors=[{"field": name, "message": message}])


def _wants_csv(request: Request) -> bool:
    fmt = request.query_params.get("format")
    if fmt is not None:
        if fmt not in ("json", "csv"):
            message = "format is json or csv"
            raise Problem(422, "Invalid query", message, errors=[{"field": "format", "message": message}])
        return fmt == "csv"
    accept = request.headers.get("accept", "")
    return "text/csv" in accept and "application/json" not in accept


def compute(name: str, rows: list[analytics.Row], costs: list[analytics.Cost], job_id: str | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A figure's JSON fields and its CSV rows (pure; runs off the event loop)."""
    if name == "funnel":
        figure = analytics.funnel(rows)
        return figure, tables.funnel_rows(figure)
    if name == "scores":
        figure = {**analytics.histograms(rows), "questions": analytics.questions(rows)}
        return figure, tables.score_rows(figure)
    if name == "sources":
        items = analytics.sources(rows, costs, job_id)
        return {"sources": items}, tables.flag_rows(items)
    if name == "stages":
        items = analytics.stages(rows)
        return {"stages": items}, tables.flag_rows(items)
    if name == "invites":
        figure = analytics.invites(rows)
        return figure, tables.invite_rows(figure)
    items = analytics.validity(rows)
    return {"correlations": items, "method": "spearman; 95% CI: Fisher z, Bonett-Wright variance (1 + rho^2/2)/(n - 3)"}, tables.flag_rows(items)


class AnalyticsRoutes(Resource):
    """``/v1/analytics/...`` and ``/v1/applications/{id}/outcomes``."""

    def operations(self) -> list[Operation]:
        ops = [
            Operation(
                "PUT", "/v1/applications/{application_id}/outcomes", self.put_outcomes,
                "Record what became of a candidate: on-site result, probation rating, 12-month performance", "analytics",
                body=OutcomeBody, description="The whole record, replaced: a field left out is cleared (GET it first to "
                "change one). The dashboard's validity figures relate these to the scores.",
                replies={200: Reply("recorded", OutcomeInfo)}, problems=(400, 404, 422), perm="outcomes.write",
            ),
            Operation(
                "GET", "/v1/applications/{application_id}/outcomes", self.get_outcomes, "What became of a candidate (nulls: nothing recorded yet)",
                "analytics", replies={200: Reply("the outcome", OutcomeInfo)}, problems=(404,), perm="applications.read",
            ),
            Operation(
                "PUT", "/v1/analytics/sources/{source}/cost", self.put_cost, "Set what a source cost (one job or all jobs)",
                "analytics", body=CostBody, description="Replaces the earlier figure for the same source and job. The "
                "sources figure divides it by the applications advanced.",
                replies={200: Reply("set", CostInfo)}, problems=(400, 422), perm="analytics.write",
            ),
        ]
        for name, (summary, description) in FIGURES.items():
            ops.append(Operation(
                "GET", f"/v1/analytics/{name}", self._figure_endpoint(name), summary, "analytics", params=FILTERS,
                description=description + " Applications received in the range, for one job or all; no group of 1-4 "
                "people is shown (null with suppressed: true). CSV: UTF-8 with a BOM, a header row.",
                replies={200: Reply("the figure (JSON), or text/csv", Figure)}, problems=(422,), perm="analytics.read",
            ))
        return ops

    # -- outcomes and costs ----------------------------------------------------------
    async def put_outcomes(self, request: Request) -> Response:
        self.ctx.require_hr(request)
        spec = parse_body(OutcomeBody, await json_object(request))
        application_id = request.path_params["application_id"]
        found = await self.ctx.store.run(self.ctx.store.store.get_application, application_id)
        if found is None or not self.ctx.principal(request).sees_job(found.job_id):
            raise Problem(404, "Not found", f"no application {application_id!r}")
        record = await self.ctx.store.run(
            self.ctx.store.store.put_outcome, application_id, onsite=spec.onsite, probation_rating=spec.probation_rating,
            performance_12m=spec.performance_12m, recorded_by=self.ctx.principal(request).user_id,
        )
        if record is None:
            raise Problem(404, "Not found", f"no application {application_id!r}")
        await self.ctx.audit.record(request, "outcome.update", "application", application_id)
        return JSONResponse(record.to_dict())

    async def get_outcomes(self, request: Request) -> Response:
        self.ctx.require_hr(request)
        application_id = request.path_params["application_id"]
        store = self.ctx.store.store
        seen = self.ctx.principal(request)

        def read() -> tuple[bool, Any]:
            found = store.get_application(application_id)
            return found is not None and seen.sees_job(found.job_id), store.get_outcome(application_id)

        exists, record = await self.ctx.store.run(read)
        if not exists:
            raise Problem(404, "Not found", f"no application {application_id!r}")
        if record is None:
            return JSONResponse({"application_id": application_id, "onsite": None, "probation_rating": None,
                                 "performance_12m": None, "recorded_at": None, "recorded_by": None})
        return JSONResponse(record.to_dict())

    async def put_cost(self, request: Request) -> Response:
        self.ctx.require_hr(request)
        spec = parse_body(CostBody, await json_object(request))
        source = request.path_params["source"].strip()
        if not source or len(source) > 64:
            raise unknown("source", "a source is 1-64 characters")
        if spec.job_id is not None and await self.ctx.store.run(self.ctx.store.store.get_job, spec.job_id) is None:
            raise unknown("job_id", f"no job {spec.job_id!r}")
        record = await self.ctx.store.run(self.ctx.store.store.put_source_cost, source, spec.job_id, spec.cost, spec.currency)
        await self.ctx.audit.record(request, "cost.update", "source", source, job=spec.job_id)
        return JSONResponse(record.to_dict())

    # -- figures ------------------------------------------------------------------------
    def _figure_endpoint(self, name: str) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            return await self.figure(request, name)

        endpoint.__name__ = f"analytics_{name}"
        return endpoint

    async def figure(self, request: Request, name: str) -> Response:
        self.ctx.require_hr(request)
        csv = _wants_csv(request)
        job_id = request.query_params.get("job_id") or None
        scope = self.ctx.principal(request).job_ids
        if scope is not None and job_id not in scope:  # row scoping: a recruiter's or reviewer's figures are of one of their jobs
            raise Problem(403, "Forbidden", "job_id: name one of your jobs", slug="forbidden")
        first, last = _day(request, "from"), _day(request, "to")
        if first and last and last < first:
            message = "to is before from"
            raise Problem(422, "Invalid query", message, errors=[{"field": "to", "message": message}])
        store = self.ctx.store.store
        if job_id and await self.ctx.store.run(store.get_job, job_id) is None:
            raise Problem(422, "Invalid query", f"job_id: no job {job_id!r}", errors=[{"field": "job_id", "message": f"no job {job_id!r}"}])
        since = datetime.combine(first, time(), timezone.utc) if first else None
        until = datetime.combine(last + timedelta(days=1), time(), timezone.utc) if last else None

        def load() -> tuple[list[analytics.Row], list[analytics.Cost]]:
            # Erased candidates' applications count on, as anonymous rows (db/erasure.py, docs/retention.md).
            rows = store.analytics_rows(job_id=job_id, since=since, until=until)
            rows += store.erased_analytics_rows(job_id=job_id, since=since, until=until)
            return rows, store.source_costs()

        rows, costs = await self.ctx.store.run(load)
        figure, csv_rows = await asyncio.to_thread(compute, name, rows, costs, job_id)
        if csv:
            await self.ctx.audit.record(request, "analytics.export", "analytics", name, job=job_id, rows=len(csv_rows))
            stem = "-".join(p for p in ("candor", name, job_id, first and first.isoformat(), last and last.isoformat()) if p)
            stem = re.sub(r"[^A-Za-z0-9_.-]", "_", stem)
            return Response(tables.table(csv_rows), media_type=CSV_MEDIA,
                            headers={"Content-Disposition": f'attachment; filename="{stem}.csv"', "Cache-Control": "no-store"})
        applied = len(rows)
        body = {
            "job_id": job_id,
            "from": first.isoformat() if first else None,
            "to": last.isoformat() if last else None,
            "applications": None if suppress.small(applied) else applied,
            "min_group": analytics.MIN_GROUP,
            **({"suppressed": True} if suppress.small(applied) else {}),
            **figure,
        }
        return JSONResponse(body, headers={"Cache-Control": "no-store"})
