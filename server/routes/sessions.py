"""Sessions: HR create one (free talk, or a job's structured interview with its exact versions), list and show them."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from db import BankRecord, JobRecord, SessionRecord, utcnow
from events import SessionCreated
from interview.personalise import personalise

from .. import rest
from ..auth import new_token
from ..openapi import Operation, Reply
from ..permissions import for_reviewer
from ..problems import Problem
from ._common import Resource, json_object, parse_body, unknown


class SessionRoutes(Resource):
    """``/v1/sessions`` and ``/v1/sessions/{session_id}``."""

    def operations(self) -> list[Operation]:
        return [
            Operation(
                "POST", "/v1/sessions", self.create_session, "Create a session", "sessions",
                body=rest.SessionCreate, body_required=False,
                description="An empty body or {} makes a free-talk session. With job_id (and optionally bank_id, "
                "versions and a candidate profile) the session runs that job's structured interview and records "
                "the exact job and bank versions. An unknown job or bank is 422 naming the field.",
                replies={201: Reply("created", rest.SessionCreated, headers={"Location": "the session's URL"})},
                problems=(400, 422), perm="sessions.write",
            ),
            Operation(
                "GET", "/v1/sessions", self.list_sessions, "List sessions", "sessions",
                replies={200: Reply("the latest 100 sessions (no candidate profiles)", rest.SessionList)}, perm="sessions.read",
            ),
            Operation(
                "GET", "/v1/sessions/{session_id}", self.get_session, "Show a session, with its candidate profile",
                "sessions", replies={200: Reply("the session", rest.SessionInfo)}, problems=(404,), perm="sessions.read",
            ),
        ]

    async def create_session(self, request: Request) -> Response:
        self.ctx.require_hr(request)
        spec = parse_body(rest.SessionCreate, await json_object(request, empty_ok=True))
        body_out = await self.open(spec)
        return JSONResponse(body_out, status_code=201, headers={"Location": f"/v1/sessions/{body_out['id']}"})

    async def open(self, spec: rest.SessionCreate, ttl_s: int | None = None) -> dict[str, Any]:
        """Make a session (an application's invite makes one too); its ``SessionCreated`` body."""
        job, bank = await self.ctx.store.run(self._interview_for, spec)
        candidate = spec.candidate
        if spec.candidate_id is not None:
            found = await self.ctx.store.run(self.ctx.store.store.get_candidate, spec.candidate_id)
            if found is None:
                raise unknown("candidate_id", f"no candidate {spec.candidate_id!r}; POST /v1/candidates makes one")
            candidate = found.candidate_profile()
        session_id = secrets.token_urlsafe(12)
        candidate_token = new_token()
        code = new_token(16)
        expires_at = utcnow() + timedelta(seconds=ttl_s or self.ctx.settings.session_ttl_s)
        record = await self.ctx.store.run(
            self.ctx.store.store.create_session,
            session_id=session_id,
            expires_at=expires_at,
            candidate_token=candidate_token,
            invite_code=code,
            job=job,
            bank=bank,
            candidate=candidate,
            candidate_id=spec.candidate_id,
        )
        events = await self.ctx.events_for(session_id)
        assert events is not None
        refs = _session_refs(record)
        # The versions go into the log (a report is rebuilt from it); the
        # candidate profile does not.
        created = SessionCreated(expires_at=record.expires_at.isoformat())
        if job is not None or bank is not None:
            choices = personalise(bank.bank().questions, candidate)[1] if bank is not None else []
            alternatives = tuple(c.to_dict() for c in choices) or None
            created = SessionCreated(expires_at=created.expires_at, alternatives=alternatives, **refs)
        events.publish(None, created)
        return {
            "id": session_id,
            **self.urls(session_id, code),
            "candidate_token": candidate_token,
            "expires_at": record.expires_at.isoformat(),
            **refs,
        }

    async def list_sessions(self, request: Request) -> Response:
        self.ctx.require_hr(request)
        records = await self.ctx.store.run(self.ctx.store.store.list_sessions)
        principal = self.ctx.principal(request)  # row scoping: the user's jobs only
        records = [r for r in records if principal.sees_job(r.job_id)]
        connected = await self._connected([r for r in records if not r.expired()])
        return JSONResponse({"sessions": [self._session_json(r, connected=r.id in connected) for r in records]})

    async def get_session(self, request: Request) -> Response:
        self.ctx.require_hr(request)
        record = await self.ctx.session_record(request.path_params["session_id"])
        principal = self.ctx.principal(request)
        self.ctx.require_job(request, record.job_id, "session")
        body = self._session_json(record, with_candidate=True, connected=bool(await self._connected([record])))
        if "candidate" in body and principal.role == "reviewer":  # no contact data for reviewers (server/permissions.py)
            body["candidate"] = for_reviewer(body["candidate"])
        consent = await self.ctx.sessions.consent(record.id)
        body["consent"] = consent.public() if consent is not None else None
        return JSONResponse(body)

    def _interview_for(self, spec: rest.SessionCreate) -> tuple[JobRecord | None, BankRecord | None]:
        """The exact job and bank versions a new session runs (blocking: the store's thread)."""
        store = self.ctx.store.store
        job: JobRecord | None = None
        bank: BankRecord | None = None
        if spec.bank_id is not None:
            bank = store.get_bank(spec.bank_id, spec.bank_version)
            if bank is None:
                raise _missing("bank", spec.bank_id, spec.bank_version, exists=store.get_bank(spec.bank_id) is not None)
        if spec.job_id is not None:
            job = store.get_job(spec.job_id, spec.job_version)
            if job is None:
                raise _missing("job", spec.job_id, spec.job_version, exists=store.get_job(spec.job_id) is not None)
            if bank is None:
                bank = store.default_bank(job.id)
                if bank is None:
                    raise unknown("bank_id", f"job {job.id!r} has no question bank; create one or give bank_id")
            elif bank.job_id != job.id:
                raise unknown("bank_id", f"bank {bank.id!r} is for job {bank.job_id!r}, not {job.id!r}")
        elif bank is not None:
            job = store.get_job(bank.job_id)
            if job is None:
                raise unknown("bank_id", f"bank {bank.id!r} is for job {bank.job_id!r}, which does not exist")
        return job, bank

    async def _connected(self, records: list[SessionRecord]) -> set[str]:
        """Which of ``records`` have their candidate connected now: to this node, or (several nodes) to any."""
        ids = [r.id for r in records]
        if self.ctx.nodes is not None:
            return await self.ctx.nodes.connected(ids)
        return {s for s in ids if self.ctx.sessions.is_connected(s)}

    def _session_json(self, record: SessionRecord, *, with_candidate: bool = False, connected: bool = False) -> dict[str, Any]:
        out = {
            "id": record.id,
            "created_at": record.created_at.isoformat(),
            "expires_at": record.expires_at.isoformat(),
            "state": "expired" if record.expired() else record.state,
            "connected": connected,
            "policy": self.ctx.policy.name,
            **_session_refs(record),
        }
        if with_candidate and record.candidate is not None:  # personal data: this GET only
            out["candidate"] = record.candidate
        return out

    def urls(self, session_id: str, code: str) -> dict[str, str]:
        base = self.ctx.settings.base_url
        ws = "wss" + base[5:] if base.startswith("https") else "ws" + base[4:]
        return {
            "candidate_url": f"{base}/interview#code={code}",
            "whip_url": f"{base}/whip/{session_id}",
            "watch_url": f"{base}/hr/sessions/{session_id}",
            "events_url": f"{ws}/v1/sessions/{session_id}/events",
        }


def _missing(kind: str, key: str, version: int | None, *, exists: bool) -> Problem:
    """422 for a session naming a job or bank (version) that is not there."""
    if version is not None and exists:
        return unknown(f"{kind}_version", f"{kind} {key!r} has no version {version}")
    return unknown(f"{kind}_id", f"no {kind} {key!r}")


def _session_refs(record: SessionRecord) -> dict[str, Any]:
    return {
        "job_id": record.job_id,
        "job_version": record.job_version,
        "bank_id": record.bank_id,
        "bank_version": record.bank_version,
        "candidate_id": record.candidate_id,
    }
