"""What several resources' handlers share: bodies, versions, problems, shared parameters."""

from __future__ import annotations

import asyncio
import json
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, Sequence, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from db import VersionConflict
from jobs.catalog import field_path

from ..openapi import Operation, Param
from ..problems import Problem

if TYPE_CHECKING:
    from ..context import Context

M = TypeVar("M", bound=BaseModel)

# Parameters and reply headers several operations document.
VERSION = Param("version", "query", {"type": "integer", "minimum": 1}, "a version (default: the latest)")
IF_MATCH = Param("If-Match", "header", {"type": "string"}, 'the version the edit starts from, e.g. "3"')
ETAG = {"ETag": 'the version, e.g. "3"'}
CREATED = {"Location": "its URL", **ETAG}
NO_BODY: dict[str, Any] = {"media_type": None}


# The pages' Content-Security-Policy: scripts and styles only from Candor's own files (no inline
# script or style anywhere, so no 'unsafe-inline'); media from the camera; framed only by Candor
# itself and WeCom (企业微信), whose workbench may open the pages inside its own.
WECOM_FRAME_ANCESTORS = "https://work.weixin.qq.com https://*.work.weixin.qq.com https://open.work.weixin.qq.com"
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob: mediastream:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    f"frame-ancestors 'self' {WECOM_FRAME_ANCESTORS}",
])


def page_headers(connect: Sequence[str] = ()) -> dict[str, str]:
    """A page's headers; ``connect``: other origins its scripts may fetch from (several nodes: the nodes' own URLs)."""
    policy = CONTENT_SECURITY_POLICY
    if connect:
        policy = policy.replace("connect-src 'self'", " ".join(["connect-src 'self'", *connect]))
    return {
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
        "Permissions-Policy": "camera=(self), microphone=(self)",
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
    }


# -- request bodies and replies ----------------------------------------------
# A body larger than this is parsed in a worker thread, not on the event loop.
PARSE_OFF_LOOP_BYTES = 64 * 1024
MAX_JSON_DEPTH = 32


def json_depth(data: Any) -> int:
    """How deeply arrays and objects nest (a scalar: 0); iterative, so any depth is measured."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def loads(body: bytes | str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """JSON with a nesting limit: 400 when it is not JSON or nests deeper than ``max_depth``."""
    try:
        data = json.loads(body)
    except RecursionError:
        data = None
        depth = max_depth + 1
    except ValueError:
        raise Problem(400, "Malformed JSON", "the request body is not JSON")
    else:
        depth = json_depth(data)
    if depth > max_depth:
        raise Problem(400, "JSON nested too deeply", f"objects and arrays nest at most {max_depth} deep", slug="json-too-deep")
    return data


async def json_body(request: Request) -> Any:
    """Any JSON body (its size was limited before it was read: server/bodylimit.py), parsed off the loop when large."""
    body = await request.body()
    settings = getattr(getattr(request.app.state, "candor", None), "settings", None)
    max_depth = settings.max_json_depth if settings is not None else MAX_JSON_DEPTH
    if len(body) > PARSE_OFF_LOOP_BYTES:
        return await asyncio.to_thread(loads, body, max_depth)
    return loads(body, max_depth)


async def json_object(request: Request, *, empty_ok: bool = False) -> dict[str, Any]:
    """The body as a JSON object: 400 if it is not JSON, 422 if not an object."""
    body = await request.body()
    if not body.strip():
        if empty_ok:
            return {}
        raise unknown("", "a JSON body is required")
    data = await json_body(request)
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


def unknown(field: str, message: str) -> Problem:
    return Problem(422, "Invalid body", message, errors=[{"field": field, "message": message}])


def with_path_id(data: dict[str, Any], path_id: str) -> dict[str, Any]:
    if "id" not in data:
        return {**data, "id": path_id}
    if data["id"] != path_id:
        message = f"must be the id in the path ({path_id!r}) or left out"
        raise Problem(422, "Invalid body", f"id: {message}", errors=[{"field": "id", "message": message}])
    return data


def version_param(request: Request) -> int | None:
    raw = request.query_params.get("version")
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9 or int(raw) < 1:  # the database's integers have a size
        message = "a version is a positive integer"
        raise Problem(422, "Invalid query", f"version: {message}", errors=[{"field": "version", "message": message}])
    return int(raw)


def if_match(request: Request) -> int | None:
    raw = request.headers.get("if-match")
    if raw is None or raw.strip() == "*":
        return None
    tag = raw.strip().removeprefix("W/").strip('"')
    if not (tag.isascii() and tag.isdigit()) or len(tag) > 9:
        raise Problem(400, "Malformed If-Match", 'If-Match takes the version from the ETag, e.g. "3"')
    return int(tag)


def stale(exc: VersionConflict) -> Problem:
    detail = f"the latest version is {exc.latest}: fetch it and edit that"
    return Problem(412, "Version conflict", detail, latest_version=exc.latest)


def versioned(body: dict[str, Any], version: int, *, status: int = 200, location: str | None = None) -> Response:
    headers = {"ETag": f'"{version}"'}
    if location:
        headers["Location"] = location
    return JSONResponse(body, status_code=status, headers=headers)


class Resource(ABC):
    """One resource's handlers; :meth:`operations` is its part of the app's one table of operations."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    @abstractmethod
    def operations(self) -> list[Operation]:
        """This resource's routes, in the order of the table (and of the OpenAPI document)."""
