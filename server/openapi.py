"""The REST API as a table of operations, and its OpenAPI 3.1 document.

Each :class:`Operation` names its path, method, endpoint, who may call it,
its body and its replies. The app builds its routes from the same table
(:func:`routes`), so every route is documented and nothing documented is
missing. Schemas come from the pydantic models' JSON Schema.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Awaitable, Callable, Iterable, Literal, Mapping

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .auth import HR_COOKIE
from .rest import ProblemDetails

Endpoint = Callable[[Request], Awaitable[Response]]
PROBLEM_JSON = "application/problem+json"
_PATH_PARAM = re.compile(r"{([a-zA-Z_][a-zA-Z0-9_]*)}")


@dataclass(frozen=True)
class Param:
    name: str
    where: Literal["query", "header"]
    schema: Mapping[str, Any]
    description: str = ""
    required: bool = False


@dataclass(frozen=True)
class Reply:
    description: str
    model: type[BaseModel] | None = None
    media_type: str | None = "application/json"  # None: no body
    headers: Mapping[str, str] = field(default_factory=dict)  # name -> description


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    endpoint: Endpoint
    summary: str
    tag: str
    auth: Literal["hr", "candidate"] | None = "hr"
    body: type[BaseModel] | str | None = None  # a model (JSON), or a media type for a raw body
    body_required: bool = True
    params: tuple[Param, ...] = ()
    replies: Mapping[int, Reply] = field(default_factory=dict)
    problems: tuple[int, ...] = ()  # statuses answered with application/problem+json
    description: str = ""
    # Other media types the body may come in (multipart/form-data, application/zip, ...) and their schemas.
    other_bodies: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # The permission an HR operation needs (server/permissions.py); the router checks it before the endpoint runs.
    # None on an HR operation: admins only, until someone decides (deny by default).
    perm: str | None = None

    @property
    def operation_id(self) -> str:
        return getattr(self.endpoint, "__name__", f"{self.method.lower()}_{self.path}")


Guard = Callable[[Request, "str | None"], Awaitable[Any]]


def routes(operations: Iterable[Operation], guard: Guard | None = None) -> list[Route]:
    """One route per path, so that a 405 lists every method the path takes.

    ``guard(request, perm)`` runs before every HR operation's endpoint (the one place permissions are
    enforced: server/context.py's ``Context.authorize``); it raises a problem (401, 403) to refuse.
    """
    by_path: dict[str, dict[str, Endpoint]] = {}
    for op in operations:
        handlers = by_path.setdefault(op.path, {})
        if op.method in handlers:
            raise ValueError(f"{op.method} {op.path} is defined twice")
        handlers[op.method] = _guarded(op, guard) if guard is not None and op.auth == "hr" else op.endpoint
    return [Route(path, _by_method(handlers), methods=list(handlers)) for path, handlers in by_path.items()]


def _guarded(op: Operation, guard: Guard) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        await guard(request, op.perm)
        return await op.endpoint(request)

    endpoint.__name__ = op.operation_id
    return endpoint


def _by_method(handlers: Mapping[str, Endpoint]) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        method = request.method
        if method == "HEAD" and "HEAD" not in handlers:
            method = "GET"  # starlette adds HEAD to every GET route
        return await handlers[method](request)

    return endpoint


def document(
    operations: Iterable[Operation], *, title: str, version: str, server_url: str, description: str = ""
) -> dict[str, Any]:
    operations = list(operations)
    models: list[type[BaseModel]] = [ProblemDetails]
    for op in operations:
        if isinstance(op.body, type):
            models.append(op.body)
        models += [r.model for r in op.replies.values() if r.model is not None]
    unique = list(dict.fromkeys(models))
    refs, defs = models_json_schema([(m, "validation") for m in unique], ref_template="#/components/schemas/{model}")
    ref = {model: refs[(model, "validation")] for model in unique}

    paths: dict[str, dict[str, Any]] = {}
    seen_ids: set[str] = set()
    for op in operations:
        if op.operation_id in seen_ids:
            raise ValueError(f"operation id {op.operation_id!r} is used twice")
        seen_ids.add(op.operation_id)
        out: dict[str, Any] = {"operationId": op.operation_id, "summary": op.summary, "tags": [op.tag]}
        if op.description:
            out["description"] = op.description
        if op.auth == "hr":
            out["x-permission"] = op.perm or "admin.only"
        params = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in _PATH_PARAM.findall(op.path)
        ]
        params += [
            {
                "name": p.name,
                "in": p.where,
                "required": p.required,
                "schema": dict(p.schema),
                **({"description": p.description} if p.description else {}),
            }
            for p in op.params
        ]
        if params:
            out["parameters"] = params
        if op.body is not None:
            if isinstance(op.body, str):
                content = {op.body: {"schema": {"type": "string"}}}
            else:
                content = {"application/json": {"schema": ref[op.body]}}
            content.update({media: {"schema": dict(schema)} for media, schema in op.other_bodies.items()})
            out["requestBody"] = {"required": op.body_required, "content": content}
        responses: dict[str, Any] = {}
        for status, reply in op.replies.items():
            item: dict[str, Any] = {"description": reply.description}
            if reply.media_type is not None:
                schema = ref[reply.model] if reply.model is not None else {"type": "string"}
                item["content"] = {reply.media_type: {"schema": schema}}
            if reply.headers:
                item["headers"] = {
                    name: {"description": text, "schema": {"type": "string"}} for name, text in reply.headers.items()
                }
            responses[str(status)] = item
        problems = set(op.problems) | ({401} if op.auth else set()) | ({403} if op.auth == "hr" else set())
        for status in sorted(problems):
            responses[str(status)] = {
                "description": HTTPStatus(status).phrase,
                "content": {PROBLEM_JSON: {"schema": ref[ProblemDetails]}},
            }
        out["responses"] = responses
        if op.auth == "hr":
            out["security"] = [{"hrBearer": []}, {"hrCookie": []}]
        elif op.auth == "candidate":
            out["security"] = [{"candidateBearer": []}]
        else:
            out["security"] = []
        paths.setdefault(op.path, {})[op.method.lower()] = out

    tags = list(dict.fromkeys(op.tag for op in operations))
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {"title": title, "version": version, **({"description": description} if description else {})},
        "servers": [{"url": server_url}],
        "tags": [{"name": tag} for tag in tags],
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {
                "hrBearer": {"type": "http", "scheme": "bearer",
                             "description": "a user's API token (POST /v1/me/tokens), or CANDOR_HR_TOKEN (the bootstrap admin)"},
                "hrCookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": HR_COOKIE,
                    "description": "set by POST /v1/hr/login",
                },
                "candidateBearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "a candidate token, scoped to one session",
                },
            },
        },
    }
