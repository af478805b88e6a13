"""Issue 12, section 1: the role x route table, and row scoping by job.

Every HR operation of the built app is called by every role (each a real
user signed in with a password) and by nobody, and the answer's class is
checked against server/permissions.py's table: allowed is neither 401 nor
403; denied is 403 for a signed-in user and 401 for nobody. Then the rows:
a recruiter or reviewer of one job sees nothing of another.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from runtime.models import Models
from server.app import create_app, operations
from server.permissions import ROLES, SCOPED_ROLES, UNDECIDED, role_permissions
from tests.helpers import HR_TOKEN, LiveServer, make_settings
from tests.test_intake import EN_RESUME

HR = {"Authorization": f"Bearer {HR_TOKEN}"}
PASSWORD = "role-table-password-1"
JOB_A, JOB_B = "wealth_manager", "credit_analyst"


class Server(LiveServer):
    """Candor without speech models; applications are screened on words alone (no encoder)."""

    def __init__(self, tmp_path: Path, database_url: str) -> None:
        models = Models(vad=None, asr=None, face=None, encoder=None)
        models.warm = True
        super().__init__(make_settings(tmp_path, database_url=database_url, contact_key="test-contact-key"), models,
                         load_models=False)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, module_db_url: str) -> Iterator[Server]:
    with Server(tmp_path_factory.mktemp("roles"), module_db_url) as running:
        yield running


@pytest.fixture(scope="module")
def clients(server: Server) -> Iterator[dict[str, httpx.Client]]:
    """One signed-in client per role (a recruiter and a reviewer of job A), and one of nobody."""
    out: dict[str, httpx.Client] = {}
    for role in ROLES:
        made = httpx.post(f"{server.url}/v1/users", headers=HR, json={
            "login": f"{role}.one", "display_name": role, "role": role, "password": PASSWORD, "job_ids": [JOB_A]})
        assert made.status_code == 201, made.text
        http = httpx.Client(base_url=server.url, timeout=30)
        assert http.post("/v1/hr/login", json={"login": f"{role}.one", "password": PASSWORD}).status_code == 204
        out[role] = http
    out["anonymous"] = httpx.Client(base_url=server.url, timeout=30)
    yield out
    for http in out.values():
        http.close()


def hr_operations(tmp_path: Path) -> list:
    app = create_app(make_settings(tmp_path), load_models=False)
    ctx = app.state.candor
    table = [op for op in operations(ctx) if op.auth == "hr"]
    ctx.store.close()
    return table


def test_every_hr_operation_names_a_known_permission(tmp_path: Path) -> None:
    table = hr_operations(tmp_path)
    undecided = [f"{op.method} {op.path}" for op in table if op.perm is None]
    assert undecided == [], "give these a permission (server/permissions.py); until then they are admin-only"
    unknown = [f"{op.method} {op.path}: {op.perm}" for op in table if op.perm not in role_permissions("admin") - {UNDECIDED}]
    assert unknown == []


def test_every_role_on_every_route(server: Server, clients: dict[str, httpx.Client], tmp_path: Path) -> None:
    table = hr_operations(tmp_path)
    assert len(table) > 50
    wrong: list[str] = []
    for op in table:
        path = re.sub(r"{[a-z_]+}", "no-such-id", op.path)
        body = {"json": {}} if op.method in ("POST", "PUT", "PATCH") else {}
        for who, http in clients.items():
            answer = http.request(op.method, path, params={"job_id": JOB_A}, **body)
            status = answer.status_code
            if who == "anonymous":
                expected = "401"
                ok = status == 401
            elif (op.perm or UNDECIDED) in role_permissions(who):
                expected = "allowed"
                ok = status not in (401, 403)
            else:
                expected = "403"
                ok = status == 403 and answer.json()["type"].endswith("forbidden")
            if not ok:
                wrong.append(f"{who:10} {op.method} {op.path} ({op.perm}): {status}, expected {expected}")
    assert wrong == []


# -- row scoping ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def applications(server: Server) -> dict[str, str]:
    """One application (with a phone and an e-mail in its resume) for job A and one for job B; A's invited."""
    out = {}
    for job in (JOB_A, JOB_B):
        made = httpx.post(f"{server.url}/v1/applications", headers=HR, timeout=60, json={"job_id": job, "resume_text": EN_RESUME})
        assert made.status_code == 201, made.text
        out[job] = made.json()["id"]
    invited = httpx.post(f"{server.url}/v1/applications/{out[JOB_A]}/invite", headers=HR, json={})
    assert invited.status_code in (200, 201), invited.text
    return out


