"""The audit trail for auditors: ``GET /v1/audit`` (filters, cursor pages, CSV) and ``GET /v1/audit/verify``.

Who may read it is decided in one place (:meth:`server.audit.AuditTrail.require_reader`).
Reading the trail is itself recorded (``audit.view``, ``audit.export``, ``audit.verify``).
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, AsyncIterator

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from audit import check_details
from db.audit import AuditQuery

from ..openapi import Operation, Param, Reply
from ..problems import Problem
from ._common import Resource

BOM = "\ufeff"
COLUMNS = ("id", "at", "actor", "role", "action", "target_type", "target_id", "address", "details", "prev_hash", "hash")
CSV_PAGE = 1000
FILTERS = (
    Param("actor", "query", {"type": "string"}, "only this user (hr, system, a session id, a source)"),
    Param("action", "query", {"type": "string"}, "only this action, e.g. resume.view, application.decide"),
    Param("target_type", "query", {"type": "string"}, "only this kind of target: application, session, job..."),
    Param("target_id", "query", {"type": "string"}, "only this target"),
    Param("from", "query", {"type": "string", "format": "date-time"}, "at or after (a date or an ISO time; UTC unless it says)"),
    Param("to", "query", {"type": "string", "format": "date-time"}, "before this time (a date: through that day)"),
)
PAGE = (
    Param("cursor", "query", {"type": "string"}, "next_cursor of the page before"),
    Param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 500}, "at most this many (100)"),
    Param("format", "query", {"type": "string", "enum": ["json", "csv"]}, "csv: every matching entry, oldest first, UTF-8 with a BOM"),
)


def _invalid(field: str, message: str) -> Problem:
    return Problem(422, "Invalid query", f"{field}: {message}", errors=[{"field": field, "message": message}])


def _when(raw: str | None, field: str, *, end: bool) -> datetime | None:
    if raw is None or raw == "":
        return None
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            return datetime.combine(day + timedelta(days=1) if end else day, time(), timezone.utc)
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise _invalid(field, "a date (2026-12-05) or an ISO time (2026-12-05T09:30:00Z)") from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


class AuditRoutes(Resource):
    """``/v1/audit`` and ``/v1/audit/verify``."""

    def operations(self) -> list[Operation]:
        return [
            Operation(
                "GET", "/v1/audit", self.list_audit, "The audit trail: who did what to whom, newest first", "audit",
                params=FILTERS + PAGE,
                description="Sign-ins, views of reports, resumes and applications, decisions, rule and job changes, "
                "exports, replays, contact changes. Each entry: user, role, action, target, time (UTC), address, "
                "details (ids and counts only), and its place in the hash chain (prev_hash, hash). For HR today; "
                "for auditors and admins once accounts have roles. ?format=csv exports every matching entry. "
                "Check the chain with GET /v1/audit/verify.",
                replies={200: Reply("a page of entries and the chain's head (JSON), or text/csv")}, problems=(401, 422), perm="audit.read",
            ),
            Operation(
                "GET", "/v1/audit/verify", self.verify_audit, "Walk the hash chain: is every entry as it was written?",
                "audit", replies={200: Reply("ok, how many entries, the head, or the first entry that does not verify")},
                problems=(401,), perm="audit.read",
            ),
        ]

    def _query(self, request: Request) -> AuditQuery:
        q = request.query_params
        since, until = _when(q.get("from"), "from", end=False), _when(q.get("to"), "to", end=True)
        if since and until and until <= since:
            raise _invalid("to", "to is not after from")
        named = {k: q.get(k) or None for k in ("actor", "action", "target_type", "target_id")}
        for field, value in named.items():
            try:
                check_details({"value": value})
            except ValueError:
                raise _invalid(field, "an id (letters, digits and _.:@/-): the trail holds ids only") from None
        return AuditQuery(**named, since=since, until=until)

    async def list_audit(self, request: Request) -> Response:
        trail = self.ctx.audit
        trail.require_reader(request)
        query = self._query(request)
        q = request.query_params
        fmt = q.get("format", "json")
        if fmt not in ("json", "csv"):
            raise _invalid("format", "json or csv")
        if fmt == "csv":
            await trail.record(request, "audit.export", "audit_log", None, **_filters(query))
            return StreamingResponse(self._csv(query), media_type="text/csv; charset=utf-8", headers={
                "Content-Disposition": 'attachment; filename="candor-audit.csv"', "Cache-Control": "no-store"})
        raw = q.get("limit", "100")
        if not raw.isdigit() or len(raw) > 3 or not 1 <= int(raw) <= 500:
            raise _invalid("limit", "1 to 500")
        cursor = q.get("cursor")
        if cursor is not None and (not cursor.isdigit() or len(cursor) > 18):  # an entry id fits a 64-bit integer
            raise _invalid("cursor", "use next_cursor from the page before")
        limit, store = int(raw), self.ctx.store
        page = replace(query, before=int(cursor) if cursor else None)
        rows = await store.run(store.store.audit_page, page, limit + 1)
        head_id, head_hash = await store.run(store.store.audit_head)
        more = len(rows) > limit
        rows = rows[:limit]
        await trail.record(request, "audit.view", "audit_log", None, **_filters(query), entries=len(rows))
        return JSONResponse({
            "entries": [r.to_dict() for r in rows],
            "next_cursor": str(rows[-1].id) if more else None,
            "head": {"id": head_id, "hash": head_hash},
            "verify": "/v1/audit/verify",
        }, headers={"Cache-Control": "no-store"})

    async def _csv(self, query: AuditQuery) -> AsyncIterator[bytes]:
        store = self.ctx.store.store
        yield BOM.encode("utf-8") + _csv_line(COLUMNS)
        after = 0
        while True:
            page = replace(query, after=after)
            # A read on its own thread and connection: a long export does not hold up the store's writes.
            rows = await asyncio.to_thread(store.audit_page, page, CSV_PAGE, newest_first=False)
            for r in rows:
                d = r.to_dict()
                yield _csv_line([d[c] if c != "details" else _details(d[c]) for c in COLUMNS])
            if len(rows) < CSV_PAGE:
                return
            after = rows[-1].id

    async def verify_audit(self, request: Request) -> Response:
        trail = self.ctx.audit
        trail.require_reader(request)
        result = await asyncio.to_thread(self.ctx.store.store.verify_audit)  # its own connection, off the store's thread
        await trail.record(request, "audit.verify", "audit_log", None, ok=result.ok, entries=result.entries)
        return JSONResponse({**result.to_dict(), "verified": result.ok, "message": result.message(),
                             "checked_at": datetime.now(timezone.utc).isoformat()}, headers={"Cache-Control": "no-store"})


def _filters(query: AuditQuery) -> dict[str, Any]:
    """The filters as details (ids only: the times are left out)."""
    named = {"filter_actor": query.actor, "filter_action": query.action, "filter_target_type": query.target_type,
             "filter_target_id": query.target_id}
    return {k: v for k, v in named.items() if v is not None}


def _details(details: dict[str, Any]) -> str:
    return json.dumps(details, sort_keys=True, separators=(",", ":")) if details else ""


def _csv_line(cells: Any) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(["" if c is None else c for c in cells])
    return out.getvalue().encode("utf-8")
