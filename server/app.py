"""The ASGI app: signaling (WHIP), REST API, HR auth, event stream, pages.

``create_app(settings)`` builds everything from one settings object. Models
load in a background thread at start-up; ``/healthz`` answers 200 once they
are loaded and warm, and WHIP answers 503 with Retry-After until then. The
shipped jobs and question banks are seeded into the store at start-up.

The REST API is one table of operations: each resource's module in
``server/routes/`` lists its own (a :class:`~server.routes._common.Resource`
with ``operations()``), :data:`RESOURCES` puts them in order, and the routes
and the OpenAPI document (``GET /openapi.json``) are both built from the
table. The handlers share one :class:`~server.context.Context`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import threading
import time
from pathlib import Path
from datetime import datetime
from typing import AsyncIterator, Callable, Sequence
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.middleware import Middleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from automation.engine import AutomationEngine, AutomationSettings
from channels import build_channels
from cluster import Cluster, Tickets
from db import AsyncStore, Store, utcnow
from db.base import open_engine
from db.migrate import prepare
from intake.extract import MAX_BYTES
from jobs import catalog
from media import jitter
from recordings import LocalBlobStore, RecorderConfig, Recordings
from recordings.s3 import S3BlobStore
from runtime.models import Models
from sinks import Channel, Outbox
from sinks.successfactors import SuccessFactorsChannel

from . import openapi
from .admission import Admission, LoopLagMonitor, node_load
from .audit import AuditTrail
from .auth import HrAuth, new_token
from .bodylimit import BodyLimit
from .headers import NoSniff
from .context import Context
from .eventlog import EventWriter
from .limits import FailureLimit, Failures, LocalFailures, SharedFailures
from .live import SessionRegistry
from .nodes import Nodes
from .metrics import Metrics
from .modelgate import ModelGate
from .progress import ApplicationProgress
from .openapi import Operation
from .policy import PROFILES
from .problems import Problem
from .reporting import Reporting
from .routes import analytics as analytics_routes, applications, automation as automation_routes, candidates, catalog as catalog_routes, consent, contacts, deliveries, events, hr, invites, ops, pages, reports, sessions, wecom, whip
from .routes import successfactors as successfactors_routes
from .routes import audit as audit_routes
from .routes import bias as bias_routes
from .routes import recordings as recordings_routes
from .routes import erasure as erasure_routes, mydata as mydata_routes
from .purge import Purge
from .routes import recommendations as recommendation_routes
from .routes import users as users_routes
from .routes._common import Resource
from .keys import wrapper_from
from .settings import Settings

log = logging.getLogger("candor")

WEB_DIR = pages.WEB_DIR
API_VERSION = "0.1.0"

# The REST API's resources, in the order of the table (and of the OpenAPI document).
RESOURCES: tuple[type[Resource], ...] = (
    ops.OpsRoutes,
    sessions.SessionRoutes,
    candidates.CandidateRoutes,
    reports.ReportRoutes,
    catalog_routes.CatalogRoutes,
    invites.InviteRoutes,
    hr.HrRoutes,
    consent.ConsentRoutes,
    whip.WhipRoutes,
    applications.ApplicationRoutes,
    automation_routes.AutomationRoutes,
    successfactors_routes.SuccessFactorsRoutes,
    analytics_routes.AnalyticsRoutes,
    deliveries.DeliveryRoutes,
    contacts.ContactRoutes,
    wecom.WeComRoutes,
    audit_routes.AuditRoutes,
    bias_routes.BiasRoutes,
    recordings_routes.RecordingRoutes,
    erasure_routes.ErasureRoutes,
    mydata_routes.MyDataRoutes,
    users_routes.UserRoutes,
    recommendation_routes.RecommendationRoutes,
)


def _failure_limit(settings: Settings, cluster: Cluster | None) -> Failures:
    """Failed sign-ins and exchanges: counted in Redis for every node (on the Cluster's client), else in this process."""
    local = FailureLimit(settings.auth_max_failures, settings.auth_failure_window_s)
    if cluster is None or settings.secret_key is None:
        return LocalFailures(local)
    return SharedFailures(cluster.redis, settings.secret_key.get_secret_value(), settings.auth_max_failures,
                          settings.auth_failure_window_s, prefix=cluster.prefix, local=local)


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



def _prepare_schema(settings: Settings) -> None:
    """Migrate the schema at start (CANDOR_MIGRATE; default auto for SQLite) or refuse a database behind this release."""
    auto = (settings.migrate or ("auto" if settings.database_url.startswith("sqlite") else "off")) == "auto"
    engine = open_engine(settings.database_url)
    try:
        done = prepare(engine, auto=auto)
    finally:
        engine.dispose()
    if done is not None and done[0] != done[1]:
        log.info("database schema %s -> %s", done[0] or "empty", done[1])


def body_limits(settings: Settings) -> Callable[[str, str], int]:
    """Each route's body limit (server/bodylimit.py): uploads have their own, larger ones."""
    resume = MAX_BYTES + applications.MULTIPART_OVERHEAD

    def limit_for(method: str, path: str) -> int:
        if path.startswith("/whip/"):
            return settings.whip_max_offer_bytes
        if path == "/v1/applications/batch":
            return settings.batch_max_bytes
        if path == "/v1/applications":
            return resume
        if path.startswith("/v1/inbound/applications/"):
            return MAX_BYTES * 4 // 3 + applications.MULTIPART_OVERHEAD  # base64 in JSON
        return settings.max_body_bytes

    return limit_for


def operations(ctx: Context) -> list[Operation]:
    """Every REST route, for the router and the OpenAPI document: each resource's, in :data:`RESOURCES` order."""
    return [op for resource in RESOURCES for op in resource(ctx).operations()]


class Candor:
    """The app's life: builds the handlers' context, starts and stops what it holds."""

    def __init__(
        self, settings: Settings, models: Models | None = None, *, load_models: bool = True,
        clock: Callable[[], datetime] | None = None, channels: Sequence[Channel] = (),
    ) -> None:
        self.settings = settings
        self._load_models_at_start = load_models
        # aiortc's receivers hand a video frame on at its last packet, not a frame later (media/jitter.py)
        jitter.install(settings.webrtc_frame_at_marker)
        metrics = Metrics()
        _prepare_schema(settings)
        store = AsyncStore(Store(settings.database_url, master=wrapper_from(settings)))
        writer = EventWriter(store)
        # Reports and decisions reach the HRIS through the outbox (issue 3).
        # E-mail and WeCom are channels of the same outbox, addressed by name (issue 11); SuccessFactors too.
        smtp_url = settings.smtp_url.get_secret_value() if settings.smtp_url else None
        extra: list[Channel] = build_channels(settings.wecom, smtp_url, settings.mail_from)
        if settings.successfactors:
            extra.append(SuccessFactorsChannel(settings.successfactors))
        outbox = Outbox(store, [*settings.sinks, *extra, *channels], **({"clock": clock} if clock else {}))
        metrics.watch_outbox(outbox)
        # Several nodes (docs/deploy.md): Redis carries live events, load, session placement and the
        # failure limits between them. Made before HrAuth, whose limit shares the Cluster's client.
        cluster = None
        if settings.redis_url is not None:
            if settings.secret_key is None:
                raise RuntimeError("several nodes (CANDOR_REDIS_URL) need CANDOR_SECRET_KEY, the same on every node: it signs WHIP redirects and keys the shared failure limits")
            cluster = Cluster(settings.redis_url.get_secret_value(), node_id=settings.node_name, node_url=settings.own_url,
                              heartbeat_s=settings.node_heartbeat_s, ttl_s=settings.node_ttl_s)
        hr = HrAuth(
            _hr_token(settings),
            settings.secret_key.get_secret_value() if settings.secret_key else secrets.token_hex(32),
            settings.hr_cookie_max_age_s,
            own_hosts=[urlsplit(settings.base_url).netloc],
            failures=_failure_limit(settings, cluster),
            store=store.store, async_store=store, token_enabled=settings.hr_token_enabled,
        )
        gate = ModelGate(models, metrics)
        # Answers' recordings, sealed with the vault before they reach the disk (recordings/, docs/recordings.md).
        blobs = (S3BlobStore.from_url(settings.recordings_url.get_secret_value()) if settings.recordings_url
                 else LocalBlobStore(settings.recordings_dir))
        recordings = Recordings(
            blobs, store.store.vault,
            RecorderConfig(video=settings.recordings_video, max_answer_s=settings.recordings_max_answer_s, video_fps=settings.video_fps),
            workers=max(1, (os.cpu_count() or 2) // 2),  # encoding threads shared by all sessions (each session's work in order)
        )
        recordings.attach(store.store)
        sessions = SessionRegistry(store, writer, models_ready=gate, settings=settings, metrics=metrics, recordings=recordings)
        nodes = None
        if cluster is not None:
            assert settings.secret_key is not None  # checked with the cluster above
            nodes = Nodes(cluster, store, Tickets(settings.secret_key.get_secret_value()))
            sessions.nodes = nodes
            writer.after_commit = nodes.committed
        policy = PROFILES[settings.policy]
        metrics.build_info.labels(
            API_VERSION, settings.asr_model, settings.asr_device, settings.asr_compute_type, settings.asr_window, settings.policy
        ).set(1)
        loop_lag = LoopLagMonitor(observe=metrics.loop_lag.observe)
        admission = Admission(
            max_live_sessions=settings.max_live_sessions,
            sessions_per_core=settings.sessions_per_core,
            loop_lag_s=settings.admission_loop_lag_s,
            backlog_s=settings.admission_backlog_s,
            retry_after_s=settings.admission_retry_after_s,
        )
        metrics.audio_backlog.set_function(sessions.audio_backlog_s)
        self.progress = ApplicationProgress(store)
        # The process runs itself (issue 11): rules scheduled in the transaction of each timeline entry.
        automation = AutomationEngine(
            store, outbox,
            AutomationSettings(base_url=settings.base_url, org_name=settings.org_name, feedback=settings.feedback,
                               enabled=settings.automation, timezone=settings.timezone),
            clock=clock or utcnow,
        )
        store.store.entry_hooks.append(automation.on_entry)
        self.ctx = Context(
            settings=settings,
            store=store,
            writer=writer,
            outbox=outbox,
            metrics=metrics,
            hr=hr,
            policy=policy,
            models=gate,
            sessions=sessions,
            reports=Reporting(store, outbox, sessions),
            loop_lag=loop_lag,
            admission=admission,
            automation=automation,
            audit=AuditTrail(store, hr, trusted_proxies=settings.trusted_proxies, registry=metrics.registry, clock=clock or utcnow),
            recordings=recordings,
            nodes=nodes,
        )
        automation.inviter = lambda record, extra: applications.ApplicationRoutes(self.ctx)._invite(record, "system", extra)
        self.ctx.reports.listeners.append(self.progress.on_event)
        # Retention (docs/retention.md): the daily purge of what expired.
        self.purge = Purge(self.ctx)

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        ctx = self.ctx
        try:
            await self._seed_catalog()
        except Exception:
            ctx.store.close()
            raise
        if not self.settings.hr_token_enabled and await ctx.store.run(ctx.store.store.count_admins) == 0:
            log.warning("CANDOR_HR_TOKEN_ENABLED=false and no enabled admin: add one with python -m server users create --role admin")
        ctx.writer.start()
        if ctx.nodes is not None:
            await ctx.nodes.start(ctx.sessions, lambda: node_load(ctx))  # its load, every heartbeat
        await ctx.outbox.start()
        await ctx.automation.start()
        ctx.audit.start()
        if self.settings.retention_purge:
            self.purge.start()
        if not ctx.models.ready.is_set() and self._load_models_at_start:
            threading.Thread(
                target=ctx.models.load, args=(self.settings,), kwargs={"emotion": ctx.policy.emotion},
                name="model-loader", daemon=True,
            ).start()
        expiry = asyncio.get_running_loop().create_task(self._expire_loop())
        ctx.loop_lag.start()
        # Interviews that ended while no report was written (the process died
        # in between): build their reports now, from the log.
        ctx.reports.resume(await ctx.store.run(ctx.store.store.sessions_without_report))
        # Upload batches a stopped process left half read: say so on each unread file.
        await ctx.store.run(ctx.store.store.interrupt_batches)
        try:
            yield
        finally:
            # One deadline for the whole stop (CANDOR_SHUTDOWN_TIMEOUT_S): the sessions close together
            # in two thirds of it, the reports and progress they started take what is left.
            budget = self.settings.shutdown_timeout_s
            deadline = time.monotonic() + budget
            expiry.cancel()
            await ctx.loop_lag.stop()
            await ctx.sessions.close(timeout_s=budget * 2 / 3)
            if ctx.recordings is not None:
                await asyncio.to_thread(ctx.recordings.close)  # after the sessions: their last answers are stored
            await ctx.reports.drain(timeout=min(10.0, max(0.5, deadline - time.monotonic())))
            await self.progress.drain(timeout=min(5.0, max(0.5, deadline - time.monotonic())))
            await ctx.writer.close()
            if ctx.nodes is not None:
                await ctx.nodes.close()  # after the writer: the last events reach the other nodes' watchers
            await ctx.automation.close()
            await self.purge.close()
            await ctx.audit.close()
            await ctx.outbox.close()
            ctx.store.close()
            ctx.models.close()

    async def _seed_catalog(self) -> None:
        """Shipped jobs and banks into the store (off the loop; a few ms)."""
        store = self.ctx.store
        report = await store.run(catalog.seed, store.store, self.settings.banks_dir)
        log.info(
            "jobs and banks: %d added, %d updated, %d unchanged",
            len(report.added), len(report.updated), len(report.unchanged),
        )
        if report.kept:
            log.warning(
                "shipped changes not applied because these were edited through the API: %s", ", ".join(report.kept)
            )

    async def _expire_loop(self) -> None:
        """Every few seconds release the idle sessions (a scan of a dict); every 30 s close the expired ones."""
        sweep_s = max(0.5, min(5.0, self.settings.idle_release_s / 4))
        loop = asyncio.get_running_loop()
        next_expiry = loop.time() + 30
        while True:
            await asyncio.sleep(sweep_s)
            try:
                await self.ctx.sessions.release_idle()
                if loop.time() >= next_expiry:
                    next_expiry = loop.time() + 30
                    await self.ctx.sessions.expire()
            except Exception:
                log.exception("session expiry sweep failed")


def create_app(
    settings: Settings | None = None, *, models: Models | None = None, load_models: bool = True,
    clock: Callable[[], datetime] | None = None, channels: Sequence[Channel] = (),
) -> Starlette:
    """The app. ``load_models=False`` skips loading models (for API-only use and tests); ``clock`` drives timers in tests."""
    settings = settings or Settings()
    candor = Candor(settings, models, load_models=load_models, clock=clock, channels=channels)
    ctx = candor.ctx
    table = operations(ctx)
    ctx.openapi_document = openapi.document(
        table,
        title="Candor",
        version=API_VERSION,
        server_url=settings.base_url,
        description="Real-time AI pre-interview server for bank recruiting. Errors are RFC 9457 problem details. "
        "The live event stream is a WebSocket: GET /v1/sessions/{session_id}/events (see docs/events.md).",
    )

    async def problem_handler(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        response = exc.response()
        response.headers.update(ctx.cors_headers(request))
        return response

    async def http_handler(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return Problem(exc.status_code, str(exc.detail), str(exc.detail), headers=dict(exc.headers or {})).response()

    routes = [
        Route("/", lambda r: RedirectResponse("/hr"), methods=["GET"]),
        *openapi.routes(table, guard=ctx.authorize),
        *events.EventRoutes(ctx).routes(),
        *pages.routes(ctx.nodes.origins if ctx.nodes is not None else None),
        Mount("/static", StaticFiles(directory=WEB_DIR), name="static"),
    ]
    app = Starlette(
        routes=routes,
        lifespan=candor.lifespan,
        exception_handlers={Problem: problem_handler, HTTPException: http_handler},
        middleware=[Middleware(NoSniff), Middleware(BodyLimit, limit_for=body_limits(settings))],
    )
    app.state.candor = ctx  # the handlers' shared context (tests look inside it)
    app.state.purge = candor.purge  # the retention purge (server/purge.py): tests run it with their clock
    return app
