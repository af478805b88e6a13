"""The bias audit: the candidate's voluntary self-identification and the auditors' LL144-style audit.

* ``/v1/sessions/{id}/self-id`` (the candidate, with the token their link
  exchanged): what is asked (GET), the answer (POST), taking it back (DELETE).
  Stored apart (db/selfid.py); never in reports, sinks, application or candidate
  replies, events or logs; the audit trail records only that it was given.
* ``GET /v1/audits/bias`` (JSON, ``?format=csv``, ``?format=html``): selection
  and scoring rates and impact ratios per category and intersection for each
  decision point (bias/). Permission ``bias.read``: admin and auditor.
"""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import datetime, timezone
from typing import Any, Literal
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bias import AGE_BANDS, DECLINED, ETHNICITY, SEX, audit
from bias.html import render_audit
from bias.rows import applicant
from reports.builder import BANDS

from ..audit import Actor
from ..auth import bearer, is_exchanged
from ..openapi import Operation, Param, Reply
from ..problems import Problem
from ._common import NO_BODY, Resource, json_object, page_headers, parse_body
from .audit import _invalid, _when

BOM = "\ufeff"
INTERVIEW_ADVANCE_AT = BANDS[0][0]  # the report's top band ("strong", 建议进入下一轮) is the interview's advance
PURPOSE = {
    "zh": "自愿填写，可跳过。仅用于检查 Candor 是否公平对待不同群体；招聘人员看不到，也不会用于评分。",
    "en": "Voluntary and skippable. Used only to check that Candor treats groups fairly; HR never see it and it is "
    "never used in any score.",
}

Sex = Literal[(*SEX, DECLINED)]  # type: ignore[valid-type]
AgeBand = Literal[(*AGE_BANDS, DECLINED)]  # type: ignore[valid-type]
Ethnicity = Literal[(*ETHNICITY, DECLINED)]  # type: ignore[valid-type]


class SelfIdCreate(BaseModel):
    """Every field optional: left out or null is not answered; prefer_not_to_say declines."""

    model_config = ConfigDict(extra="forbid")
    sex: Sex | None = Field(default=None, description="female, male, another, or prefer_not_to_say")
    age_band: AgeBand | None = Field(default=None, description="under_25, 25_34, 35_44, 45_54, 55_plus, or prefer_not_to_say")
    ethnicity: Ethnicity | None = Field(default=None, description="EEO-1 categories; only where the policy asks (GET says)")


class SelfIdQuestions(BaseModel):
    answered: bool = Field(description="the candidate has answered (the answer itself is never sent back)")
    purpose: dict[str, str]
    asked: dict[str, list[str]] = Field(description="question -> choices (prefer_not_to_say last)")


AUDIT_PARAMS = (
    Param("job_id", "query", {"type": "string", "maxLength": 64}, "one job (default: every job)"),
    Param("from", "query", {"type": "string", "format": "date-time"}, "applications received at or after (a date or an ISO time)"),
    Param("to", "query", {"type": "string", "format": "date-time"}, "received before this time (a date: through that day)"),
    Param("format", "query", {"type": "string", "enum": ["json", "csv", "html"]}, "csv: the summary as a sheet (UTF-8 with a BOM); html: a page"),
)


