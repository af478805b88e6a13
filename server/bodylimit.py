"""Request bodies have a size limit before they are read (issue 12).

:class:`BodyLimit` is a small ASGI middleware in front of every HTTP route: a
``Content-Length`` over the route's limit is answered 413 at once, without
reading a byte of the body; a body without one (chunked) is counted as it
arrives and stops with 413 as soon as it passes the limit. A route's limit
comes from ``limit_for(method, path)``: the JSON default, the WHIP offer's,
or the larger ones of the upload routes (which also check their own).
"""

from __future__ import annotations

from typing import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .problems import Problem


def too_large(limit: int) -> Problem:
    size = f"{limit // 2**20} MB" if limit >= 2**20 and limit % 2**20 == 0 else f"{limit // 1024} KB" if limit >= 1024 else f"{limit} bytes"
    return Problem(413, "Body too large", f"this request's body is at most {size}", slug="body-too-large", code="too_large", max_bytes=limit)


class BodyLimit:
    def __init__(self, app: ASGIApp, limit_for: Callable[[str, str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["method"], scope["path"])
        length = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = value
                break
        if length is not None:
            if not length.isdigit() or len(length) > 18:
                await Problem(400, "Malformed Content-Length", "Content-Length is a number of bytes").response()(scope, receive, send)
                return
            if int(length) > limit:
                await too_large(limit).response()(scope, receive, send)
                return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise too_large(limit)  # inside the handler: answered as a problem
            return message

        await self.app(scope, counted, send)
