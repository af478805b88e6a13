"""``X-Content-Type-Options: nosniff`` on every answer (issue 12): a browser takes each for the type it says it is.

Also :func:`origin_of`, what CORS and the pages' CSP compare: a URL's origin.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class NoSniff:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
            await send(message)

        await self.app(scope, receive, send_with_header)


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL (what a browser sends as Origin)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
