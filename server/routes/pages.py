"""The two pages: the candidate's (``/interview``) and HR's (``/hr``); their scripts are under ``/static``."""

from __future__ import annotations

from pathlib import Path
from typing import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Route

from ._common import page_headers

WEB_DIR = Path(__file__).resolve().parent.parent.parent / "web_client"


Origins = Callable[[], Awaitable[list[str]]]


def routes(connect_origins: Origins | None = None) -> list[BaseRoute]:
    """The pages; ``connect_origins``: the other nodes' origins the candidate page may post its offer to (a 307)."""

    async def page_candidate(request: Request) -> Response:
        extra = await connect_origins() if connect_origins is not None else []
        return FileResponse(WEB_DIR / "candidate.html", headers=page_headers(extra))

    async def page_hr(request: Request) -> Response:
        return FileResponse(WEB_DIR / "hr.html", headers=page_headers())

    return [
        Route("/interview", page_candidate, methods=["GET"]),
        Route("/hr", page_hr, methods=["GET"]),
        Route("/hr/sessions", page_hr, methods=["GET"]),
        Route("/hr/sessions/{session_id}", page_hr, methods=["GET"]),
        Route("/hr/jobs/{job_id}", page_hr, methods=["GET"]),
        Route("/hr/applications/{application_id}", page_hr, methods=["GET"]),
        Route("/hr/dashboard", page_hr, methods=["GET"]),
        Route("/hr/users", page_hr, methods=["GET"]),
        Route("/hr/audit", page_hr, methods=["GET"]),
    ]
