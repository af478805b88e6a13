"""A node killed with SIGKILL mid-answer: the candidate reconnects, another node takes the session over.

Two Candor nodes as child processes (``python -m server``) on one PostgreSQL
database and a redis-server (both started by the tests), a real HRIS sink, real models and real WebRTC. The
candidate answers on node A while HR watch from node B; node A is killed
(no shutdown: its leases and keys are left behind); once A's heartbeat has
expired the candidate's reconnect reaches node B, which rebuilds the session
from the log: the same question goes on, media time and utterance numbers
carry on, the watcher sees every event once, the report is complete and the
sink receives it once.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest
import yaml

from media.whip_client import WhipPublisher
from tests.helpers import HR_TOKEN, free_port, wait_healthy
from tests.media_fixtures import ANSWERS_ZH
from tests.redis_fixtures import flush_redis
from tests.test_sinks import SECRET, Receiver
from tests.test_whip import EventStream
from vault import new_master_key

ROOT = Path(__file__).resolve().parent.parent
HR = {"Authorization": f"Bearer {HR_TOKEN}"}
BANKS = ROOT / "jobs" / "banks"
ANSWER = ANSWERS_ZH / "wealth_manager.elderly_high_risk.strong.opus"


class Node:
    """``python -m server`` in a child process, one node of several."""

    def __init__(self, name: str, workdir: Path, env: dict[str, str]) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / f"node-{name}.log"
        self._out = self.log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server"], cwd=ROOT,
            env={**os.environ, **env, "CANDOR_PORT": str(self.port), "CANDOR_HOST": "127.0.0.1",
                 "CANDOR_NODE_ID": name, "CANDOR_PUBLIC_URL": self.url, "PYTHONUNBUFFERED": "1"},
            stdout=self._out, stderr=subprocess.STDOUT,
        )

    def text(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def wait_healthy(self, timeout: float = 180) -> None:
        wait_healthy(self.url, self.proc, self.text, timeout)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()  # reaped, or a still-running Popen warns in whichever test collects it
                self.proc.wait(timeout=10)
        self._out.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
def nodes(tmp_path: Path, redis_url: str, pg_url: str, receiver: Receiver) -> Iterator[tuple[Node, Node]]:
    flush_redis(redis_url)
    env = {
        "CANDOR_DATABASE_URL": pg_url,
        "CANDOR_REDIS_URL": redis_url,
        "CANDOR_NODE_HEARTBEAT_S": "0.5",
        "CANDOR_NODE_TTL_S": "3",
        "CANDOR_HR_TOKEN": HR_TOKEN,
        "CANDOR_SECRET_KEY": "cluster-test-secret",
        "CANDOR_MASTER_KEY": new_master_key(),
        "CANDOR_SINKS": json.dumps([{"name": "hris", "url": receiver.url, "secret": SECRET}]),
        "CANDOR_ICE_ALLOW": '["public", "private", "loopback"]',
        "CANDOR_CONSENT_NEEDS_CANDIDATE_LINK": "false",
        "CANDOR_MAX_LIVE_SESSIONS": "10",
        "CANDOR_ADMISSION_LOOP_LAG_S": "30",
        "CANDOR_ADMISSION_BACKLOG_S": "600",
        "CANDOR_WHIP_MEDIA_SILENCE_S": "120",
        "CANDOR_RECORDINGS_DIR": str(tmp_path / "recordings"),
    }
    # As an operator does before starting the nodes of a release (docs/deploy.md): migrate once, nodes never race.
    migrated = subprocess.run([sys.executable, "-m", "server", "migrate"], cwd=ROOT, env={**os.environ, **env},
                              capture_output=True, text=True, timeout=120)
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    env["CANDOR_MIGRATE"] = "off"
    a = Node("a", tmp_path, env)
    b = Node("b", tmp_path, env)
    try:
        a.wait_healthy()
        b.wait_healthy()
        yield a, b
    finally:
        a.stop()
        b.stop()


def one_question_bank(url: str) -> None:
    """The wealth manager bank's elderly-high-risk question alone, no prep time (the answer file answers it)."""
    data = yaml.safe_load((BANKS / "wealth_manager.yaml").read_text(encoding="utf-8"))
    question = next(q for q in data["bank"]["questions"] if q["id"] == "elderly_high_risk")
    question.update(prep_s=0, answer_s=180)
    bank = {"id": "wm_takeover", "job_id": "wealth_manager", "title": {"en": "One question"}, "questions": [question]}
    response = httpx.post(f"{url}/v1/banks", json=bank, headers=HR, timeout=30)
    assert response.status_code == 201, response.text