def test_a_recruiter_sees_only_their_jobs_applications(clients: dict[str, httpx.Client], applications: dict[str, str]) -> None:
    recruiter = clients["recruiter"]
    assert recruiter.get(f"/v1/applications/{applications[JOB_A]}").status_code == 200
    for path in ("", "/resume", "/timeline", "/contacts", "/actions", "/outcomes"):
        assert recruiter.get(f"/v1/applications/{applications[JOB_B]}{path}").status_code == 404, path
    assert recruiter.post(f"/v1/applications/{applications[JOB_B]}/decide", json={"decision": "reject"}).status_code == 404
    page = recruiter.get("/v1/applications").json()
    assert {a["id"] for a in page["applications"]} == {applications[JOB_A]}
    assert sum(page["counts"].values()) == 1  # the counts are of their jobs too
    assert recruiter.get("/v1/applications", params={"job_id": JOB_B}).json()["applications"] == []
    bulk = recruiter.post("/v1/applications/bulk", json={"ids": [applications[JOB_B]], "action": "withdraw"}).json()
    assert [r["status"] for r in bulk["results"]] == [404]
    assert recruiter.get("/v1/analytics/funnel", params={"job_id": JOB_B}).status_code == 403
    admin = clients["admin"]
    assert {a["id"] for a in admin.get("/v1/applications").json()["applications"]} == set(applications.values())
    # Candidates too: another job's candidate is not listed, shown or edited.
    theirs = {job: admin.get(f"/v1/applications/{app_id}").json()["candidate"]["id"] for job, app_id in applications.items()}
    listed = {c["id"] for c in recruiter.get("/v1/candidates").json()["candidates"]}
    assert theirs[JOB_A] in listed and theirs[JOB_B] not in listed
    assert recruiter.get(f"/v1/candidates/{theirs[JOB_B]}").status_code == 404
    assert recruiter.put(f"/v1/candidates/{theirs[JOB_B]}", json={"profile": {"name": "x"}}).status_code == 404
    assert recruiter.get(f"/v1/candidates/{theirs[JOB_A]}").status_code == 200
    assert theirs[JOB_B] in {c["id"] for c in admin.get("/v1/candidates").json()["candidates"]}
    # What a named person does carries their user id on the timeline (not the shared "hr" of the token days).
    me = recruiter.get("/v1/me").json()
    decided = recruiter.post(f"/v1/applications/{applications[JOB_A]}/decide", json={"decision": "hold", "reason": "x"})
    assert decided.status_code == 200, decided.text
    last = recruiter.get(f"/v1/applications/{applications[JOB_A]}/timeline").json()
    entries = last["entries"] if isinstance(last, dict) else last
    assert entries[-1]["actor"] == "hr" and entries[-1]["actor_id"] == me["user_id"] != "hr"


def test_a_reviewer_sees_their_jobs_sessions_without_contact_data(clients: dict[str, httpx.Client], applications: dict[str, str]) -> None:
    admin, reviewer = clients["admin"], clients["reviewer"]
    session_id = admin.get(f"/v1/applications/{applications[JOB_A]}").json()["session_id"]
    assert session_id
    other = admin.post("/v1/sessions", json={"job_id": JOB_B, "candidate": {"name": "Other Person"}}).json()["id"]
    listed = {s["id"] for s in reviewer.get("/v1/sessions").json()["sessions"]}
    assert session_id in listed and other not in listed
    assert reviewer.get(f"/v1/sessions/{other}").status_code == 404
    assert reviewer.get(f"/v1/sessions/{other}/report").status_code == 404
    seen = reviewer.get(f"/v1/sessions/{session_id}")
    assert seen.status_code == 200
    assert set(seen.json()["candidate"]) <= {"name", "languages"}  # the name, nothing to reach them by
    full = admin.get(f"/v1/sessions/{session_id}").json()["candidate"]
    assert len(full) > len(seen.json()["candidate"])
    resume = admin.get(f"/v1/applications/{applications[JOB_A]}/resume").text
    email, phone = "li.na@example.org", "1234-5678"
    assert email in EN_RESUME and phone in EN_RESUME and email in resume  # the admin's view has them
    for path in (f"/v1/applications/{applications[JOB_A]}", f"/v1/applications/{applications[JOB_A]}/resume",
                 f"/v1/applications/{applications[JOB_A]}/contacts"):
        answer = reviewer.get(path)
        assert answer.status_code == 403 and email not in answer.text
    assert email not in seen.text and phone not in seen.text


