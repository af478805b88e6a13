"""Erasure on request (docs/retention.md): nothing of the candidate is left in the database's bytes or on disk.

One candidate goes the whole way through the real app: a resume with a
distinctive name, phone, e-mail and phrase; automation invites them and
queues an invite e-mail to a real SMTP server that keeps answering "try
later" (so it stays pending in the outbox); their interview's log holds a
distinctive answer; a report and HR's decision go to a real Standard
Webhooks receiver. Then ``DELETE /v1/candidates/{id}``, and the raw bytes of
the SQLite file, its WAL and every file under the test's folder and var/ are
searched for each distinctive string, as UTF-8 and as JSON's ``\\u`` escapes.
It runs twice: once with the vault made see-through (content stored in the
clear, framed as usual), so that it does not rely on encryption at rest:
rows are deleted and SQLite's ``secure_delete`` zeroes what they held; and
once as shipped, sealed, where the candidate's data keys must be gone too.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from analytics.figures import reached
from runtime.models import Models
from server.app import create_app
from sinks import SinkConfig
from tests.helpers import HR_TOKEN, make_settings
from tests.pg_fixtures import stored_bytes
from tests.smtp_server import SmtpServer
from tests.test_sinks import SECRET, Receiver

HR = {"Authorization": f"Bearer {HR_TOKEN}"}
ROOT = Path(__file__).resolve().parent.parent

NAME = "龙傲雪"
PHONE = "13912345678"
EMAIL = "longaoxue.erasure@example.com"
PHRASE = "紫藤花园量化投资俱乐部"  # in the resume only
ANSWER = "我在翡翠湾支行独立处理过三千万的跨境授信"  # in the interview's log only
REASON = "沉稳可靠值得推荐"  # HR's reason for the decision

RESUME = f"""\
个人简历
姓名：{NAME}
联系电话：{PHONE}      电子邮箱：{EMAIL}
【教育背景】
2016.09—2020.06  上海财经大学  金融学  本科
【工作经历】
2020年7月至今  中国银行上海分行  客户经理
  负责个人客户营销与财富管理，创办{PHRASE}。
