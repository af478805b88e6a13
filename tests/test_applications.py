"""Applications over HTTP: a resume in, parsed and screened, one per person and job, then the pipeline.

The real app with the real sentence encoder (screening skills by meaning),
real resumes made at test time (DOCX with python-docx, text in UTF-8 and
GBK, a hand-written encrypted PDF), a real SQLite database.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from runtime.models import Models
from scoring.encoder import SentenceEncoder
from server import rest
from server.app import create_app
from tests.helpers import HR_TOKEN, make_settings
from tests.resume_fixtures import make_resume, simple_pdf, to_docx, to_text
from tests.test_intake import EN_RESUME, ZH_RESUME

HR = {"Authorization": f"Bearer {HR_TOKEN}"}
LIEPIN_SECRET = "liepin-test-secret"


@pytest.fixture()
def client(tmp_path: Path, db_url: str, encoder: SentenceEncoder) -> Iterator[TestClient]:
    settings = make_settings(tmp_path, database_url=db_url, contact_key="test-contact-key", inbound_secrets={"liepin": LIEPIN_SECRET})
    models = Models(vad=None, asr=None, face=None, encoder=encoder)
    models.warm = True
    app = create_app(settings, models=models, load_models=False)
    with TestClient(app, base_url="http://127.0.0.1") as test_client:
        yield test_client


def upload(client: TestClient, data: bytes, filename: str, job_id: str = "wealth_manager", **fields: str) -> Any:
    return client.post(
        "/v1/applications", data={"job_id": job_id, **fields}, files={"resume": (filename, data)}, headers=HR
    )


def test_a_resume_file_becomes_a_screened_application_with_evidence(client: TestClient) -> None:
    made = upload(client, ZH_RESUME.encode("gbk"), "简历.txt", source="campus", external_id="C-1")
    assert made.status_code == 201, made.text
    app = rest.ApplicationInfo.model_validate(made.json())
    assert made.headers["location"] == f"/v1/applications/{app.id}"
    assert app.state == "screened" and app.outcome == app.screening.decision
    assert app.source == "campus" and app.external_id == "C-1"
    assert app.candidate.profile.name == "欧阳明轩"
    assert app.resume.kind == "txt" and app.resume.language == "zh" and app.resume.text_chars > 200
    # every row explains itself, and its evidence is the resume's own text
    resume = client.get(f"/v1/applications/{app.id}/resume", headers=HR).json()
    rows = {(r.kind, r.asks): r for r in app.screening.rows}
    assert rows[("education", "bachelor")].status == "met"
    for row in app.screening.rows:
        for ev in row.evidence:
            assert resume["text"][ev.start : ev.end] == ev.text
    assert sum(r.points for r in app.screening.rows) == pytest.approx(app.screening.score, abs=0.1)
    timeline = client.get(f"/v1/applications/{app.id}/timeline", headers=HR).json()["entries"]
    assert [e["action"] for e in timeline] == ["receive", "screen"]
    assert timeline[1]["outcome"] == app.outcome and "job match" in timeline[1]["reason"]


def test_the_same_person_applying_again_is_one_application(client: TestClient) -> None:
    first = upload(client, ZH_RESUME.encode(), "a.txt", source="liepin")
    again = upload(client, to_docx_from_text(ZH_RESUME), "另一份简历.docx", source="boss")  # same phone and e-mail
    assert first.status_code == 201 and again.status_code == 200, again.text
    assert again.json()["id"] == first.json()["id"]
    assert [d["source"] for d in again.json()["duplicates"]] == ["boss"]
    other_job = upload(client, ZH_RESUME.encode(), "a.txt", job_id="risk_manager")
    assert other_job.status_code == 201  # another job is another application
    listed = client.get("/v1/applications", headers=HR).json()
    assert len(listed["applications"]) == 2


def to_docx_from_text(text: str) -> bytes:
    import docx

    document = docx.Document()
    for line in text.splitlines():
        document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_json_resume_text_and_english(client: TestClient) -> None:
    made = client.post("/v1/applications", json={"job_id": "credit_analyst", "resume_text": EN_RESUME, "source": "website"}, headers=HR)
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["resume"]["language"] == "en" and body["job_id"] == "credit_analyst"
    assert any(r["kind"] == "skill" and r["status"] != "not_met" for r in body["screening"]["rows"])


@pytest.mark.parametrize(
    ("data", "name", "status", "code"),
    [
        (b"", "empty.pdf", 422, "empty"),
        (b"MZ\x90\x00" + b"\x00" * 200, "resume.pdf", 422, "unsupported_type"),  # a program renamed .pdf
        (b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage", "broken.pdf", 422, "corrupt"),
        (simple_pdf("Zhang San CFA", user_password="secret"), "locked.pdf", 422, "encrypted"),
    ],
)
def test_a_bad_file_is_a_clear_problem_and_nothing_is_kept(client: TestClient, data: bytes, name: str, status: int, code: str) -> None:
    answer = upload(client, data, name)
    assert answer.status_code == status, answer.text
    problem = answer.json()
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert problem["code"] == code and problem["detail"]
    assert name not in problem["detail"]  # file names are often the candidate's name
    assert client.get("/v1/applications", headers=HR).json()["applications"] == []


def test_a_50_mb_upload_is_refused_before_it_is_read(client: TestClient) -> None:
    sent = {"bytes": 0}

    def body() -> Iterator[bytes]:
        for _ in range(50):
            sent["bytes"] += 2**20
            yield b"x" * 2**20

    answer = client.post(
        "/v1/applications", content=body(),
        headers={**HR, "content-type": "multipart/form-data; boundary=xyz", "content-length": str(50 * 2**20)},
    )
    assert answer.status_code == 413 and answer.json()["code"] == "too_large"
    assert sent["bytes"] < 50 * 2**20  # the server answered without taking it all
    missing = upload(client, b"x", "a.txt", job_id="no_such_job")
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "job_id"
    wrong = client.post("/v1/applications", content=b"<xml/>", headers={**HR, "content-type": "application/xml"})
    assert wrong.status_code == 415


def test_list_filters_sorts_pages_and_counts(client: TestClient) -> None:
    ids = []
    for seed in range(7):
        resume = make_resume(seed, "zh" if seed % 2 else "en")
        made = upload(client, to_text(resume).encode(), f"r{seed}.txt", source="campus" if seed < 4 else "liepin")
        assert made.status_code == 201, made.text
        ids.append(made.json()["id"])
    pages, cursor = [], None
    while True:
        url = "/v1/applications?job_id=wealth_manager&sort=-score&limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=HR).json()
        pages.append(page["applications"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    rows = [r for p in pages for r in p]
    assert [len(p) for p in pages] == [3, 3, 1] and sorted(r["id"] for r in rows) == sorted(ids)
    scores = [r["score"] for r in rows]
    assert scores == sorted(scores, reverse=True)
    assert sum(page["counts"].values()) == 7 and all(k.startswith("screened/") for k in page["counts"])
    name = rows[0]["name"]
    found = client.get(f"/v1/applications?q={name}", headers=HR).json()["applications"]
    assert [r["id"] for r in found] == [rows[0]["id"]]
    bad = client.get("/v1/applications?sort=name", headers=HR)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "sort"
    assert client.get("/v1/applications?cursor=%%%", headers=HR).status_code == 422


def test_invite_makes_the_interview_session_and_the_link_works(client: TestClient) -> None:
    app = upload(client, ZH_RESUME.encode(), "a.txt").json()
    invited = client.post(f"/v1/applications/{app['id']}/invite", headers=HR)
    assert invited.status_code == 200, invited.text
    body = invited.json()
    assert body["state"] == "invited" and body["session_id"] and "#code=" in body["invite_url"]
    session = client.get(f"/v1/sessions/{body['session_id']}", headers=HR).json()
    assert session["job_id"] == "wealth_manager" and session["candidate_id"] == app["candidate"]["id"]
    assert session["candidate"]["name"] == "欧阳明轩"
    code = body["invite_url"].split("#code=")[1]
    exchanged = client.post("/v1/candidate/exchange", json={"code": code})
    assert exchanged.status_code == 200 and exchanged.json()["session_id"] == body["session_id"]
    again = client.post(f"/v1/applications/{app['id']}/invite", headers=HR)
    assert again.status_code == 409 and "cannot be invite" in again.json()["detail"]
    timeline = client.get(f"/v1/applications/{app['id']}/timeline", headers=HR).json()["entries"]
    assert timeline[-2]["action"] == "invite" and timeline[-2]["details"]["session_id"] == body["session_id"]
    opened = timeline[-1]  # the candidate opened the link: a note, the state stays
    assert opened["action"] == "open" and opened["actor"] == "candidate" and opened["from"] == opened["to"] == "invited"


def test_pool_is_confirmed_by_a_person_in_bulk_and_each_id_answers(client: TestClient) -> None:
    weak = "李雷\n手机：13900001111\n邮箱：lilei@example.com\n高中\n喜欢打篮球"
    pooled = client.post("/v1/applications", json={"job_id": "wealth_manager", "resume_text": weak}, headers=HR).json()
    assert pooled["outcome"] == "pool"
    good = upload(client, ZH_RESUME.encode(), "a.txt").json()
    answer = client.post(
        "/v1/applications/bulk", json={"action": "confirm_pool", "ids": [pooled["id"], good["id"], "app_nope"]}, headers=HR
    )
    assert answer.status_code == 200, answer.text
    results = {r["id"]: r for r in answer.json()["results"]}
    assert results[pooled["id"]]["ok"] and results[pooled["id"]]["application"]["outcome"] == "reject"
    assert results[good["id"]]["status"] == 409 and not results[good["id"]]["ok"]
    assert results["app_nope"]["status"] == 404
    entry = client.get(f"/v1/applications/{pooled['id']}/timeline", headers=HR).json()["entries"][-1]
    assert entry["action"] == "confirm_pool" and entry["actor"] == "hr" and entry["actor_id"]
    decided = client.post(f"/v1/applications/{good['id']}/decide", json={"decision": "hold", "reason": "简历待核实"}, headers=HR)
    assert decided.status_code == 200 and decided.json()["state"] == "decided"
    gone = client.post(f"/v1/applications/{good['id']}/withdraw", json={"reason": "接受了其他录用"}, headers=HR)
    assert gone.json()["state"] == "withdrawn"
    assert client.post(f"/v1/applications/{good['id']}/decide", json={}, headers=HR).status_code == 422


def test_a_zip_batch_reports_each_file_and_one_bad_file_is_only_its_own(client: TestClient) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("张三.docx", to_docx(make_resume(11, "zh")))
        zf.writestr("li.txt", to_text(make_resume(12, "en")).encode())
        zf.writestr("empty.pdf", b"")
        zf.writestr("virus.pdf", b"MZ" + b"\x00" * 100)
        zf.writestr("same-person.txt", to_text(make_resume(12, "en")).encode())
        zf.writestr("__MACOSX/._li.txt", b"junk")
    accepted = client.post(
        "/v1/applications/batch?job_id=wealth_manager&source=campus", content=archive.getvalue(),
        headers={**HR, "content-type": "application/zip"},
    )
    assert accepted.status_code == 202, accepted.text
    url = accepted.headers["location"]
    batch = accepted.json()
    assert batch["total"] == 5
    for _ in range(200):
        batch = client.get(url, headers=HR).json()
        if batch["state"] == "done":
            break
        time.sleep(0.05)
    assert batch["state"] == "done" and batch["done"] == 5
    by_name = {f["filename"]: f for f in batch["files"]}
    assert by_name["张三.docx"]["status"] == "ok" and by_name["li.txt"]["status"] == "ok"
    assert by_name["empty.pdf"]["error"]["code"] == "empty"
    assert by_name["virus.pdf"]["error"]["code"] == "unsupported_type"
    assert by_name["same-person.txt"]["status"] == "duplicate"
    assert by_name["same-person.txt"]["application_id"] == by_name["li.txt"]["application_id"]
    not_zip = client.post("/v1/applications/batch?job_id=wealth_manager", content=b"PK\x03\x04broken", headers={**HR, "content-type": "application/zip"})
    assert not_zip.status_code == 422
    lines = "\n".join(json.dumps({"resume_text": to_text(make_resume(s, "zh")), "external_id": f"L{s}"}) for s in (21, 22))
    jsonl = client.post("/v1/applications/batch?job_id=risk_manager", content=(lines + "\n{bad\n").encode(), headers={**HR, "content-type": "application/x-ndjson"})
    assert jsonl.status_code == 202 and jsonl.json()["total"] == 3


def signed(body: bytes, secret: str = LIEPIN_SECRET) -> dict[str, str]:
    return {"content-type": "application/json", "X-Candor-Signature": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}


def test_a_job_board_push_is_signed_and_idempotent(client: TestClient) -> None:
    delivery = {"delivery_id": "d-1", "job_id": "wealth_manager", "external_id": "LP-77", "resume_text": ZH_RESUME}
    body = json.dumps(delivery).encode()
    assert client.post("/v1/inbound/applications/liepin", content=body, headers=signed(body, "wrong")).status_code == 401
    assert client.post("/v1/inbound/applications/zhaopin", content=body, headers=signed(body)).status_code == 404
    first = client.post("/v1/inbound/applications/liepin", content=body, headers=signed(body))
    assert first.status_code == 201, first.text
    assert first.json()["source"] == "liepin" and first.json()["external_id"] == "LP-77"
    replay = json.dumps({**delivery, "external_id": "changed"}).encode()
    again = client.post("/v1/inbound/applications/liepin", content=replay, headers=signed(replay))
    assert again.status_code == 201 and again.json() == first.json()  # the first answer, again
    listed = client.get("/v1/applications", headers=HR).json()["applications"]
    assert len(listed) == 1 and listed[0]["duplicates"] == 0


def test_an_invited_application_follows_its_interview_to_hrs_decision(client: TestClient) -> None:
    from events import InterviewEnded, MediaFlowing

    app = upload(client, ZH_RESUME.encode(), "a.txt").json()
    session_id = client.post(f"/v1/applications/{app['id']}/invite", headers=HR).json()["session_id"]
    ctx = client.app.state.candor

    async def interview() -> None:
        events = await ctx.events_for(session_id)
        events.publish(0.0, MediaFlowing(connection_id="c1"))
        events.publish(1.0, MediaFlowing(connection_id="c2"))  # a reconnect: the same interview
        events.publish(95.0, InterviewEnded(questions=4))
        await events.flush()

    client.portal.call(interview)

    def state() -> str:
        return client.get(f"/v1/applications/{app['id']}", headers=HR).json()["state"]

    for _ in range(100):
        if state() == "interviewed" and client.get(f"/v1/sessions/{session_id}/report", headers=HR).status_code == 200:
            break
        time.sleep(0.05)
    assert state() == "interviewed"
    decided = client.post(f"/v1/sessions/{session_id}/decision", json={"decision": "advance", "reason": "表现稳定"}, headers=HR)
    assert decided.status_code == 201, decided.text
    for _ in range(100):
        if state() == "decided":
            break
        time.sleep(0.05)
    body = client.get(f"/v1/applications/{app['id']}", headers=HR).json()
    assert (body["state"], body["outcome"]) == ("decided", "advance")
    timeline = client.get(f"/v1/applications/{app['id']}/timeline", headers=HR).json()["entries"]
    assert [e["action"] for e in timeline] == ["receive", "screen", "invite", "start_interview", "end_interview", "decide"]
    assert timeline[-1]["actor"] == "hr" and timeline[-1]["reason"] == "表现稳定"
    assert timeline[-2]["details"]["session_id"] == session_id


def test_a_batch_left_running_by_a_stopped_server_says_so(tmp_path: Path, db_url: str) -> None:
    from db import Store

    store = Store(db_url)
    batch = store.create_batch("wealth_manager", [{"index": 0, "filename": "a.txt", "status": "ok", "application_id": "app_x"},
                                                  {"index": 1, "filename": "b.txt", "status": "pending"}])
    store.close()
    app = create_app(make_settings(tmp_path, database_url=db_url), models=None, load_models=False)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        shown = client.get(f"/v1/applications/batch/{batch.id}", headers=HR).json()
    assert shown["state"] == "interrupted" and shown["done"] == 2
    assert [f["status"] for f in shown["files"]] == ["ok", "error"] and shown["files"][1]["error"]["code"] == "interrupted"