def test_a_reviewer_records_a_recommendation_on_their_jobs_interviews(clients: dict[str, httpx.Client],
                                                                      applications: dict[str, str]) -> None:
    admin, reviewer = clients["admin"], clients["reviewer"]
    before = admin.get(f"/v1/applications/{applications[JOB_A]}").json()
    mine = before["session_id"]
    other = admin.post("/v1/sessions", json={"job_id": JOB_B, "candidate": {"name": "Other Person"}}).json()["id"]
    made = reviewer.post(f"/v1/sessions/{mine}/recommendations", json={"recommendation": "advance", "note": "clear answers"})
    assert made.status_code == 201, made.text
    again = reviewer.post(f"/v1/sessions/{mine}/recommendations", json={"recommendation": "hold"})
    assert again.status_code == 201
    assert reviewer.post(f"/v1/sessions/{other}/recommendations", json={"recommendation": "reject"}).status_code == 404
    assert reviewer.post(f"/v1/sessions/{mine}/recommendations", json={"recommendation": "hire"}).status_code == 422
    listed = admin.get(f"/v1/sessions/{mine}/recommendations").json()["recommendations"]
    assert [(r["role"], r["recommendation"]) for r in listed] == [("reviewer", "hold")]  # one per user: the latest
    assert clients["auditor"].get(f"/v1/sessions/{mine}/recommendations").status_code == 403
    after = admin.get(f"/v1/applications/{applications[JOB_A]}").json()
    assert (after["state"], after["outcome"]) == (before["state"], before["outcome"])  # advice moves nothing


def test_an_auditor_reads_the_audit_log_and_no_candidate(clients: dict[str, httpx.Client], applications: dict[str, str]) -> None:
    auditor = clients["auditor"]
    entries = auditor.get("/v1/audit").json()["entries"]
    assert entries and all("@" not in str(e) for e in entries)
    assert auditor.get(f"/v1/applications/{applications[JOB_A]}").status_code == 403
    assert auditor.get("/v1/candidates").status_code == 403
    assert auditor.get("/v1/sessions").status_code == 403
    roles = {e["role"] for e in entries}
    assert {"admin", "recruiter", "reviewer"} <= roles  # the trail names each user's role, not one shared "hr"


def test_scoped_roles_are_the_ones_given_jobs() -> None:
    assert SCOPED_ROLES == {"recruiter", "reviewer"}


async def test_the_event_stream_follows_the_table_and_the_jobs(server: Server, clients: dict[str, httpx.Client],
                                                                applications: dict[str, str]) -> None:
    import websockets

    admin = clients["admin"]
    before = admin.get(f"/v1/applications/{applications[JOB_A]}").json()
    mine = before["session_id"]
    other = admin.post("/v1/sessions", json={"job_id": JOB_B, "candidate": {"name": "Other Person"}}).json()["id"]

    async def close_code(who: str, session_id: str) -> int | None:
        cookie = f"candor_hr={clients[who].cookies['candor_hr']}"
        url = server.url.replace("http://", "ws://") + f"/v1/sessions/{session_id}/events"
        async with websockets.connect(url, additional_headers={"Cookie": cookie}, origin=server.url) as ws:
            try:
                await asyncio.wait_for(ws.recv(), 5)
            except websockets.ConnectionClosed as closed:
                return closed.rcvd.code if closed.rcvd else None
            return None  # an event came: watching

    assert await close_code("reviewer", mine) is None
    assert await close_code("reviewer", other) == 4404  # another job's session is not there
    assert await close_code("auditor", mine) == 4403  # auditors do not watch candidates
    assert await close_code("admin", other) is None
