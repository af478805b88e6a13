"""kill -9 of the server mid-action and mid-send: nothing lost, nothing sent twice to a person.

Candor runs as a child process (the real app, its real outbox and automation
worker, e-mail through a real SMTP server on loopback, a SQLite file); the
test kills it with SIGKILL, with no chance to clean up, at the two places
where a crash could lose or double a message, starts it again on the same
database, and reads what the candidate's mailbox got.

1. After the rule's invite moved the application (the session is made) and
   before the action's message was enqueued: the restarted worker takes the
   action again once its lease ran out, finds the application invited, reuses
   its link and sends one e-mail.
2. While the SMTP server is taking the e-mail: the restarted outbox sends it
   again (at least once); both copies carry the one ``Message-ID`` of that
   message, so the candidate's mail client shows it once.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from db.automation import ActionRow
from sinks.outbox import DeliveryRow
from tests.helpers import HR_TOKEN, free_port, wait_healthy
from tests.smtp_server import SmtpServer
from tests.test_screening import PEOPLE, RESUME_ZH

ROOT = Path(__file__).resolve().parents[1]
HR = {"Authorization": f"Bearer {HR_TOKEN}"}
RESUME = RESUME_ZH.format(**PEOPLE[0])  # candidate@example.com
RULES = {"enabled": True, "rules": [{"id": "invite_all", "on": "screened", "do": "invite(channel: email)"}]}

CHILD = r"""
import asyncio, os
import uvicorn
from runtime.models import Models
from server.app import create_app
from server.settings import Settings

models = Models(vad=None, asr=None, face=None, encoder=None)  # screening on words: this test is about crashes
models.warm = True
app = create_app(Settings(), models=models, load_models=False)
ctx = app.state.candor
ctx.automation.lease_s, ctx.automation.poll_interval_s = 2.0, 0.1
ctx.outbox.lease_s, ctx.outbox.poll_interval_s = 1.0, 0.1
if os.environ.get("TEST_STALL_AFTER_INVITE"):
    invite = ctx.automation.inviter

    async def stalled(record, extra):
        moved = await invite(record, extra)
        print("INVITED", moved.id, flush=True)
        await asyncio.sleep(600)  # killed here: invited, nothing enqueued
        return moved

    ctx.automation.inviter = stalled
