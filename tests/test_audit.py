"""The audit trail: who did what to whom, hash-chained, and a chain that names the entry someone edited.

The pure core (audit/) with plain unit tests; then the real app on a
loopback port (real HTTP, real SQLite file) recording sign-ins, views,
decisions, rule and job changes, exports and contact changes; then the
database file edited behind Candor's back, and ``verify`` (the function, the
endpoint and ``python -m server audit verify`` in a subprocess) naming the
entry that was changed or removed.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import sqlite3
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
from sqlalchemy import create_engine, text
from starlette.requests import Request

from audit import GENESIS, Entry, canonical, chain_hash, check_details, ref, seal, verify
from db import Store
from events import payload_from_dict
from runtime.models import Models
from server.audit import AuditTrail
from server.auth import HrAuth
from sinks import SinkConfig
from tests.helpers import HR_TOKEN, LiveServer, free_port, make_settings
from tests.test_reports import CANDIDATE, interview_events
from tests.test_sinks import SECRET

ROOT = Path(__file__).resolve().parent.parent
HR = {"Authorization": f"Bearer {HR_TOKEN}"}
AT = datetime(2026, 12, 5, 9, 30, tzinfo=timezone.utc)

# Someone whose name and phone must never reach the audit log.
NAME = "Zebulon Quartermaine"
PHONE = "138 7777 4242"
PHONE_DIGITS = "13877774242"
EMAIL = "zebulon.quartermaine@example.org"
RESUME = f"""\
CURRICULUM VITAE

Name: {NAME}
Mobile: +86 {PHONE}  ·  Email: {EMAIL}

EDUCATION
Master of Finance (MFin), The University of Hong Kong — 2017
Bachelor of Arts in Economics, Wuhan University — Sep 2011 – Jun 2015

EXPERIENCE
HSBC Bank (China) Company Limited
Relationship Manager, Jul 2018 – Present
• Advised clients on asset allocation and handled complaints; AFP certified.

CERTIFICATIONS
AFP; 基金从业资格