def on(url: str, link: str) -> str:
    return url + "/" + link.split("/", 3)[3]


@pytest.mark.slow
async def test_a_node_killed_mid_answer_hands_the_interview_to_another(nodes: tuple[Node, Node], receiver: Receiver) -> None:
    a, b = nodes
    one_question_bank(b.url)
    async with httpx.AsyncClient(timeout=30) as http:
        created = await http.post(f"{a.url}/v1/sessions", headers=HR, json={
            "job_id": "wealth_manager", "bank_id": "wm_takeover", "candidate": {"name": "接管测试"}})
        assert created.status_code == 201, created.text
        session = created.json()
    events_path = session["events_url"].split("/v1/", 1)[1]
    async with EventStream(f"ws://127.0.0.1:{b.port}/v1/{events_path}") as watcher:
        first = WhipPublisher(on(a.url, session["whip_url"]), session["candidate_token"], str(ANSWER), None, loop=True)
        await first.start()
        assert first.location.startswith(a.url)
        await watcher.wait_for(lambda s: bool(s.of_type("transcript.final")), 90, "a final from node a, watched on b")
        a.kill()  # mid-answer: no goodbye, node a's keys and the session's lease left in Redis
        await first.close(delete=False)
        before = list(watcher.events)
        question = before and [e for e in before if e["type"] == "question.started"][-1]["payload"]["question_id"]

        # Node a's heartbeat expires (CANDOR_NODE_TTL_S=3); then node b takes the reconnecting candidate.
        deadline = time.monotonic() + 20
        while True:
            listed = httpx.get(f"{b.url}/v1/ops/nodes", headers=HR, timeout=5).json()["nodes"]
            if [n["id"] for n in listed] == ["b"]:
                break
            assert time.monotonic() < deadline, listed
            await asyncio.sleep(0.3)
        second = WhipPublisher(on(b.url, session["whip_url"]), session["candidate_token"], str(ANSWER), None, loop=True, consent=None)
        await second.start()
        try:
            assert second.location.startswith(b.url) and second.redirects == 0
            last_before = max(e["seq"] for e in before)
            await watcher.wait_for(lambda s: any(e["seq"] > last_before for e in s.of_type("transcript.final")), 90,
                                   "a final from node b")
            second.send_control({"type": "done"})
            await watcher.wait_for(lambda s: bool(s.of_type("interview.ended")), 120, "the interview's end")
        finally:
            await second.close()
        events = list(watcher.events)

    # Every event once, in order; after the takeover, media time and utterance ids carry on.
    seqs = [e["seq"] for e in events]
    assert seqs == list(range(len(seqs))), seqs
    after = [e for e in events if e["seq"] > last_before]
    assert min(e["media_time"] for e in after if e["media_time"] is not None) >= max(
        e["media_time"] for e in before if e["media_time"] is not None)
    finals_before = [e["payload"]["utterance_id"] for e in before if e["type"] == "transcript.final"]
    finals_after = [e["payload"]["utterance_id"] for e in after if e["type"] == "transcript.final"]
    before_text = next(e["payload"]["text"] for e in before if e["type"] == "transcript.final")
    after_text = next(e["payload"]["text"] for e in after if e["type"] == "transcript.final")
    assert finals_after and min(finals_after) > max(finals_before)
    # The same question went on, and was scored once, on what was said on both nodes.
    scores = [e for e in events if e["type"] == "score.question"]
    assert [s["payload"]["question_id"] for s in scores if s["payload"]["revision"] == 0] == [question]

    # The report is complete and reached the HRIS once.
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(timeout=30) as http:
        while (report := await http.get(f"{b.url}/v1/sessions/{session['id']}/report", headers=HR)).status_code == 404:
            assert time.monotonic() < deadline, "no report"
            await asyncio.sleep(0.5)
    assert report.status_code == 200, report.text
    body = report.json()["report"]
    assert [q["question_id"] for q in body["questions"] if q.get("score") is not None] == [question], body["questions"]
    # the answer's transcript holds what was said to node a and what was said to node b
    said = "".join(part["text"] for q in body["questions"] for part in q["transcript"])
    assert before_text[:6] in said and after_text[:6] in said, (before_text, after_text, said)
    deadline = time.monotonic() + 30
    while not [r for r in receiver.received if r.body["type"] == "report.ready"]:
        assert time.monotonic() < deadline, "no report at the sink"
        await asyncio.sleep(0.3)
    await asyncio.sleep(2)  # a second copy would come now
    reports = [r for r in receiver.received if r.body["type"] == "report.ready"]
    assert len({r.webhook_id for r in reports}) == 1 and receiver.duplicates == 0, reports
