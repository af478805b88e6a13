"""A job's automation (rules and message templates), template previews, and each application's actions."""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from automation import templates as tpl
from automation.rules import ACTIONS, EVENTS, VARIABLES, Automation, dump_yaml, load_yaml
from db import VersionConflict
from jobs.catalog import field_path
from jobs.models import Job

from ..openapi import Operation, Reply
from ..problems import Problem
from ._common import ETAG, IF_MATCH, Resource, if_match, json_object, parse_body, stale

MAX_RULES_BYTES = 256 * 1024


class AutomationBody(BaseModel):
    """A job's automation, as sent (JSON, or the same as YAML with Content-Type: application/yaml)."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool = False
    rules: list[dict[str, Any]] = Field(default_factory=list)
    templates: dict[str, dict[str, dict[str, Any]]] = Field(default_factory=dict)


class PreviewBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    template: str = Field(pattern=r"^[a-z][a-z0-9_\-]{0,63}$")
    language: str = Field(default="zh", pattern="^(zh|en)$")
    # Unsaved edits to preview: the template's text in this language.
    draft: dict[str, Any] | None = None


class AutomationRoutes(Resource):
    def operations(self) -> list[Operation]:
        job = "/v1/jobs/{job_id}"
        return [
            Operation(
                "GET", job + "/automation", self.get_automation, "A job's automation: rules, templates, and the language's vocabulary",
                "automation", replies={200: Reply("the rules and templates of the job's latest version (as YAML with Accept: application/yaml)", headers=ETAG)},
                problems=(401, 404), perm="automation.read",
            ),
            Operation(
                "PUT", job + "/automation", self.put_automation, "Replace a job's rules and template overrides (a new job version)",
                "automation", body=AutomationBody, params=(IF_MATCH,),
                other_bodies={"application/yaml": {"type": "string", "description": "the same document as YAML"}},
                replies={200: Reply("the job's automation as saved", headers=ETAG)}, problems=(400, 401, 404, 412, 413, 422),
                description="Every rule is checked when saved: an unknown event, action, argument, condition name or "
                "template is a 422 naming the rule. Rules apply to events from the moment they are saved.", perm="automation.write",
            ),
            Operation(
                "POST", job + "/templates/preview", self.preview, "Render a message template with sample values",
                "automation", body=PreviewBody, replies={200: Reply("subject, text and HTML as a candidate would get them")},
                problems=(401, 404, 422), perm="automation.read",
            ),
            Operation(
                "GET", "/v1/applications/{application_id}/actions", self.list_actions,
                "What the job's rules did and will do for an application, with each message's delivery attempts",
                "automation", replies={200: Reply("the actions, oldest first")}, problems=(401, 404), perm="applications.read",
            ),
            Operation(
                "POST", "/v1/automation/actions/{action_id}/retry", self.retry, "Run a failed or skipped action again",
                "automation", body_required=False, replies={200: Reply("the action")}, problems=(401, 404), perm="applications.write",
            ),
            Operation(
                "POST", "/v1/automation/actions/{action_id}/cancel", self.cancel, "Stop a scheduled action (a timer)",
                "automation", body_required=False, replies={200: Reply("the action")}, problems=(401, 404, 409), perm="applications.write",
            ),
        ]

    async def _job(self, job_id: str) -> Any:
        record = await self.ctx.store.run(self.ctx.store.store.get_job, job_id)
        if record is None:
            raise Problem(404, "Not found", f"no job {job_id!r}")
        return record

    async def get_automation(self, request: Request) -> Response:
        self.ctx.require_hr(request)
        record = await self._job(request.path_params["job_id"])
        automation = record.job().automation
        if "yaml" in request.headers.get("accept", ""):
            text = dump_yaml(automation.model_dump(mode="json", by_alias=True, exclude_none=True))
            return Response(text, media_type="application/yaml; charset=utf-8", headers={"ETag": f'"{record.version}"'})
        return JSONResponse(_automation_json(record.id, record.version, automation), headers={"ETag": f'"{record.version}"'})

    async def put_automation(self, request: Request) -> Response:
        self.ctx.require_hr(request)
        raw = await request.body()
        if len(raw) > MAX_RULES_BYTES:
            raise Problem(413, "Too large", "a job's automation is at most 256 KB")
        content_type = request.headers.get("content-type", "").split(";")[0].strip()
        if content_type in ("application/yaml", "application/x-yaml", "text/yaml"):
            try:
                data = load_yaml(raw.decode("utf-8")) if raw.strip() else {}
            except (yaml.YAMLError, UnicodeDecodeError) as exc:
                raise Problem(400, "Malformed YAML", f"the body is not YAML: {str(exc).splitlines()[0]}")
            if not isinstance(data, dict):
                raise Problem(422, "Invalid body", "the body must be a mapping (enabled, rules, templates)")
            if isinstance(data.get("automation"), dict) and len(data) == 1:
                data = data["automation"]
        else:
            data = await json_object(request)
        body = parse_body(AutomationBody, data)
        try:
            automation = Automation.model_validate(body.model_dump())
        except ValidationError as exc:
            errors = [{"field": field_path(e["loc"]), "message": e["msg"].removeprefix("Value error, ")}
                      for e in exc.errors(include_url=False, include_input=False)]
            raise Problem(422, "Invalid automation", errors[0]["message"], errors=errors)
        record = await self._job(request.path_params["job_id"])
        job = Job.model_validate({**record.job().model_dump(), "automation": automation.model_dump(by_alias=True)})
        try:
            found = await self.ctx.store.run(self.ctx.store.store.update_job, job, if_version=if_match(request))
        except VersionConflict as exc:
            raise stale(exc)
        if found is None:
            raise Problem(404, "Not found", f"no job {job.id!r}")
        saved = found[0]
        await self.ctx.audit.record(request, "rules.update", "job", saved.id, version=saved.version, rules=len(automation.rules), enabled=automation.enabled)
        return JSONResponse(_automation_json(saved.id, saved.version, saved.job().automation), headers={"ETag": f'"{saved.version}"'})

    async def preview(self, request: Request) -> Response:
        self.ctx.require_hr(request)
        spec = parse_body(PreviewBody, await json_object(request))
        record = await self._job(request.path_params["job_id"])
        overrides = dict(record.job().automation.templates)
        if spec.draft is not None:
            try:
                draft = tpl.TemplateText.model_validate(spec.draft)
            except ValidationError as exc:
                raise Problem(422, "Invalid template", exc.errors(include_url=False, include_input=False)[0]["msg"])
            overrides = {**overrides, spec.template: {**overrides.get(spec.template, {}), spec.language: draft}}
        templates = tpl.merged(overrides)
        variables = tpl.sample_variables(spec.language)
        job = record.job()
        variables["job_title"] = job.title.get(spec.language)
        variables["org"] = self.ctx.settings.org_name
        base = self.ctx.settings.base_url
        variables["invite_link"] = f"{base}/interview#code=example"
        variables["application_link"] = f"{base}/hr/applications/app_example"
        try:
            rendered = tpl.render(templates, spec.template, spec.language, variables)
        except tpl.TemplateProblem as exc:
            raise Problem(422, "Template does not render", str(exc))
        return JSONResponse(rendered.to_dict())

    async def list_actions(self, request: Request) -> Response:
        self.ctx.require_hr(request)
        application_id = request.path_params["application_id"]
        store = self.ctx.store.store
        found = await self.ctx.store.run(store.get_application, application_id)
        if found is None or not self.ctx.principal(request).sees_job(found.job_id):
            raise Problem(404, "Not found", f"no application {application_id!r}")
        actions = await self.ctx.store.run(store.actions_of, application_id)
        out = []
        for action in actions:
            item = action.to_dict()
            deliveries = []
            for delivery_id in action.result.get("deliveries", []):
                delivery = await self.ctx.outbox.get(delivery_id)
                if delivery is None:
                    continue
                attempts = await self.ctx.outbox.attempts(delivery_id)
                deliveries.append({**delivery.to_dict(), "attempts_list": [a.to_dict() for a in attempts]})
            item["deliveries"] = deliveries
            out.append(item)
        return JSONResponse({"application_id": application_id, "actions": out})

    async def retry(self, request: Request) -> Response:
        self.ctx.require_hr(request)
        found = await self.ctx.automation.retry(request.path_params["action_id"])
        if found is None:
            raise Problem(404, "Not found", f"no action {request.path_params['action_id']!r}")
        await self.ctx.audit.record(request, "automation.retry", "automation_action", found.id, application=found.application_id, state=found.state)
        return JSONResponse(found.to_dict())

    async def cancel(self, request: Request) -> Response:
        self.ctx.require_hr(request)
        action_id = request.path_params["action_id"]
        found = await self.ctx.store.run(self.ctx.store.store.cancel_action, action_id, self.ctx.automation.clock())
        if found is None:
            raise Problem(404, "Not found", f"no action {action_id!r}")
        if found.state != "cancelled":
            raise Problem(409, "Not scheduled", f"the action is {found.state}; only a scheduled one is cancelled")
        await self.ctx.audit.record(request, "automation.cancel", "automation_action", action_id, application=found.application_id)
        return JSONResponse(found.to_dict())


def _automation_json(job_id: str, version: int, automation: Automation) -> dict[str, Any]:
    return {
        "job_id": job_id,
        "version": version,
        **automation.model_dump(mode="json", by_alias=True, exclude_none=True),
        "template_names": sorted(tpl.merged(automation.templates)),
        "vocabulary": {"events": list(EVENTS), "actions": {k: list(v) for k, v in ACTIONS.items()}, "variables": list(VARIABLES)},
    }


__all__ = ["AutomationRoutes"]
