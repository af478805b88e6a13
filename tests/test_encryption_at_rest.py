"""Personal data sealed at rest (issue 12, section 3), checked on the bytes.

Through the real HTTP API (the real app, the real sentence encoder that
screens, a real SQLite file, a real SMTP server on loopback): a candidate
with a distinctive name, phone, e-mail and resume phrase applies with a DOCX
resume; an automation rule invites them by e-mail; their interview's answer
(with a distinctive phrase) is written to the session's event log as the
analyzers write it; the report is made and HR decide with a distinctive
reason. Then the raw bytes of the database file (and its -wal), of every
file under the test's folder and the server's var/ folder, and everything
logged, hold none of those strings (UTF-8, UTF-16, GBK, JSON \\u-escapes),
while the API still shows them to HR. The same database under another master
key opens none of it; after a rotation, the new master key alone opens all.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from db import Store
from events import payload_from_dict
from runtime.models import Models
from scoring.encoder import SentenceEncoder
from server.app import create_app
from tests.helpers import HR_TOKEN, make_settings
from tests.smtp_server import SmtpServer
from tests.test_reports import interview_events
from tests.test_screening import PEOPLE, RESUME_ZH
from vault import LocalKeyWrapper, VaultError

HR = {"Authorization": f"Bearer {HR_TOKEN}"}
ROOT = Path(__file__).resolve().parent.parent

NAME = "欧阳翠花"
PHONE = "13912345678"
EMAIL = "cuihua.ouyang@example.com"
RESUME_PHRASE = "紫藤花园理财沙龙"  # only in the resume
ANSWER_PHRASE = "青龙偃月刀般的风控底线"  # only in the spoken answer (transcript, report evidence)
REASON = "她在诸葛草庐的案例里最稳"  # only in HR's decision
SECRETS = {"name": NAME, "phone": PHONE, "email": EMAIL, "resume": RESUME_PHRASE, "answer": ANSWER_PHRASE, "reason": REASON}

RESUME = (
    RESUME_ZH.format(**PEOPLE[0])
    .replace("张伟", NAME)
    .replace("13800138000", PHONE)
    .replace("candidate@example.com", EMAIL)
    .replace("管户资产3亿元", f"管户资产3亿元，创办{RESUME_PHRASE}")
)
RULES = {"enabled": True, "rules": [
    {"id": "invite_strong", "on": "screened", "if": 'band == "advance"', "do": "invite(channel: email, template: invite)"},
    {"id": "tell_candidate", "on": "decided", "do": [{"notify_candidate": {"channel": "email"}}]},
]}


def forms(text: str) -> dict[str, bytes]:
    """The ways ``text`` could sit in a file: UTF-8, UTF-16 (both orders), GBK, JSON's \\u escapes."""
    out = {"utf-8": text.encode(), "utf-16-le": text.encode("utf-16-le"), "utf-16-be": text.encode("utf-16-be")}
    try:
        out["gbk"] = text.encode("gbk")
    except UnicodeEncodeError:
        pass
    escaped = json.dumps(text)[1:-1]
    if escaped != text:
        out["json"] = escaped.encode()  # matched whatever the case of the hex digits
    return out


def leaks(data: bytes) -> list[str]:
    """Which secrets ``data`` holds, and in which form."""
    found = []
    for label, text in SECRETS.items():
        for form, needle in forms(text).items():
            if needle in data or (form.startswith("json") and needle.lower() in data.lower()):
                found.append(f"{label} ({form})")
    return found


def to_docx(text: str) -> bytes:
    import docx

    document = docx.Document()
    for line in text.splitlines():
        document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def files_under(*folders: Path) -> Iterator[Path]:
    for folder in folders:
        if folder.is_dir():
            yield from (p for p in folder.rglob("*") if p.is_file())