print("READY", flush=True)
uvicorn.run(app, host="127.0.0.1", port=int(os.environ["CANDOR_PORT"]), log_level="warning")
"""


class Child:
    def __init__(self, workdir: Path, smtp: SmtpServer, **extra: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / f"child-{self.port}.log"
        env = {
            **os.environ,
            "CANDOR_PORT": str(self.port),
            "CANDOR_PUBLIC_URL": self.url,
            "CANDOR_DATABASE_URL": f"sqlite:///{workdir}/candor.db",
            "CANDOR_HR_TOKEN": HR_TOKEN,
            "CANDOR_CONTACT_KEY": "test-contact-key",
            "CANDOR_SMTP_URL": smtp.url() + "?timeout=3",
            "CANDOR_MAIL_FROM": "示例银行招聘 <hr@bank.example.cn>",
            "CANDOR_ORG_NAME": "示例银行",
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
            **extra,
        }
        self.out = self.log.open("wb")
        self.proc = subprocess.Popen([sys.executable, "-c", CHILD], cwd=workdir, env=env, stdout=self.out, stderr=subprocess.STDOUT)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_healthy(self, timeout: float = 60) -> None:
        wait_healthy(self.url, self.proc, self.text, timeout)

    def kill(self) -> None:
        self.proc.kill()  # SIGKILL: no lifespan shutdown, leases left behind
        self.proc.wait(timeout=10)
        assert self.proc.returncode == -9

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.out.close()


def until(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture()
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


def _rows(db: Path, row: Any) -> list[Any]:
    engine = create_engine(f"sqlite:///{db}")
    try:
        with Session(engine) as s:
            return list(s.scalars(select(row)))
    finally:
        engine.dispose()


def _apply(child: Child) -> str:
    with httpx.Client(base_url=child.url, headers=HR, timeout=30) as c:
        assert c.put("/v1/jobs/wealth_manager/automation", json=RULES).status_code == 200
        made = c.post("/v1/applications", json={"job_id": "wealth_manager", "resume_text": RESUME})
        assert made.status_code == 201, made.text
        return made.json()["id"]


def _get(child: Child, path: str) -> Any:
    answer = httpx.get(child.url + path, headers=HR, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_kill_9_between_the_invite_and_its_message(tmp_path: Path, smtp: SmtpServer) -> None:
    first = Child(tmp_path, smtp, TEST_STALL_AFTER_INVITE="1")
    try:
        first.wait_healthy()
        app_id = _apply(first)
        until(lambda: "INVITED" in first.text(), 30, "the rule's invite")
        invited = _get(first, f"/v1/applications/{app_id}")
        assert invited["state"] == "invited"
        first.kill()
    finally:
        first.stop()
    (action,) = _rows(tmp_path / "candor.db", ActionRow)
    assert action.state == "scheduled" and action.lease_owner  # the dead worker's lease
    assert not _rows(tmp_path / "candor.db", DeliveryRow) and not smtp.messages

    second = Child(tmp_path, smtp)
    try:
        second.wait_healthy()
        until(lambda: len(smtp.messages) >= 1, 30, "the invite e-mail after the restart")
        time.sleep(3)  # the lease of the first worker is long gone: nothing else comes
        assert len(smtp.messages) == 1
        mail = smtp.messages[0]
        assert mail["To"] == "candidate@example.com"
        body = mail.get_body(preferencelist=("plain",)).get_content()
        after = _get(second, f"/v1/applications/{app_id}")
        assert after["session_id"] == invited["session_id"]  # the invite was not made twice
        assert after["invite_url"] in body
        timeline = _get(second, f"/v1/applications/{app_id}/timeline")["entries"]
        assert [e["action"] for e in timeline].count("invite") == 1
        assert [e["action"] for e in timeline].count("message_out") == 1
        (action,) = _get(second, f"/v1/applications/{app_id}/actions")["actions"]
        assert action["state"] == "done" and action["deliveries"][0]["state"] == "delivered"
    finally:
        second.stop()


def test_kill_9_while_the_mail_server_takes_the_message(tmp_path: Path, smtp: SmtpServer) -> None:
    smtp.delay_s = 4.0  # the server takes its time over DATA: the kill lands in the middle
    first = Child(tmp_path, smtp)
    try:
        first.wait_healthy()
        app_id = _apply(first)

        def sending() -> bool:
            rows = _rows(tmp_path / "candor.db", DeliveryRow)
            return bool(rows) and rows[0].lease_owner is not None and rows[0].state == "pending"

        until(sending, 30, "the outbox to claim the e-mail")
        time.sleep(0.5)
        first.kill()
    finally:
        first.stop()
    smtp.delay_s = 0.0

    second = Child(tmp_path, smtp)
    try:
        second.wait_healthy()
        (action,) = _get(second, f"/v1/applications/{app_id}/actions")["actions"]
        assert action["state"] == "done"  # the action finished before the kill: it is not run again
        until(lambda: _get(second, f"/v1/applications/{app_id}/actions")["actions"][0]["deliveries"][0]["state"] == "delivered",
              30, "the e-mail delivered after the restart")
        time.sleep(4.5)  # the first copy, if the server kept it, has landed by now
        copies = list(smtp.messages)
        assert 1 <= len(copies) <= 2
        assert len({m["Message-ID"] for m in copies}) == 1  # one message, however many copies: shown once
        delivery = _get(second, f"/v1/applications/{app_id}/actions")["actions"][0]["deliveries"][0]
        outcomes = [a["outcome"] for a in delivery["attempts_list"]]
        assert outcomes[0] == "lost" and outcomes[-1] == "delivered", outcomes  # the killed attempt is on record
        timeline = _get(second, f"/v1/applications/{app_id}/timeline")["entries"]
        assert [e["action"] for e in timeline].count("message_out") == 1
    finally:
        second.stop()
