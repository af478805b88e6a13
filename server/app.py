"""The ASGI app: signaling (WHIP), REST API, HR auth, event stream, pages.

``create_app(settings)`` builds everything from one settings object. Models
load in a background thread at start-up; ``/healthz`` answers 200 once they
are loaded and warm, and WHIP answers 503 with Retry-After until then.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any, AsyncIterator, Callable

import msgpack
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from analyzers.events import SESSION_CREATED
from analyzers.models import ModelConfig, Models
from media.peer import SdpError

from .auth import HR_COOKIE, HrAuth, bearer, new_token
from .eventlog import EventWriter
from .live import SessionRegistry
from .metrics import Metrics
from .problems import Problem
from .settings import Settings
from .store import AsyncStore, SessionRecord, Store, utcnow

log = logging.getLogger("candor")

WEB_DIR = Path(__file__).resolve().parent.parent / "web_client"
CLOSE_TOO_SLOW = 4001
CLOSE_UNAUTHORISED = 4401
CLOSE_NOT_FOUND = 4404


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

    def __init__(self, settings: Settings, models: Models | None = None) -> None:
        self.settings = settings
        self.metrics = Metrics()
        self.store = AsyncStore(Store(settings.database_url))
        self.writer = EventWriter(self.store)
        self.hr = HrAuth(
            _hr_token(settings),
            settings.secret_key.get_secret_value() if settings.secret_key else secrets.token_hex(32),
            settings.hr_cookie_max_age_s,
        )
        self._models = models
        self._owns_models = models is None
        if models is not None:  # shared models report to this app's metrics
            for runner in (models.vad, models.asr, models.face):
                if runner is not None:
                    runner.set_observer(self.metrics.observe_stage)
        self._models_error: str | None = None
        self._models_ready = threading.Event()
        if models is not None and models.warm:
            self._models_ready.set()
        self.sessions = SessionRegistry(
            self.store, self.writer, models_ready=self.models, settings=settings, metrics=self.metrics
        )

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
                        asr_languages=tuple(s.asr_languages),
                        asr_beam_size=s.asr_beam_size,
                        asr_window=s.asr_window,
                    ),
                    observe=self.metrics.observe_stage,
                )
            if s.warmup and not self._models.warm:
                self._models.warmup()
            self._models_ready.set()
        except Exception as exc:
            self._models_error = str(exc)
            log.error("model loading failed: %s", exc)

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        self.writer.start()
        if not self._models_ready.is_set():
            threading.Thread(target=self._load_models, name="model-loader", daemon=True).start()
        expiry = asyncio.get_running_loop().create_task(self._expire_loop())
        try:
            yield
        finally:
            expiry.cancel()
            await self.sessions.close()
            await self.writer.close()
            self.store.close()
            if self._owns_models and self._models is not None:
                self._models.close()

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
        body = await request.body()
        if body.strip():
            try:
                data = json.loads(body)
            except ValueError:
                raise Problem(400, "Malformed JSON", "the request body is not JSON")
            if not isinstance(data, dict):
                raise Problem(422, "Invalid body", "the body must be a JSON object", errors=[{"field": "", "message": "expected an object"}])
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
        )
        events = await self.sessions.events_for(session_id)
        assert events is not None
        events.publish(SESSION_CREATED, None, {"expires_at": record.expires_at.isoformat()})
        body_out = {
            "id": session_id,
            **self.urls(session_id, code),
            "candidate_token": candidate_token,
            "expires_at": record.expires_at.isoformat(),
        }
        return JSONResponse(body_out, status_code=201, headers={"Location": f"/v1/sessions/{session_id}"})

    def _session_json(self, record: SessionRecord) -> dict[str, Any]:
        return {
            "id": record.id,
            "created_at": record.created_at.isoformat(),
            "expires_at": record.expires_at.isoformat(),
            "state": "expired" if record.expired() else record.state,
            "connected": self.sessions.is_connected(record.id),
        }

    async def list_sessions(self, request: Request) -> Response:
        self.require_hr(request)
        records = await self.store.run(self.store.store.list_sessions)
        return JSONResponse({"sessions": [self._session_json(r) for r in records]})

    async def get_session(self, request: Request) -> Response:
        self.require_hr(request)
        record = await self.session_record(request.path_params["session_id"])
        return JSONResponse(self._session_json(record))

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
        return JSONResponse(
            {
                "session_id": record.id,
                "token": token,
                "whip_url": f"{self.settings.base_url}/whip/{record.id}",
                "ice_servers": [s.public() for s in self.settings.ice_servers],
                "expires_at": record.expires_at.isoformat(),
                "language_hint": self.settings.asr_languages[0] if self.settings.asr_languages else "zh",
            }
        )

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
        events = await self.sessions.events_for(session_id)
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


def _by_method(**handlers: Callable[[Request], Any]) -> Callable[[Request], Any]:
    """One route per path, so a 405 lists every method the path takes."""

    async def endpoint(request: Request) -> Response:
        return await handlers[request.method](request)

    return endpoint


def create_app(settings: Settings | None = None, *, models: Models | None = None) -> Starlette:
    settings = settings or Settings()
    candor = Candor(settings, models)

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
        Route("/healthz", candor.healthz, methods=["GET"]),
        Route("/metrics", candor.metrics_route, methods=["GET"]),
        Route("/v1/sessions", _by_method(POST=candor.create_session, GET=candor.list_sessions), methods=["GET", "POST"]),
        Route("/v1/sessions/{session_id}", candor.get_session, methods=["GET"]),
        WebSocketRoute("/v1/sessions/{session_id}/events", candor.events_ws),
        Route("/v1/candidate/exchange", candor.exchange, methods=["POST"]),
        Route("/v1/hr/login", candor.hr_login, methods=["POST"]),
        Route("/v1/hr/logout", candor.hr_logout, methods=["POST"]),
        Route(
            "/whip/{session_id}",
            _by_method(OPTIONS=candor.whip_options, POST=candor.whip_post),
            methods=["OPTIONS", "POST"],
        ),
        Route(
            "/whip/{session_id}/{connection_id}",
            _by_method(OPTIONS=candor.whip_resource_options, DELETE=candor.whip_delete, PATCH=candor.whip_patch),
            methods=["OPTIONS", "DELETE", "PATCH"],
        ),
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