def _wait(predicate: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


@pytest.fixture()
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


def test_personal_data_is_sealed_in_the_database_files_and_logs(
    tmp_path: Path, encoder: SentenceEncoder, smtp: SmtpServer, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    master = os.urandom(32)
    settings = make_settings(
        tmp_path, contact_key="test-contact-key", master_key=master.hex(), org_name="示例银行",
        smtp_url=smtp.url(), mail_from="Bank HR <hr@bank.example>",
    )
    models = Models(vad=None, asr=None, face=None, encoder=encoder)
    models.warm = True
    app = create_app(settings, models=models, load_models=False)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        assert client.put("/v1/jobs/wealth_manager/automation", json=RULES, headers=HR).status_code == 200
        made = client.post("/v1/applications", data={"job_id": "wealth_manager", "source": "campus"},
                           files={"resume": ("简历.docx", to_docx(RESUME))}, headers=HR)
        assert made.status_code == 201, made.text
        application = made.json()
        app_id, candidate_id = application["id"], application["candidate"]["id"]
        assert application["candidate"]["profile"]["name"] == NAME and application["outcome"] == "advance"
        # the rule invites by e-mail (through the outbox): the session carries the profile's copy
        client.portal.call(client.app.state.candor.automation.run_due)
        _wait(lambda: len(smtp.messages) >= 1)
        invited = client.get(f"/v1/applications/{app_id}", headers=HR).json()
        sid = invited["session_id"]
        assert invited["state"] == "invited" and sid

        # the interview: the answer's transcript and its scored evidence, as the analyzers publish them
        async def interview() -> None:
            events = await client.app.state.candor.sessions.events_for(sid)
            assert events is not None
            for ty, mt, payload in interview_events("persuade_client", "elderly_high_risk"):
                if ty == "transcript.final" and payload["utterance_id"] == "u1":
                    payload = {**payload, "text": f"我会守住{ANSWER_PHRASE}，先问客户的目标"}
                events.publish(mt, payload_from_dict(ty, json.loads(json.dumps(payload).replace(
                    "I asked what the money was for", ANSWER_PHRASE))))

        client.portal.call(interview)
        _wait(lambda: client.get(f"/v1/sessions/{sid}/report", headers=HR).status_code == 200)
        decided = client.post(f"/v1/sessions/{sid}/decision", json={"decision": "advance", "reason": REASON}, headers=HR)
        assert decided.status_code == 201, decided.text
        client.portal.call(client.app.state.candor.automation.run_due)
        _wait(lambda: len(smtp.messages) >= 2)

        # HR still read everything, in the clear
        shown = json.dumps([
            client.get(f"/v1/applications/{app_id}", headers=HR).json(),
            client.get(f"/v1/applications/{app_id}/resume", headers=HR).json(),
            client.get(f"/v1/applications/{app_id}/contacts", headers=HR).json(),
            client.get(f"/v1/applications/{app_id}/timeline", headers=HR).json(),
            client.get(f"/v1/sessions/{sid}", headers=HR).json(),
            client.get(f"/v1/sessions/{sid}/report", headers=HR).json(),
            client.get(f"/v1/candidates/{candidate_id}", headers=HR).json(),
        ], ensure_ascii=False)
        for label in ("name", "phone", "email", "resume", "answer", "reason"):
            assert SECRETS[label] in shown, label
        found = client.get("/v1/applications", params={"q": NAME}, headers=HR).json()["applications"]
        assert [a["id"] for a in found] == [app_id]  # HR's name search (a keyed hash: whole names)
        assert client.get("/v1/applications", params={"q": NAME[:2]}, headers=HR).json()["applications"] == []
        mails = [m.get_body(("plain",)).get_content() for m in smtp.messages]
        assert any(NAME in m for m in mails)  # the e-mail left the outbox, opened
        events = client.portal.call(lambda: client.app.state.candor.store.run(client.app.state.candor.store.store.read_events, sid))
        assert any(ANSWER_PHRASE in getattr(e.payload, "text", "") for e in events)
        # while it runs: the database and what its write-ahead log holds before a checkpoint
        live = {p.name: p.read_bytes() for p in tmp_path.glob("candor.db*")}
        assert "candor.db-wal" in live
        for name, data in live.items():
            assert not leaks(data), f"{name} holds {leaks(data)}"

    # the bytes: the database (and what WAL still holds), the test's folder, the server's var/
    db_file = tmp_path / "candor.db"
    assert db_file.stat().st_size > 0
    scanned = {p: p.read_bytes() for p in files_under(tmp_path, ROOT / "var")}
    assert db_file in scanned
    # no upload folder, no resume file: what the server wrote under the test's folder is the database
    assert {p.name for p in files_under(tmp_path)} <= {"candor.db", "candor.db-wal", "candor.db-shm"}, sorted(files_under(tmp_path))
    for path, data in scanned.items():
        assert not leaks(data), f"{path} holds {leaks(data)}"
    # the logs: every record, formatted with its arguments, and the process's own output
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith(("mail.log", "aiosmtpd")))
    assert not leaks(logged.encode()), leaks(logged.encode())
    out, err = capfd.readouterr()
    assert not leaks((out + err).encode())

    url = f"sqlite:///{db_file}"
    # another master key opens nothing
    other = Store(url, master=LocalKeyWrapper(os.urandom(32)))
    try:
        with pytest.raises(VaultError):
            other.get_candidate(candidate_id)
        with pytest.raises(VaultError):
            other.read_events(sid)
    finally:
        other.close()
    # a rotation re-wraps the data keys; the new master key alone then opens everything
    new = os.urandom(32)
    rotating = Store(url, master=LocalKeyWrapper(new, [master]))
    assert rotating.vault.rotate(rotating.vault.wrapper) >= 3  # the candidate, the session, the lookup key
    rotating.close()
    after = Store(url, master=LocalKeyWrapper(new))
    try:
        candidate = after.get_candidate(candidate_id)
        assert candidate is not None and candidate.profile["name"] == NAME
        assert RESUME_PHRASE in (after.resume_text(app_id) or "")
        assert after.contacts(app_id)["email"] == EMAIL
        assert after.application_for_contact("email", EMAIL.upper()) == app_id  # the lookup hashes survive rotation
        assert [d.reason for d in after.list_decisions(sid)] == [REASON]
        assert ANSWER_PHRASE in json.dumps(after.get_report(sid).body, ensure_ascii=False)  # type: ignore[union-attr]
    finally:
        after.close()
    with pytest.raises(VaultError):  # and the old one no longer does
        old = Store(url, master=LocalKeyWrapper(master))
        try:
            old.get_candidate(candidate_id)
        finally:
            old.close()


def test_the_bytes_check_finds_what_it_looks_for(tmp_path: Path) -> None:
    """The scan itself can fail: a plain copy of each secret, in each form, is found."""
    for text in SECRETS.values():
        for form, needle in forms(text).items():
            assert leaks(b"..." + needle + b"..."), (text, form)
    assert leaks(json.dumps({"n": NAME}).encode())  # \\u escapes, as json.dumps writes by default
    assert not leaks(b"nothing personal here")


def test_a_database_made_before_sealing_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    import sqlite3

    from db.store import PlainDatabase

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as old:  # the applications table as it was: the name in the clear
        old.execute("CREATE TABLE applications (id VARCHAR(64) PRIMARY KEY, name VARCHAR(200))")
        old.execute("INSERT INTO applications VALUES ('app_1', ?)", (NAME,))
    with pytest.raises(PlainDatabase, match="re-create it"):
        Store(f"sqlite:///{path}", master=LocalKeyWrapper(os.urandom(32)))


class _TlsReceiver:
    """An HTTPS endpoint on loopback with a certificate nobody signed (self-signed): counts what reaches it."""

    def __init__(self) -> None:
        import http.server
        import threading

        from tests.smtp_server import self_signed_context

        received = self.received = []  # type: list[bytes]

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                received.append(self.rfile.read(int(self.headers.get("content-length") or 0)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.socket = self_signed_context().wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


async def test_the_sink_client_refuses_a_certificate_it_cannot_verify(outboxes: Any) -> None:
    """Personal data leaves only over TLS it verified: the outbox's one HTTP client (sinks, WeCom, SuccessFactors)."""
    from sinks import SinkConfig
    from tests.test_sinks import SECRET

    receiver = _TlsReceiver()
    try:
        outbox = await outboxes.start([SinkConfig(name="hris", url=receiver.url, secret=SECRET)])
        (msg_id,) = await outbox.enqueue("report.ready", "s-tls", 1, {"candidate": {"name": NAME}})
        for _ in range(200):
            attempts = await outbox.attempts(msg_id)
            if attempts:
                break
            await asyncio.sleep(0.05)
        assert attempts and attempts[0].status is None and attempts[0].error == "ConnectError"  # the TLS handshake failed
        assert receiver.received == []  # nothing reached the endpoint
        assert (await outbox.get(msg_id)).state == "pending"  # type: ignore[union-attr]  # retried, never sent in the clear
    finally:
        receiver.stop()


def test_once_a_candidate_is_erased_their_rows_read_as_an_anonymous_tombstone(tmp_path: Path) -> None:
    """Crypto-shredding: forgetting the candidate's data key leaves the steps the statistics count, and nothing else."""
    from jobs.models import CandidateProfile

    store = Store(f"sqlite:///{tmp_path / 'candor.db'}", master=LocalKeyWrapper(os.urandom(32)))
    try:
        candidate = store.create_candidate(CandidateProfile.model_validate({"name": NAME}))
        made = store.create_application(
            job_id="wealth_manager", job_version=1, candidate_id=candidate.id, state="screened", outcome="advance",
            source="campus", external_id=None, name=NAME, phone_key=None, email_key=None, score=81.5,
            resume={"filename": f"{NAME}.docx"}, resume_text=RESUME, parsed={"personal": {"name": NAME}},
            screening={"rows": [RESUME_PHRASE]},
            timeline=[{"action": "receive", "from": None, "to": "applied", "outcome": None, "actor": "hr",
                       "at": "2026-12-01T08:00:00+00:00", "reason": None, "details": {"filename": f"{NAME}.docx"}},
                      {"action": "screen", "from": "applied", "to": "screened", "outcome": "advance", "actor": "system",
                       "at": "2026-12-01T08:00:01+00:00", "reason": REASON, "details": {}}],
        )
        store.set_contacts(made.id, {"email": EMAIL})
        assert store.application_for_contact("email", EMAIL) == made.id
        assert store.timeline(made.id)[1]["reason"] == REASON

        assert store.vault.forget(candidate.id) is True
        gone = store.get_application(made.id)
        assert gone is not None and gone.name is None and gone.resume == {} and gone.parsed == {} and gone.score == 81.5
        assert store.resume_text(made.id) == ""
        steps = store.timeline(made.id)
        assert [(s["action"], s["to"], s["outcome"]) for s in steps] == [("receive", "applied", None), ("screen", "screened", "advance")]
        assert all("reason" not in s and "details" not in s for s in steps)
        (row,) = store.analytics_rows()
        assert row.match_score == 81.5 and [e["action"] for e in row.timeline] == ["receive", "screen"]
        with pytest.raises(VaultError):  # a profile is not silently emptied: erasure deletes the row
            store.get_candidate(candidate.id)
    finally:
        store.close()


def _old_plain_database(path: Path) -> dict[str, str]:
    """A database as Candor made it before sealing (the old columns: JSON and text), with one candidate in it."""
    from datetime import datetime, timezone

    from sqlalchemy import JSON, Column, DateTime, Float, Integer, MetaData, String, Table, Text, create_engine

    now = datetime(2026, 12, 1, 8, tzinfo=timezone.utc)
    meta = MetaData()
    t = {
        "candidates": Table("candidates", meta, Column("id", String(64), primary_key=True), Column("created_at", DateTime),
                            Column("updated_at", DateTime), Column("external_id", String(128)), Column("profile", JSON)),
        "sessions": Table("sessions", meta, Column("id", String(64), primary_key=True), Column("created_at", DateTime),
                          Column("expires_at", DateTime), Column("invite_code_hash", String(64)), Column("state", String(32)),
                          Column("job_id", String(64)), Column("job_version", Integer), Column("bank_id", String(64)),
                          Column("bank_version", Integer), Column("candidate", JSON)),
        "candidate_sessions": Table("candidate_sessions", meta, Column("session_id", String(64), primary_key=True),
                                    Column("candidate_id", String(64))),
        "events": Table("events", meta, Column("session_id", String(64), primary_key=True), Column("seq", Integer, primary_key=True),
                        Column("type", String(64)), Column("media_time", Float), Column("wall_time", Float), Column("payload", JSON)),
        "reports": Table("reports", meta, Column("session_id", String(64), primary_key=True), Column("version", Integer, primary_key=True),
                         Column("created_at", DateTime), Column("body", JSON)),
        "decisions": Table("decisions", meta, Column("id", Integer, primary_key=True), Column("session_id", String(64)),
                           Column("decision", String(16)), Column("reason", String(4000)), Column("decided_by", String(64)),
                           Column("created_at", DateTime)),
        "applications": Table("applications", meta, *[Column(n, String(64)) for n in ("id", "job_id", "candidate_id", "state", "outcome",
                              "source", "external_id", "phone_key", "email_key", "session_id")], Column("job_version", Integer),
                              Column("name", String(200)), Column("score", Float), Column("resume", JSON), Column("resume_text", Text),
                              Column("parsed", JSON), Column("screening", JSON), Column("duplicates", JSON),
                              Column("created_at", DateTime), Column("updated_at", DateTime)),
        "application_events": Table("application_events", meta, Column("id", Integer, primary_key=True),
                                    Column("application_id", String(64)), Column("entry", JSON)),
        "application_contacts": Table("application_contacts", meta, Column("id", Integer, primary_key=True),
                                      Column("application_id", String(64)), Column("kind", String(16)), Column("value", String(254)),
                                      Column("updated_at", DateTime)),
        "outbox_deliveries": Table("outbox_deliveries", meta, *[Column(n, String(64)) for n in ("id", "sink", "type", "key", "state")],
                                   Column("version", Integer), Column("body", Text), Column("attempts", Integer),
                                   Column("total_attempts", Integer), Column("replays", Integer), Column("created_at", DateTime),
                                   Column("next_attempt_at", DateTime), Column("expires_at", DateTime)),
    }
    engine = create_engine(f"sqlite:///{path}")
    meta.create_all(engine)
    ids = {"candidate": "cand_old", "session": "sess_old", "application": "app_old"}
    profile = {"name": NAME, "education": "bachelor"}
    with engine.begin() as c:
        c.execute(t["candidates"].insert(), [{"id": ids["candidate"], "created_at": now, "updated_at": now, "profile": profile}])
        c.execute(t["sessions"].insert(), [{"id": ids["session"], "created_at": now, "expires_at": now, "state": "ended",
                                            "candidate": profile}])
        c.execute(t["candidate_sessions"].insert(), [{"session_id": ids["session"], "candidate_id": ids["candidate"]}])
        c.execute(t["events"].insert(), [{"session_id": ids["session"], "seq": 0, "type": "transcript.final", "media_time": 3.0,
                                          "wall_time": 1000.0, "payload": {"utterance_id": "u1", "text": ANSWER_PHRASE, "language": "zh",
                                                                           "start": 2.0, "end": 3.0, "words": [], "model": "whisper-base"}}])
        c.execute(t["reports"].insert(), [{"session_id": ids["session"], "version": 1, "created_at": now,
                                           "body": {"overall": 70.0, "evidence": [ANSWER_PHRASE]}}])
        c.execute(t["decisions"].insert(), [{"id": 1, "session_id": ids["session"], "decision": "advance", "reason": REASON,
                                             "decided_by": "hr", "created_at": now}])
        c.execute(t["applications"].insert(), [{
            "id": ids["application"], "job_id": "wealth_manager", "job_version": 1, "candidate_id": ids["candidate"],
            "state": "decided", "outcome": "advance", "source": "campus", "session_id": ids["session"], "name": NAME, "score": 81.0,
            "resume": {"filename": f"{NAME}.docx"}, "resume_text": RESUME, "parsed": {"personal": {"phone": PHONE}},
            "screening": {"quotes": [RESUME_PHRASE]}, "duplicates": [], "created_at": now, "updated_at": now}])
        c.execute(t["application_events"].insert(), [{"id": 1, "application_id": ids["application"], "entry": {
            "action": "decide", "from": "interviewed", "to": "decided", "outcome": "advance", "actor": "hr", "at": now.isoformat(),
            "reason": REASON, "details": {}}}])
        c.execute(t["application_contacts"].insert(), [{"id": 1, "application_id": ids["application"], "kind": "email", "value": EMAIL,
                                                        "updated_at": now}])
        c.execute(t["outbox_deliveries"].insert(), [{
            "id": "msg_1", "sink": "hris", "type": "report.ready", "key": ids["session"], "state": "delivered", "version": 1,
            "body": json.dumps({"type": "report.ready", "data": {"name": NAME}}), "attempts": 1, "total_attempts": 1, "replays": 0,
            "created_at": now, "next_attempt_at": now, "expires_at": now}])
    engine.dispose()
    assert leaks((path).read_bytes() + (path.with_name(path.name + "-wal").read_bytes() if path.with_name(path.name + "-wal").exists() else b""))
    return ids


def test_seal_existing_copies_an_old_plain_database_into_a_sealed_one(tmp_path: Path) -> None:
    import subprocess
    import sys

    ids = _old_plain_database(tmp_path / "old.db")
    master = os.urandom(32)
    new_url = f"sqlite:///{tmp_path / 'new.db'}"
    env = {**os.environ, "CANDOR_MASTER_KEY": master.hex()}
    done = subprocess.run([sys.executable, "-m", "server", "keys", "seal-existing", "--from", f"sqlite:///{tmp_path / 'old.db'}",
                           "--database-url", new_url], cwd=ROOT, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "copied and sealed" in done.stderr and not leaks((done.stdout + done.stderr).encode())
    new_bytes = b"".join(p.read_bytes() for p in tmp_path.glob("new.db*"))
    assert not leaks(new_bytes), leaks(new_bytes)

    store = Store(new_url, master=LocalKeyWrapper(master))
    try:
        candidate = store.get_candidate(ids["candidate"])
        assert candidate is not None and candidate.profile["name"] == NAME and candidate.sessions == (ids["session"],)
        session = store.get_session(ids["session"])
        assert session is not None and session.candidate == {"name": NAME, "education": "bachelor"}
        assert [e.payload.text for e in store.read_events(ids["session"])] == [ANSWER_PHRASE]  # type: ignore[attr-defined]
        assert store.get_report(ids["session"]).body["evidence"] == [ANSWER_PHRASE]  # type: ignore[union-attr]
        assert [d.reason for d in store.list_decisions(ids["session"])] == [REASON]
        application = store.get_application(ids["application"])
        assert application is not None and application.name == NAME and application.screening == {"quotes": [RESUME_PHRASE]}
        assert store.resume_text(ids["application"]) == RESUME
        assert store.timeline(ids["application"])[0]["reason"] == REASON
        assert store.contacts(ids["application"]) == {"email": EMAIL}
        assert store.application_for_contact("email", EMAIL) == ids["application"]
        assert [a.id for a in store.list_applications(q=NAME)[0]] == [ids["application"]]
        from sqlalchemy.orm import Session

        from sinks.outbox import BODY, DeliveryRow

        with Session(store.engine) as db:
            row = db.get(DeliveryRow, "msg_1")
            assert row is not None and row.subject == ids["session"] and row.state == "delivered"
            assert json.loads(store.vault.open(row.subject, row.body, BODY))["data"]["name"] == NAME
    finally:
        store.close()
    again = subprocess.run([sys.executable, "-m", "server", "keys", "seal-existing", "--from", f"sqlite:///{tmp_path / 'old.db'}",
                            "--database-url", new_url], cwd=ROOT, capture_output=True, text=True, env=env, timeout=120)
    assert again.returncode == 1 and "not empty" in again.stderr  # never into a database with rows


async def test_a_queued_message_of_an_erased_subject_is_never_sent_and_shows_as_failed(outboxes: Any) -> None:
    from sinks import Outbox, SinkConfig
    from tests.outbox_fixtures import FAST, until_state
    from tests.test_sinks import SECRET

    receiver = _TlsReceiver()  # nothing may reach it (and nothing could: it is not even trusted)
    try:
        sink = SinkConfig(name="hris", url=receiver.url, secret=SECRET)
        writer = Outbox(outboxes.store, [sink], **FAST)  # not started: only enqueues
        (msg_id,) = await writer.enqueue("report.ready", "sess-erased", 1, {"candidate": {"name": NAME}}, subject="cand-erased")
        assert outboxes.store.store.vault.forget("cand-erased") is True
        outbox = await outboxes.start([sink])
        await until_state(outbox, msg_id, "failed")
        assert (await outbox.get(msg_id)).last_error == "Erased"  # type: ignore[union-attr]
        assert await outbox.attempts(msg_id) == [] and receiver.received == []  # never tried
    finally:
        receiver.stop()
