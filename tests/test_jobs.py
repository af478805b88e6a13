"""Jobs, question banks and rubrics: the shipped files, versioned storage,
the REST API, sessions that record what they run, and the OpenAPI document.

No models: the app is built with ``load_models=False`` and driven through
starlette's TestClient (which runs the lifespan, so seeding happens).
"""

from __future__ import annotations

import copy
import logging
import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml
from starlette.routing import Route
from starlette.testclient import TestClient

from jobs.catalog import BANKS_DIR, CatalogError, load_catalog, load_file, seed
from jobs.models import Job, QuestionBank
from server import rest
from server.app import create_app
from db import Store
from tests.helpers import HR_TOKEN, make_settings

HR = {"Authorization": f"Bearer {HR_TOKEN}"}
SHIPPED = {"wealth_manager", "account_manager", "risk_manager", "credit_analyst"}


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].split(";")[0] == "application/problem+json", response.headers
    body = response.json()
    assert body["status"] == status
    for member in ("type", "title", "detail"):
        assert isinstance(body[member], str) and body[member], body
    return body


def failing_fields(body: dict[str, Any]) -> set[str]:
    return {e["field"] for e in body["errors"]}


@pytest.fixture
def client(tmp_path: Path, db_url: str) -> Iterator[TestClient]:
    app = create_app(make_settings(tmp_path, database_url=db_url), models=None, load_models=False)
    with TestClient(app, base_url="http://127.0.0.1") as test_client:
        yield test_client


def shipped_data(name: str = "wealth_manager") -> dict[str, Any]:
    return yaml.safe_load((BANKS_DIR / f"{name}.yaml").read_text(encoding="utf-8"))


def small_job(job_id: str = "teller") -> dict[str, Any]:
    return {
        "id": job_id,
        "title": {"zh": "柜员", "en": "Teller"},
        "requirements": {"education": "associate", "certificates": ["银行从业资格"]},
    }


def small_bank(bank_id: str = "teller", job_id: str = "teller") -> dict[str, Any]:
    rubric = {
        "competencies": [
            {
                "id": "service",
                "name": {"zh": "服务意识", "en": "Service"},
                "weight": 1,
                "points": [{"id": "listen", "text": {"zh": "先倾听客户", "en": "Listens first"}}],
            }
        ]
    }
    return {
        "id": bank_id,
        "job_id": job_id,
        "title": {"zh": "柜员面试", "en": "Teller interview"},
        "questions": [
            {
                "id": "intro",
                "kind": "practice",
                "text": {"zh": "请简单介绍一下你自己。", "en": "Please introduce yourself briefly."},
            },
            {
                "id": "queue",
                "kind": "situational",
                "text": {
                    "zh": "排队的客户很着急，你会怎么办？",
                    "en": "A client in the queue is upset. What do you do?",
                },
                "rubric": rubric,
            },
        ],
    }


# -- the shipped files --------------------------------------------------------
def test_every_shipped_file_loads_and_validates() -> None:
    entries = load_catalog()
    assert SHIPPED <= {e.job.id for e in entries}
    for entry in entries:
        job, bank, where = entry.job, entry.bank, entry.path.name
        assert bank.job_id == job.id and bank.id == job.id, where
        assert job.title.zh and job.title.en and job.description and job.description.zh and job.description.en, where
        assert job.requirements.skills and job.requirements.certificates and job.requirements.languages, where
        practice, scored = bank.questions[0], bank.questions[1:]
        assert practice.kind == "practice" and practice.rubric is None, where
        assert practice.text.zh and practice.text.en, where
        assert 5 <= len(scored) <= 8, (where, len(scored))
        for question in scored:
            at = f"{where}:{question.id}"
            assert question.kind in ("behavioural", "situational"), at
            assert question.text.zh and question.text.en, at
            assert question.rubric is not None, at
            competencies = question.rubric.competencies
            assert 2 <= len(competencies) <= 4, at
            assert all(c.weight > 0 for c in competencies), at
            assert sum(c.weight for c in competencies) == pytest.approx(1.0), at
            for competency in competencies:
                assert competency.name.zh and competency.name.en, at
                assert 2 <= len(competency.points) <= 4, (at, competency.id)
                assert 1 <= len(competency.strong_examples) <= 2 and 1 <= len(competency.weak_examples) <= 2, (
                    at,
                    competency.id,
                )
                for point in competency.points:
                    assert point.text.zh and point.text.en, (at, point.id)
                    assert len(point.paraphrases) >= 2 and point.terms, (at, point.id)
            assert question.rubric.terms(), at  # ASR hotwords


