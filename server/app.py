"""The ASGI app: signaling (WHIP), REST API, HR auth, event stream, pages.

``create_app(settings)`` builds everything from one settings object. Models
load in a background thread at start-up; ``/healthz`` answers 200 once they
are loaded and warm, and WHIP answers 503 with Retry-After until then. The
shipped jobs and question banks are seeded into the store at start-up.

The REST API is one table of operations (:meth:`Candor.operations`): the
routes and the OpenAPI document (``GET /openapi.json``) are both built from
it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, AsyncIterator, Callable, TypeVar

import msgpack
from pydantic import BaseModel, ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from db import (
    AlreadyExists,
    AsyncStore,
    BankRecord,
    DecisionRecord,
    JobRecord,
    ReportRecord,
    SessionRecord,
    Store,
    VersionConflict,
    utcnow,
)
from events import DECISION_RECORDED, REPORT_READY, ConsentWithdrawn, DecisionRecorded, Event, InterviewEnded, ScoreQuestion, SessionCreated
from jobs import catalog
from jobs.catalog import field_path
from jobs.models import Job, QuestionBank
from media.peer import SdpError
from reports import build_report
from reports.html import render_report
from runtime.models import ModelConfig, Models

from . import openapi, rest
from .auth import HR_COOKIE, HrAuth, bearer, new_token
from sinks import Outbox

from .admission import Admission, Load, LoopLagMonitor
from .eventlog import EventWriter, SessionEvents
from .live import SessionRegistry
from .metrics import Metrics
from .openapi import Operation, Param, Reply
from .policy import PROFILES, Consent
from .problems import Problem
from .settings import Settings

log = logging.getLogger("candor")

WEB_DIR = Path(__file__).resolve().parent.parent / "web_client"
CLOSE_TOO_SLOW = 4001
CLOSE_UNAUTHORISED = 4401
CLOSE_NOT_FOUND = 4404
API_VERSION = "0.1.0"
M = TypeVar("M", bound=BaseModel)


def _hr_token(settings: Settings) -> str:
    if settings.hr_token is not None:
        return settings.hr_token.get_secret_value()
    # Embedded default: make one, keep it in var/hr-token (0600), never log it.
    path = Path("var/hr-token")
    if path.is_file():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    token = new_token()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(token + "\n")
    log.warning("no CANDOR_HR_TOKEN set: an HR token was generated and written to %s", path.resolve())
    return token


class Candor:
    """Everything one app holds; routes are its methods."""

    def __init__(self, settings: Settings, models: Models | None = None, *, load_models: bool = True) -> None:
        self.settings = settings
        self._load_models_at_start = load_models
        self.openapi_document: dict[str, Any] = {}  # set by create_app from operations()
        self.metrics = Metrics()
        self.store = AsyncStore(Store(settings.database_url))
        self.writer = EventWriter(self.store)
        # Reports and decisions reach the HRIS through the outbox (issue 3).
        self.outbox = Outbox(self.store, settings.sinks)
        self.metrics.watch_outbox(self.outbox)
        self.hr = HrAuth(
            _hr_token(settings),
            settings.secret_key.get_secret_value() if settings.secret_key else secrets.token_hex(32),
            settings.hr_cookie_max_age_s,
        )
        self._models = models
        self._owns_models = models is None
        if models is not None:  # shared models report to this app's metrics
            for runner in models.runners:
                runner.set_observer(self.metrics.observe_stage)
        self._models_error: str | None = None
        self._models_ready = threading.Event()
        self._ready_at = time.perf_counter()  # when the models became ready (perf_counter)
        if models is not None and models.warm:
            self._models_ready.set()
        self.sessions = SessionRegistry(
            self.store, self.writer, models_ready=self.models, settings=settings, metrics=self.metrics
        )
        self.policy = PROFILES[settings.policy]
        self.metrics.build_info.labels(
            API_VERSION, settings.asr_model, settings.asr_device, settings.asr_compute_type, settings.asr_window, settings.policy
        ).set(1)
        self.loop_lag = LoopLagMonitor(observe=self.metrics.loop_lag.observe)
        self.admission = Admission(
            max_live_sessions=settings.max_live_sessions,
            sessions_per_core=settings.sessions_per_core,
            loop_lag_s=settings.admission_loop_lag_s,
            backlog_s=settings.admission_backlog_s,
            retry_after_s=settings.admission_retry_after_s,
        )
        self.metrics.audio_backlog.set_function(self.sessions.audio_backlog_s)
        self._report_tasks: set[asyncio.Task[None]] = set()
        self._report_lock = asyncio.Lock()
        self._watched: set[str] = set()  # sessions whose events have the report listener

    # -- models -----------------------------------------------------------
    def models(self) -> Models:
        if self._models is None or not self._models_ready.is_set():
            raise Problem(503, "Starting up", "models are still loading; try again shortly", headers={"Retry-After": "5"})
        return self._models

    def _load_models(self) -> None:
        s = self.settings
        try:
            if self._models is None:
                self._models = Models.load(
                    ModelConfig(
                        asr_model=s.asr_model,
                        asr_device=s.asr_device,
                        asr_compute_type=s.asr_compute_type,
                        asr_cpu_threads=s.asr_cpu_threads,
                        asr_workers=s.asr_workers,
                        asr_languages=tuple(s.asr_languages),
                        asr_beam_size=s.asr_beam_size,
                        asr_window=s.asr_window,
                        asr_partial_batch=s.asr_partial_batch,
                        vad_batch=s.vad_batch,
                        vad_max_batch=s.vad_max_batch,
                        vad_max_wait_s=s.vad_max_wait_s,
                        vad_backend=s.vad_backend,
                        vad_device=s.vad_device,
                        emotion=self.policy.emotion,
                    ),
                    observe=self.metrics.observe_stage,
                )
            if s.warmup and not self._models.warm:
                self._models.warmup()
            self._ready_at = time.perf_counter() + 1.0  # and the second after, while the loop catches up
            self._models_ready.set()
        except Exception as exc:
            self._models_error = str(exc)
            log.error("model loading failed: %s", exc)

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        try:
            await self._seed_catalog()
        except Exception:
            self.store.close()
            raise
        self.writer.start()
        await self.outbox.start()
        if not self._models_ready.is_set() and self._load_models_at_start:
            threading.Thread(target=self._load_models, name="model-loader", daemon=True).start()
        expiry = asyncio.get_running_loop().create_task(self._expire_loop())
        self.loop_lag.start()
        # Interviews that ended while no report was written (the process died
        # in between): build their reports now, from the log.
        for session_id in await self.store.run(self.store.store.sessions_without_report):
            task = asyncio.get_running_loop().create_task(self._report_on_end(session_id), name="report")
            self._report_tasks.add(task)
            task.add_done_callback(self._report_tasks.discard)
        try:
            yield
        finally:
            expiry.cancel()
            await self.loop_lag.stop()
            await self.sessions.close()
            if self._report_tasks:
                await asyncio.wait(set(self._report_tasks), timeout=10)
            await self.writer.close()
            await self.outbox.close()
            self.store.close()
            if self._owns_models and self._models is not None:
                self._models.close()

    async def _seed_catalog(self) -> None:
        """Shipped jobs and banks into the store (off the loop; a few ms)."""
        report = await self.store.run(catalog.seed, self.store.store, self.settings.banks_dir)
        log.info(
            "jobs and banks: %d added, %d updated, %d unchanged",
            len(report.added), len(report.updated), len(report.unchanged),
        )
        if report.kept:
            log.warning(
                "shipped changes not applied because these were edited through the API: %s", ", ".join(report.kept)
            )

    async def _expire_loop(self) -> None:
        while True:
            await asyncio.sleep(30)
            try:
                await self.sessions.expire()
            except Exception:
                log.exception("session expiry sweep failed")

    # -- helpers ----------------------------------------------------------
    def require_hr(self, request: Request) -> None:
        if not self.hr.allowed(request):
            raise Problem(401, "Unauthorised", "HR sign-in required (Authorization: Bearer <HR token> or the HR cookie)", headers={"WWW-Authenticate": "Bearer"})

    def urls(self, session_id: str, code: str) -> dict[str, str]:
        base = self.settings.base_url
        ws = "wss" + base[5:] if base.startswith("https") else "ws" + base[4:]
        return {
            "candidate_url": f"{base}/interview#code={code}",
            "whip_url": f"{base}/whip/{session_id}",
            "watch_url": f"{base}/hr/sessions/{session_id}",
            "events_url": f"{ws}/v1/sessions/{session_id}/events",
        }

    async def session_record(self, session_id: str) -> SessionRecord:
        record = await self.store.run(self.store.store.get_session, session_id)
        if record is None:
            raise Problem(404, "Not found", f"no session {session_id!r}")
        return record

    def ice_links(self) -> list[str]:
        links = []
        for server in self.settings.ice_servers:
            for url in server.urls:
                link = f'<{url}>; rel="ice-server"'
                if server.username is not None and server.credential is not None:
                    link += f'; username="{server.username}"; credential="{server.credential.get_secret_value()}"; credential-type="password"'
                links.append(link)
        return links

    def cors_headers(self, request: Request) -> dict[str, str]:
        origin = request.headers.get("origin")
        allowed = self.settings.cors_origins
        if not origin or not allowed or ("*" not in allowed and origin not in allowed):
            return {}
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": "POST, DELETE, OPTIONS, PATCH",
            "Access-Control-Allow-Headers": "Authorization, Content-Type, If-Match",
            "Access-Control-Expose-Headers": "Location, Link, ETag",
            "Vary": "Origin",
        }

    # -- routes: health and metrics --------------------------------------
    async def healthz(self, request: Request) -> Response:
        if self._models_error:
            return JSONResponse({"status": "error", "detail": self._models_error}, status_code=500)
        if not self._models_ready.is_set():
            return JSONResponse({"status": "starting"}, status_code=503, headers={"Retry-After": "5"})
        return JSONResponse({"status": "ok"})

    async def metrics_route(self, request: Request) -> Response:
        return Response(self.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    # -- routes: sessions -------------------------------------------------
    async def create_session(self, request: Request) -> Response:
        self.require_hr(request)
        spec = parse_body(rest.SessionCreate, await json_object(request, empty_ok=True))
        job, bank = await self.store.run(self._interview_for, spec)
        candidate = spec.candidate
        if spec.candidate_id is not None:
            found = await self.store.run(self.store.store.get_candidate, spec.candidate_id)
            if found is None:
                raise _unknown("candidate_id", f"no candidate {spec.candidate_id!r}; POST /v1/candidates makes one")
            candidate = found.candidate_profile()
        session_id = secrets.token_urlsafe(12)
        candidate_token = new_token()
        code = new_token(16)
        expires_at = utcnow() + timedelta(seconds=self.settings.session_ttl_s)
        record = await self.store.run(
            self.store.store.create_session,
            session_id=session_id,
            expires_at=expires_at,
            candidate_token=candidate_token,
            invite_code=code,
            job=job,
            bank=bank,
            candidate=candidate,
            candidate_id=spec.candidate_id,
        )
        events = await self.events_for(session_id)
        assert events is not None
        refs = _session_refs(record)
        # The versions go into the log (a report is rebuilt from it); the
        # candidate profile does not.
        created = SessionCreated(expires_at=record.expires_at.isoformat())
        if job is not None or bank is not None:
            created = SessionCreated(expires_at=created.expires_at, **refs)
        events.publish(None, created)
        body_out = {
            "id": session_id,
            **self.urls(session_id, code),
            "candidate_token": candidate_token,
            "expires_at": record.expires_at.isoformat(),
            **refs,
        }
        return JSONResponse(body_out, status_code=201, headers={"Location": f"/v1/sessions/{session_id}"})

    def _interview_for(self, spec: rest.SessionCreate) -> tuple[JobRecord | None, BankRecord | None]:
        """The exact job and bank versions a new session runs (blocking: the store's thread)."""
        store = self.store.store
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
                    raise _unknown("bank_id", f"job {job.id!r} has no question bank; create one or give bank_id")
            elif bank.job_id != job.id:
                raise _unknown("bank_id", f"bank {bank.id!r} is for job {bank.job_id!r}, not {job.id!r}")
        elif bank is not None:
            job = store.get_job(bank.job_id)
            if job is None:
                raise _unknown("bank_id", f"bank {bank.id!r} is for job {bank.job_id!r}, which does not exist")
        return job, bank

    def _session_json(self, record: SessionRecord, *, with_candidate: bool = False) -> dict[str, Any]:
        out = {
            "id": record.id,
            "created_at": record.created_at.isoformat(),
            "expires_at": record.expires_at.isoformat(),
            "state": "expired" if record.expired() else record.state,
            "connected": self.sessions.is_connected(record.id),
            "policy": self.policy.name,
            **_session_refs(record),
        }
        if with_candidate and record.candidate is not None:  # personal data: this GET only
            out["candidate"] = record.candidate
        return out

    async def list_sessions(self, request: Request) -> Response:
        self.require_hr(request)
        records = await self.store.run(self.store.store.list_sessions)
        return JSONResponse({"sessions": [self._session_json(r) for r in records]})

    async def get_session(self, request: Request) -> Response:
        self.require_hr(request)
        record = await self.session_record(request.path_params["session_id"])
        body = self._session_json(record, with_candidate=True)
        consent = await self.sessions.consent(record.id)
        body["consent"] = consent.public() if consent is not None else None
        return JSONResponse(body)

    # -- reports and decisions ----------------------------------------------
    async def events_for(self, session_id: str) -> SessionEvents | None:
        """The session's event stream, with the report listener attached once."""
        events = await self.sessions.events_for(session_id)
        if events is not None and session_id not in self._watched:
            self._watched.add(session_id)
            events.listeners.append(self._on_event)
        return events

    def _on_event(self, event: Event) -> None:
        if isinstance(event.payload, InterviewEnded):
            work = self._report_on_end(event.session_id)
        elif isinstance(event.payload, ScoreQuestion) and event.payload.revision > 0:
            # A late final re-scored an answer: a report already made is made again.
            work = self._report_on_rescore(event.session_id)
        else:
            return
        task = asyncio.get_running_loop().create_task(work, name="report")
        self._report_tasks.add(task)
        task.add_done_callback(self._report_tasks.discard)

    async def _report_on_rescore(self, session_id: str) -> None:
        try:
            events = await self.sessions.events_for(session_id)
            if events is not None:
                await events.flush()
            async with self._report_lock:
                if await self.store.run(self.store.store.get_report, session_id) is not None:
                    await self._write_report(session_id, unless_same=True)
        except Exception:
            log.exception("report for session %s failed", session_id)

    async def _report_on_end(self, session_id: str) -> None:
        try:
            events = await self.sessions.events_for(session_id)
            if events is not None:
                await events.flush()
            async with self._report_lock:
                await self._write_report(session_id, only_first=True)
        except Exception:
            log.exception("report for session %s failed", session_id)

    async def _write_report(
        self, session_id: str, *, only_first: bool = False, unless_same: bool = False,
        decision: tuple[str, str, str] | None = None,
    ) -> tuple[ReportRecord, DecisionRecord | None, bool]:
        """Build the report from the log, store its next version and enqueue it, in one transaction."""
        store = self.store.store
        outbox = self.outbox

        def work() -> tuple[ReportRecord, DecisionRecord | None, bool]:
            record = store.get_session(session_id)
            if record is None:
                raise Problem(404, "Not found", f"no session {session_id!r}")
            job = store.get_job(record.job_id, record.job_version) if record.job_id else None
            bank = store.get_bank(record.bank_id, record.bank_version) if record.bank_id else None
            body = build_report(record, job, bank, store.read_events(session_id))
            decided: list[DecisionRecord | None] = [None]

            def announce(db: Any, report: ReportRecord, made: DecisionRecord | None) -> None:
                decided[0] = made
                if made is not None:
                    outbox.enqueue_in(db, DECISION_RECORDED, session_id, made.number, _decision_json(made, report.version))
                outbox.enqueue_in(db, REPORT_READY, session_id, report.version, _report_json(report))

            report, written = store.add_report(
                session_id, body, only_first=only_first, unless_same=unless_same, decision=decision, on_write=announce
            )
            return report, decided[0], written

        return await self.store.run(work)

    def _wants_html(self, request: Request) -> bool:
        fmt = request.query_params.get("format")
        if fmt is not None:
            return fmt == "html"
        return "text/html" in request.headers.get("accept", "")

    async def get_report(self, request: Request) -> Response:
        self.require_hr(request)
        session_id, version = request.path_params["session_id"], _version_param(request)
        await self.session_record(session_id)
        report = await self.store.run(self.store.store.get_report, session_id, version)
        if report is None:
            detail = f"no report version {version}" if version else "no report yet: it is made when the interview ends"
            raise Problem(404, "Not found", detail)
        if self._wants_html(request):
            html_page = render_report(report.body, version=report.version, session_id=session_id)
            return Response(html_page, media_type="text/html; charset=utf-8", headers={**_page_headers(), "ETag": f'"{report.version}"'})
        return _versioned(_report_json(report), report.version)

    async def rebuild_report(self, request: Request) -> Response:
        self.require_hr(request)
        session_id = request.path_params["session_id"]
        await self.session_record(session_id)
        events = await self.sessions.events_for(session_id)
        if events is not None:
            await events.flush()
        async with self._report_lock:
            report, _, written = await self._write_report(session_id, unless_same=True)
        return _versioned(_report_json(report), report.version, status=201 if written else 200,
                          location=f"/v1/sessions/{session_id}/report?version={report.version}")

    async def record_decision(self, request: Request) -> Response:
        self.require_hr(request)
        session_id = request.path_params["session_id"]
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        is_form = content_type in ("application/x-www-form-urlencoded", "multipart/form-data")
        if is_form:
            form = await request.form()
            data: dict[str, Any] = {k: v for k, v in form.items() if k in ("decision", "reason") and isinstance(v, str)}
        else:
            data = await json_object(request)
        spec = parse_body(rest.DecisionCreate, data)
        await self.session_record(session_id)
        async with self._report_lock:
            if await self.store.run(self.store.store.get_report, session_id) is None:
                raise Problem(409, "No report yet", "a decision is recorded on a report; the interview has not ended")
            number = len(await self.store.run(self.store.store.list_decisions, session_id)) + 1
            events = await self.events_for(session_id)
            assert events is not None
            decision = DecisionRecorded(
                decision=spec.decision, reason=spec.reason, decided_by="hr", decided_at=utcnow().isoformat(), number=number
            )
            events.publish(None, decision)
            await events.flush()
            report, decided, _ = await self._write_report(session_id, decision=(spec.decision, spec.reason, "hr"))
        assert decided is not None
        if is_form:
            return RedirectResponse(f"/v1/sessions/{session_id}/report?format=html", status_code=303)
        return JSONResponse(_decision_json(decided, report.version), status_code=201)

    # -- routes: candidates -------------------------------------------------
    async def create_candidate(self, request: Request) -> Response:
        self.require_hr(request)
        spec = parse_body(rest.CandidateCreate, await json_object(request))
        try:
            record = await self.store.run(self.store.store.create_candidate, spec.profile, spec.external_id)
        except AlreadyExists as exc:
            raise Problem(409, "Already exists", str(exc))
        return JSONResponse(_candidate_json(record), status_code=201, headers={"Location": f"/v1/candidates/{record.id}"})

    async def list_candidates(self, request: Request) -> Response:
        self.require_hr(request)
        records = await self.store.run(self.store.store.list_candidates)
        return JSONResponse(
            {
                "candidates": [
                    {"id": r.id, "created_at": r.created_at.isoformat(), "external_id": r.external_id, "name": r.profile.get("name")}
                    for r in records
                ]
            }
        )

    async def get_candidate(self, request: Request) -> Response:
        self.require_hr(request)
        candidate_id = request.path_params["candidate_id"]
        record = await self.store.run(self.store.store.get_candidate, candidate_id)
        if record is None:
            raise Problem(404, "Not found", f"no candidate {candidate_id!r}")
        return JSONResponse(_candidate_json(record))

    async def update_candidate(self, request: Request) -> Response:
        self.require_hr(request)
        spec = parse_body(rest.CandidateCreate, await json_object(request))
        candidate_id = request.path_params["candidate_id"]
        try:
            record = await self.store.run(self.store.store.update_candidate, candidate_id, spec.profile, spec.external_id)
        except AlreadyExists as exc:
            raise Problem(409, "Already exists", str(exc))
        if record is None:
            raise Problem(404, "Not found", f"no candidate {candidate_id!r}; POST /v1/candidates makes one")
        return JSONResponse(_candidate_json(record))

    # -- routes: jobs and banks -------------------------------------------
    async def list_jobs(self, request: Request) -> Response:
        self.require_hr(request)
        records = await self.store.run(self.store.store.list_jobs)
        return JSONResponse({"jobs": [_job_summary(r) for r in records]})

    async def create_job(self, request: Request) -> Response:
        self.require_hr(request)  # before the body is read: 401, not 422
        job = parse_body(Job, await json_object(request))
        return await self._create_versioned(request, "job", job, self.store.store.create_job, _job_json)

    async def get_job(self, request: Request) -> Response:
        return await self._get_versioned(request, "job", self.store.store.get_job, _job_json)

    async def update_job(self, request: Request) -> Response:
        self.require_hr(request)  # before the body is read: 401, not 422
        job = parse_body(Job, _with_path_id(await json_object(request), request.path_params["job_id"]))
        return await self._update_versioned(request, "job", job, self.store.store.update_job, _job_json)

    async def list_banks(self, request: Request) -> Response:
        self.require_hr(request)
        records = await self.store.run(self.store.store.list_banks, request.query_params.get("job_id") or None)
        return JSONResponse({"banks": [_bank_summary(r) for r in records]})

    async def create_bank(self, request: Request) -> Response:
        self.require_hr(request)  # before the body is read: 401, not 422
        bank = parse_body(QuestionBank, await json_object(request))
        await self._job_must_exist(bank)
        return await self._create_versioned(request, "bank", bank, self.store.store.create_bank, _bank_json)

    async def get_bank(self, request: Request) -> Response:
        return await self._get_versioned(request, "bank", self.store.store.get_bank, _bank_json)

    async def update_bank(self, request: Request) -> Response:
        self.require_hr(request)  # before the body is read: 401, not 422
        bank = parse_body(QuestionBank, _with_path_id(await json_object(request), request.path_params["bank_id"]))
        await self._job_must_exist(bank)
        return await self._update_versioned(request, "bank", bank, self.store.store.update_bank, _bank_json)

    # Jobs and banks are the same kind of resource: immutable versions.
    async def _create_versioned(self, request: Request, kind: str, model: Any, create: Callable[..., Any], to_json: Callable[[Any], dict[str, Any]]) -> Response:
        try:
            record = await self.store.run(create, model)
        except AlreadyExists:
            raise Problem(409, "Already exists", f"{kind} {model.id!r} exists; PUT /v1/{kind}s/{model.id} adds a version")
        return _versioned(to_json(record), record.version, status=201, location=f"/v1/{kind}s/{record.id}")

    async def _get_versioned(self, request: Request, kind: str, get: Callable[..., Any], to_json: Callable[[Any], dict[str, Any]]) -> Response:
        self.require_hr(request)
        item_id, version = request.path_params[f"{kind}_id"], _version_param(request)
        record = await self.store.run(get, item_id, version)
        if record is None:
            raise Problem(404, "Not found", f"no {kind} {item_id!r}" + (f" version {version}" if version else ""))
        return _versioned(to_json(record), record.version)

    async def _update_versioned(self, request: Request, kind: str, model: Any, update: Callable[..., Any], to_json: Callable[[Any], dict[str, Any]]) -> Response:
        try:
            found = await self.store.run(update, model, if_version=_if_match(request))
        except VersionConflict as exc:
            raise _stale(exc)
        if found is None:
            raise Problem(404, "Not found", f"no {kind} {model.id!r}; POST /v1/{kind}s creates one")
        return _versioned(to_json(found[0]), found[0].version)

    async def _job_must_exist(self, bank: QuestionBank) -> None:
        if await self.store.run(self.store.store.get_job, bank.job_id) is None:
            raise _unknown("job_id", f"no job {bank.job_id!r}; create the job first")

    async def openapi_json(self, request: Request) -> Response:
        return JSONResponse(self.openapi_document)

    async def exchange(self, request: Request) -> Response:
        try:
            data = await request.json()
        except ValueError:
            raise Problem(400, "Malformed JSON", "send {\"code\": \"...\"}")
        code = data.get("code") if isinstance(data, dict) else None
        if not isinstance(code, str) or not code:
            raise Problem(422, "Invalid body", "field 'code' is required", errors=[{"field": "code", "message": "required"}])
        record = await self.store.run(self.store.store.redeem_invite, code)
        if record is None:
            raise Problem(404, "Invite not valid", "this interview link was already used or does not exist; ask for a new link", slug="invite-invalid")
        if record.expired():
            raise Problem(410, "Invite expired", "this interview link has expired; ask for a new link", slug="invite-expired")
        # The one-time code becomes the session's token: a fresh token is
        # issued to the page and the HR-issued one stays valid as well.
        token = new_token()
        await self.store.run(self.store.store.add_token, record.id, token)
        consent = await self.sessions.consent(record.id)
        return JSONResponse(
            {
                "session_id": record.id,
                "token": token,
                "whip_url": f"{self.settings.base_url}/whip/{record.id}",
                "ice_servers": [s.public() for s in self.settings.ice_servers],
                "expires_at": record.expires_at.isoformat(),
                "language_hint": self.settings.asr_languages[0] if self.settings.asr_languages else "zh",
                "policy": self.policy.public(),
                "consent": consent.public() if consent is not None else None,
            }
        )

    # -- routes: consent --------------------------------------------------
    async def give_consent(self, request: Request) -> Response:
        record = await self._candidate(request)
        spec = parse_body(rest.ConsentCreate, await json_object(request))
        granted = {"voice": spec.voice, "face": spec.face}
        errors = self.policy.check(granted)
        if errors:
            raise Problem(
                422, "Consent required", errors[0]["message"], slug="consent-required", errors=errors
            )
        consent = Consent(
            policy=self.policy.name,
            voice=spec.voice,
            face=spec.face,
            # emotion inference needs the policy's leave and the face or the voice
            emotion=self.policy.emotion and (spec.face or spec.voice),
            given_at=utcnow().isoformat(),
        )
        events = await self.events_for(record.id)
        assert events is not None
        session = self.sessions.get_live(record.id)
        events.publish(session.media_time if session is not None else None, consent.given())
        await self.sessions.set_consent(record.id, consent)
        return JSONResponse(consent.public(), headers=self.cors_headers(request))

    async def withdraw_consent(self, request: Request) -> Response:
        record = await self._candidate(request)
        events = await self.events_for(record.id)
        assert events is not None
        session = self.sessions.get_live(record.id)
        withdrawn = ConsentWithdrawn(policy=self.policy.name)
        events.publish(session.media_time if session is not None else None, withdrawn)
        await self.sessions.set_consent(record.id, None)
        return Response(status_code=204, headers=self.cors_headers(request))

    # -- routes: HR sign-in -----------------------------------------------
    async def hr_login(self, request: Request) -> Response:
        token: str | None = None
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                data = await request.json()
                token = data.get("token") if isinstance(data, dict) else None
            except ValueError:
                token = None
        else:
            form = await request.form()
            value = form.get("token")
            token = value if isinstance(value, str) else None
        if not self.hr.token_ok(token):
            raise Problem(401, "Unauthorised", "wrong HR token")
        response = Response(status_code=204)
        response.set_cookie(
            HR_COOKIE,
            self.hr.cookie_value(),
            max_age=self.settings.hr_cookie_max_age_s,
            httponly=True,
            samesite="strict",
            secure=self.settings.cookie_secure,
            path="/",
        )
        return response

    async def hr_logout(self, request: Request) -> Response:
        response = Response(status_code=204)
        response.delete_cookie(HR_COOKIE, path="/")
        return response

    # -- routes: WHIP -----------------------------------------------------
    async def whip_options(self, request: Request) -> Response:
        headers = {"Accept-Post": "application/sdp", "Allow": "OPTIONS, POST"}
        headers.update(self.cors_headers(request))
        return Response(status_code=204, headers=headers)

    async def whip_resource_options(self, request: Request) -> Response:
        headers = {"Allow": "OPTIONS, DELETE, PATCH"}
        headers.update(self.cors_headers(request))
        return Response(status_code=204, headers=headers)

    async def _candidate(self, request: Request) -> SessionRecord:
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

    async def whip_post(self, request: Request) -> Response:
        cors = self.cors_headers(request)
        record = await self._candidate(request)
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/sdp":
            raise Problem(415, "Unsupported media type", "WHIP offers are sent as Content-Type: application/sdp")
        try:
            offer = (await request.body()).decode("utf-8")
        except UnicodeDecodeError:
            raise Problem(400, "Malformed SDP", "the offer is not UTF-8 text")
        self.models()  # 503 while loading
        if await self.sessions.consent(record.id) is None:
            raise Problem(
                403, "Consent required",
                "the candidate has not consented to analysis; POST /v1/sessions/{id}/consent first",
                slug="consent-required",
            )
        self._admit(record.id)
        await self.events_for(record.id)  # the report listener, before the live session publishes
        session = await self.sessions.live(record)
        try:
            connection = await session.connect(offer)
        except SdpError as exc:
            raise Problem(exc.status, exc.title, exc.detail, slug="sdp")
        headers = {"Location": f"/whip/{record.id}/{connection.id}", "ETag": f'"{connection.id}"', **cors}
        response = Response(connection.answer_sdp, status_code=201, media_type="application/sdp", headers=headers)
        for link in self.ice_links():
            response.headers.append("Link", link)
        return response

    def _admit(self, session_id: str) -> None:
        """503 + Retry-After for a new session when the server is full (see server/admission.py)."""
        live = self.sessions.get_live(session_id)
        if live is not None and not live.closed and live.connection is not None:
            return  # a second connection replaces the first: no more load
        load = Load(
            live_sessions=self.sessions.live_count(),
            # the model loading's start-up stalls do not count against the first candidates
            loop_lag_p99_s=self.loop_lag.p99(since=self._ready_at),
            audio_backlog_s=self.sessions.audio_backlog_s(),
        )
        refusal = self.admission.check(load)
        if refusal is not None:
            reason = "capacity" if "capacity" in refusal.reason else "overload"
            self.metrics.admission_refused.labels(reason).inc()
            log.warning("session refused: %s", refusal.reason)
            raise Problem(
                503, "Server busy", f"{refusal.reason}; try again in {refusal.retry_after_s} s",
                slug="server-busy", headers={"Retry-After": str(refusal.retry_after_s)},
            )

    async def whip_delete(self, request: Request) -> Response:
        record = await self._candidate(request)
        session = self.sessions.get_live(record.id)
        if session is None or not await session.hang_up(request.path_params["connection_id"]):
            raise Problem(404, "Not found", "no such connection (it may have ended already)")
        return Response(status_code=200, headers=self.cors_headers(request))

    async def whip_patch(self, request: Request) -> Response:
        raise Problem(405, "Trickle ICE not supported", "send the offer with all candidates gathered", headers={"Allow": "DELETE"})

    # -- routes: event stream ---------------------------------------------
    async def events_ws(self, websocket: WebSocket) -> None:
        # Accept first, then close with a code: a browser sees close codes
        # only on an accepted socket (a refused handshake is just 1006).
        if not self.hr.allowed(websocket):
            await websocket.accept()
            await websocket.close(code=CLOSE_UNAUTHORISED, reason="HR sign-in required")
            return
        session_id = websocket.path_params["session_id"]
        events = await self.events_for(session_id)
        if events is None:
            await websocket.accept()
            await websocket.close(code=CLOSE_NOT_FOUND, reason="no such session")
            return
        fmt = websocket.query_params.get("format", "json")
        try:
            from_seq = int(websocket.query_params.get("from_seq", "0"))
        except ValueError:
            from_seq = 0
        await websocket.accept()
        send = _sender(websocket, fmt)
        watcher = events.subscribe()
        self.metrics.watchers.inc()

        async def stream() -> None:
            await events.flush()
            history = await self.store.run(self.store.store.read_events, session_id, from_seq)
            last = from_seq - 1
            for event in history:
                await send(event.to_dict())
                last = event.seq
            while True:
                event = await watcher.queue.get()
                if event.seq > last:
                    await send(event.to_dict())
                    last = event.seq

        loop = asyncio.get_running_loop()
        sender = loop.create_task(stream())
        receiver = loop.create_task(_drain_client(websocket))
        overflow = loop.create_task(watcher.overflowed.wait())
        try:
            done, _ = await asyncio.wait({sender, receiver, overflow}, return_when=asyncio.FIRST_COMPLETED)
            if overflow in done:
                # Let go of it at once, even while a send to it is stuck.
                events.unsubscribe(watcher)
                self.metrics.watchers_dropped.inc()
                sender.cancel()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(
                        websocket.close(code=CLOSE_TOO_SLOW, reason="watcher too slow; reconnect with from_seq"), 2.0
                    )
            elif sender in done and not sender.cancelled() and sender.exception() is not None:
                exc = sender.exception()
                if not isinstance(exc, (WebSocketDisconnect, RuntimeError, OSError)):
                    log.error("event stream failed: %s", type(exc).__name__)
        finally:
            for task in (sender, receiver, overflow):
                task.cancel()
            events.unsubscribe(watcher)
            self.metrics.watchers.dec()

    # -- the REST API -----------------------------------------------------
    def operations(self) -> list[Operation]:
        """Every REST route, for the router and the OpenAPI document."""
        version = Param("version", "query", {"type": "integer", "minimum": 1}, "a version (default: the latest)")
        if_match = Param("If-Match", "header", {"type": "string"}, 'the version the edit starts from, e.g. "3"')
        etag = {"ETag": 'the version, e.g. "3"'}
        created = {"Location": "its URL", **etag}
        no_body = {"media_type": None}
        return [
            # operations
            Operation(
                "GET", "/healthz", self.healthz, "Readiness: 200 once the models are loaded and warm", "operations",
                auth=None,
                replies={
                    200: Reply("ready", rest.Health),
                    503: Reply("models loading", rest.Health, headers={"Retry-After": "seconds"}),
                    500: Reply("model loading failed", rest.Health),
                },
            ),
            Operation(
                "GET", "/metrics", self.metrics_route, "Prometheus metrics", "operations", auth=None,
                replies={200: Reply("Prometheus text format 0.0.4", media_type="text/plain")},
            ),
            Operation(
                "GET", "/openapi.json", self.openapi_json, "This document", "operations", auth=None,
                replies={200: Reply("the OpenAPI 3.1 document")},
            ),
            # sessions
            Operation(
                "POST", "/v1/sessions", self.create_session, "Create a session", "sessions",
                body=rest.SessionCreate, body_required=False,
                description="An empty body or {} makes a free-talk session. With job_id (and optionally bank_id, "
                "versions and a candidate profile) the session runs that job's structured interview and records "
                "the exact job and bank versions. An unknown job or bank is 422 naming the field.",
                replies={201: Reply("created", rest.SessionCreated, headers={"Location": "the session's URL"})},
                problems=(400, 422),
            ),
            Operation(
                "GET", "/v1/sessions", self.list_sessions, "List sessions", "sessions",
                replies={200: Reply("the latest 100 sessions (no candidate profiles)", rest.SessionList)},
            ),
            Operation(
                "GET", "/v1/sessions/{session_id}", self.get_session, "Show a session, with its candidate profile",
                "sessions", replies={200: Reply("the session", rest.SessionInfo)}, problems=(404,),
            ),
            # candidates
            Operation(
                "POST", "/v1/candidates", self.create_candidate, "Create a candidate (a profile HR interview)",
                "candidates", body=rest.CandidateCreate,
                description="Personal data: shown only through this HR API, never logged. A session made with "
                "candidate_id records a copy of the profile as it was then.",
                replies={201: Reply("created", rest.CandidateInfo, headers={"Location": "its URL"})},
                problems=(400, 409, 422),
            ),
            Operation(
                "GET", "/v1/candidates", self.list_candidates, "List candidates (latest 100)", "candidates",
                replies={200: Reply("the candidates", rest.CandidateList)},
            ),
            Operation(
                "GET", "/v1/candidates/{candidate_id}", self.get_candidate, "Show a candidate and their sessions",
                "candidates", replies={200: Reply("the candidate", rest.CandidateInfo)}, problems=(404,),
            ),
            Operation(
                "PUT", "/v1/candidates/{candidate_id}", self.update_candidate,
                "Replace a candidate's profile (sessions keep their copy)", "candidates", body=rest.CandidateCreate,
                replies={200: Reply("the candidate", rest.CandidateInfo)}, problems=(400, 404, 409, 422),
            ),
            # reports and decisions
            Operation(
                "GET", "/v1/sessions/{session_id}/report", self.get_report,
                "The session's report: the latest version, or ?version=N", "reports",
                params=(version, Param("format", "query", {"type": "string", "enum": ["json", "html"]},
                                       "html: a page for HR (also chosen by Accept: text/html)")),
                description="Made when the interview ends (version 1); a decision or a rebuild adds a version. "
                "The score and band are a recommendation: a person decides.",
                replies={200: Reply("the version (JSON), or an HTML page", rest.ReportVersion, headers=etag)},
                problems=(404, 422),
            ),
            Operation(
                "POST", "/v1/sessions/{session_id}/report/rebuild", self.rebuild_report,
                "Rebuild the report from the event log", "reports", body_required=False,
                description="Adds a version (201) when the rebuilt report differs from the latest; else 200 with "
                "the latest. A new version is sent to the sinks as report.ready.",
                replies={
                    200: Reply("unchanged: the latest version", rest.ReportVersion, headers=etag),
                    201: Reply("a new version", rest.ReportVersion, headers=created),
                },
                problems=(404,),
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
                problems=(400, 404, 409, 422),
            ),
            # jobs and banks
            Operation(
                "GET", "/v1/jobs", self.list_jobs, "List jobs (latest versions)", "jobs",
                replies={200: Reply("the jobs", rest.JobList)},
            ),
            Operation(
                "POST", "/v1/jobs", self.create_job, "Create a job (version 1)", "jobs", body=Job,
                replies={201: Reply("created", rest.JobVersion, headers=created)}, problems=(400, 409, 422),
            ),
            Operation(
                "GET", "/v1/jobs/{job_id}", self.get_job, "Show a job: the latest version, or ?version=N", "jobs",
                params=(version,), replies={200: Reply("the version", rest.JobVersion, headers=etag)},
                problems=(404, 422),
            ),
            Operation(
                "PUT", "/v1/jobs/{job_id}", self.update_job, "Edit a job: adds a version (old ones never change)",
                "jobs", body=Job, params=(if_match,),
                description="The body is the whole job; its id may be left out. An unchanged body adds no version.",
                replies={200: Reply("the latest version", rest.JobVersion, headers=etag)},
                problems=(400, 404, 412, 422),
            ),
            Operation(
                "GET", "/v1/banks", self.list_banks, "List question banks (latest versions)", "banks",
                params=(Param("job_id", "query", {"type": "string"}, "only this job's banks"),),
                replies={200: Reply("the banks", rest.BankList)},
            ),
            Operation(
                "POST", "/v1/banks", self.create_bank, "Create a question bank (version 1) for a job", "banks",
                body=QuestionBank, replies={201: Reply("created", rest.BankVersion, headers=created)},
                problems=(400, 409, 422),
            ),
            Operation(
                "GET", "/v1/banks/{bank_id}", self.get_bank, "Show a question bank: the latest, or ?version=N",
                "banks", params=(version,), replies={200: Reply("the version", rest.BankVersion, headers=etag)},
                problems=(404, 422),
            ),
            Operation(
                "PUT", "/v1/banks/{bank_id}", self.update_bank, "Edit a question bank: adds a version", "banks",
                body=QuestionBank, params=(if_match,),
                description="The body is the whole bank; its id may be left out. An unchanged body adds no version.",
                replies={200: Reply("the latest version", rest.BankVersion, headers=etag)},
                problems=(400, 404, 412, 422),
            ),
            # candidates and HR sign-in
            Operation(
                "POST", "/v1/candidate/exchange", self.exchange, "Exchange a one-time invite code for a token",
                "candidate", auth=None, body=rest.ExchangeRequest,
                replies={200: Reply("the candidate token and WHIP URL", rest.ExchangeResponse)},
                problems=(400, 404, 410, 422),
            ),
            Operation(
                "POST", "/v1/hr/login", self.hr_login, "HR sign-in: sets the HttpOnly HR cookie", "hr", auth=None,
                body=rest.HrLogin, description="JSON, or a form with a token field.",
                replies={204: Reply("signed in", headers={"Set-Cookie": HR_COOKIE}, **no_body)},
            ),
            Operation(
                "POST", "/v1/hr/logout", self.hr_logout, "HR sign-out: clears the cookie", "hr", auth=None,
                replies={204: Reply("signed out", **no_body)},
            ),
            Operation(
                "POST", "/v1/sessions/{session_id}/consent", self.give_consent,
                "The candidate's consent to analysis, per the deployment's policy", "candidate",
                auth="candidate", body=rest.ConsentCreate,
                description="Nothing is analysed before it: WHIP answers 403 (consent-required) until then. "
                "Under pipl, voice and face are asked separately and face may be declined (no face analysis); "
                "under eu, no emotion inference runs. Posting again replaces the consent; a live connection "
                "whose consent changes is ended so that the next one analyses exactly what is consented to. "
                "Publishes consent.given.",
                replies={200: Reply("recorded", rest.ConsentInfo)},
                problems=(400, 401, 422),
            ),
            Operation(
                "DELETE", "/v1/sessions/{session_id}/consent", self.withdraw_consent,
                "Withdraw consent: the connection ends and analysis stops", "candidate", auth="candidate",
                description="Publishes consent.withdrawn. What was analysed before stays in the session's log "
                "(deletion is by the retention policy).",
                replies={204: Reply("withdrawn", **no_body)},
                problems=(401,),
            ),
            # WHIP
            Operation(
                "OPTIONS", "/whip/{session_id}", self.whip_options, "WHIP: CORS preflight and Accept-Post", "whip",
                auth=None, replies={204: Reply("allowed", headers={"Accept-Post": "application/sdp"}, **no_body)},
            ),
            Operation(
                "POST", "/whip/{session_id}", self.whip_post, "WHIP (RFC 9725): an SDP offer in, the answer out",
                "whip", auth="candidate", body="application/sdp",
                replies={
                    201: Reply(
                        "the SDP answer",
                        media_type="application/sdp",
                        headers={
                            "Location": "the connection's URL",
                            "ETag": "the connection",
                            "Link": 'one <url>; rel="ice-server" per ICE server',
                        },
                    )
                },
                problems=(400, 403, 415, 422, 503),
            ),
            Operation(
                "OPTIONS", "/whip/{session_id}/{connection_id}", self.whip_resource_options,
                "WHIP connection: CORS preflight", "whip", auth=None, replies={204: Reply("allowed", **no_body)},
            ),
            Operation(
                "DELETE", "/whip/{session_id}/{connection_id}", self.whip_delete, "WHIP: hang up", "whip",
                auth="candidate", replies={200: Reply("hung up", **no_body)}, problems=(404,),
            ),
            Operation(
                "PATCH", "/whip/{session_id}/{connection_id}", self.whip_patch, "Trickle ICE (not supported)", "whip",
                auth=None, problems=(405,),
            ),
        ]

    # -- pages ------------------------------------------------------------
    async def page_candidate(self, request: Request) -> Response:
        return FileResponse(WEB_DIR / "candidate.html", headers=_page_headers())

    async def page_hr(self, request: Request) -> Response:
        return FileResponse(WEB_DIR / "hr.html", headers=_page_headers())


def _page_headers() -> dict[str, str]:
    return {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "Permissions-Policy": "camera=(self), microphone=(self)"}


def _sender(websocket: WebSocket, fmt: str) -> Callable[[dict[str, Any]], Any]:
    if fmt == "msgpack":
        async def send_msgpack(data: dict[str, Any]) -> None:
            await websocket.send_bytes(msgpack.packb(data, use_bin_type=True))

        return send_msgpack

    async def send_json(data: dict[str, Any]) -> None:
        await websocket.send_text(json.dumps(data, ensure_ascii=False))

    return send_json


async def _drain_client(websocket: WebSocket) -> None:
    """Read (and ignore) what a watcher sends; returns when it disconnects."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return


# -- request bodies and replies ----------------------------------------------
async def json_object(request: Request, *, empty_ok: bool = False) -> dict[str, Any]:
    """The body as a JSON object: 400 if it is not JSON, 422 if not an object."""
    body = await request.body()
    if not body.strip():
        if empty_ok:
            return {}
        raise _unknown("", "a JSON body is required")
    try:
        data = json.loads(body)
    except ValueError:
        raise Problem(400, "Malformed JSON", "the request body is not JSON")
    if not isinstance(data, dict):
        raise Problem(422, "Invalid body", "the body must be a JSON object", errors=[{"field": "", "message": "expected an object"}])
    return data


def parse_body(model: type[M], data: Any) -> M:
    """Validate with the contract; a failure is 422 naming every failing field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [
            {"field": field_path(e["loc"]), "message": e["msg"], "type": e["type"]}
            for e in exc.errors(include_url=False, include_input=False)  # no input: it may be personal data
        ]
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise Problem(422, "Invalid body", f"{first['field'] or 'body'}: {first['message']}{more}", errors=errors)


def _unknown(field: str, message: str) -> Problem:
    return Problem(422, "Invalid body", message, errors=[{"field": field, "message": message}])


def _missing(kind: str, key: str, version: int | None, *, exists: bool) -> Problem:
    """422 for a session naming a job or bank (version) that is not there."""
    if version is not None and exists:
        return _unknown(f"{kind}_version", f"{kind} {key!r} has no version {version}")
    return _unknown(f"{kind}_id", f"no {kind} {key!r}")


def _with_path_id(data: dict[str, Any], path_id: str) -> dict[str, Any]:
    if "id" not in data:
        return {**data, "id": path_id}
    if data["id"] != path_id:
        message = f"must be the id in the path ({path_id!r}) or left out"
        raise Problem(422, "Invalid body", f"id: {message}", errors=[{"field": "id", "message": message}])
    return data


def _version_param(request: Request) -> int | None:
    raw = request.query_params.get("version")
    if raw is None:
        return None
    if not raw.isdigit() or int(raw) < 1:
        message = "a version is a positive integer"
        raise Problem(422, "Invalid query", f"version: {message}", errors=[{"field": "version", "message": message}])
    return int(raw)


def _if_match(request: Request) -> int | None:
    raw = request.headers.get("if-match")
    if raw is None or raw.strip() == "*":
        return None
    tag = raw.strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise Problem(400, "Malformed If-Match", 'If-Match takes the version from the ETag, e.g. "3"')
    return int(tag)


def _stale(exc: VersionConflict) -> Problem:
    detail = f"the latest version is {exc.latest}: fetch it and edit that"
    return Problem(412, "Version conflict", detail, latest_version=exc.latest)


def _versioned(body: dict[str, Any], version: int, *, status: int = 200, location: str | None = None) -> Response:
    headers = {"ETag": f'"{version}"'}
    if location:
        headers["Location"] = location
    return JSONResponse(body, status_code=status, headers=headers)


def _session_refs(record: SessionRecord) -> dict[str, Any]:
    return {
        "job_id": record.job_id,
        "job_version": record.job_version,
        "bank_id": record.bank_id,
        "bank_version": record.bank_version,
        "candidate_id": record.candidate_id,
    }


def _candidate_json(record: Any) -> dict[str, Any]:
    return {
        "id": record.id,
        "created_at": record.created_at.isoformat(),
        "updated_at": record.updated_at.isoformat(),
        "external_id": record.external_id,
        "profile": record.profile,
        "sessions": list(record.sessions),
    }


def _report_json(record: ReportRecord) -> dict[str, Any]:
    return {
        "session_id": record.session_id,
        "version": record.version,
        "created_at": record.created_at.isoformat(),
        "report": record.body,
    }


def _decision_json(record: DecisionRecord, report_version: int) -> dict[str, Any]:
    return {
        "session_id": record.session_id,
        "number": record.number,
        "decision": record.decision,
        "reason": record.reason,
        "decided_by": record.decided_by,
        "decided_at": record.created_at.isoformat(),
        "report_version": report_version,
    }


def _job_json(record: JobRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "version": record.version,
        "created_at": record.created_at.isoformat(),
        "source": record.source,
        "job": record.body,
    }


def _job_summary(record: JobRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "version": record.version,
        "created_at": record.created_at.isoformat(),
        "source": record.source,
        "title": record.body["title"],
    }


def _bank_json(record: BankRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "version": record.version,
        "job_id": record.job_id,
        "created_at": record.created_at.isoformat(),
        "source": record.source,
        "bank": record.body,
    }


def _bank_summary(record: BankRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "version": record.version,
        "job_id": record.job_id,
        "created_at": record.created_at.isoformat(),
        "source": record.source,
        "title": record.body["title"],
        "questions": len(record.body["questions"]),
    }


def create_app(
    settings: Settings | None = None, *, models: Models | None = None, load_models: bool = True
) -> Starlette:
    """The app. ``load_models=False`` skips loading models (for API-only use and tests)."""
    settings = settings or Settings()
    candor = Candor(settings, models, load_models=load_models)
    operations = candor.operations()
    candor.openapi_document = openapi.document(
        operations,
        title="Candor",
        version=API_VERSION,
        server_url=settings.base_url,
        description="Real-time AI pre-interview server for bank recruiting. Errors are RFC 9457 problem details. "
        "The live event stream is a WebSocket: GET /v1/sessions/{session_id}/events (see docs/events.md).",
    )

    async def problem_handler(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        response = exc.response()
        response.headers.update(candor.cors_headers(request))
        return response

    async def http_handler(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return Problem(exc.status_code, str(exc.detail), str(exc.detail), headers=dict(exc.headers or {})).response()

    routes = [
        Route("/", lambda r: RedirectResponse("/hr"), methods=["GET"]),
        *openapi.routes(operations),
        WebSocketRoute("/v1/sessions/{session_id}/events", candor.events_ws),
        Route("/interview", candor.page_candidate, methods=["GET"]),
        Route("/hr", candor.page_hr, methods=["GET"]),
        Route("/hr/sessions/{session_id}", candor.page_hr, methods=["GET"]),
        Mount("/static", StaticFiles(directory=WEB_DIR), name="static"),
    ]
    app = Starlette(
        routes=routes,
        lifespan=candor.lifespan,
        exception_handlers={Problem: problem_handler, HTTPException: http_handler},
    )
    app.state.candor = candor
    return app
