"""Reports and decisions: a session's report versions (JSON or a page for HR) and the decisions people record on them."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from db import utcnow
from events import INTERVIEW_ENDED, DecisionRecorded
from reports.html import render_report

from .. import rest
from ..openapi import Operation, Param, Reply
from ..problems import Problem
from ..reporting import decision_json, report_json
from ._common import CREATED, ETAG, VERSION, Resource, json_object, page_headers, parse_body, version_param, versioned


class ReportRoutes(Resource):
    """``/v1/sessions/{id}/report``, ``…/report/rebuild`` and ``…/decision``."""

    def operations(self) -> list[Operation]:
        return [
            Operation(
                "GET", "/v1/sessions/{session_id}/report", self.get_report,
                "The session's report: the latest version, or ?version=N", "reports",
                params=(VERSION, Param("format", "query", {"type": "string", "enum": ["json", "html"]},
                                       "html: a page for HR (also chosen by Accept: text/html)")),
                description="Made when the interview ends (version 1); a decision or a rebuild adds a version. "
                "The score and band are a recommendation: a person decides.",
                replies={200: Reply("the version (JSON), or an HTML page", rest.ReportVersion, headers=ETAG)},
                problems=(404, 422), perm="reports.read",
            ),
            Operation(
                "POST", "/v1/sessions/{session_id}/report/rebuild", self.rebuild_report,
                "Rebuild the report from the event log", "reports", body_required=False,
                description="Adds a version (201) when the rebuilt report differs from the latest; else 200 with "
                "the latest. A new version is sent to the sinks as report.ready. A session whose interview has not "
                "ended (and has no report) is 409: there is nothing to report on.",
                replies={
                    200: Reply("unchanged: the latest version", rest.ReportVersion, headers=ETAG),
                    201: Reply("a new version", rest.ReportVersion, headers=CREATED),
                },
                problems=(404, 409), perm="reports.write",
            ),
            Operation(
                "POST", "/v1/sessions/{session_id}/decision", self.record_decision,
                "Record a person's decision: advance, hold or reject", "reports", body=rest.DecisionCreate,
                description="JSON, or a form from the report page (answered 303 back to the page). Publishes "
                "decision.recorded, adds a report version with the decision, and sends both to the sinks.",
                replies={
                    201: Reply("recorded", rest.DecisionInfo),
                    303: Reply("recorded (form post): back to the report page", headers={"Location": "the page"}, media_type=None),
                },
                problems=(400, 404, 409, 422), perm="decisions.write",
            ),
        ]

    async def get_report(self, request: Request) -> Response:
        self.ctx.require_hr(request)
        session_id, version = request.path_params["session_id"], version_param(request)
        self.ctx.require_job(request, (await self.ctx.session_record(session_id)).job_id, "session")
        report = await self.ctx.store.run(self.ctx.store.store.get_report, session_id, version)
        if report is None:
            detail = f"no report version {version}" if version else "no report yet: it is made when the interview ends"
            raise Problem(404, "Not found", detail)
        await self.ctx.audit.record(request, "report.view", "session", session_id, version=report.version)
        if self._wants_html(request):
            html_page = render_report(report.body, version=report.version, session_id=session_id)
            return Response(html_page, media_type="text/html; charset=utf-8", headers={**page_headers(), "ETag": f'"{report.version}"'})
        return versioned(report_json(report), report.version)

    async def rebuild_report(self, request: Request) -> Response:
        self.ctx.require_hr(request)
        session_id = request.path_params["session_id"]
        self.ctx.require_job(request, (await self.ctx.session_record(session_id)).job_id, "session")
        events = await self.ctx.sessions.events_for(session_id)
        if events is not None:
            await events.flush()
        store = self.ctx.store.store
        if await self.ctx.store.run(store.get_report, session_id) is None and not await self.ctx.store.run(
            lambda: store.read_events(session_id, 0, limit=1, types=[INTERVIEW_ENDED])
        ):
            # nothing to report on: a report of an interview never held would reach the HRIS and be decided on
            raise Problem(409, "Interview not held", "this session's interview has not ended: there is nothing to report on",
                          slug="interview-not-held")
        async with self.ctx.reports.lock:
            report, _, written = await self.ctx.reports.write(session_id, unless_same=True)
        await self.ctx.audit.record(request, "report.rebuild", "session", session_id, version=report.version, written=written)
        return versioned(report_json(report), report.version, status=201 if written else 200,
                         location=f"/v1/sessions/{session_id}/report?version={report.version}")

    async def record_decision(self, request: Request) -> Response:
        self.ctx.require_hr(request)
        session_id = request.path_params["session_id"]
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        is_form = content_type in ("application/x-www-form-urlencoded", "multipart/form-data")
        if is_form:
            form = await request.form()
            data: dict[str, Any] = {k: v for k, v in form.items() if k in ("decision", "reason") and isinstance(v, str)}
        else:
            data = await json_object(request)
        spec = parse_body(rest.DecisionCreate, data)
        self.ctx.require_job(request, (await self.ctx.session_record(session_id)).job_id, "session")
        async with self.ctx.reports.lock:
            if await self.ctx.store.run(self.ctx.store.store.get_report, session_id) is None:
                raise Problem(409, "No report yet", "a decision is recorded on a report; the interview has not ended")
            number = len(await self.ctx.store.run(self.ctx.store.store.list_decisions, session_id)) + 1
            events = await self.ctx.events_for(session_id)
            assert events is not None
            decision = DecisionRecorded(
                decision=spec.decision, reason=spec.reason, decided_by=self.ctx.principal(request).user_id, decided_at=utcnow().isoformat(), number=number
            )
            events.publish(None, decision)
            await events.flush()
            report, decided, _ = await self.ctx.reports.write(session_id, decision=(spec.decision, spec.reason, self.ctx.principal(request).user_id))
        assert decided is not None
        await self.ctx.audit.record(request, "session.decide", "session", session_id, decision=decided.decision, number=decided.number, version=report.version)
        if is_form:
            return RedirectResponse(f"/v1/sessions/{session_id}/report?format=html", status_code=303)
        return JSONResponse(decision_json(decided, report.version), status_code=201)

    def _wants_html(self, request: Request) -> bool:
        fmt = request.query_params.get("format")
        if fmt is not None:
            return fmt == "html"
        return "text/html" in request.headers.get("accept", "")