def test_shipped_banks_mix_behavioural_and_situational_questions() -> None:
    for entry in load_catalog():
        kinds = {q.kind for q in entry.bank.questions[1:]}
        assert kinds == {"behavioural", "situational"}, entry.path.name


def test_a_bad_value_names_the_file_and_the_field(tmp_path: Path) -> None:
    data = shipped_data()
    data["bank"]["questions"][2]["answer_s"] = 5
    del data["job"]["title"]
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogError) as caught:
        load_catalog(tmp_path)
    message = str(caught.value)
    assert "broken.yaml" in message
    assert "bank.questions.2.answer_s" in message and "job.title" in message
    assert {e.field for e in caught.value.errors} == {"bank.questions.2.answer_s", "job.title"}


def test_invalid_yaml_names_the_file_and_the_line(tmp_path: Path) -> None:
    path = tmp_path / "syntax.yaml"
    path.write_text("job:\n  id: x\n  title: {zh: [unclosed\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"syntax\.yaml: not valid YAML \(line \d+"):
        load_file(path)


def test_a_file_must_keep_its_shape(tmp_path: Path) -> None:
    data = shipped_data()
    data["bank"]["job_id"] = "someone_else"
    data["bank"]["questions"].append(dict(data["bank"]["questions"][0], id="intro_again"))
    (tmp_path / "shape.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogError) as caught:
        load_catalog(tmp_path)
    assert {e.field for e in caught.value.errors} == {
        "bank.job_id",
        f"bank.questions.{len(data['bank']['questions']) - 1}.kind",
    }


def test_an_id_defined_twice_names_both_files(tmp_path: Path) -> None:
    shutil.copy(BANKS_DIR / "risk_manager.yaml", tmp_path / "a.yaml")
    shutil.copy(BANKS_DIR / "risk_manager.yaml", tmp_path / "b.yaml")
    with pytest.raises(CatalogError, match=r"b\.yaml: job\.id: 'risk_manager' is also defined in a\.yaml"):
        load_catalog(tmp_path)


# -- versioned storage and seeding ---------------------------------------------
@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    opened = Store(db_url)
    yield opened
    opened.close()


def test_seeding_is_idempotent(store: Store) -> None:
    first = seed(store)
    assert len(first.added) == 2 * len(load_catalog()) and not first.updated
    again = seed(store)
    assert not again.added and not again.updated and not again.kept
    assert {r.id for r in store.list_jobs()} >= SHIPPED
    assert all(r.version == 1 and r.source == "shipped" for r in store.list_jobs() + store.list_banks())


def test_a_changed_shipped_file_adds_a_version_unless_the_api_edited_it(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "banks"
    folder.mkdir()
    data = shipped_data("credit_analyst")
    path = folder / "credit_analyst.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    seed(store, folder)

    data["job"]["requirements"]["min_years"] = 3  # a new release changes the file
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    report = seed(store, folder)
    assert report.updated == ["job credit_analyst"] and report.unchanged == ["bank credit_analyst"]
    latest = store.get_job("credit_analyst")
    assert latest is not None and latest.version == 2 and latest.source == "shipped"
    assert latest.job().requirements.min_years == 3
    old = store.get_job("credit_analyst", 1)
    assert old is not None and old.job().requirements.min_years == 2  # never rewritten

    edited = latest.job().model_copy(
        update={"title": latest.job().title.model_copy(update={"en": "Credit Analyst (SME)"})}
    )
    found = store.update_job(edited)
    assert found is not None and found[1] and found[0].version == 3 and found[0].source == "api"

    data["job"]["requirements"]["min_years"] = 4  # another release: the API edit wins
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    report = seed(store, folder)
    assert report.kept == ["job credit_analyst"]
    final = store.get_job("credit_analyst")
    assert final is not None and final.version == 3 and final.job().title.en == "Credit Analyst (SME)"


def test_an_unchanged_edit_adds_no_version_and_a_stale_one_conflicts(store: Store) -> None:
    from db import AlreadyExists, VersionConflict

    job = Job.model_validate(small_job())
    assert store.create_job(job).version == 1
    with pytest.raises(AlreadyExists):
        store.create_job(job)
    found = store.update_job(job)
    assert found is not None and found[0].version == 1 and found[1] is False
    changed = job.model_copy(update={"requirements": job.requirements.model_copy(update={"min_years": 1})})
    found = store.update_job(changed, if_version=1)
    assert found is not None and found[0].version == 2
    with pytest.raises(VersionConflict) as caught:
        store.update_job(job, if_version=1)
    assert caught.value.latest == 2
    assert store.update_job(Job.model_validate(small_job("nobody"))) is None


def test_the_default_bank_is_the_one_named_after_the_job_else_the_first(store: Store) -> None:
    store.create_job(Job.model_validate(small_job("teller")))
    assert store.default_bank("teller") is None
    store.create_bank(QuestionBank.model_validate(small_bank("teller_b", "teller")))
    store.create_bank(QuestionBank.model_validate(small_bank("teller_c", "teller")))
    first = store.default_bank("teller")
    assert first is not None and first.id == "teller_b"
    store.create_bank(QuestionBank.model_validate(small_bank("teller", "teller")))
    named = store.default_bank("teller")
    assert named is not None and named.id == "teller"


# -- the REST API ---------------------------------------------------------------
def test_list_and_get_the_shipped_jobs_and_banks(client: TestClient) -> None:
    jobs = client.get("/v1/jobs", headers=HR)
    assert jobs.status_code == 200
    listed = rest.JobList.model_validate(jobs.json())
    assert SHIPPED <= {j.id for j in listed.jobs}
    assert all(j.version == 1 and j.source == "shipped" for j in listed.jobs)

    banks = rest.BankList.model_validate(client.get("/v1/banks", headers=HR).json())
    assert SHIPPED <= {b.id for b in banks.banks}
    assert all(6 <= b.questions <= 9 for b in banks.banks)
    only = client.get("/v1/banks", params={"job_id": "risk_manager"}, headers=HR).json()["banks"]
    assert [b["id"] for b in only] == ["risk_manager"]

    job = client.get("/v1/jobs/wealth_manager", headers=HR)
    assert job.status_code == 200 and job.headers["etag"] == '"1"'
    one = rest.JobVersion.model_validate(job.json())
    assert one.job.title.zh == "理财经理" and "基金从业资格" in one.job.requirements.certificates

    bank = rest.BankVersion.model_validate(client.get("/v1/banks/wealth_manager", headers=HR).json())
    assert bank.bank.questions[0].kind == "practice" and bank.job_id == "wealth_manager"

    assert_problem(client.get("/v1/jobs/nobody", headers=HR), 404)
    assert_problem(client.get("/v1/banks/wealth_manager", params={"version": 9}, headers=HR), 404)
    bad = assert_problem(client.get("/v1/jobs/wealth_manager", params={"version": "latest"}, headers=HR), 422)
    assert failing_fields(bad) == {"version"}


def test_create_update_and_read_old_versions(client: TestClient) -> None:
    created = client.post("/v1/jobs", json=small_job(), headers=HR)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == "/v1/jobs/teller" and created.headers["etag"] == '"1"'
    assert created.json()["version"] == 1 and created.json()["source"] == "api"
    conflict = assert_problem(client.post("/v1/jobs", json=small_job(), headers=HR), 409)
    assert "PUT /v1/jobs/teller" in conflict["detail"]

    edit = small_job()
    del edit["id"]  # the path names it
    edit["title"] = {"zh": "综合柜员", "en": "Teller"}
    updated = client.put("/v1/jobs/teller", json=edit, headers=HR)
    assert updated.status_code == 200, updated.text
    assert updated.json()["version"] == 2 and updated.json()["job"]["title"]["zh"] == "综合柜员"
    assert client.put("/v1/jobs/teller", json=edit, headers=HR).json()["version"] == 2  # unchanged: no new version

    assert client.get("/v1/jobs/teller", headers=HR).json()["version"] == 2
    old = client.get("/v1/jobs/teller", params={"version": 1}, headers=HR)
    assert old.status_code == 200 and old.json()["job"]["title"]["zh"] == "柜员" and old.headers["etag"] == '"1"'

    stale = assert_problem(client.put("/v1/jobs/teller", json=small_job(), headers={**HR, "If-Match": '"1"'}), 412)
    assert stale["latest_version"] == 2
    fresh = client.put("/v1/jobs/teller", json=small_job(), headers={**HR, "If-Match": '"2"'})
    assert fresh.status_code == 200 and fresh.json()["version"] == 3

    mismatch = assert_problem(client.put("/v1/jobs/teller", json=small_job("other"), headers=HR), 422)
    assert failing_fields(mismatch) == {"id"}
    assert_problem(client.put("/v1/jobs/nobody", json=small_job("nobody"), headers=HR), 404)

    bank = client.post("/v1/banks", json=small_bank(), headers=HR)
    assert bank.status_code == 201, bank.text
    changed = small_bank()
    changed["questions"][1]["answer_s"] = 90
    assert client.put("/v1/banks/teller", json=changed, headers=HR).json()["version"] == 2
    assert (
        client.get("/v1/banks/teller", params={"version": 1}, headers=HR).json()["bank"]["questions"][1]["answer_s"]
        == 120
    )
    assert_problem(client.post("/v1/banks", json=small_bank(), headers=HR), 409)


def test_editing_a_shipped_bank_keeps_version_one(client: TestClient) -> None:
    bank = client.get("/v1/banks/risk_manager", headers=HR).json()["bank"]
    bank["questions"][1]["prep_s"] = 45
    updated = client.put("/v1/banks/risk_manager", json=bank, headers=HR)
    assert updated.status_code == 200 and updated.json()["version"] == 2 and updated.json()["source"] == "api"
    assert client.get("/v1/banks/risk_manager", params={"version": 1}, headers=HR).json()["source"] == "shipped"


def test_a_bad_question_is_422_naming_the_field(client: TestClient) -> None:
    bank = client.get("/v1/banks/wealth_manager", headers=HR).json()["bank"]
    bank["questions"][2]["answer_s"] = 5
    response = client.put("/v1/banks/wealth_manager", json=bank, headers=HR)
    body = assert_problem(response, 422)
    assert body["title"] == "Invalid body"
    assert body["errors"] == [
        {
            "field": "questions.2.answer_s",
            "message": "Input should be greater than or equal to 15",
            "type": "greater_than_equal",
        }
    ]
    assert body["detail"].startswith("questions.2.answer_s: ")
    rest.ProblemDetails.model_validate(body)
    assert client.get("/v1/banks/wealth_manager", headers=HR).json()["version"] == 1  # nothing written


def test_every_failing_field_is_named(client: TestClient) -> None:
    bank = small_bank("broken")
    bank["questions"][1].pop("rubric")
    bank["questions"][0]["text"] = {}
    bank["questions"][0]["prep_s"] = "soon"
    bank["extra"] = True
    body = assert_problem(client.post("/v1/banks", json=bank, headers=HR), 422)
    assert failing_fields(body) == {"questions.0.text", "questions.0.prep_s", "questions.1", "extra"}
    assert "(and 3 more)" in body["detail"]


def test_a_bank_needs_an_existing_job(client: TestClient) -> None:
    body = assert_problem(client.post("/v1/banks", json=small_bank("orphan", "no_such_job"), headers=HR), 422)
    assert failing_fields(body) == {"job_id"}


@pytest.mark.parametrize("content", [b"", b"[]", b"{nope"])
def test_a_job_body_must_be_a_json_object(client: TestClient, content: bytes) -> None:
    response = client.post("/v1/jobs", content=content, headers={**HR, "Content-Type": "application/json"})
    assert_problem(response, 400 if content == b"{nope" else 422)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/jobs"),
        ("POST", "/v1/jobs"),
        ("GET", "/v1/jobs/wealth_manager"),
        ("PUT", "/v1/jobs/wealth_manager"),
        ("GET", "/v1/banks"),
        ("POST", "/v1/banks"),
        ("GET", "/v1/banks/wealth_manager"),
        ("PUT", "/v1/banks/wealth_manager"),
    ],
)
def test_jobs_and_banks_need_hr_auth(client: TestClient, method: str, path: str) -> None:
    response = client.request(method, path, json=small_job())
    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"
    assert_problem(client.request(method, path, json=small_job(), headers={"Authorization": "Bearer wrong"}), 401)


def test_hr_cookie_works_too(client: TestClient) -> None:
    assert client.post("/v1/hr/login", json={"token": HR_TOKEN}).status_code == 204
    assert client.get("/v1/jobs").status_code == 200


def test_head_on_a_get_route(client: TestClient) -> None:
    assert client.head("/v1/jobs", headers=HR).status_code == 200


# -- sessions record what they run ---------------------------------------------
CANDIDATE = {
    "name": "张三",
    "education": "master",
    "years": 3,
    "certificates": ["基金从业资格", "AFP"],
    "languages": ["zh", "en"],
}


def test_a_session_records_the_job_and_bank_versions_and_the_candidate(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    created = client.post("/v1/sessions", json={"job_id": "wealth_manager", "candidate": CANDIDATE}, headers=HR)
    assert created.status_code == 201, created.text
    session = rest.SessionCreated.model_validate(created.json())
    assert (session.job_id, session.job_version, session.bank_id, session.bank_version) == (
        "wealth_manager",
        1,
        "wealth_manager",
        1,
    )

    one = client.get(f"/v1/sessions/{session.id}", headers=HR)
    assert one.status_code == 200
    info = rest.SessionInfo.model_validate(one.json())
    assert (info.job_id, info.job_version, info.bank_id, info.bank_version) == (
        "wealth_manager",
        1,
        "wealth_manager",
        1,
    )
    assert (
        info.candidate is not None
        and info.candidate.name == "张三"
        and info.candidate.certificates == ["基金从业资格", "AFP"]
    )

    listed = [s for s in client.get("/v1/sessions", headers=HR).json()["sessions"] if s["id"] == session.id]
    assert len(listed) == 1 and "candidate" not in listed[0] and listed[0]["bank_version"] == 1

    # An edit afterwards does not change what the session ran; a new session gets it.
    bank = client.get("/v1/banks/wealth_manager", headers=HR).json()["bank"]
    bank["questions"][1]["answer_s"] = 180
    assert client.put("/v1/banks/wealth_manager", json=bank, headers=HR).json()["version"] == 2
    assert client.get(f"/v1/sessions/{session.id}", headers=HR).json()["bank_version"] == 1
    later = client.post("/v1/sessions", json={"job_id": "wealth_manager"}, headers=HR).json()
    assert later["bank_version"] == 2 and later["job_version"] == 1
    pinned = client.post("/v1/sessions", json={"bank_id": "wealth_manager", "bank_version": 1}, headers=HR).json()
    assert (pinned["job_id"], pinned["bank_version"]) == ("wealth_manager", 1)

    # The log records the versions (a report is rebuilt from it), not the person.
    with client.websocket_connect(f"/v1/sessions/{session.id}/events", headers=HR) as ws:
        first = ws.receive_json()
    assert first["type"] == "session.created"
    assert {k: first["payload"][k] for k in ("job_id", "job_version", "bank_id", "bank_version")} == {
        "job_id": "wealth_manager",
        "job_version": 1,
        "bank_id": "wealth_manager",
        "bank_version": 1,
    }
    assert "candidate" not in first["payload"] and "张三" not in str(first)
    assert "张三" not in caplog.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"job_id": "no_such_job"}, "job_id"),
        ({"job_id": "wealth_manager", "job_version": 7}, "job_version"),
        ({"bank_id": "no_such_bank"}, "bank_id"),
        ({"job_id": "wealth_manager", "bank_id": "risk_manager"}, "bank_id"),
        ({"bank_version": 1}, "bank_version"),
        ({"job_id": "wealth_manager", "candidate": {"years": -1}}, "candidate.name"),
        ({"job": "wealth_manager"}, "job"),
    ],
)
def test_a_session_for_an_unknown_job_or_bad_profile_is_a_problem(
    client: TestClient, body: dict[str, Any], field: str
) -> None:
    problem = assert_problem(client.post("/v1/sessions", json=body, headers=HR), 422)
    assert field in failing_fields(problem), problem
    assert client.get("/v1/sessions", headers=HR).json()["sessions"] == []  # nothing made


