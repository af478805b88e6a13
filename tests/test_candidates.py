"""Candidates as a REST resource: made once, interviewed by sessions that keep a copy of the profile."""

from __future__ import annotations

import logging

import pytest
from starlette.testclient import TestClient

from server import rest
from tests.test_jobs import CANDIDATE, HR, assert_problem, client, failing_fields  # noqa: F401  (client: a fixture)


def test_a_candidate_is_made_listed_shown_and_interviewed(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:  # noqa: F811
    caplog.set_level(logging.DEBUG)
    made = client.post("/v1/candidates", json={"profile": CANDIDATE, "external_id": "HR-0042"}, headers=HR)
    assert made.status_code == 201, made.text
    candidate = rest.CandidateInfo.model_validate(made.json())
    assert made.headers["location"] == f"/v1/candidates/{candidate.id}"
    assert candidate.profile.name == "张三" and candidate.sessions == [] and candidate.external_id == "HR-0042"

    listed = client.get("/v1/candidates", headers=HR).json()["candidates"]
    assert [(c["id"], c["name"]) for c in listed] == [(candidate.id, "张三")]

    first = client.post("/v1/sessions", json={"job_id": "wealth_manager", "candidate_id": candidate.id}, headers=HR)
    assert first.status_code == 201, first.text
    assert first.json()["candidate_id"] == candidate.id
    session = client.get(f"/v1/sessions/{first.json()['id']}", headers=HR).json()
    assert session["candidate"]["name"] == "张三" and session["candidate_id"] == candidate.id

    # A later edit of the profile does not change what the first session recorded.
    edited = client.put(
        f"/v1/candidates/{candidate.id}",
        json={"profile": {**CANDIDATE, "years": 5}, "external_id": "HR-0042"},
        headers=HR,
    )
    assert edited.status_code == 200 and edited.json()["profile"]["years"] == 5
    second = client.post("/v1/sessions", json={"job_id": "risk_manager", "candidate_id": candidate.id}, headers=HR).json()
    assert client.get(f"/v1/sessions/{first.json()['id']}", headers=HR).json()["candidate"]["years"] == 3
    assert client.get(f"/v1/sessions/{second['id']}", headers=HR).json()["candidate"]["years"] == 5

    shown = client.get(f"/v1/candidates/{candidate.id}", headers=HR).json()
    assert shown["sessions"] == [first.json()["id"], second["id"]]
    in_list = [s for s in client.get("/v1/sessions", headers=HR).json()["sessions"] if s["id"] == second["id"]]
    assert in_list[0]["candidate_id"] == candidate.id and "candidate" not in in_list[0]

    assert "张三" not in caplog.text  # personal data never in the log


def test_bad_candidate_requests_name_the_problem(client: TestClient) -> None:  # noqa: F811
    assert client.post("/v1/candidates", json={"profile": CANDIDATE}).status_code == 401  # HR only
    body = assert_problem(client.post("/v1/candidates", json={"profile": {**CANDIDATE, "years": -1}}, headers=HR), 422)
    assert failing_fields(body) == {"profile.years"}
    body = assert_problem(client.post("/v1/candidates", json={"profile": {"education": "master"}}, headers=HR), 422)
    assert failing_fields(body) == {"profile.name"}

    made = client.post("/v1/candidates", json={"profile": CANDIDATE, "external_id": "HR-1"}, headers=HR)
    assert made.status_code == 201
    assert_problem(client.post("/v1/candidates", json={"profile": CANDIDATE, "external_id": "HR-1"}, headers=HR), 409)
    assert_problem(client.get("/v1/candidates/nobody", headers=HR), 404)
    assert_problem(client.put("/v1/candidates/nobody", json={"profile": CANDIDATE}, headers=HR), 404)

    # a session for an unknown candidate, or with both forms of candidate, is refused and nothing is made
    unknown = assert_problem(client.post("/v1/sessions", json={"job_id": "wealth_manager", "candidate_id": "nobody"}, headers=HR), 422)
    assert failing_fields(unknown) == {"candidate_id"}
    both = assert_problem(
        client.post("/v1/sessions", json={"candidate": CANDIDATE, "candidate_id": made.json()["id"]}, headers=HR), 422
    )
    assert failing_fields(both) == {"candidate_id"}
    assert client.get("/v1/sessions", headers=HR).json()["sessions"] == []


def test_candidates_are_in_the_openapi_document(client: TestClient) -> None:  # noqa: F811
    doc = client.get("/openapi.json").json()
    assert set(doc["paths"]["/v1/candidates"]) == {"get", "post"}
    assert set(doc["paths"]["/v1/candidates/{candidate_id}"]) == {"get", "put", "delete"}  # delete: erasure (server/routes/erasure.py)
    assert "candidate_id" in doc["components"]["schemas"]["SessionCreate"]["properties"]
