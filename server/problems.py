"""RFC 9457 problem details: every client error has a clear JSON body."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

PROBLEM_TYPE = "https://candor.invalid/problems/"


class Problem(Exception):
    def __init__(self, status: int, title: str, detail: str, *, slug: str | None = None, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.slug = slug or title.lower().replace(" ", "-")
        self.headers = headers or {}
        self.extra = extra

    def response(self) -> JSONResponse:
        body = {"type": PROBLEM_TYPE + self.slug, "title": self.title, "status": self.status, "detail": self.detail}
        body.update(self.extra)
        return JSONResponse(body, status_code=self.status, media_type="application/problem+json", headers=self.headers)
