"""Jobs and question banks: the same kind of resource, immutable versions (``?version=N``, ``ETag``, ``If-Match``)."""

from __future__ import annotations

from typing import Any, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from db import AlreadyExists, BankRecord, JobRecord, VersionConflict
from jobs.models import Job, QuestionBank
from reports.distribution import score_distribution

from .. import rest
from ..openapi import Operation, Param, Reply
from ..problems import Problem
from ._common import CREATED, ETAG, IF_MATCH, VERSION, Resource, if_match, json_object, parse_body, stale, unknown, version_param, versioned, with_path_id


class CatalogRoutes(Resource):
    """``/v1/jobs`` and ``/v1/banks``."""

    def operations(self) -> list[Operation]:
        return [
            Operation(
                "GET", "/v1/jobs", self.list_jobs, "List jobs (latest versions)", "jobs",
                replies={200: Reply("the jobs", rest.JobList)}, perm="jobs.read",
            ),
            Operation(
                "POST", "/v1/jobs", self.create_job, "Create a job (version 1)", "jobs", body=Job,
                replies={201: Reply("created", rest.JobVersion, headers=CREATED)}, problems=(400, 409, 422), perm="jobs.write",
            ),
            Operation(
                "GET", "/v1/jobs/{job_id}", self.get_job, "Show a job: the latest version, or ?version=N", "jobs",
                params=(VERSION,), replies={200: Reply("the version", rest.JobVersion, headers=ETAG)},
                problems=(404, 422), perm="jobs.read",
            ),
            Operation(
                "PUT", "/v1/jobs/{job_id}", self.update_job, "Edit a job: adds a version (old ones never change)",
                "jobs", body=Job, params=(IF_MATCH,),
                description="The body is the whole job; its id may be left out. An unchanged body adds no version.",
                replies={200: Reply("the latest version", rest.JobVersion, headers=ETAG)},
                problems=(400, 404, 412, 422), perm="jobs.write",
            ),
            Operation(
                "GET", "/v1/banks", self.list_banks, "List question banks (latest versions)", "banks",
                params=(Param("job_id", "query", {"type": "string"}, "only this job's banks"),),
                replies={200: Reply("the banks", rest.BankList)}, perm="jobs.read",
            ),
            Operation(
                "POST", "/v1/banks", self.create_bank, "Create a question bank (version 1) for a job", "banks",
                body=QuestionBank, replies={201: Reply("created", rest.BankVersion, headers=CREATED)},
                problems=(400, 409, 422), perm="jobs.write",
            ),
            Operation(
                "GET", "/v1/banks/{bank_id}", self.get_bank, "Show a question bank: the latest, or ?version=N",
                "banks", params=(VERSION,), replies={200: Reply("the version", rest.BankVersion, headers=ETAG)},
                problems=(404, 422), perm="jobs.read",
            ),
            Operation(
                "PUT", "/v1/banks/{bank_id}", self.update_bank, "Edit a question bank: adds a version", "banks",
                body=QuestionBank, params=(IF_MATCH,),
                description="The body is the whole bank; its id may be left out. An unchanged body adds no version.",
                replies={200: Reply("the latest version", rest.BankVersion, headers=ETAG)},
                problems=(400, 404, 412, 422), perm="jobs.write",
            ),
            Operation(
                "GET", "/v1/banks/{bank_id}/scores", self.bank_scores,
                "A bank's question scores across its interviews, per version asked", "banks",
                description="From the latest report of every session that ran the bank: per question and per "
                "personalised version (alternative; null: as written), the answers scored, the unanswered, and "
                "the overall scores' mean and quartiles. Compare a version's scores only with the same version's.",
                replies={200: Reply("the distribution", rest.BankScores)}, problems=(404,), perm="analytics.read",
            ),
        ]

    async def list_jobs(self, request: Request) -> Response:
        self.ctx.require_hr(request)
        records = await self.ctx.store.run(self.ctx.store.store.list_jobs)
        return JSONResponse({"jobs": [_job_summary(r) for r in records]})

    async def create_job(self, request: Request) -> Response:
        self.ctx.require_hr(request)  # before the body is read: 401, not 422
        job = parse_body(Job, await json_object(request))
        return await self._create_versioned(request, "job", job, self.ctx.store.store.create_job, _job_json)

    async def get_job(self, request: Request) -> Response:
        return await self._get_versioned(request, "job", self.ctx.store.store.get_job, _job_json)

    async def update_job(self, request: Request) -> Response:
        self.ctx.require_hr(request)  # before the body is read: 401, not 422
        job = parse_body(Job, with_path_id(await json_object(request), request.path_params["job_id"]))
        return await self._update_versioned(request, "job", job, self.ctx.store.store.update_job, _job_json)

    async def list_banks(self, request: Request) -> Response:
        self.ctx.require_hr(request)
        records = await self.ctx.store.run(self.ctx.store.store.list_banks, request.query_params.get("job_id") or None)
        return JSONResponse({"banks": [_bank_summary(r) for r in records]})

    async def create_bank(self, request: Request) -> Response:
        self.ctx.require_hr(request)  # before the body is read: 401, not 422
        bank = parse_body(QuestionBank, await json_object(request))
        await self._job_must_exist(bank)
        return await self._create_versioned(request, "bank", bank, self.ctx.store.store.create_bank, _bank_json)

    async def get_bank(self, request: Request) -> Response:
        return await self._get_versioned(request, "bank", self.ctx.store.store.get_bank, _bank_json)

    async def bank_scores(self, request: Request) -> Response:
        self.ctx.require_hr(request)
        bank_id = request.path_params["bank_id"]
        store = self.ctx.store.store
        bank = await self.ctx.store.run(store.get_bank, bank_id)
        if bank is None or not self.ctx.principal(request).sees_job(bank.job_id):  # row scoping: scores of one's jobs
            raise Problem(404, "Not found", f"no bank {bank_id!r}")
        reports = await self.ctx.store.run(store.latest_reports_of_bank, bank_id)
        rows = score_distribution(r.body for r in reports)
        return JSONResponse({"bank_id": bank_id, "interviews": len(reports), "questions": rows})

    async def update_bank(self, request: Request) -> Response:
        self.ctx.require_hr(request)  # before the body is read: 401, not 422
        bank = parse_body(QuestionBank, with_path_id(await json_object(request), request.path_params["bank_id"]))
        await self._job_must_exist(bank)
        return await self._update_versioned(request, "bank", bank, self.ctx.store.store.update_bank, _bank_json)

    # Jobs and banks are the same kind of resource: immutable versions.

    async def _create_versioned(self, request: Request, kind: str, model: Any, create: Callable[..., Any], to_json: Callable[[Any], dict[str, Any]]) -> Response:
        try:
            record = await self.ctx.store.run(create, model)
        except AlreadyExists:
            raise Problem(409, "Already exists", f"{kind} {model.id!r} exists; PUT /v1/{kind}s/{model.id} adds a version")
        await self.ctx.audit.record(request, f"{kind}.create", kind, record.id, version=record.version)
        return versioned(to_json(record), record.version, status=201, location=f"/v1/{kind}s/{record.id}")

    async def _get_versioned(self, request: Request, kind: str, get: Callable[..., Any], to_json: Callable[[Any], dict[str, Any]]) -> Response:
        self.ctx.require_hr(request)
        item_id, version = request.path_params[f"{kind}_id"], version_param(request)
        record = await self.ctx.store.run(get, item_id, version)
        if record is None:
            raise Problem(404, "Not found", f"no {kind} {item_id!r}" + (f" version {version}" if version else ""))
        return versioned(to_json(record), record.version)

    async def _update_versioned(self, request: Request, kind: str, model: Any, update: Callable[..., Any], to_json: Callable[[Any], dict[str, Any]]) -> Response:
        try:
            found = await self.ctx.store.run(update, model, if_version=if_match(request))
        except VersionConflict as exc:
            raise stale(exc)
        if found is None:
            raise Problem(404, "Not found", f"no {kind} {model.id!r}; POST /v1/{kind}s creates one")
        await self.ctx.audit.record(request, f"{kind}.update", kind, found[0].id, version=found[0].version)
        return versioned(to_json(found[0]), found[0].version)

    async def _job_must_exist(self, bank: QuestionBank) -> None:
        if await self.ctx.store.run(self.ctx.store.store.get_job, bank.job_id) is None:
            raise unknown("job_id", f"no job {bank.job_id!r}; create the job first")


def _job_json(record: JobRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "version": record.version,
        "created_at": record.created_at.isoformat(),
        "source": record.source,
        "job": record.body,
    }


def _job_summary(record: JobRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "version": record.version,
        "created_at": record.created_at.isoformat(),
        "source": record.source,
        "title": record.body["title"],
    }


def _bank_json(record: BankRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "version": record.version,
        "job_id": record.job_id,
        "created_at": record.created_at.isoformat(),
        "source": record.source,
        "bank": record.body,
    }


def _bank_summary(record: BankRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "version": record.version,
        "job_id": record.job_id,
        "created_at": record.created_at.isoformat(),
        "source": record.source,
        "title": record.body["title"],
        "questions": len(record.body["questions"]),
    }
