"""Issue 12, what an attacker tried: bodies limited before they are read, deep JSON, one stall steering admission.

A real Candor (no models: none of this needs them) on a loopback port behind
uvicorn, spoken to over real sockets, because the attacks are about what a
real server does with bytes on the wire.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from server.admission import Admission, Load, LoopLagMonitor
from server.routes._common import json_depth, loads
from server.problems import Problem
from tests.helpers import HR_TOKEN, LiveServer, make_settings

HR = {"Authorization": f"Bearer {HR_TOKEN}"}


class ApiServer(LiveServer):
    """Candor without models on a free loopback port (tests/helpers.py's LiveServer); a context manager."""

    def __init__(self, tmp_path: Path, **overrides: object) -> None:
        super().__init__(make_settings(tmp_path, **overrides), None, load_models=False)


@pytest.fixture()
def api(tmp_path: Path) -> Iterator[ApiServer]:
    with ApiServer(tmp_path) as server:
        yield server


def raw_request(url: str, head: str, body: bytes = b"", *, read_timeout: float = 10) -> tuple[int, bytes, float]:
    """Send ``head`` (request line + headers) and as much of ``body`` as the server takes; its status, reply and seconds."""
    host, port = url.removeprefix("http://").split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=read_timeout) as sock:
        sock.sendall(head.encode() + b"\r\n")
        try:
            for i in range(0, len(body), 1 << 16):
                sock.sendall(body[i : i + (1 << 16)])
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed without reading the rest: the point
        reply = b""
        try:
            while b"\r\n\r\n" not in reply or len(reply) < reply.index(b"\r\n\r\n") + 4 + _length(reply):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                reply += chunk
        except ConnectionResetError:
            pass
    status = int(reply.split(b" ", 2)[1]) if reply else 0
    return status, reply, time.monotonic() - started


def _length(reply: bytes) -> int:
    head = reply.split(b"\r\n\r\n", 1)[0].decode("latin-1").lower()
    for line in head.split("\r\n"):
        if line.startswith("content-length:"):
            return int(line.split(":", 1)[1])
    return 0


# -- body limits -------------------------------------------------------------------


def test_a_50_mb_exchange_is_refused_413_before_it_is_read(api: ApiServer) -> None:
    body = b'{"code": "' + b"x" * (50 * 2**20) + b'"}'
    head = f"POST /v1/candidate/exchange HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    status, reply, seconds = raw_request(api.url, head, body)
    assert status == 413, reply[:300]
    problem = json.loads(reply.split(b"\r\n\r\n", 1)[1])
    assert problem["status"] == 413 and problem["max_bytes"] == api.settings.max_body_bytes
    assert api.candor.loop_lag.p99() < 0.2  # nothing was parsed on the loop


def test_a_chunked_body_without_a_length_stops_at_the_limit(api: ApiServer) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"code": "'
        for _ in range(40):
            yield b"x" * 2**16  # 2.5 MB in all, over the 1 MB limit
        yield b'"}'

    with httpx.Client(base_url=api.url) as http:
        response = http.post("/v1/candidate/exchange", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/problem+json"


def test_a_malformed_content_length_is_400(api: ApiServer) -> None:
    status, reply, _ = raw_request(api.url, "POST /v1/hr/login HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\n")
    assert status == 400, reply[:300]


def test_uploads_keep_their_own_larger_limits(api: ApiServer) -> None:
    # 2 MB of JSON lines is over the JSON limit but within a batch's: the batch route reads it
    lines = b"\n".join(json.dumps({"resume_text": "x" * 1000, "external_id": str(i)}).encode() for i in range(2000))
    assert len(lines) > api.settings.max_body_bytes
    with httpx.Client(base_url=api.url, headers=HR) as http:
        response = http.post("/v1/applications/batch?job_id=wealth_manager", content=lines, headers={"Content-Type": "application/x-ndjson"})
    assert response.status_code != 413, response.text


# -- JSON ------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [33, 5000, 400_000])
def test_deeply_nested_json_is_a_400_not_a_crash(api: ApiServer, depth: int) -> None:
    body = "[" * depth + "]" * depth
    with httpx.Client(base_url=api.url, headers=HR) as http:
        for path in ("/v1/candidate/exchange", "/v1/hr/login", "/v1/sessions", "/v1/jobs"):
            response = http.post(path, content=body, headers={"Content-Type": "application/json"})
            assert response.status_code == 400, (path, response.status_code, response.text[:200])
            assert response.json()["type"].endswith("json-too-deep")


def test_json_depth_and_loads() -> None:
    assert json_depth(1) == 0 and json_depth([]) == 1 and json_depth({"a": [{"b": 1}]}) == 3
    assert loads('{"a": [1, {"b": [2]}]}', 4) == {"a": [1, {"b": [2]}]}
    with pytest.raises(Problem) as deep:
        loads('{"a": [1, {"b": [2]}]}', 3)
    assert deep.value.status == 400
    with pytest.raises(Problem) as bad:
        loads("{nope", 3)
    assert bad.value.status == 400 and bad.value.slug == "malformed-json"


def test_hr_login_with_a_number_for_a_token_is_401(api: ApiServer) -> None:
    with httpx.Client(base_url=api.url) as http:
        for body in ({"token": 123}, {"token": None}, {"token": ["a"]}, [1, 2], "token", {"token": {"$ne": 1}}):
            response = http.post("/v1/hr/login", json=body)
            assert response.status_code == 401, (body, response.status_code, response.text)


def test_a_large_json_body_is_parsed_off_the_loop(api: ApiServer) -> None:
    """900 KB of JSON arrays: parsed in a worker, the loop's lag stays low; answered 4xx."""
    body = json.dumps({"code": [[i] * 20 for i in range(8000)]})
    assert 64 * 1024 < len(body) < api.settings.max_body_bytes
    with httpx.Client(base_url=api.url) as http:
        for _ in range(5):
            assert http.post("/v1/candidate/exchange", content=body, headers={"Content-Type": "application/json"}).status_code == 422


# -- admission ---------------------------------------------------------------------


def test_one_stall_does_not_refuse_everyone() -> None:
    """One late wake of the loop (a stall any caller might cause) is not overload; lag wake after wake is."""
    admission = Admission(max_live_sessions=10, loop_lag_s=0.25)
    monitor = LoopLagMonitor(interval_s=0.1, window_s=10)
    for i in range(90):
        monitor.add(i * 0.1, 0.002)
    monitor.add(9.0, 1.2)  # one stall of 1.2 s
    for i in range(92, 100):
        monitor.add(i * 0.1, 0.002)
    assert monitor.p99() == 1.2  # the plain p99 sees it...
    spike = Load(live_sessions=0, loop_lag_p99_s=monitor.p99(sustained=3), audio_backlog_s=0)
    assert admission.check(spike) is None  # ...admission does not refuse for it
    for t in (9.95, 9.97, 9.99):
        monitor.add(t, 0.4)  # a loop that lags wake after wake
    sustained = Load(live_sessions=0, loop_lag_p99_s=monitor.p99(sustained=3), audio_backlog_s=0)
    refusal = admission.check(sustained)
    assert refusal is not None and "overloaded" in refusal.reason


async def test_a_real_stall_then_calm_is_admitted() -> None:
    monitor = LoopLagMonitor(interval_s=0.02)
    monitor.start()
    await asyncio.sleep(0.2)
    time.sleep(0.5)  # one blocking call on the loop
    await asyncio.sleep(0.3)
    await monitor.stop()
    assert monitor.p99() >= 0.4
    assert monitor.p99(sustained=3) < 0.1