LANGUAGES
English — fluent; Mandarin — native
"""


def entry(n: int, **changes: Any) -> Entry:
    values: dict[str, Any] = dict(at=AT + timedelta(seconds=n), actor="hr", role="admin", action="resume.view",
                                  target_type="application", target_id=f"app_{n}", address="10.0.0.7", details={"n": n})
    values.update(changes)
    return Entry(**values)


def chain(n: int) -> list:
    out, prev = [], GENESIS
    for i in range(1, n + 1):
        sealed = seal(entry(i), prev, i)
        out.append(sealed)
        prev = sealed.hash
    return out


# -- the pure core ------------------------------------------------------------------------------
def test_an_entry_hash_is_sha256_over_the_previous_hash_and_the_canonical_entry() -> None:
    import hashlib

    e = entry(1, details={"b": 2, "a": "x"})
    assert canonical(e) == (
        b'{"action":"resume.view","actor":"hr","address":"10.0.0.7","at":"2026-12-05T09:30:01.000000Z",'
        b'"details":{"a":"x","b":2},"role":"admin","target_id":"app_1","target_type":"application","v":1}'
    )
    assert chain_hash(GENESIS, e) == hashlib.sha256(GENESIS.encode() + b"\n" + canonical(e)).hexdigest()
    # the same instant in another zone is the same entry
    same = entry(1, details={"a": "x", "b": 2}, at=(AT + timedelta(seconds=1)).astimezone(timezone(timedelta(hours=8))))
    assert canonical(same) == canonical(e)


def test_verify_names_the_first_entry_edited_removed_or_moved() -> None:
    good = chain(5)
    result = verify(good)
    assert result.ok and result.entries == 5 and result.head_id == 5 and result.head_hash == good[-1].hash
    assert result.message().startswith("5 entries, chain intact")

    edited = list(good)
    edited[2] = type(good[2])(3, entry(3, details={"n": 99}), good[2].prev_hash, good[2].hash)
    bad = verify(edited)
    assert not bad.ok and bad.bad_id == 3 and "edited" in (bad.reason or "") and bad.entries == 2

    removed = good[:1] + good[2:]
    bad = verify(removed)
    assert not bad.ok and bad.bad_id == 3 and "removed" in (bad.reason or "")

    # an edit with its own hash recomputed still breaks the next link
    forged = seal(entry(2, target_id="app_other"), good[0].hash, 2)
    bad = verify([good[0], forged, *good[2:]])
    assert not bad.ok and bad.bad_id == 3

    swapped = [good[0], good[2], good[1], *good[3:]]
    assert verify(swapped).bad_id == 3
    assert verify([]).ok and verify([]).head_hash == GENESIS


def test_details_hold_ids_and_counts_never_names_texts_or_scores() -> None:
    assert check_details({"job": "wealth_manager", "rows": 12, "bulk": True, "kinds": ["email", "phone"], "x": None})
    for bad in ({"name": NAME}, {"phone": PHONE}, {"reason": "strong answers, hire"}, {"score": 71.5},
                {"name": "欧阳明轩"}, {"Bad Key": 1}, {"nested": {"a": 1}}):
        with pytest.raises(ValueError):
            check_details(bad)
    with pytest.raises(ValueError):
        entry(1, target_id=NAME)
    with pytest.raises(ValueError):
        Entry(datetime(2026, 12, 5), "hr", "admin", "x", "y")  # a time without its zone
    assert ref("wealth_manager") == "wealth_manager"
    assert ref("猎聘网").startswith("sha256:") and ref("猎聘网") == ref("猎聘网")


def _request(client: str, forwarded: str | None = None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers, "client": (client, 1234), "query_string": b""})


def test_the_address_is_the_peer_unless_the_peer_is_a_trusted_proxy() -> None:
    hr = HrAuth(HR_TOKEN, "k", 60)
    direct = AuditTrail(None, hr)  # type: ignore[arg-type]  # no store: only addresses here
    assert direct.address(_request("203.0.113.9", "1.2.3.4")) == "203.0.113.9"  # nobody's X-Forwarded-For is believed
    proxied = AuditTrail(None, hr, trusted_proxies=["10.0.0.0/8"])  # type: ignore[arg-type]
    assert proxied.address(_request("10.0.0.2", "198.51.100.7")) == "198.51.100.7"
    # the client can write the left end; the nearest hop our proxies did not add is the client
    assert proxied.address(_request("10.0.0.2", "6.6.6.6, 198.51.100.7, 10.0.0.3")) == "198.51.100.7"
    assert proxied.address(_request("203.0.113.9", "198.51.100.7")) == "203.0.113.9"  # not from a trusted proxy
    assert proxied.address(_request("10.0.0.2", "not-an-ip")) == "10.0.0.2"


def test_writers_on_separate_connections_keep_one_chain(db_url: str) -> None:
    """Four stores (four engines, as four processes would have) append at once: one chain, no fork."""
    stores = [Store(db_url) for _ in range(4)]
    errors: list[BaseException] = []

    def write(store: Store, k: int) -> None:
        try:
            for i in range(30):
                store.append_audit(entry(i, target_id=f"app_{k}_{i}"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(s, k)) for k, s in enumerate(stores)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert errors == []
    result = stores[0].verify_audit()
    assert result.ok and result.entries == 120, result.message()
    for s in stores:
        s.close()


# -- the app --------------------------------------------------------------------------------------
class AuditServer(LiveServer):
    """Candor with no models but warm (applications are made on words) on a loopback port."""

    def __init__(self, tmp_path: Path, database_url: str | None = None, **settings: Any) -> None:
        self.db = tmp_path / "candor.db"  # the SQLite file when no database_url is given
        self.database_url = database_url or f"sqlite:///{self.db}"
        models = Models(vad=None, asr=None, face=None)
        models.warm = True
        super().__init__(make_settings(tmp_path, contact_key="test-contact-key", database_url=self.database_url, **settings),
                         models, load_models=False)


@pytest.fixture
def server(tmp_path: Path, db_url: str) -> Iterator[AuditServer]:
    s = AuditServer(tmp_path, db_url).start()
    yield s
    s.stop()


def audit_rows(url: str) -> list[tuple]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text("SELECT * FROM audit_log ORDER BY id"))]
    finally:
        engine.dispose()


def audit_table_text(db: Path) -> str:
    """Everything the audit table holds, as SQL text (the table's bytes as sqlite would dump them)."""
    with sqlite3.connect(db) as conn:
        return "\n".join(line for line in conn.iterdump() if "audit_log" in line)


async def _ended_interview(server: AuditServer, client: httpx.AsyncClient) -> str:
    made = await client.post("/v1/sessions", json={"job_id": "wealth_manager", "candidate": {**CANDIDATE, "name": NAME}})
    assert made.status_code == 201, made.text
    sid = made.json()["id"]

    async def drive() -> None:
        events = await server.candor.sessions.events_for(sid)
        for ty, mt, payload in interview_events("persuade_client", "elderly_high_risk"):
            events.publish(mt, payload_from_dict(ty, payload))

    await server.on_loop(drive)
    async with asyncio.timeout(10):
        while (await client.get(f"/v1/sessions/{sid}/report")).status_code == 404:
            await asyncio.sleep(0.05)
    return sid


@pytest.fixture
def server_with_hris(tmp_path: Path) -> Iterator[AuditServer]:
    """The HRIS sink points at a port nobody listens on: deliveries wait there for a replay."""
    s = AuditServer(tmp_path, sinks=[SinkConfig(name="hris", url=f"http://127.0.0.1:{free_port()}/hooks", secret=SECRET)]).start()
    yield s
    s.stop()


async def test_each_recorded_action_is_an_entry_with_ids_only(server_with_hris: AuditServer) -> None:
    server = server_with_hris
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as anon, \
            httpx.AsyncClient(base_url=server.url, headers=HR, timeout=10) as client:
        # sign-in: a failure, a success (the cookie), a sign-out
        assert (await anon.post("/v1/hr/login", json={"token": "wrong"})).status_code == 401
        assert (await anon.post("/v1/hr/login", json={"token": HR_TOKEN})).status_code == 204
        assert (await anon.post("/v1/hr/logout")).status_code == 204

        made = await client.post("/v1/applications", json={"job_id": "wealth_manager", "resume_text": RESUME})
        assert made.status_code == 201, made.text
        app_id = made.json()["id"]
        assert (await client.get(f"/v1/applications/{app_id}")).status_code == 200
        resume = await client.get(f"/v1/applications/{app_id}/resume")
        assert resume.status_code == 200 and NAME in resume.text  # HR sees the person; the trail will not
        contacts = await client.put(f"/v1/applications/{app_id}/contacts", json={"phone": "13900001111"})
        assert contacts.status_code == 200, contacts.text
        decided = await client.post(f"/v1/applications/{app_id}/decide", json={"decision": "advance", "reason": f"{NAME} was strong"})
        assert decided.status_code == 200, decided.text

        sid = await _ended_interview(server, client)
        assert (await client.get(f"/v1/sessions/{sid}/report", headers={"Accept": "text/html"})).status_code == 200
        decision = await client.post(f"/v1/sessions/{sid}/decision", json={"decision": "hold", "reason": f"call {PHONE}"})
        assert decision.status_code == 201, decision.text

        rules = await client.put("/v1/jobs/wealth_manager/automation", json={"enabled": False, "rules": []})
        assert rules.status_code == 200, rules.text
        job = (await client.get("/v1/jobs/wealth_manager")).json()["job"]
        edited = await client.put("/v1/jobs/wealth_manager", json={**job, "title": {**job["title"], "en": "Wealth Manager II"}})
        assert edited.status_code == 200, edited.text
        export = await client.get("/v1/analytics/funnel?format=csv")
        assert export.status_code == 200, export.text
        delivery = (await client.get("/v1/deliveries", params={"sink": "hris"})).json()["deliveries"][0]
        assert (await client.post(f"/v1/deliveries/{delivery['id']}/replay")).status_code == 200

        page = (await client.get("/v1/audit", params={"limit": 500})).json()
        metrics = (await client.get("/metrics")).text
    head_id, _ = server.candor.store.store.audit_head()
    assert f"candor_audit_head_id {float(head_id)}" in metrics  # the anchor Prometheus keeps: it only grows

    entries = list(reversed(page["entries"]))  # the page is newest first (its own audit.view came after it)
    seen = [(e["action"], e["actor"], e["role"], e["target_type"], e["target_id"]) for e in entries]
    expected = [
        ("hr.sign_in_failed", "anonymous", "none", "account", "hr"),
        ("hr.sign_in", "hr", "admin", "account", "hr"),
        ("hr.sign_out", "hr", "admin", "account", "hr"),  # with the cookie the sign-in set
        ("application.create", "hr", "admin", "application", app_id),
        ("application.view", "hr", "admin", "application", app_id),
        ("resume.view", "hr", "admin", "application", app_id),
        ("contacts.update", "hr", "admin", "application", app_id),
        ("application.decide", "hr", "admin", "application", app_id),
        ("report.view", "hr", "admin", "session", sid),
        ("session.decide", "hr", "admin", "session", sid),
        ("rules.update", "hr", "admin", "job", "wealth_manager"),
        ("job.update", "hr", "admin", "job", "wealth_manager"),
        ("analytics.export", "hr", "admin", "analytics", "funnel"),
        ("delivery.replay", "hr", "admin", "delivery", delivery["id"]),
    ]
    # the report was polled until it was made: one report.view per 200, the first of them before the page
    assert [s for s in seen if s[0] != "report.view"] == [s for s in expected if s[0] != "report.view"]
    assert ("report.view", "hr", "admin", "session", sid) in seen
    by_action = {e["action"]: e for e in entries}
    assert by_action["application.decide"]["details"] == {"decision": "advance", "state": "decided"}
    assert by_action["session.decide"]["details"]["decision"] == "hold"
    assert by_action["contacts.update"]["details"] == {"kinds": ["phone"]}
    assert by_action["rules.update"]["details"]["rules"] == 0
    assert by_action["delivery.replay"]["details"] == {"sink": "hris"}
    assert all(e["address"] == "127.0.0.1" for e in entries)
    assert all(e["at"].endswith("Z") for e in entries)
    assert page["head"] == {"id": page["entries"][0]["id"], "hash": page["entries"][0]["hash"]}

    # no personal data: not the name, the phone (either way written), the e-mail, nor a reason typed by HR
    dump = audit_table_text(server.db)
    assert app_id in dump and sid in dump  # the ids are there
    for secret in (NAME, "Zebulon", "Quartermaine", PHONE, PHONE_DIGITS, "13900001111", EMAIL, "was strong"):
        assert secret not in dump, secret
    assert server.candor.store.store.verify_audit().ok


async def test_the_trail_filters_pages_and_exports_csv_for_hr_only(server: AuditServer) -> None:
    store = server.candor.store.store
    for i in range(7):
        store.append_audit(entry(i, target_id=f"app_{i % 2}", actor="system" if i == 6 else "hr"))
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as anon, \
            httpx.AsyncClient(base_url=server.url, headers=HR, timeout=10) as client:
        assert (await anon.get("/v1/audit")).status_code == 401
        assert (await anon.get("/v1/audit?format=csv")).status_code == 401
        assert (await anon.get("/v1/audit/verify")).status_code == 401
        assert (await anon.get("/v1/audit")).headers["content-type"] == "application/problem+json"

        first = (await client.get("/v1/audit", params={"target_id": "app_0", "limit": 3})).json()
        assert [e["target_id"] for e in first["entries"]] == ["app_0"] * 3
        assert [e["details"]["n"] for e in first["entries"]] == [6, 4, 2]  # newest first
        rest = (await client.get("/v1/audit", params={"target_id": "app_0", "limit": 3, "cursor": first["next_cursor"]})).json()
        assert [e["details"]["n"] for e in rest["entries"]] == [0] and rest["next_cursor"] is None
        one = (await client.get("/v1/audit", params={"target_id": "app_0", "limit": 2})).json()
        two = (await client.get("/v1/audit", params={"target_id": "app_0", "limit": 2, "cursor": one["next_cursor"]})).json()
        assert [e["details"]["n"] for e in one["entries"] + two["entries"]] == [6, 4, 2, 0] and two["next_cursor"] is None
        assert [e["details"]["n"] for e in (await client.get("/v1/audit?actor=system")).json()["entries"]] == [6]
        window = {"from": "2026-12-05T09:30:02Z", "to": "2026-12-05T09:30:04Z", "action": "resume.view"}
        assert [e["details"]["n"] for e in (await client.get("/v1/audit", params=window)).json()["entries"]] == [3, 2]
        day = (await client.get("/v1/audit", params={"from": "2026-12-05", "to": "2026-12-05", "action": "resume.view"})).json()
        assert len(day["entries"]) == 7
        for bad in ({"from": "yesterday"}, {"limit": "0"}, {"cursor": "abc"}, {"target_id": NAME}, {"format": "xml"},
                    {"from": "2026-12-06", "to": "2026-12-05"}):
            answer = await client.get("/v1/audit", params=bad)
            assert answer.status_code == 422, (bad, answer.text)

        exported = await client.get("/v1/audit", params={"format": "csv", "action": "resume.view"})
        assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
        assert exported.content.startswith("\ufeff".encode("utf-8"))
        rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
        assert [int(r["id"]) for r in rows] == sorted(int(r["id"]) for r in rows)  # oldest first
        assert [r["target_id"] for r in rows] == [f"app_{i % 2}" for i in range(7)]
        assert rows[0]["details"] == '{"n":0}' and len(rows[0]["hash"]) == 64 and rows[0]["prev_hash"] == GENESIS

        verified = (await client.get("/v1/audit/verify")).json()
        assert verified["verified"] is True and verified["first_bad"] is None
        # reading the trail is itself on it
        actions = [e["action"] for e in (await client.get("/v1/audit", params={"target_type": "audit_log"})).json()["entries"]]
        assert {"audit.view", "audit.export", "audit.verify"} <= set(actions)


async def test_many_records_at_once_keep_one_chain(server: AuditServer) -> None:
    async with httpx.AsyncClient(base_url=server.url, headers=HR, timeout=30) as client:
        made = await client.post("/v1/applications", json={"job_id": "wealth_manager", "resume_text": RESUME})
        app_id = made.json()["id"]
        answers = await asyncio.gather(*(client.get(f"/v1/applications/{app_id}/resume") for _ in range(40)))
        assert all(a.status_code == 200 for a in answers)
        views = (await client.get("/v1/audit", params={"action": "resume.view", "limit": 100})).json()["entries"]
        verified = (await client.get("/v1/audit/verify")).json()
    assert len(views) == 40
    assert verified["verified"] is True, verified
    rows = audit_rows(server.database_url)
    ids, prevs, hashes = [r[0] for r in rows], [r[-2] for r in rows], [r[-1] for r in rows]
    assert prevs == [GENESIS, *hashes[:-1]] and ids == sorted(ids)  # one line, no fork


def _cli(url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "server", "audit", "verify", "--database-url", url],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("tamper", ["edit", "delete"])
async def test_a_row_edited_or_deleted_in_the_file_is_named_by_verify(tmp_path: Path, db_url: str, tamper: str,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    server = AuditServer(tmp_path, db_url).start()
    try:
        async with httpx.AsyncClient(base_url=server.url, headers=HR, timeout=10) as client:
            made = await client.post("/v1/applications", json={"job_id": "wealth_manager", "resume_text": RESUME})
            app_id = made.json()["id"]
            for _ in range(4):
                assert (await client.get(f"/v1/applications/{app_id}/resume")).status_code == 200
    finally:
        server.stop()
    intact = _cli(db_url)
    assert intact.returncode == 0, intact.stderr
    assert intact.stdout.startswith("5 entries, chain intact")

    engine = create_engine(db_url)
    with engine.begin() as conn:  # behind Candor's back
        if tamper == "edit":
            conn.execute(text("""UPDATE audit_log SET details = '{"note": "nothing happened"}' WHERE id = 3"""))
        else:
            conn.execute(text("DELETE FROM audit_log WHERE id = 3"))
    engine.dispose()
    named = 3 if tamper == "edit" else 4
    store = Store(db_url)
    result = store.verify_audit()
    store.close()
    assert not result.ok and result.bad_id == named and result.entries == 2, result
    broken = _cli(db_url)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert f"entry {named} does not verify" in broken.stderr

    # and the app says so too; at start it logs the head (the line to ship off the box as an anchor)
    caplog.set_level(logging.INFO, logger="candor.audit")
    server = AuditServer(tmp_path, db_url).start()
    try:
        async with httpx.AsyncClient(base_url=server.url, headers=HR, timeout=10) as client:
            verified = (await client.get("/v1/audit/verify")).json()
    finally:
        server.stop()
    assert verified["verified"] is False and verified["first_bad"]["id"] == named
    assert any(r.getMessage().startswith("audit head: entry 5, hash ") for r in caplog.records if r.name == "candor.audit")


def test_the_cli_without_an_audit_log_says_so(tmp_path: Path) -> None:
    sqlite3.connect(tmp_path / "empty.db").close()
    answer = _cli(f"sqlite:///{tmp_path / 'empty.db'}")
    assert answer.returncode == 2 and "no audit log" in answer.stderr


async def test_a_rule_that_invites_is_recorded_as_the_system(server: AuditServer) -> None:
    rules = {"enabled": True, "rules": [{"id": "invite_all", "on": "screened", "do": "invite(channel: email, template: invite)"}]}
    async with httpx.AsyncClient(base_url=server.url, headers=HR, timeout=10) as client:
        saved = await client.put("/v1/jobs/wealth_manager/automation", json=rules)
        assert saved.status_code == 200, saved.text
        made = await client.post("/v1/applications", json={"job_id": "wealth_manager", "resume_text": RESUME})
        app_id = made.json()["id"]
        async with asyncio.timeout(15):
            while not (found := (await client.get("/v1/audit", params={"actor": "system"})).json()["entries"]):
                await asyncio.sleep(0.1)
        state = (await client.get(f"/v1/applications/{app_id}")).json()
    assert [(e["action"], e["role"], e["target_id"], e["address"]) for e in found] == [("application.invite", "system", app_id, None)]
    assert found[0]["details"]["rule"] == "invite_all" and found[0]["details"]["session"] == state["session_id"]