class BiasRoutes(Resource):
    """``/v1/sessions/{id}/self-id`` and ``/v1/audits/bias``."""

    def operations(self) -> list[Operation]:
        self_id = "/v1/sessions/{session_id}/self-id"
        return [
            Operation(
                "GET", self_id, self.self_id_questions, "What the voluntary self-identification asks (after the interview)",
                "bias", auth="candidate", replies={200: Reply("the questions, and whether they were answered", SelfIdQuestions)},
                problems=(401,),
            ),
            Operation(
                "POST", self_id, self.give_self_id, "The candidate's voluntary self-identification (sex, age band, ethnicity where asked)",
                "bias", auth="candidate", body=SelfIdCreate,
                description="Optional, skippable, for the bias audit only: stored apart from everything scoring reads, "
                "never shown to recruiters or reviewers, never sent to a sink. Only the token the candidate's link "
                "exchanged may answer (403 candidate-self-id-only with HR's copy). Posting again replaces the answer.",
                replies={204: Reply("recorded", **NO_BODY)}, problems=(400, 401, 403, 422),
            ),
            Operation(
                "DELETE", self_id, self.withdraw_self_id, "Take the self-identification back", "bias", auth="candidate",
                replies={204: Reply("removed (or there was none)", **NO_BODY)}, problems=(401, 403),
            ),
            Operation(
                "GET", "/v1/audits/bias", self.bias_audit,
                "Bias audit: selection and scoring rates and impact ratios by group (NYC LL144 form)", "bias",
                params=AUDIT_PARAMS,
                description="For admins and auditors (permission bias.read). Per category (sex, age band, ethnicity "
                "where asked) and intersection, for each decision point (screening advance, interview advance, HR "
                "advance): applicants, selected, selection rate, impact ratio against the most selected group; for the "
                "screening and interview scores: the scoring rate (share above the sample's median) and its impact "
                "ratio. Groups under 2 % of a table are listed but left out of the ratios; unknown (no answer, "
                "prefer not to say) is always counted; ratios under 0.8 are flagged. Recorded in the audit trail "
                "(bias.viewed, bias.exported).",
                replies={200: Reply("the audit (JSON), text/csv or text/html")}, problems=(401, 403, 422), perm="bias.read",
            ),
        ]

    # -- the candidate ------------------------------------------------------------------------------
    def _questions(self) -> dict[str, list[str]]:
        asked = {"sex": [*SEX, DECLINED], "age_band": [*AGE_BANDS, DECLINED]}
        if self.ctx.policy.ethnicity_self_id:
            asked["ethnicity"] = [*ETHNICITY, DECLINED]
        return asked

    def _candidate_only(self, request: Request) -> None:
        if not is_exchanged(bearer(request)):
            raise Problem(403, "From the candidate only", "self-identification is the candidate's own, given on their page "
                          "with the token their interview link exchanged, never with HR's copy", slug="candidate-self-id-only")

    async def self_id_questions(self, request: Request) -> Response:
        record = await self.ctx.candidate(request)
        store = self.ctx.store
        answered = await store.run(store.store.self_id_answered, record.id)
        return JSONResponse({"answered": answered, "purpose": PURPOSE, "asked": self._questions()},
                            headers={**self.ctx.cors_headers(request), "Cache-Control": "no-store"})

    async def give_self_id(self, request: Request) -> Response:
        record = await self.ctx.candidate(request)
        self._candidate_only(request)
        spec = parse_body(SelfIdCreate, await json_object(request))
        if spec.ethnicity is not None and not self.ctx.policy.ethnicity_self_id:
            message = f"ethnicity is not asked under the {self.ctx.policy.name} policy"
            raise Problem(422, "Invalid body", f"ethnicity: {message}", errors=[{"field": "ethnicity", "message": message}])
        store = self.ctx.store
        app = await store.run(store.store.application_for_session, record.id)
        candidate_id = record.candidate_id or (app.candidate_id if app is not None else None)
        await store.run(store.store.put_self_id, record.id, application_id=app.id if app is not None else None,
                        candidate_id=candidate_id, sex=spec.sex, age_band=spec.age_band, ethnicity=spec.ethnicity)
        # that it was given, never what: the trail holds ids only
        await self.ctx.audit.record(Actor.candidate(record.id, self.ctx.audit.address(request)), "self_id.given", "session", record.id)
        return Response(status_code=204, headers=self.ctx.cors_headers(request))

    async def withdraw_self_id(self, request: Request) -> Response:
        record = await self.ctx.candidate(request)
        self._candidate_only(request)
        store = self.ctx.store
        removed = await store.run(store.store.delete_self_id, session_id=record.id)
        if removed:
            await self.ctx.audit.record(Actor.candidate(record.id, self.ctx.audit.address(request)), "self_id.withdrawn", "session", record.id)
        return Response(status_code=204, headers=self.ctx.cors_headers(request))

    # -- auditors ----------------------------------------------------------------------------------
    async def bias_audit(self, request: Request) -> Response:
        # Permission "bias.read" (admin and auditor), checked by the router (server/permissions.py).
        q = request.query_params
        fmt = q.get("format") or ("html" if "text/html" in request.headers.get("accept", "") else "json")
        if fmt not in ("json", "csv", "html"):
            raise _invalid("format", "json, csv or html")
        job_id = q.get("job_id") or None
        if job_id is not None and (len(job_id) > 64 or not job_id.isprintable()):
            raise _invalid("job_id", "a job id (at most 64 characters)")
        since, until = _when(q.get("from"), "from", end=False), _when(q.get("to"), "to", end=True)
        if since and until and until <= since:
            raise _invalid("to", "to is not after from")
        store = self.ctx.store
        rows = await store.run(store.store.analytics_rows, job_id=job_id, since=since, until=until)
        answers = await store.run(store.store.self_ids_for_applications, [r.id for r in rows])
        ethnicity = self.ctx.policy.ethnicity_self_id or any(a.ethnicity for a in answers.values())
        categories = ("sex", "age_band", "ethnicity") if ethnicity else ("sex", "age_band")
        intersections = (("sex", "age_band"), ("sex", "ethnicity")) if ethnicity else (("sex", "age_band"),)
        people = [applicant(r, answers[r.id].groups() if r.id in answers else {}, interview_advance_at=INTERVIEW_ADVANCE_AT)
                  for r in rows]
        result = await asyncio.to_thread(audit, people, categories=categories, intersections=intersections)
        generated_at = datetime.now(timezone.utc).isoformat()
        await self.ctx.audit.record(request, "bias.exported" if fmt == "csv" else "bias.viewed", "job", job_id,
                                    count=result.applicants, format=fmt)
        span = {"from": since.isoformat() if since else None, "to": until.isoformat() if until else None}
        if fmt == "csv":
            out = io.StringIO()
            out.write(BOM)
            writer = csv.writer(out, lineterminator="\r\n")
            writer.writerow(["# Candor bias audit (NYC LL144 form)", f"job_id={job_id or 'all'}", f"from={span['from'] or ''}",
                             f"to={span['to'] or ''}", f"applicants={result.applicants}",
                             *(f"unknown_{c}={n}" for c, n in result.unknown.items()), f"generated_at={generated_at}"])
            for row in result.csv_rows():
                writer.writerow(["" if c is None else c for c in row])
            return Response(out.getvalue().encode("utf-8"), media_type="text/csv; charset=utf-8", headers={
                "Content-Disposition": 'attachment; filename="candor-bias-audit.csv"', "Cache-Control": "no-store"})
        if fmt == "html":
            csv_url = "/v1/audits/bias?" + urlencode({**{k: v for k, v in q.items() if k != "format"}, "format": "csv"})
            page = render_audit(result, job_id=job_id, since=span["from"], until=span["to"], generated_at=generated_at,
                                csv_url=csv_url)
            return Response(page, media_type="text/html; charset=utf-8", headers=page_headers())
        body: dict[str, Any] = {
            "job_id": job_id, **span, "generated_at": generated_at,
            "source": "Candor's own decisions on the applications received in the range (historical data); categories "
            "from the candidates' voluntary self-identification after the interview",
            "interview_advance_at": INTERVIEW_ADVANCE_AT,
            **result.to_dict(),
        }
        return JSONResponse(body, headers={"Cache-Control": "no-store"})
