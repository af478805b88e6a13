"""What the route handlers share: one :class:`Context` per app.

``server/app.py`` builds it (and starts and stops what it holds); each
resource's routes (``server/routes/``) take it and read only what they need.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from automation.engine import AutomationEngine
from recordings import Recordings
from db import AsyncStore, SessionRecord
from sinks import Outbox

from .admission import Admission, LoopLagMonitor
from .audit import AuditTrail
from .auth import HrAuth, bearer
from .eventlog import EventWriter, SessionEvents
from .nodes import Nodes, RemoteEvents
from .live import SessionRegistry
from .metrics import Metrics
from .modelgate import ModelGate
from .policy import Policy
from .permissions import UNDECIDED, Principal
from .headers import origin_of
from .problems import Problem
from .reporting import Reporting
from .settings import Settings


@dataclass(eq=False)
class Context:
    settings: Settings
    store: AsyncStore
    writer: EventWriter
    outbox: Outbox
    metrics: Metrics
    hr: HrAuth
    policy: Policy
    models: ModelGate  # models(): the models, or 503 while they load
    sessions: SessionRegistry
    reports: Reporting
    loop_lag: LoopLagMonitor
    admission: Admission
    automation: AutomationEngine
    audit: AuditTrail  # record(request or actor, action, target_type, target_id, **ids): the audit log (server/audit.py)
    openapi_document: dict[str, Any] = field(default_factory=dict)  # set by create_app from the operations
    # Answers' recordings (recordings/): list, read, delete_recordings(session_id) for erasure and retention
    recordings: Recordings | None = None
    # Several nodes (server/nodes.py, docs/deploy.md): None on one box (no CANDOR_REDIS_URL)
    nodes: Nodes | None = None

    def require_hr(self, request: Request) -> None:
        """Signed in as anyone (for code not yet given a permission; the router has checked the operation's already)."""
        if self.hr.cookie_cross_site(request):
            raise Problem(403, "Cross-site request", "a request signed in with the HR cookie must come from Candor's own pages", slug="cross-site")
        if self.hr.resolve_conn(request) is None:
            raise Problem(401, "Unauthorised", "HR sign-in required (Authorization: Bearer <token> or the HR cookie)", headers={"WWW-Authenticate": "Bearer"})

    async def authorize(self, request: Request, perm: str | None) -> Principal:
        """The router's check before every HR operation: who (401), from where (403 cross-site), allowed (403)."""
        if self.hr.cookie_cross_site(request):
            raise Problem(403, "Cross-site request", "a request signed in with the HR cookie must come from Candor's own pages", slug="cross-site")
        principal = await self.hr.principal(request)
        if principal is None:
            raise Problem(401, "Unauthorised", "HR sign-in required (Authorization: Bearer <token> or the HR cookie)", headers={"WWW-Authenticate": "Bearer"})
        request.state.principal = principal
        if not principal.can(perm):
            raise Problem(403, "Forbidden", f"the {principal.role} role may not do this ({perm or UNDECIDED})", slug="forbidden")
        return principal

    def principal(self, request: Request) -> Principal:
        """Who the router let in (set by :meth:`authorize`); for code outside the table, looked up (blocking)."""
        found = getattr(request.state, "principal", None) or self.hr.resolve_conn(request)
        if found is None:
            raise Problem(401, "Unauthorised", "HR sign-in required", headers={"WWW-Authenticate": "Bearer"})
        return found

    def require_job(self, request: Request, job_id: str | None, what: str = "row") -> None:
        """Row scoping: a row of a job this user is not given is answered 404, as if it did not exist."""
        if not self.principal(request).sees_job(job_id):
            raise Problem(404, "Not found", f"no such {what}")

    async def candidate(self, request: Request) -> SessionRecord:
        """The session whose candidate token the request carries (401 otherwise)."""
        session_id = request.path_params["session_id"]
        token = bearer(request)
        if token is None:
            raise Problem(401, "Unauthorised", "send the candidate token as Authorization: Bearer", headers={"WWW-Authenticate": "Bearer"})
        record = await self.store.run(self.store.store.session_for_token, session_id, token)
        if record is None:
            raise Problem(401, "Unauthorised", "the token is not valid for this session", headers={"WWW-Authenticate": "Bearer"})
        if record.expired():
            raise Problem(401, "Token expired", "this session's token has expired; ask for a new interview link", slug="token-expired", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        return record

    def cors_headers(self, request: Request) -> dict[str, str]:
        origin = request.headers.get("origin")
        # Candor's own pages too: with several nodes the candidate page, served from the public URL, posts its
        # offer to another node's own URL after a 307 (server/nodes.py).
        allowed = [*self.settings.cors_origins, origin_of(self.settings.base_url)]
        if not origin or ("*" not in allowed and origin not in allowed):
            return {}
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": "POST, DELETE, OPTIONS, PATCH",
            "Access-Control-Allow-Headers": "Authorization, Content-Type, If-Match",
            "Access-Control-Expose-Headers": "Location, Link, ETag",
            "Vary": "Origin",
        }

    async def session_record(self, session_id: str) -> SessionRecord:
        record = await self.store.run(self.store.store.get_session, session_id)
        if record is None:
            raise Problem(404, "Not found", f"no session {session_id!r}")
        return record

    async def events_for(self, session_id: str) -> SessionEvents | RemoteEvents | None:
        """The session's event stream, with the report listener attached once."""
        return await self.reports.events_for(session_id)

