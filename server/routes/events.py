"""The live event stream: ``WS /v1/sessions/{session_id}/events`` (docs/events.md).

HR watch a session's events as they happen, after its history from
``?from_seq=N``, as JSON or ``?format=msgpack``. A watcher too slow to keep up
is closed (4001) and reconnects with ``from_seq``. ``?partials=0`` leaves out
``transcript.partial``: a watcher that only needs finals and scores (a robot,
a dashboard) says so, and a session nobody else reads decodes no partials.
It is a WebSocket, so it is a route of its own, outside the table of operations.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any, Callable

import msgpack
from starlette.routing import BaseRoute, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from events import TRANSCRIPT_PARTIAL

from ..context import Context

log = logging.getLogger("candor")

CLOSE_TOO_SLOW = 4001
CLOSE_BAD_REQUEST = 4400
CLOSE_UNAUTHORISED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404


class EventRoutes:
    """One app's event stream endpoint."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def routes(self) -> list[BaseRoute]:
        return [WebSocketRoute("/v1/sessions/{session_id}/events", self.events_ws)]

    async def events_ws(self, websocket: WebSocket) -> None:
        # Accept first, then close with a code: a browser sees close codes
        # only on an accepted socket (a refused handshake is just 1006).
        if not self.ctx.hr.allowed(websocket):
            await websocket.accept()
            await websocket.close(code=CLOSE_UNAUTHORISED, reason="HR sign-in required")
            return
        session_id = websocket.path_params["session_id"]
        principal = self.ctx.hr.resolve_conn(websocket)
        if principal is None or not principal.can("sessions.read"):  # the permission table (server/permissions.py)
            await websocket.accept()
            await websocket.close(code=CLOSE_FORBIDDEN, reason="this role may not watch sessions")
            return
        record = await self.ctx.store.run(self.ctx.store.store.get_session, session_id)
        visible = record is not None and principal.sees_job(record.job_id)
        # Several nodes: any node follows the session from the database and Redis (server/nodes.py); one box: its own stream.
        events = await self.ctx.events_for(session_id) if visible and self.ctx.nodes is None else None
        if not visible or (events is None and self.ctx.nodes is None):
            await websocket.accept()
            await websocket.close(code=CLOSE_NOT_FOUND, reason="no such session")
            return
        fmt = websocket.query_params.get("format", "json")
        raw_seq = websocket.query_params.get("from_seq", "0")
        # not a number: from the start (as ever); a number past any sequence the database holds: refused
        from_seq = int(raw_seq) if raw_seq.isascii() and raw_seq.isdigit() and len(raw_seq) <= 18 else 0
        if fmt not in ("json", "msgpack") or (raw_seq.isascii() and raw_seq.lstrip("-").isdigit() and len(raw_seq.lstrip("-")) > 18):
            await websocket.accept()
            await websocket.close(code=CLOSE_BAD_REQUEST, reason="format is json or msgpack; from_seq a sequence number")
            return
        partials = websocket.query_params.get("partials", "1").lower() not in ("0", "false", "no", "off")
        await websocket.accept()
        send = _sender(websocket, fmt, partials=partials)
        if events is None:
            assert self.ctx.nodes is not None
            await self._follow(websocket, self.ctx.nodes.follow(session_id, from_seq, send, partials=partials))
            return
        watcher = events.subscribe(partials=partials)
        self.ctx.metrics.watchers.inc()

        async def stream() -> None:
            await events.flush()
            history = await self.ctx.store.run(self.ctx.store.store.read_events, session_id, from_seq)
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
                self.ctx.metrics.watchers_dropped.inc()
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
            self.ctx.metrics.watchers.dec()


    async def _follow(self, websocket: WebSocket, stream: Any) -> None:
        """Send what ``stream`` (a coroutine) sends until the watcher goes; a watcher too slow just waits (it pulls)."""
        loop = asyncio.get_running_loop()
        sender = loop.create_task(stream)
        receiver = loop.create_task(_drain_client(websocket))
        self.ctx.metrics.watchers.inc()
        try:
            await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
            if sender.done() and not sender.cancelled() and sender.exception() is not None:
                exc = sender.exception()
                if not isinstance(exc, (WebSocketDisconnect, RuntimeError, OSError)):
                    log.error("event stream failed: %s", type(exc).__name__)
        finally:
            for task in (sender, receiver):
                task.cancel()
            self.ctx.metrics.watchers.dec()


def _sender(websocket: WebSocket, fmt: str, *, partials: bool = True) -> Callable[[dict[str, Any]], Any]:
    """Sends an event's dict as ``fmt``; without ``partials``, ``transcript.partial`` is left out."""
    async def send(data: dict[str, Any]) -> None:
        if not partials and data.get("type") == TRANSCRIPT_PARTIAL:
            return
        if fmt == "msgpack":
            await websocket.send_bytes(msgpack.packb(data, use_bin_type=True))
        else:
            await websocket.send_text(json.dumps(data, ensure_ascii=False))

    return send


async def _drain_client(websocket: WebSocket) -> None:
    """Read (and ignore) what a watcher sends; returns when it disconnects."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
