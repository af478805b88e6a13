"""Candidate contacts: filled from the resume, set by HR, found by a WeCom id; the monthly WeCom count."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from db import Store
from db.contacts import check_contacts
from runtime.models import Models
from server.app import create_app
from server.routes.contacts import external_sent_this_month, month_start
from sinks.outbox import DeliveryRow
from tests.helpers import HR_TOKEN, make_settings
from tests.test_intake import ZH_RESUME
from tests.wecom_fake import AES_KEY, CALLBACK_TOKEN, CORP_ID, SECRET

HR = {"Authorization": f"Bearer {HR_TOKEN}"}
WECOM = {"corp_id": CORP_ID, "agent_id": 1000002, "secret": SECRET, "callback_token": CALLBACK_TOKEN,
         "callback_aes_key": AES_KEY, "api_base": "http://127.0.0.1:9", "external_sender": "hr-wang"}


def vocabulary_models() -> Models:
    """No models at all: screening by vocabulary (fast), enough for contacts."""
    models = Models(vad=None, asr=None, face=None, encoder=None)
    models.warm = True
    return models


@pytest.fixture()
def client(tmp_path: Path, db_url: str) -> Iterator[TestClient]:
    settings = make_settings(tmp_path, database_url=db_url, contact_key="test-contact-key", wecom=WECOM,
                             smtp_url="smtp://127.0.0.1:9", mail_from="HR <hr@bank.example.cn>")
    app = create_app(settings, models=vocabulary_models(), load_models=False)
    with TestClient(app, base_url="http://127.0.0.1") as test_client:
        yield test_client


def take(client: TestClient, text: str = ZH_RESUME) -> dict[str, Any]:
    made = client.post("/v1/applications", data={"job_id": "wealth_manager"},
                       files={"resume": ("简历.txt", text.encode())}, headers=HR)
    assert made.status_code == 201, made.text
    return made.json()


def test_check_contacts() -> None:
    assert check_contacts({"email": " Li.Na@Example.ORG ", "phone": "+8613912345678", "wecom_external": ""}) == {
        "email": "li.na@example.org", "phone": "+8613912345678", "wecom_external": None,
    }
    for bad in ({"fax": "1"}, {"email": "not-an-address"}, {"phone": "call me"}, {"wecom_user": "a b"}):
        with pytest.raises(ValueError):
            check_contacts(bad)


def test_resume_fills_email_and_phone_and_hr_sets_the_rest(client: TestClient) -> None:
    app = take(client)
    got = client.get(f"/v1/applications/{app['id']}/contacts", headers=HR)
    assert got.status_code == 200 and got.headers["cache-control"] == "no-store"
    body = got.json()
    assert body["contacts"] == {"email": "oyangmx@example.com", "phone": "+8618602134567"}
    assert body["channels"] == {"email": True, "wecom": True, "wecom_external": True, "sms": False}
    assert body["wecom_external"]["sent"] == 0 and body["wecom_external"]["limit"] == 4

    put = client.put(f"/v1/applications/{app['id']}/contacts", json={"wecom_external": "wmCandidateA", "phone": None},
                     headers=HR)
    assert put.status_code == 200, put.text
    assert put.json()["contacts"] == {"email": "oyangmx@example.com", "wecom_external": "wmCandidateA"}
    store: Store = client.app.state.candor.store.store  # type: ignore[attr-defined]
    assert store.application_for_contact("wecom_external", "wmCandidateA") == app["id"]
    assert store.application_for_contact("email", "OYANGMX@example.com") == app["id"]
    assert store.application_for_contact("wecom_external", "wmSomeoneElse") is None


def test_bad_contacts_are_problems(client: TestClient) -> None:
    app = take(client)
    url = f"/v1/applications/{app['id']}/contacts"
    bad = client.put(url, json={"email": "nope"}, headers=HR)
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    assert bad.json()["errors"][0]["field"] == "email" and "nope" not in bad.text
    assert client.put(url, json={"fax": "1"}, headers=HR).status_code == 422
    assert client.put(url, content=b"{", headers={**HR, "content-type": "application/json"}).status_code == 400
    assert client.get("/v1/applications/app_missing/contacts", headers=HR).status_code == 404
    assert client.get(url).status_code == 401
    assert client.get(url, headers=HR).json()["contacts"]["email"] == "oyangmx@example.com"  # nothing lost


def test_monthly_external_count_is_this_months_deliveries(client: TestClient) -> None:
    app = take(client)
    engine = client.app.state.candor.store.store.engine  # type: ignore[attr-defined]
    now = datetime(2026, 12, 5, 12, 0, tzinfo=timezone.utc)
    start = month_start(now)
    assert start == datetime(2026, 11, 30, 16, 0, tzinfo=timezone.utc)  # 1 December in China

    def row(n: int, key: str, at: datetime, state: str = "delivered", sink: str = "wecom-external") -> DeliveryRow:
        return DeliveryRow(id=f"msg_{n}", sink=sink, type="notice.sent", key=key, version=1, subject=key, body=b"", state=state,
                           attempts=1, total_attempts=1, replays=0, created_at=at, next_attempt_at=at,
                           expires_at=at + timedelta(days=1))

    with Session(engine) as db, db.begin():
        db.add_all([
            row(1, app["id"], start + timedelta(hours=1)),
            row(2, f"{app['id']}:reminder", start + timedelta(days=2)),
            row(3, app["id"], start - timedelta(minutes=1)),  # last month
            row(4, app["id"], start + timedelta(days=3), state="failed"),  # not received
            row(5, app["id"], start + timedelta(days=3), sink="email"),
            row(6, "app_other", start + timedelta(days=3)),
        ])
    assert external_sent_this_month(engine, app["id"], now) == 2
