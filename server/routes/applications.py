"""Applications: resumes in (one, a batch, a job board's push), explained screening, the pipeline, invites.

Personal data (the resume, the parsed profile) is read only through this HR
API and never logged. Every step an application takes is an entry on its
timeline; nothing is rejected without a person (applications/pipeline.py).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import io
import json
import logging
import os
import secrets
import tempfile
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from applications import service
from applications.pipeline import TransitionError, apply
from applications.pipeline import Status as PipelineStatus
from db import ApplicationRecord, BatchRecord, JobRecord
from intake.extract import MAX_BYTES, ResumeError
from screening import Screener

from .. import rest
from ..audit import SYSTEM, Actor
from ..openapi import Operation, Param, Reply
from ..problems import Problem
from ._common import Resource, json_object, parse_body, unknown
from .sessions import SessionRoutes

log = logging.getLogger(__name__)

HR_ACTOR = "hr"  # a person in HR: the timeline entry's actor; actor_id is the signed-in user's id
SIGNATURE = "X-Candor-Signature"  # sha256=<hex HMAC-SHA256 of the raw body>
MULTIPART_OVERHEAD = 64 * 1024  # form fields and boundaries around the resume
RESUME_FORM = {
    "type": "object",
    "required": ["job_id", "resume"],
    "properties": {
        "job_id": {"type": "string"},
        "resume": {"type": "string", "format": "binary", "description": "PDF, DOCX or TXT, at most 10 MB"},
        "source": {"type": "string"},
        "external_id": {"type": "string"},
    },
}


def contact_key(settings: Any) -> bytes:
    """The key of the contact hashes: the setting, or one kept in var/contact-key (made once, mode 0600)."""
    if settings.contact_key is not None:
        return settings.contact_key.get_secret_value().encode()
    path = Path("var/contact-key")
    if path.is_file():
        return path.read_text().strip().encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key.encode()


def _resume_problem(exc: ResumeError) -> Problem:
    status = 413 if exc.code == "too_large" else 422
    return Problem(status, "Resume not read", str(exc), slug=f"resume-{exc.code.replace('_', '-')}", code=exc.code)


class ApplicationRoutes(Resource):
    """``/v1/applications`` and ``/v1/inbound/applications/{source}``."""

    _screeners: dict[int, Screener] = {}
    _batches: set[asyncio.Task[Any]] = set()

    def operations(self) -> list[Operation]:
        app_id = "/v1/applications/{application_id}"
        return [
            Operation(
                "POST", "/v1/applications", self.create_application, "Take an application: a resume for a job",
                "applications", body=rest.ApplicationCreate, other_bodies={"multipart/form-data": RESUME_FORM},
                description="multipart/form-data with job_id and the resume file (PDF, DOCX or TXT, at most 10 MB; "
                "its type is read from its bytes), or JSON with resume_text. The resume is parsed (each field with "
                "the text it came from) and screened against the job's latest version, row by row. The same person "
                "(same phone or e-mail) applying again for the same job answers 200 with the first application, "
                "the attempt added to its duplicates. A bad file is a problem with its code: empty, too_large (413), "
                "unsupported_type, corrupt, encrypted.",
                replies={201: Reply("taken and screened", rest.ApplicationInfo, headers={"Location": "its URL"}),
                         200: Reply("a duplicate: the first application", rest.ApplicationInfo)},
                problems=(400, 411, 413, 415, 422, 503), perm="applications.write",
            ),
            Operation(
                "GET", "/v1/applications", self.list_applications, "List applications (a page)", "applications",
                params=(
                    Param("job_id", "query", {"type": "string"}),
                    Param("state", "query", {"type": "string"}, "applied, screened, invited, interviewing, interviewed, decided, withdrawn"),
                    Param("outcome", "query", {"type": "string"}, "advance, review, pool (screened); advance, hold, reject (decided)"),
                    Param("q", "query", {"type": "string"}, "a whole name (spaces and case ignored), part of an external id, or an application id"),
                    Param("sort", "query", {"type": "string"}, "-created_at (default), created_at, -score, score"),
                    Param("cursor", "query", {"type": "string"}, "next_cursor of the page before"),
                    Param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 200}),
                ),
                replies={200: Reply("one page, and the counts per state", rest.ApplicationList)}, problems=(422,), perm="applications.read",
            ),
            Operation(
                "POST", "/v1/applications/batch", self.create_batch, "Upload many resumes for one job", "applications",
                body="application/zip", other_bodies={"application/x-ndjson": {"type": "string", "description": "one ApplicationCreate per line"}},
                params=(Param("job_id", "query", {"type": "string"}, required=True), Param("source", "query", {"type": "string"})),
                description="A ZIP of resumes (or JSON lines, one {resume_text, external_id, filename} each) for one job. "
                "Answers 202 at once; the files are read one by one, each an application, a duplicate or its own "
                "error, never the batch's. Follow progress at the Location.",
                replies={202: Reply("accepted", rest.BatchInfo, headers={"Location": "the batch's URL"})},
                problems=(400, 411, 413, 415, 422), perm="applications.write",
            ),
            Operation(
                "GET", "/v1/applications/batch/{batch_id}", self.get_batch, "A batch's progress and each file's result",
                "applications", replies={200: Reply("the batch", rest.BatchInfo)}, problems=(404,), perm="applications.read",
            ),
            Operation(
                "POST", "/v1/applications/bulk", self.bulk, "One action on many applications", "applications",
                body=rest.BulkAction, replies={200: Reply("one result per id, as the single call would answer", rest.BulkResults)},
                problems=(400, 422), perm="applications.write",
            ),
            Operation(
                "GET", app_id, self.get_application, "Show an application: parsed resume, screening, state",
                "applications", replies={200: Reply("the application", rest.ApplicationInfo)}, problems=(404,), perm="applications.read",
            ),
            Operation(
                "GET", app_id + "/resume", self.get_resume, "The resume's text and every parsed field with its evidence",
                "applications", replies={200: Reply("text and fields", None)}, problems=(404,), perm="applications.personal",
            ),
            Operation(
                "GET", app_id + "/timeline", self.get_timeline, "Every step the application took: what, who, when, why",
                "applications", replies={200: Reply("the timeline", rest.Timeline)}, problems=(404,), perm="applications.read",
            ),
            Operation(
                "POST", app_id + "/invite", self.invite, "Invite to the job's interview (makes the session)",
                "applications", body_required=False,
                replies={200: Reply("invited: the session and the candidate's link", rest.ApplicationInfo)},
                problems=(404, 409, 422), perm="applications.write",
            ),
            Operation(
                "POST", app_id + "/decide", self.decide, "A person's decision: advance, hold or reject",
                "applications", body=rest.ApplicationAction, replies={200: Reply("decided", rest.ApplicationInfo)},
                problems=(404, 409, 422), perm="decisions.write",
            ),
            Operation(
                "POST", app_id + "/confirm-pool", self.confirm_pool, "Confirm a pooled application: rejected by a person",
                "applications", body=rest.ApplicationAction, body_required=False,
                replies={200: Reply("rejected", rest.ApplicationInfo)}, problems=(404, 409), perm="decisions.write",
            ),
            Operation(
                "POST", app_id + "/withdraw", self.withdraw, "The candidate withdrew", "applications",
                body=rest.ApplicationAction, body_required=False,
                replies={200: Reply("withdrawn", rest.ApplicationInfo)}, problems=(404, 409), perm="applications.write",
            ),
            Operation(
                "POST", "/v1/inbound/applications/{source}", self.inbound, "A job board pushes an application",
                "applications", auth=None, body=rest.InboundApplication,
                params=(Param(SIGNATURE, "header", {"type": "string"}, "sha256=<hex HMAC-SHA256 of the raw body with the source's secret>", required=True),),
                description="Signed with the source's secret (CANDOR_INBOUND_SECRETS). The same delivery_id again "
                "gets the first answer, whatever the body.",
                replies={201: Reply("taken", rest.ApplicationInfo), 200: Reply("a duplicate or a replay", rest.ApplicationInfo)},
                problems=(400, 401, 404, 413, 422, 503),
            ),
        ]

    # -- taking applications in ---------------------------------------------------
    async def create_application(self, request: Request) -> Response:
        self.ctx.require_hr(request)
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind == "multipart/form-data":
            length = request.headers.get("content-length")
            if length is None:
                raise Problem(411, "Length required", "send the upload with a Content-Length")
            if int(length) > MAX_BYTES + MULTIPART_OVERHEAD:
                raise _resume_problem(ResumeError("too_large", f"the resume is larger than {MAX_BYTES // 2**20} MB"))
            async with request.form(max_files=1, max_fields=10) as form:
                upload = form.get("resume")
                if not isinstance(upload, UploadFile):
                    raise unknown("resume", "attach the resume as the form's 'resume' file")
                job_id = str(form.get("job_id") or "")
                source = _text(form.get("source"))
                external_id = _text(form.get("external_id"))
                job = await self._job(job_id, request)
                record, created = await self._take(
                    job, upload.file, upload.filename, None, source=source, external_id=external_id, actor=HR_ACTOR
                )
        elif kind in ("application/json", ""):
            spec = parse_body(rest.ApplicationCreate, await json_object(request))
            job = await self._job(spec.job_id, request)
            record, created = await self._take(
                job, None, None, spec.resume_text, source=spec.source, external_id=spec.external_id, actor=HR_ACTOR
            )
        else:
            raise Problem(415, "Unsupported media type", "send multipart/form-data with the resume file, or JSON with resume_text")
        body = await self._json(record)
        await self.ctx.audit.record(request, "application.create", "application", record.id, job=record.job_id, created=created)
        if created:
            return JSONResponse(body, status_code=201, headers={"Location": f"/v1/applications/{record.id}"})
        return JSONResponse(body)

    async def _job(self, job_id: str, request: Request | None = None) -> JobRecord:
        """The job (422 when there is none); with an HR request, one of the user's jobs (row scoping)."""
        job = await self.ctx.store.run(self.ctx.store.store.get_job, job_id) if job_id else None
        if job is not None and request is not None and not self.ctx.principal(request).sees_job(job.id):
            job = None
        if job is None:
            raise unknown("job_id", f"no job {job_id!r}" if job_id else "job_id is required")
        return job

    async def _take(
        self,
        job: JobRecord,
        source_file: BinaryIO | bytes | None,
        filename: str | None,
        text: str | None,
        *,
        source: str | None,
        external_id: str | None,
        actor: str,
    ) -> tuple[ApplicationRecord, bool]:
        """Read, screen and keep one resume (``ResumeError`` passes up for the caller to answer)."""
        try:
            read = await asyncio.to_thread(service.read_resume, source_file, filename, text=text)
        except ResumeError as exc:
            raise _resume_problem(exc) from None
        result = await self._screen(job, read)
        record, created = await self.ctx.store.run(
            service.keep, self.ctx.store.store, job=job, read=read, result=result,
            contact_key=self._contact_key(), source=source, external_id=external_id, actor=actor,
        )
        if created:  # how to reach the candidate: the resume's e-mail and phone (db/contacts.py)
            await self.ctx.store.run(self.ctx.store.store.contacts_from_resume, record.id, record.parsed)
        return record, created

    def _contact_key(self) -> bytes:
        key = getattr(self, "_key", None)
        if key is None:
            key = self._key = contact_key(self.ctx.settings)  # read (or made) once
        return key

    async def _screen(self, job: JobRecord, read: service.ReadResume) -> Any:
        models = self.ctx.models()  # 503 while the models load
        encoder = models.encoder
        screener = self._screeners.get(id(encoder))
        if screener is None:
            from screening.resume import screener as make_screener

            screener = self._screeners[id(encoder)] = await asyncio.to_thread(make_screener, encoder)
        if encoder is None:  # content scoring is off: vocabulary and words only
            return await asyncio.to_thread(service.screen, screener, job.job(), read)
        return await encoder.call(service.screen, screener, job.job(), read)

    # -- batches ------------------------------------------------------------------
    async def create_batch(self, request: Request) -> Response:
        self.ctx.require_hr(request)
        job = await self._job(request.query_params.get("job_id", ""), request)
        source = request.query_params.get("source") or "upload"
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind not in ("application/zip", "application/x-zip-compressed", "application/x-ndjson", "application/jsonl"):
            raise Problem(415, "Unsupported media type", "send a ZIP of resumes (application/zip) or JSON lines (application/x-ndjson)")
        limit = self.ctx.settings.batch_max_bytes
        length = request.headers.get("content-length")
        if length is not None and int(length) > limit:
            raise Problem(413, "Batch too large", f"a batch is at most {limit // 2**20} MB")
        spool = tempfile.SpooledTemporaryFile(max_size=8 * 2**20)
        total = 0
        async for chunk in request.stream():
            total += len(chunk)
            if total > limit:
                spool.close()
                raise Problem(413, "Batch too large", f"a batch is at most {limit // 2**20} MB")
            spool.write(chunk)
        spool.seek(0)
        try:
            items = _zip_items(spool, self.ctx.settings.batch_max_files) if "zip" in kind else _jsonl_items(spool, self.ctx.settings.batch_max_files)
        except ValueError as exc:
            spool.close()
            raise Problem(422, "Batch not read", str(exc))
        files = [{"index": i, "filename": name, "status": "pending"} for i, (name, _) in enumerate(items)]
        batch = await self.ctx.store.run(self.ctx.store.store.create_batch, job.id, files)
        task = asyncio.get_running_loop().create_task(self._run_batch(batch, job, items, spool, source), name=f"batch:{batch.id}")
        self._batches.add(task)
        task.add_done_callback(self._batches.discard)
        return JSONResponse(_batch_json(batch), status_code=202, headers={"Location": f"/v1/applications/batch/{batch.id}"})

    async def _run_batch(self, batch: BatchRecord, job: JobRecord, items: list[tuple[str | None, Any]], spool: Any, source: str) -> None:
        store = self.ctx.store
        try:
            for index, (name, open_item) in enumerate(items):
                result: dict[str, Any] = {"index": index, "filename": name}
                try:
                    data, text, external_id = open_item()
                    record, created = await self._take(job, data, name, text, source=source, external_id=external_id, actor="system")
                    result.update(status="ok" if created else "duplicate", application_id=record.id)
                except Problem as exc:
                    result.update(status="error", error={"code": exc.extra.get("code", exc.slug), "message": exc.detail})
                except ResumeError as exc:
                    result.update(status="error", error=exc.to_dict())
                except Exception as exc:  # one file's failure is never the batch's
                    log.exception("batch %s: file %d failed", batch.id, index)
                    result.update(status="error", error={"code": "failed", "message": type(exc).__name__})
                await store.run(store.store.update_batch_file, batch.id, index, result)
        finally:
            spool.close()
            await store.run(store.store.finish_batch, batch.id)

    async def get_batch(self, request: Request) -> Response:
        self.ctx.require_hr(request)
        batch_id = request.path_params["batch_id"]
        batch = await self.ctx.store.run(self.ctx.store.store.get_batch, batch_id)
        if batch is None or not self.ctx.principal(request).sees_job(batch.job_id):
            raise Problem(404, "Not found", f"no batch {batch_id!r}")
        return JSONResponse(_batch_json(batch))

    # -- reading ------------------------------------------------------------------
    async def list_applications(self, request: Request) -> Response:
        self.ctx.require_hr(request)
        q = request.query_params
        try:
            limit = max(1, min(200, int(q.get("limit", "50"))))
        except ValueError:
            raise unknown("limit", "limit is a whole number from 1 to 200")
        store = self.ctx.store.store
        seen = self.ctx.principal(request).job_ids  # row scoping: None (every job) or the user's jobs

        def page() -> tuple[list[dict[str, Any]], str | None, dict[str, int]]:
            records, next_cursor = store.list_applications(
                job_id=q.get("job_id"), job_ids=seen, state=q.get("state"), outcome=q.get("outcome"), q=q.get("q"),
                sort=q.get("sort", "-created_at"), cursor=q.get("cursor"), limit=limit,
            )
            return [_summary(store, r) for r in records], next_cursor, store.counts_by_state(q.get("job_id"), seen)

        try:
            rows, next_cursor, counts = await self.ctx.store.run(page)
        except ValueError as exc:
            field = "cursor" if "cursor" in str(exc) else "sort"
            raise unknown(field, str(exc))
        return JSONResponse({"applications": rows, "next_cursor": next_cursor, "counts": counts})

    async def get_application(self, request: Request) -> Response:
        self.ctx.require_hr(request)
        record = await self._application(request)
        await self.ctx.audit.record(request, "application.view", "application", record.id)
        return JSONResponse(await self._json(record))

    async def get_resume(self, request: Request) -> Response:
        self.ctx.require_hr(request)
        record = await self._application(request)
        text = await self.ctx.store.run(self.ctx.store.store.resume_text, record.id)
        await self.ctx.audit.record(request, "resume.view", "application", record.id)
        return JSONResponse({"application_id": record.id, "text": text, "parsed": record.parsed, "resume": record.resume})

    async def get_timeline(self, request: Request) -> Response:
        self.ctx.require_hr(request)
        record = await self._application(request)
        entries = await self.ctx.store.run(self.ctx.store.store.timeline, record.id)
        return JSONResponse({"application_id": record.id, "entries": entries})

    async def _application(self, request: Request) -> ApplicationRecord:
        application_id = request.path_params["application_id"]
        record = await self.ctx.store.run(self.ctx.store.store.get_application, application_id)
        if record is None or not self.ctx.principal(request).sees_job(record.job_id):  # row scoping: another job's is not there
            raise Problem(404, "Not found", f"no application {application_id!r}")
        return record

    async def _json(self, record: ApplicationRecord) -> dict[str, Any]:
        store = self.ctx.store.store

        def read() -> tuple[Any, list[dict[str, Any]]]:
            return store.get_candidate(record.candidate_id), store.timeline(record.id)

        candidate, timeline = await self.ctx.store.run(read)
        invites = [e for e in timeline if e.get("action") == "invite"]
        return {
            "id": record.id,
            "job_id": record.job_id,
            "job_version": record.job_version,
            "state": record.state,
            "outcome": record.outcome,
            "candidate": {"id": record.candidate_id, "profile": candidate.profile if candidate else None},
            "resume": record.resume,
            "screening": record.screening,
            "source": record.source,
            "external_id": record.external_id,
            "session_id": record.session_id,
            "invite_url": invites[-1]["details"].get("candidate_url") if invites else None,
            "duplicates": record.duplicates,
            "created_at": record.created_at.isoformat(),
            "updated_at": record.updated_at.isoformat(),
        }

    # -- a person's steps -----------------------------------------------------------
    async def invite(self, request: Request) -> Response:
        self.ctx.require_hr(request)
        record = await self._application(request)
        invited = await self._invite(record)
        await self.ctx.audit.record(request, "application.invite", "application", record.id, session=invited.session_id)
        return JSONResponse(await self._json(invited))

    async def _invite(
        self, record: ApplicationRecord, actor: str = HR_ACTOR, extra: dict[str, Any] | None = None
    ) -> ApplicationRecord:
        """Make the interview session and move the application to invited (HR's button, or a rule's action)."""
        refused = _refusal(record, "invite", actor)
        if refused is not None:
            raise refused
        session = await SessionRoutes(self.ctx).open(
            rest.SessionCreate(job_id=record.job_id, candidate_id=record.candidate_id), ttl_s=self.ctx.settings.invite_ttl_s
        )
        details = {"session_id": session["id"], "candidate_url": session["candidate_url"], "watch_url": session["watch_url"],
                   **(extra or {})}
        moved = await self._move(record, "invite", actor, details=details, session_id=session["id"])
        if actor == "system":  # a rule invited (HR's invites are recorded with their request)
            await self.ctx.audit.record(SYSTEM, "application.invite", "application", record.id, session=session["id"], rule=(extra or {}).get("rule"), automation_action=(extra or {}).get("automation_action"))
        return moved

    async def decide(self, request: Request) -> Response:
        self.ctx.require_hr(request)
        spec = parse_body(rest.ApplicationAction, await json_object(request))
        if spec.decision is None:
            raise unknown("decision", "decision is one of advance, hold, reject")
        record = await self._application(request)
        moved = await self._move(record, "decide", HR_ACTOR, outcome=spec.decision, reason=spec.reason,
                                 actor_id=self.ctx.principal(request).user_id)
        await self.ctx.audit.record(request, "application.decide", "application", record.id, decision=spec.decision, state=moved.state)
        return JSONResponse(await self._json(moved))

    async def confirm_pool(self, request: Request) -> Response:
        self.ctx.require_hr(request)
        spec = parse_body(rest.ApplicationAction, await json_object(request, empty_ok=True))
        record = await self._application(request)
        moved = await self._move(record, "confirm_pool", HR_ACTOR, reason=spec.reason or "pool confirmed",
                                 actor_id=self.ctx.principal(request).user_id)
        await self.ctx.audit.record(request, "application.confirm_pool", "application", record.id, state=moved.state, outcome=moved.outcome)
        return JSONResponse(await self._json(moved))

    async def withdraw(self, request: Request) -> Response:
        self.ctx.require_hr(request)
        spec = parse_body(rest.ApplicationAction, await json_object(request, empty_ok=True))
        record = await self._application(request)
        moved = await self._move(record, "withdraw", HR_ACTOR, reason=spec.reason, actor_id=self.ctx.principal(request).user_id)
        await self.ctx.audit.record(request, "application.withdraw", "application", record.id, state=moved.state)
        return JSONResponse(await self._json(moved))

    async def _move(
        self,
        record: ApplicationRecord,
        action: str,
        actor: str,
        *,
        outcome: str | None = None,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
        session_id: str | None = None,
        actor_id: str | None = None,
    ) -> ApplicationRecord:
        try:
            status, entry = apply(
                PipelineStatus(record.state, record.outcome),  # type: ignore[arg-type]
                action, actor=actor, actor_id=(actor_id or HR_ACTOR) if actor == "hr" else None, at=datetime.now(timezone.utc),
                outcome=outcome, reason=reason, details=details,
            )
        except TransitionError as exc:
            raise Problem(409, "Not allowed now", str(exc), slug="transition", state=exc.state, action=exc.action)
        moved = await self.ctx.store.run(
            self.ctx.store.store.move_application, record.id, expect_state=record.state, state=status.state,
            outcome=status.outcome, entry=entry.to_dict(), session_id=session_id,
        )
        if moved is None:
            raise Problem(409, "Changed meanwhile", "the application moved on while this request ran; read it again", slug="transition")
        return moved

    async def bulk(self, request: Request) -> Response:
        self.ctx.require_hr(request)
        spec = parse_body(rest.BulkAction, await json_object(request))
        if spec.action == "decide" and spec.decision is None:
            raise unknown("decision", "decision is one of advance, hold, reject")
        store = self.ctx.store.store
        results = []
        for application_id in dict.fromkeys(spec.ids):
            record = await self.ctx.store.run(store.get_application, application_id)
            if record is None or not self.ctx.principal(request).sees_job(record.job_id):
                results.append({"id": application_id, "ok": False, "status": 404,
                                "error": {"title": "Not found", "detail": f"no application {application_id!r}"}})
                continue
            try:
                if spec.action == "invite":
                    moved = await self._invite(record)
                else:
                    moved = await self._move(
                        record, spec.action, HR_ACTOR, outcome=spec.decision if spec.action == "decide" else None,
                        reason=spec.reason or ("pool confirmed" if spec.action == "confirm_pool" else None),
                        actor_id=self.ctx.principal(request).user_id,
                    )
            except Problem as exc:
                results.append({"id": application_id, "ok": False, "status": exc.status,
                                "error": {"title": exc.title, "detail": exc.detail}})
                continue
            await self.ctx.audit.record(request, f"application.{spec.action}", "application", application_id, bulk=True, decision=spec.decision if spec.action == "decide" else None, state=moved.state)
            summary = await self.ctx.store.run(_summary, store, moved)
            results.append({"id": application_id, "ok": True, "status": 200, "application": summary})
        return JSONResponse({"results": results})

    # -- job boards --------------------------------------------------------------------
    async def inbound(self, request: Request) -> Response:
        source = request.path_params["source"]
        secret = self.ctx.settings.inbound_secrets.get(source)
        if secret is None:
            raise Problem(404, "Not found", f"no inbound source {source!r}")
        raw = await request.body()
        if len(raw) > MAX_BYTES * 4 // 3 + MULTIPART_OVERHEAD:
            raise Problem(413, "Too large", "the delivery is larger than a 10 MB resume")
        given = request.headers.get(SIGNATURE, "")
        expected = "sha256=" + hmac.new(secret.get_secret_value().encode(), raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise Problem(401, "Bad signature", f"{SIGNATURE} is not the HMAC-SHA256 of the body with this source's secret")
        try:
            data = json.loads(raw)
        except ValueError:
            raise Problem(400, "Malformed JSON", "the request body is not JSON")
        delivery_id = data.get("delivery_id") if isinstance(data, dict) else None
        store = self.ctx.store.store
        if isinstance(delivery_id, str) and delivery_id:
            first = await self.ctx.store.run(store.inbound_answer, source, delivery_id)
            if first is not None:
                return JSONResponse(first[1], status_code=first[0])
        spec = parse_body(rest.InboundApplication, data)
        if (spec.resume_text is None) == (spec.resume_base64 is None):
            raise unknown("resume_text", "give resume_text or resume_base64 (one of them)")
        job = await self._job(spec.job_id)
        try:
            content = base64.b64decode(spec.resume_base64, validate=True) if spec.resume_base64 is not None else None
        except (binascii.Error, ValueError):
            raise unknown("resume_base64", "resume_base64 is not base64")
        record, created = await self._take(
            job, content, spec.filename, spec.resume_text, source=source, external_id=spec.external_id, actor="system"
        )
        status, body = await self.ctx.store.run(
            store.record_inbound, source, spec.delivery_id, 201 if created else 200, await self._json(record), record.candidate_id
        )
        await self.ctx.audit.record(Actor.source(source, self.ctx.audit.address(request)), "application.receive", "application", record.id, created=created)
        return JSONResponse(body, status_code=status)


def _refusal(record: ApplicationRecord, action: str, actor: str) -> Problem | None:
    from applications.pipeline import allowed

    why = allowed(PipelineStatus(record.state, record.outcome), action, actor)  # type: ignore[arg-type]
    if why is None:
        return None
    return Problem(409, "Not allowed now", why, slug="transition", state=record.state, action=action)


def _summary(store: Any, record: ApplicationRecord) -> dict[str, Any]:
    """A list row (blocking: the store's thread): with the interview's score once its report is made."""
    interview = None
    if record.session_id:
        report = store.get_report(record.session_id)
        if report is not None:
            interview = report.body.get("overall")
    return {
        "id": record.id,
        "job_id": record.job_id,
        "state": record.state,
        "outcome": record.outcome,
        "name": record.name,
        "score": record.score,
        "interview_score": interview,
        "source": record.source,
        "session_id": record.session_id,
        "duplicates": len(record.duplicates),
        "created_at": record.created_at.isoformat(),
    }


def _batch_json(batch: BatchRecord) -> dict[str, Any]:
    return {
        "id": batch.id,
        "job_id": batch.job_id,
        "state": batch.state,
        "total": batch.total,
        "done": sum(1 for f in batch.files if f.get("status") != "pending"),
        "files": batch.files,
        "created_at": batch.created_at.isoformat(),
        "updated_at": batch.updated_at.isoformat(),
    }


def _text(value: Any) -> str | None:
    return str(value).strip() or None if isinstance(value, str) else None


def _zip_items(spool: Any, max_files: int) -> list[tuple[str | None, Any]]:
    """(name, opener) per resume in the archive; an opener reads at most 10 MB + 1 of its file."""
    try:
        archive = zipfile.ZipFile(spool)
    except zipfile.BadZipFile:
        raise ValueError("the upload is not a ZIP archive") from None
    members = [
        m for m in archive.infolist()
        if not m.is_dir() and not m.filename.startswith("__MACOSX/") and not Path(m.filename).name.startswith(".")
    ]
    if not members:
        raise ValueError("the archive holds no files")
    if len(members) > max_files:
        raise ValueError(f"the archive holds {len(members)} files; a batch takes at most {max_files}")

    def opener(member: zipfile.ZipInfo) -> Any:
        def open_member() -> tuple[bytes | None, str | None, str | None]:
            if member.file_size > MAX_BYTES:  # refused before it is inflated
                raise ResumeError("too_large", f"the resume is larger than {MAX_BYTES // 2**20} MB")
            if member.flag_bits & 0x1:
                raise ResumeError("encrypted", "the file is encrypted in the archive")
            try:
                with archive.open(member) as fh:
                    data = fh.read(MAX_BYTES + 1)  # a member that inflates past its declared size stops here
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                raise ResumeError("corrupt", f"the file could not be read from the archive ({type(exc).__name__})") from None
            return data, None, None

        return open_member

    return [(Path(m.filename).name, opener(m)) for m in members]


def _jsonl_items(spool: Any, max_files: int) -> list[tuple[str | None, Any]]:
    items: list[tuple[str | None, Any]] = []
    for number, line in enumerate(io.TextIOWrapper(spool, encoding="utf-8", errors="replace"), 1):
        if not line.strip():
            continue
        if len(items) >= max_files:
            raise ValueError(f"a batch takes at most {max_files} resumes")

        def open_line(line: str = line, number: int = number) -> tuple[bytes | None, str | None, str | None]:
            try:
                item = json.loads(line)
            except ValueError:
                raise ResumeError("corrupt", f"line {number} is not JSON") from None
            text = item.get("resume_text") if isinstance(item, dict) else None
            if not isinstance(text, str) or not text.strip():
                raise ResumeError("empty", f"line {number} has no resume_text")
            external = item.get("external_id")
            return None, text, str(external) if external is not None else None

        name = None
        try:
            parsed = json.loads(line)
            name = parsed.get("filename") if isinstance(parsed, dict) else None
        except ValueError:
            pass
        items.append((name or f"line {number}", open_line))
    if not items:
        raise ValueError("the upload holds no lines")
    return items
