"""Retention (docs/retention.md): the purge erases what its period says expired, by a settable clock.

The real app and a real SQLite file; the clock the app is given (as
tests/test_automation.py does) is moved on by months. A recordings hook
stands where the recordings package will be (it keeps the session ids it is
asked to delete). ``python -m server purge`` runs as its own process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from db import Store
from db.applications import ApplicationRow
from jobs.models import Job, Retention as JobRetention
from runtime.models import Models
from server.app import create_app
from server.policy import PROFILES, Retention
from tests.helpers import HR_TOKEN, make_settings
from tests.test_sinks import SECRET

HR = {"Authorization": f"Bearer {HR_TOKEN}"}
ROOT = Path(__file__).resolve().parent.parent

RESUME = """姓名：{name}
联系电话：{phone}      电子邮箱：{email}
2016.09—2020.06  上海财经大学  金融学  本科
2020年7月至今  中国银行上海分行  客户经理
"""


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def client(tmp_path: Path, db_url: str, clock: Clock) -> Iterator[TestClient]:
    models = Models(vad=None, asr=None, face=None, encoder=None)
    models.warm = True
    app = create_app(make_settings(tmp_path, database_url=db_url, contact_key="test-contact-key"), models=models, load_models=False, clock=clock)
    with TestClient(app, base_url="http://127.0.0.1") as test_client:
        yield test_client


def apply(client: TestClient, job_id: str, n: int) -> dict[str, Any]:
    body = {"job_id": job_id, "resume_text": RESUME.format(name=f"申请人{n}", phone=f"1391234{n:04d}", email=f"a{n}@example.com")}
    made = client.post("/v1/applications", json=body, headers=HR)
    assert made.status_code == 201, made.text
    return made.json()


def purge(client: TestClient, **kwargs: Any) -> Any:
    return client.portal.call(lambda: client.app.state.purge.run(**kwargs))


def test_policy_periods_and_a_jobs_own_override_them_field_by_field() -> None:
    assert PROFILES["pipl"].retention == Retention(30, 12)
    assert PROFILES["eu"].retention == Retention(30, 6)
    job = Job.model_validate({"id": "x", "title": {"zh": "岗位"}, "retention": {"personal_data_months_after_campaign": 2}})
    assert PROFILES["pipl"].retention.for_job(job) == Retention(30, 2)
    assert PROFILES["pipl"].retention.for_job(None) == Retention(30, 12)
    with pytest.raises(ValueError):
        JobRetention(personal_data_months_after_campaign=0)


def test_candidates_past_their_jobs_period_are_erased_and_counted_in_the_audit_log(client: TestClient, clock: Clock) -> None:
    job = client.get("/v1/jobs/wealth_manager", headers=HR).json()["job"]
    edited = client.put("/v1/jobs/wealth_manager", json={**job, "retention": {"personal_data_months_after_campaign": 1}}, headers=HR)
    assert edited.status_code == 200, edited.text
    short = apply(client, "wealth_manager", 1)  # this job keeps personal data 1 month
    long = apply(client, "risk_manager", 2)  # the pipl profile's 12 months
    store = client.app.state.candor.store.store

    clock.advance(days=20)
    assert purge(client).candidates == []

    clock.advance(days=25)  # 45 days on
    dry = purge(client, dry_run=True)
    assert dry.candidates == [short["candidate"]["id"]] and dry.dry_run
    assert client.get(f"/v1/candidates/{short['candidate']['id']}", headers=HR).status_code == 200  # a dry run erases nothing
    done = purge(client)
    assert done.candidates == [short["candidate"]["id"]]
    assert client.get(f"/v1/candidates/{short['candidate']['id']}", headers=HR).status_code == 410
    assert client.get(f"/v1/applications/{short['id']}", headers=HR).status_code == 404
    assert client.get(f"/v1/candidates/{long['candidate']['id']}", headers=HR).status_code == 200
    assert store.tombstone(short["candidate"]["id"]).reason == "retention"
    assert store.erased_counts("wealth_manager") == {f"screened/{short['outcome']}": 1}  # still counted, anonymously

    entries = client.get("/v1/audit", params={"action": "retention.purge"}, headers=HR).json()["entries"]
    runs = [e for e in entries if e["action"] == "retention.purge"]
    assert [(e["role"], e["details"]["dry_run"], e["details"]["candidates_erased"]) for e in runs[:3]] == [
        ("system", False, 1), ("system", True, 1), ("system", False, 0)]
    erasures = client.get("/v1/audit", params={"action": "candidate.erased"}, headers=HR).json()["entries"]
    assert [e["target_id"] for e in erasures if e["action"] == "candidate.erased"] == [short["candidate"]["id"]]
    assert store.verify_audit().ok

    clock.advance(days=365)  # past the profile's 12 months too
    assert purge(client).candidates == [long["candidate"]["id"]]
    assert client.get(f"/v1/candidates/{long['candidate']['id']}", headers=HR).status_code == 410


def test_recordings_go_30_days_after_the_decision_through_the_hook_once(client: TestClient, clock: Clock) -> None:
    from events import InterviewEnded, MediaFlowing

    ctx = client.app.state.candor
    asked: list[tuple[str, ...]] = []
    ctx.store.store.recording_purge_hooks.append(lambda sessions: asked.append(sessions) or len(sessions))
    candidate = client.post("/v1/candidates", json={"profile": {"name": "录音测试"}}, headers=HR).json()
    session = client.post("/v1/sessions", json={"job_id": "wealth_manager", "candidate_id": candidate["id"]}, headers=HR).json()

    async def interview() -> None:
        events = await ctx.events_for(session["id"])
        events.publish(0.0, MediaFlowing(connection_id="c1"))
        events.publish(60.0, InterviewEnded(questions=4))
        await events.flush()

    client.portal.call(interview)
    deadline = time.monotonic() + 15
    while client.get(f"/v1/sessions/{session['id']}/report", headers=HR).status_code != 200:
        assert time.monotonic() < deadline, "no report"
        time.sleep(0.05)
    assert client.post(f"/v1/sessions/{session['id']}/decision", json={"decision": "hold"}, headers=HR).status_code == 201

    clock.advance(days=29)
    assert purge(client).recording_sessions == [] and asked == []
    clock.advance(days=2)
    report = purge(client)
    assert report.recording_sessions == [session["id"]] and report.recordings_deleted == 1 and asked == [(session["id"],)]
    assert purge(client).recording_sessions == [] and len(asked) == 1  # once
    # The session itself (its report, the decision) stays until the candidate's own period ends.
    assert client.get(f"/v1/sessions/{session['id']}/report", headers=HR).status_code == 200
    # A candidate without applications: their own and their sessions' dates count, the profile's 12 months.
    clock.advance(days=365 - 31 - 5)
    assert purge(client).candidates == []
    clock.advance(days=10)
    assert purge(client).candidates == [candidate["id"]]
    assert client.get(f"/v1/sessions/{session['id']}/report", headers=HR).status_code == 404


def test_the_purge_command_erases_what_expired_and_the_chain_still_verifies(tmp_path: Path, db_url: str) -> None:
    models = Models(vad=None, asr=None, face=None, encoder=None)
    models.warm = True
    settings = make_settings(tmp_path, database_url=db_url, contact_key="test-contact-key")
    with TestClient(create_app(settings, models=models, load_models=False), base_url="http://127.0.0.1") as client:
        old = apply(client, "wealth_manager", 3)
        recent = apply(client, "wealth_manager", 4)
        store = client.app.state.candor.store.store
        with Session(store.engine) as db, db.begin():  # the first one's last activity was two years ago
            db.execute(update(ApplicationRow).where(ApplicationRow.id == old["id"]).values(
                updated_at=datetime.now(timezone.utc) - timedelta(days=730)))
    sink = {"name": "hris", "url": "http://127.0.0.1:9/hook", "secret": SECRET}  # the server's worker sends what the command queues
    env = {**os.environ, "CANDOR_POLICY": "pipl", "CANDOR_HR_TOKEN": HR_TOKEN, "CANDOR_SINKS": json.dumps([sink])}

    def command(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "server", *args, "--database-url", settings.database_url],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)

    dry = command("purge", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would erase 1 candidates" in dry.stdout
    done = command("purge")
    assert done.returncode == 0 and "erased 1 candidates" in done.stdout, done.stderr
    verified = command("audit", "verify")
    assert verified.returncode == 0, verified.stderr
    with TestClient(create_app(settings, models=models, load_models=False), base_url="http://127.0.0.1") as client:
        assert client.get(f"/v1/candidates/{old['candidate']['id']}", headers=HR).status_code == 410
        assert client.get(f"/v1/candidates/{recent['candidate']['id']}", headers=HR).status_code == 200
        actions = [e["action"] for e in client.get("/v1/audit", headers=HR).json()["entries"]]
        assert "retention.purge" in actions and "candidate.erased" in actions
    from sinks.outbox import OUTBOX_BODY, DeliveryRow

    store = Store(settings.database_url)
    try:
        with Session(store.engine) as db:
            queued = [(r.sink, r.type, r.key, json.loads(store.vault.open(r.subject, r.body, OUTBOX_BODY))["data"]["reason"])
                      for r in db.query(DeliveryRow)]
    finally:
        store.close()
    assert queued == [("hris", "candidate.erased", old["candidate"]["id"], "retention")]