def test_a_job_without_a_bank_is_a_problem(client: TestClient) -> None:
    assert client.post("/v1/jobs", json=small_job(), headers=HR).status_code == 201
    problem = assert_problem(client.post("/v1/sessions", json={"job_id": "teller"}, headers=HR), 422)
    assert failing_fields(problem) == {"bank_id"}


@pytest.mark.parametrize("kwargs", [{}, {"json": {}}, {"content": b"  "}])
def test_an_empty_body_is_still_a_free_talk_session(client: TestClient, kwargs: dict[str, Any]) -> None:
    created = client.post("/v1/sessions", headers=HR, **kwargs)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["job_id"] is None and body["bank_id"] is None and body["candidate_token"]
    one = client.get(f"/v1/sessions/{body['id']}", headers=HR).json()
    assert one["job_id"] is None and one["bank_version"] is None and "candidate" not in one


# -- start-up ------------------------------------------------------------------
def test_a_bad_banks_folder_fails_start_naming_the_file(tmp_path: Path, db_url: str) -> None:
    folder = tmp_path / "banks"
    folder.mkdir()
    data = shipped_data()
    data["bank"]["questions"][1]["rubric"]["competencies"][0]["weight"] = 0
    (folder / "ours.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    app = create_app(make_settings(tmp_path, database_url=db_url, banks_dir=folder), load_models=False)
    expected = r"ours\.yaml: bank\.questions\.1\.rubric\.competencies\.0\.weight"
    with pytest.raises(CatalogError, match=expected), TestClient(app):
        pass


def test_a_custom_banks_folder_is_seeded(tmp_path: Path, db_url: str) -> None:
    folder = tmp_path / "banks"
    folder.mkdir()
    data = copy.deepcopy(shipped_data("account_manager"))
    data["job"]["id"] = data["bank"]["id"] = data["bank"]["job_id"] = "sme_account_manager"
    (folder / "sme.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    app = create_app(make_settings(tmp_path, database_url=db_url, banks_dir=folder), load_models=False)
    with TestClient(app) as test_client:
        ids = [j["id"] for j in test_client.get("/v1/jobs", headers=HR).json()["jobs"]]
    assert ids == ["sme_account_manager"]


# -- the OpenAPI document --------------------------------------------------------
API_PREFIXES = ("/v1/", "/whip/", "/healthz", "/metrics", "/openapi.json")


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def test_openapi_documents_every_route(client: TestClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    doc = response.json()
    assert doc["openapi"].startswith("3.1.") and doc["info"]["title"] == "Candor" and doc["info"]["version"]

    routes = [r for r in client.app.routes if isinstance(r, Route) and r.path.startswith(API_PREFIXES)]  # type: ignore[attr-defined]
    assert len(routes) >= 10
    for route in routes:
        assert route.path in doc["paths"], route.path
        documented = set(doc["paths"][route.path])
        assert documented == {m.lower() for m in route.methods or ()} - {"head"}, route.path
    for path in ("/v1/jobs", "/v1/jobs/{job_id}", "/v1/banks", "/v1/banks/{bank_id}", "/v1/sessions"):
        assert path in doc["paths"]

    schemas = doc["components"]["schemas"]
    for name in (
        "Job",
        "QuestionBank",
        "Question",
        "Rubric",
        "Competency",
        "ExpectedPoint",
        "Localized",
        "CandidateProfile",
        "ProblemDetails",
        "SessionCreate",
    ):
        assert name in schemas, name
    for ref in _refs(doc):
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in schemas, ref
    assert doc["components"]["securitySchemes"]["hrBearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": doc["components"]["securitySchemes"]["hrBearer"]["description"],
    }

    put_bank = doc["paths"]["/v1/banks/{bank_id}"]["put"]
    assert put_bank["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/QuestionBank"
    }
    assert put_bank["responses"]["422"]["content"]["application/problem+json"]["schema"] == {
        "$ref": "#/components/schemas/ProblemDetails"
    }
    assert {"hrBearer": []} in put_bank["security"]
    assert doc["paths"]["/v1/sessions"]["post"]["requestBody"]["required"] is False
    assert doc["paths"]["/healthz"]["get"]["security"] == []
    assert [p["name"] for p in doc["paths"]["/v1/jobs/{job_id}"]["get"]["parameters"]] == ["job_id", "version"]
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