【证书】
银行从业资格证书、基金从业资格证。
"""

RULES = {"enabled": True, "rules": [{"id": "invite_all", "on": "screened", "do": "invite(channel: email)"}]}


def forms(value: str) -> list[bytes]:
    """How a string can sit in the bytes: UTF-8, and JSON with \\u escapes (SQLAlchemy's JSON columns)."""
    escaped = json.dumps(value)[1:-1]  # ensure_ascii: \\uXXXX for every CJK character
    return sorted({value.encode("utf-8"), escaped.encode("ascii"), escaped.lower().encode("ascii")})


SECRETS = [NAME, PHONE, EMAIL, PHRASE, ANSWER, REASON]


def leftovers(paths: list[Path]) -> dict[str, list[str]]:
    """secret -> the files whose bytes still hold it (in any of its forms)."""
    found: dict[str, list[str]] = {}
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError:
            continue
        for secret in SECRETS:
            if any(f in data for f in forms(secret)):
                found.setdefault(secret, []).append(path.name)
    return found


def db_leftovers(url: str, folder: Path) -> dict[str, list[str]]:
    """secret -> where the database still holds it: SQLite's file and WAL bytes; PostgreSQL's rows (tests/pg_fixtures.py).

    PostgreSQL keeps deleted rows' bytes in its pages until VACUUM reuses them: what is
    checked there is every live value, and that the subject's data keys are gone (so
    those leftover bytes, like a backup's, no longer open).
    """
    if url.startswith("sqlite"):
        return leftovers([folder / "candor.db", folder / "candor.db-wal"])
    data = stored_bytes(url, folder)
    return {secret: ["rows"] for secret in SECRETS if any(f in data for f in forms(secret))}


def files_under(*folders: Path) -> list[Path]:
    return [p for folder in folders if folder.is_dir() for p in folder.rglob("*") if p.is_file()]


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture()
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    server.replies.extend(["451 4.3.0 try later"] * 1000)  # every e-mail waits in the outbox
    yield server
    server.stop()


def app_for(tmp_path: Path, db_url: str, receiver: Receiver, smtp: SmtpServer, **extra: Any) -> Any:
    models = Models(vad=None, asr=None, face=None, encoder=None)
    models.warm = True
    settings = make_settings(
        tmp_path, database_url=db_url, contact_key="test-contact-key", smtp_url=smtp.url(), mail_from="HR <hr@bank.example>",
        sinks=[SinkConfig(name="hris", url=receiver.url, secret=SECRET)], **extra,
    )
    return create_app(settings, models=models, load_models=False)


def wait_for(predicate: Any, timeout: float = 15.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def interview(client: TestClient, session_id: str) -> None:
    from events import InterviewEnded, MediaFlowing, TranscriptFinal

    ctx = client.app.state.candor

    async def run() -> None:
        events = await ctx.events_for(session_id)
        events.publish(0.0, MediaFlowing(connection_id="c1"))
        events.publish(12.0, TranscriptFinal(utterance_id=1, text=ANSWER, language="zh", start=2.0, end=12.0))
        events.publish(95.0, InterviewEnded(questions=4))
        await events.flush()

    client.portal.call(run)


def a_candidate_all_the_way(client: TestClient, smtp: SmtpServer) -> dict[str, Any]:
    """The candidate, their application, invite e-mail (pending), interview, report and decision; the ids."""
    saved = client.put("/v1/jobs/wealth_manager/automation", json=RULES, headers=HR)
    assert saved.status_code == 200, saved.text
    made = client.post("/v1/applications", json={"job_id": "wealth_manager", "resume_text": RESUME, "source": "campus",
                                                 "external_id": "HRIS-4711"}, headers=HR)
    assert made.status_code == 201, made.text
    app = made.json()
    assert app["candidate"]["profile"]["name"] == NAME
    ctx = client.app.state.candor
    client.portal.call(ctx.automation.run_due)  # the rule's invite: a session and an e-mail
    app = wait_for(lambda: (a := client.get(f"/v1/applications/{app['id']}", headers=HR).json())["state"] == "invited" and a,
                   what="the rule's invite")
    session_id = app["session_id"]
    wait_for(lambda: smtp.transactions >= 1, what="the invite e-mail's first try")  # it reached SMTP, and was put off
    interview(client, session_id)
    wait_for(lambda: client.get(f"/v1/sessions/{session_id}/report", headers=HR).status_code == 200, what="the report")
    decided = client.post(f"/v1/sessions/{session_id}/decision", json={"decision": "advance", "reason": REASON}, headers=HR)
    assert decided.status_code == 201, decided.text
    return {"application": app["id"], "candidate": app["candidate"]["id"], "session": session_id}


class SeeThrough:
    """An AEAD that stores the plaintext (and a tag of zeros): personal data in the clear, for tests about deletion."""

    def __init__(self, key: bytes) -> None:
        self.key = key

    def encrypt(self, nonce: bytes, data: bytes, aad: bytes | None) -> bytes:
        return data + bytes(16)

    def decrypt(self, nonce: bytes, data: bytes, aad: bytes | None) -> bytes:
        return data[:-16]


@pytest.mark.parametrize("sealed", [False, True], ids=["in-the-clear", "sealed"])
def test_a_deleted_candidate_leaves_nothing_in_the_database_bytes_or_on_disk(
    tmp_path: Path, db_url: str, receiver: Receiver, smtp: SmtpServer, sealed: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not sealed:
        import vault

        monkeypatch.setattr(vault, "AESGCM", SeeThrough)
    with TestClient(app_for(tmp_path, db_url, receiver, smtp), base_url="http://127.0.0.1") as client:
        ids = a_candidate_all_the_way(client, smtp)
        store = client.app.state.candor.store.store
        wait_for(lambda: len(receiver.processed) >= 2, what="report.ready and decision.recorded at the HRIS")
        rows_before = store.analytics_rows(job_id="wealth_manager")
        outbox_before = client.get("/v1/deliveries", params={"state": "pending"}, headers=HR)
        pending_mail = [d for d in outbox_before.json()["deliveries"] if d["sink"] == "email"]
        assert pending_mail, outbox_before.text  # the invite e-mail waits for the SMTP server
        # The test can fail: before the erasure, every distinctive string is in the database's bytes (in the clear),
        # or (sealed) none is, and the candidate's and the session's data keys are there to open them.
        assert set(db_leftovers(db_url, tmp_path)) == (set() if sealed else set(SECRETS))
        subjects = (ids["candidate"], ids["session"])
        assert all(store.get_data_key(s) is not None for s in subjects)

        erased = client.delete(f"/v1/candidates/{ids['candidate']}", headers=HR)
        assert erased.status_code == 200, erased.text
        stone = erased.json()
        assert stone["candidate_id"] == ids["candidate"] and stone["reason"] == "request" and not stone["already_erased"]
        counts = stone["counts"]
        assert counts["applications"] == 1 and counts["sessions"] == 1 and counts["reports"] >= 1 and counts["decisions"] == 1
        assert counts["events"] >= 3 and counts["contacts"] == 2 and counts["outbox_deliveries"] >= 3

        # Nothing of theirs is left in the database's bytes (file and WAL), nor anywhere under the test's folder or var/;
        # their data keys are gone, so a copy of any blob (a backup) no longer opens.
        assert db_leftovers(db_url, tmp_path) == {}
        assert all(store.get_data_key(s) is None for s in subjects)
        assert leftovers(files_under(tmp_path, ROOT / "var")) == {}

        # The API says so; a second DELETE is the same tombstone; the pending e-mail is gone and never sent.
        assert client.get(f"/v1/candidates/{ids['candidate']}", headers=HR).status_code == 410
        assert client.get(f"/v1/applications/{ids['application']}", headers=HR).status_code == 404
        assert client.get(f"/v1/sessions/{ids['session']}/report", headers=HR).status_code == 404
        again = client.delete(f"/v1/candidates/{ids['candidate']}", headers=HR)
        assert again.status_code == 200 and again.json()["already_erased"] and again.json()["erased_at"] == stone["erased_at"]
        assert client.delete("/v1/candidates/nobody", headers=HR).status_code == 404
        assert client.delete(f"/v1/candidates/{ids['candidate']}").status_code == 401
        for d in pending_mail:
            assert client.get(f"/v1/deliveries/{d['id']}", headers=HR).status_code == 404
        smtp.replies.clear()  # the mail server would take it now
        time.sleep(1.5)
        assert smtp.messages == []

        # The HRIS is told, with ids and a time only.
        message = wait_for(lambda: next((b for b in list(receiver.processed.values()) if b["type"] == "candidate.erased"), None),
                           what="candidate.erased at the sink")
        assert message["data"] == {"candidate_id": ids["candidate"], "erased_at": stone["erased_at"], "reason": "request",
                                   "external_id": None}
        assert not any(any(f.decode("utf-8", "replace") in json.dumps(message) for f in forms(s)) for s in SECRETS)

        # The audit trail still verifies, names the erasure by ids and counts, and the statistics still count them.
        assert store.verify_audit().ok
        audit = client.get("/v1/audit", params={"action": "candidate.erased"}, headers=HR).json()
        entry = next(e for e in audit["entries"] if e["action"] == "candidate.erased")
        assert entry["target_id"] == ids["candidate"] and entry["details"]["applications"] == 1
        rows_after = store.analytics_rows(job_id="wealth_manager") + store.erased_analytics_rows(job_id="wealth_manager")
        assert [reached(r) for r in rows_after] == [reached(r) for r in rows_before]
        assert [(r.job_id, r.source, r.state, r.outcome) for r in rows_after] == [(r.job_id, r.source, r.state, r.outcome) for r in rows_before]
        assert all(r.id != ids["application"] for r in rows_after)
        funnel = client.get("/v1/analytics/funnel", params={"job_id": "wealth_manager"}, headers=HR)
        assert funnel.status_code == 200
    # And after the server has stopped (SQLite's last checkpoint): still nothing.
    assert db_leftovers(db_url, tmp_path) == {} and leftovers(files_under(tmp_path)) == {}


def test_a_live_session_of_the_candidate_is_ended_first(tmp_path: Path, db_url: str, receiver: Receiver, smtp: SmtpServer) -> None:
    with TestClient(app_for(tmp_path, db_url, receiver, smtp), base_url="http://127.0.0.1") as client:
        made = client.post("/v1/candidates", json={"profile": {"name": NAME}}, headers=HR)
        candidate_id = made.json()["id"]
        session = client.post("/v1/sessions", json={"candidate_id": candidate_id}, headers=HR).json()
        ctx = client.app.state.candor
        called: list[tuple[str, tuple[str, ...]]] = []

        def recordings(candidate: str, sessions: tuple[str, ...]) -> None:  # where the recordings package deletes files
            called.append((candidate, sessions))

        def broken(candidate: str, sessions: tuple[str, ...]) -> None:
            raise OSError("the object store is away")

        ctx.store.store.erasure_hooks.extend([recordings, broken])
        record = client.portal.call(ctx.session_record, session["id"])
        live = client.portal.call(ctx.sessions.live, record)
        assert ctx.sessions.get_live(session["id"]) is live and not live.closed
        assert client.delete(f"/v1/candidates/{candidate_id}", headers=HR).status_code == 200
        assert live.closed and ctx.sessions.get_live(session["id"]) is None
        assert called == [(candidate_id, (session["id"],))]
        entry = next(e for e in client.get("/v1/audit", headers=HR).json()["entries"] if e["action"] == "candidate.erased")
        assert entry["details"]["hooks_failed"] == ["broken"]
        token = session["candidate_token"]
        assert client.get(f"/v1/sessions/{session['id']}", headers=HR).status_code == 404
        # The candidate's token opens nothing any more.
        assert client.get("/v1/me/data", headers={"Authorization": f"Bearer {token}"}).status_code == 401


# -- the candidate's own data page (GET /v1/me/data, POST /v1/me/withdraw) ------------------------------
class Clock:
    def __init__(self) -> None:
        from datetime import datetime, timezone

        self.now = datetime.now(timezone.utc)

    def __call__(self) -> Any:
        return self.now


def invited(client: TestClient, n: int, name: str) -> dict[str, Any]:
    """An application (the resume gives name, phone, e-mail), HR's invite, and the token the candidate's link exchanges."""
    resume = RESUME.replace(NAME, name).replace(PHONE, f"1380000{n:04d}").replace(EMAIL, f"cand{n}@example.com")
    app = client.post("/v1/applications", json={"job_id": "wealth_manager", "resume_text": resume}, headers=HR).json()
    app = client.post(f"/v1/applications/{app['id']}/invite", headers=HR).json()
    session = client.get(f"/v1/sessions/{app['session_id']}", headers=HR).json()
    code = app_code(client, app["id"])
    exchanged = client.post("/v1/candidate/exchange", json={"code": code})
    assert exchanged.status_code == 200, exchanged.text
    return {"application": app, "session": session, "token": exchanged.json()["token"]}


def app_code(client: TestClient, application_id: str) -> str:
    timeline = client.get(f"/v1/applications/{application_id}/timeline", headers=HR).json()["entries"]
    url = next(e["details"]["candidate_url"] for e in timeline if e["action"] == "invite")
    return url.split("#code=", 1)[1]


@pytest.fixture()
def page_client(tmp_path: Path, db_url: str) -> Iterator[TestClient]:
    models = Models(vad=None, asr=None, face=None, encoder=None)
    models.warm = True
    clock = Clock()
    app = create_app(make_settings(tmp_path, database_url=db_url, contact_key="test-contact-key", consent_needs_candidate_link=True),
                     models=models, load_models=False, clock=clock)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        client.clock = clock  # type: ignore[attr-defined]
        yield client


def test_a_candidate_sees_what_is_held_about_them_and_nobody_elses(page_client: TestClient) -> None:
    client = page_client
    me = invited(client, 1, NAME)
    other = invited(client, 2, "韩梅梅")
    mine = {"Authorization": f"Bearer {me['token']}"}
    given = client.post(f"/v1/sessions/{me['session']['id']}/consent", json={"voice": True, "face": False}, headers=mine)
    assert given.status_code == 200, given.text
    interview(client, me["session"]["id"])

    shown = client.get("/v1/me/data", headers=mine)
    assert shown.status_code == 200, shown.text
    data = shown.json()
    assert shown.headers["cache-control"] == "no-store"
    assert data["candidate"]["profile"]["name"] == NAME
    [app] = data["applications"]
    assert app["id"] == me["application"]["id"] and app["job"]["id"] == "wealth_manager" and app["state"] in ("invited", "interviewing", "interviewed")
    assert app["contacts"] == {"email": "cand1@example.com", "phone": "+8613800000001"} and PHRASE in app["resume"]["text"]
    assert [e["action"] for e in app["timeline"]][:3] == ["receive", "screen", "invite"]
    [session] = data["sessions"]
    assert [(c["event"], c["voice"], c["face"]) for c in session["consent"]] == [("consent.given", True, False)]
    assert [a["text"] for a in session["answers"]] == [ANSWER]
    assert data["recordings"] == 0 and data["retention"]["personal_data_months_after_campaign"] == 12
    # Not shown: scores and HR's reasons.
    text = shown.text
    assert '"score"' not in text and '"screening"' not in text and "reason" not in text
    # Nobody else's: the other candidate's token shows only theirs.
    theirs = client.get("/v1/me/data", headers={"Authorization": f"Bearer {other['token']}"}).json()
    assert theirs["candidate"]["profile"]["name"] == "韩梅梅" and NAME not in json.dumps(theirs, ensure_ascii=False)
    download = client.get("/v1/me/data", params={"download": "1"}, headers=mine)
    assert download.headers["content-disposition"] == 'attachment; filename="candor-my-data.json"'
    # No token, a wrong one, HR's: 401. A link with no candidate behind it: 404.
    assert client.get("/v1/me/data").status_code == 401
    assert client.get("/v1/me/data", headers={"Authorization": "Bearer c.not-a-token"}).status_code == 401
    assert client.get("/v1/me/data", headers=HR).status_code == 401
    hr_session = client.post("/v1/sessions", json={"candidate_id": me["application"]["candidate"]["id"]}, headers=HR).json()
    hr_copy = {"Authorization": f"Bearer {hr_session['candidate_token']}"}  # HR's copy of a candidate token
    refused = client.get("/v1/me/data", headers=hr_copy)
    assert refused.status_code == 403 and refused.json()["type"].endswith("candidate-link-only")
    assert client.post("/v1/me/withdraw", headers=hr_copy).status_code == 403
    free = client.post("/v1/sessions", json={}, headers=HR).json()
    free_token = client.post("/v1/candidate/exchange", json={"code": free["candidate_url"].split("#code=", 1)[1]}).json()["token"]
    assert client.get("/v1/me/data", headers={"Authorization": f"Bearer {free_token}"}).status_code == 404
    # The audit trail says the candidate looked (ids only).
    viewed = client.get("/v1/audit", params={"action": "candidate.data_viewed"}, headers=HR).json()["entries"]
    assert {(e["role"], e["target_id"]) for e in viewed} >= {("candidate", me["application"]["candidate"]["id"])}
    # Long after the link expired (90 days by default), the token no longer opens it.
    from datetime import timedelta

    client.clock.now += timedelta(days=8 + 90)  # type: ignore[attr-defined]
    expired = client.get("/v1/me/data", headers=mine)
    assert expired.status_code == 401 and expired.json()["title"] == "Token expired"


def test_a_candidate_withdraws_and_then_has_everything_erased(page_client: TestClient) -> None:
    client = page_client
    me = invited(client, 3, NAME)
    other = invited(client, 4, "韩梅梅")
    mine = {"Authorization": f"Bearer {me['token']}"}
    assert client.post("/v1/me/withdraw", json={"erase": "yes"}, headers=mine).status_code == 422
    assert client.post("/v1/me/withdraw", json={"erase": False}).status_code == 401

    only = client.post("/v1/me/withdraw", json={"erase": False}, headers=mine)
    assert only.status_code == 200, only.text
    assert only.json() == {"withdrawn": [me["application"]["id"]], "erased": False, "erased_at": None}
    app = client.get(f"/v1/applications/{me['application']['id']}", headers=HR).json()
    assert app["state"] == "withdrawn"
    step = client.get(f"/v1/applications/{app['id']}/timeline", headers=HR).json()["entries"][-1]
    assert (step["action"], step["actor"]) == ("withdraw", "candidate")

    erased = client.post("/v1/me/withdraw", headers=mine)  # no body: erase (the default)
    assert erased.status_code == 200, erased.text
    assert erased.json()["withdrawn"] == [] and erased.json()["erased"]
    candidate_id = me["application"]["candidate"]["id"]
    assert client.get(f"/v1/candidates/{candidate_id}", headers=HR).status_code == 410
    assert client.app.state.candor.store.store.tombstone(candidate_id).reason == "candidate"
    assert client.get("/v1/me/data", headers=mine).status_code == 401  # the token went with the rest
    # The other candidate is untouched.
    assert client.get("/v1/me/data", headers={"Authorization": f"Bearer {other['token']}"}).status_code == 200
    entries = client.get("/v1/audit", headers=HR).json()["entries"]
    assert [(e["action"], e["role"]) for e in entries if e["target_id"] == candidate_id][:1] == [("candidate.erased", "candidate")]
    assert client.app.state.candor.store.store.verify_audit().ok


# -- the synchronous core, on the store alone ----------------------------------------------------------------
def test_the_store_erases_batch_results_job_board_answers_and_self_identification(tmp_path: Path, db_url: str) -> None:
    from sqlalchemy import text

    from db import Store
    from jobs.models import CandidateProfile

    store = Store(db_url)
    try:
        candidate = store.create_candidate(CandidateProfile(name=NAME))
        entry = {"action": "receive", "from": None, "to": "applied", "outcome": None, "actor": "hr", "actor_id": "hr",
                 "at": "2026-12-01T10:11:12+00:00", "reason": REASON, "details": {"filename": f"{NAME}.pdf"}}
        app = store.create_application(
            job_id="wealth_manager", job_version=1, candidate_id=candidate.id, state="applied", outcome=None, source="liepin",
            external_id="L-1", name=NAME, phone_key=None, email_key=None, score=None, resume={"filename": f"{NAME}.pdf"},
            resume_text=PHRASE, parsed={}, screening={}, timeline=[entry],
        )
        other = store.create_candidate(CandidateProfile(name="韩梅梅"))
        kept = store.create_application(
            job_id="wealth_manager", job_version=1, candidate_id=other.id, state="applied", outcome=None, source="boss",
            external_id=None, name="韩梅梅", phone_key=None, email_key=None, score=None, resume={}, resume_text="韩梅梅的简历",
            parsed={}, screening={}, timeline=[],
        )
        batch = store.create_batch("wealth_manager", [
            {"index": 0, "filename": f"{NAME}.pdf", "status": "ok", "application_id": app.id},
            {"index": 1, "filename": "韩梅梅.pdf", "status": "ok", "application_id": kept.id},
        ])
        store.record_inbound("liepin", "d-1", 201, {"id": app.id, "candidate": {"profile": {"name": NAME}}}, subject=candidate.id)
        store.record_inbound("boss", "d-2", 201, {"id": kept.id}, subject=other.id)
        store.put_self_id("s-erased", application_id=app.id, candidate_id=candidate.id, sex="female", age_band="25-34", ethnicity=None)
        store.put_self_id("s-kept", application_id=kept.id, candidate_id=other.id, sex="male", age_band="35-44", ethnicity=None)

        stone = store.erase_candidate(candidate.id, reason="request")
        assert stone is not None and not stone.already
        assert stone.counts["applications"] == 1 and stone.counts["self_identification"] == 1
        assert stone.counts["inbound_deliveries"] == 1 and stone.counts["batch_files"] == 1
        assert store.get_batch(batch.id).files == [
            {"index": 0, "status": "erased"}, {"index": 1, "filename": "韩梅梅.pdf", "status": "ok", "application_id": kept.id}]
        assert store.inbound_answer("liepin", "d-1") is None and store.inbound_answer("boss", "d-2") is not None
        with store.engine.connect() as conn:
            assert [r[0] for r in conn.execute(text("SELECT application_id FROM self_identifications"))] == [kept.id]
        # The statistics row: a fresh id, the day, what moved; no reason, person or detail.
        [row] = store.erased_analytics_rows()
        assert row.id != app.id and row.source == "liepin" and row.state == "applied"
        assert list(row.timeline) == [{"action": "receive", "from": None, "to": "applied", "outcome": None, "actor": "hr",
                                       "at": "2026-12-01T00:00:00+00:00"}]
        assert store.erase_candidate(candidate.id).already and store.erase_candidate("nobody") is None
        assert store.get_application(kept.id) is not None and store.get_candidate(other.id) is not None
        assert store.checkpoint()
        assert db_leftovers(db_url, tmp_path) == {}
    finally:
        store.close()
