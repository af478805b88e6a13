"""Issue 12: sign-in and code exchange rate limited and audited, sign-out revokes, CSRF, the pages' security headers.

A real server on loopback (no models); the failure limit's arithmetic on a
virtual clock.
"""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path
from typing import Iterator

import httpx
import pytest
import websockets

from server.auth import HR_COOKIE, FailureLimit
from tests.helpers import HR_TOKEN
from tests.test_hardening_limits import ApiServer

HR = {"Authorization": f"Bearer {HR_TOKEN}"}
WEB = Path(__file__).resolve().parent.parent / "web_client"


@pytest.fixture()
def api(tmp_path: Path) -> Iterator[ApiServer]:
    with ApiServer(tmp_path) as server:
        yield server


# -- the failure limit ---------------------------------------------------------------------


def test_ten_failures_in_fifteen_minutes_then_a_wait() -> None:
    now = [1000.0]
    limit = FailureLimit(10, 900, clock=lambda: now[0])
    keys = [("login", "address", "1.2.3.4")]
    for i in range(10):
        assert limit.retry_after(keys) is None
        limit.failed(keys)
        now[0] += 10  # one every 10 s
    wait = limit.retry_after(keys)
    assert wait is not None and 800 <= wait <= 801  # the first failure leaves the window 900 s after it
    assert limit.retry_after([("login", "address", "5.6.7.8")]) is None  # another address is not limited
    now[0] += wait
    assert limit.retry_after(keys) is None  # the oldest one is out of the window: one more try


# -- sign-in and exchange ------------------------------------------------------------------


def test_failed_sign_ins_are_limited_per_address_and_audited(api: ApiServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="candor.audit")
    with httpx.Client(base_url=api.url) as http:
        for i in range(10):
            assert http.post("/v1/hr/login", json={"token": f"guess-{i}"}).status_code == 401
        limited = http.post("/v1/hr/login", json={"token": HR_TOKEN})  # even the right token, now
        assert limited.status_code == 429, limited.text
        assert 800 < int(limited.headers["Retry-After"]) <= 901
        assert limited.json()["type"].endswith("rate-limited")
        assert http.get("/v1/sessions", headers=HR).status_code == 200  # the API's bearer token is not locked out
    audits = [r.getMessage() for r in caplog.records if r.name == "candor.audit"]
    assert len(audits) == 11 and all("hr-login" in a and "127.0.0.1" in a for a in audits)
    assert not any("guess" in a or HR_TOKEN in a for a in audits)  # tokens never logged


def test_failed_exchanges_are_limited_per_address(api: ApiServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="candor.audit")
    with httpx.Client(base_url=api.url) as http:
        for i in range(10):
            assert http.post("/v1/candidate/exchange", json={"code": f"guess-{i}"}).status_code == 404
        limited = http.post("/v1/candidate/exchange", json={"code": "another"})
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    audits = [r.getMessage() for r in caplog.records if r.name == "candor.audit"]
    assert sum("exchange" in a for a in audits) == 11 and not any("guess" in a for a in audits)


def test_signing_out_ends_the_sign_in_on_the_server(api: ApiServer) -> None:
    with httpx.Client(base_url=api.url) as http:
        assert http.post("/v1/hr/login", json={"token": HR_TOKEN}).status_code == 204
        copied = http.cookies[HR_COOKIE]
        assert http.get("/v1/sessions").status_code == 200
        assert http.post("/v1/hr/logout").status_code == 204
    with httpx.Client(base_url=api.url, cookies={HR_COOKIE: copied}) as thief:
        answer = thief.get("/v1/sessions")
        assert answer.status_code == 401, "a copy of a signed-out cookie still works"


# -- CSRF ----------------------------------------------------------------------------------


def test_cookie_requests_from_another_site_are_refused(api: ApiServer) -> None:
    with httpx.Client(base_url=api.url) as http:
        assert http.post("/v1/hr/login", json={"token": HR_TOKEN}).status_code == 204
        evil = http.post("/v1/sessions", json={}, headers={"Origin": "https://evil.example"})
        assert evil.status_code == 403 and evil.json()["type"].endswith("cross-site")
        form = http.post("/v1/sessions", data={"a": "b"}, headers={"Sec-Fetch-Site": "cross-site"})
        assert form.status_code == 403
        assert http.post("/v1/sessions", json={}, headers={"Origin": "null"}).status_code == 403
        own = http.post("/v1/sessions", json={}, headers={"Origin": api.url, "Sec-Fetch-Site": "same-origin"})
        assert own.status_code == 201, own.text
        assert http.get("/v1/sessions", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 200  # reading is not changing
        # a cross-site form cannot sign HR in either (login CSRF)
        assert http.post("/v1/hr/login", data={"token": HR_TOKEN}, headers={"Origin": "https://evil.example"}).status_code == 403
    with httpx.Client(base_url=api.url) as bearer:  # a bearer token is not sent by browsers on their own: no CSRF
        assert bearer.post("/v1/sessions", json={}, headers={**HR, "Origin": "https://evil.example"}).status_code == 201


async def test_the_event_stream_refuses_a_cookie_from_another_site(api: ApiServer) -> None:
    async with httpx.AsyncClient(base_url=api.url) as http:
        assert (await http.post("/v1/hr/login", json={"token": HR_TOKEN})).status_code == 204
        cookie = f"{HR_COOKIE}={http.cookies[HR_COOKIE]}"
        sid = (await http.post("/v1/sessions", json={}, headers=HR)).json()["id"]
    url = api.url.replace("http://", "ws://") + f"/v1/sessions/{sid}/events"
    async with websockets.connect(url, additional_headers={"Cookie": cookie}, origin="https://evil.example") as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd.code == 4401
    async with websockets.connect(url, additional_headers={"Cookie": cookie}, origin=api.url) as ws:
        first = await asyncio.wait_for(ws.recv(), 5)
        assert "session.created" in first


# -- the pages' headers --------------------------------------------------------------------


@pytest.mark.parametrize("page", ["/hr", "/interview", "/hr/dashboard"])
def test_pages_send_a_strict_content_security_policy(api: ApiServer, page: str) -> None:
    with httpx.Client(base_url=api.url) as http:
        answer = http.get(page)
    assert answer.status_code == 200
    csp = answer.headers["Content-Security-Policy"]
    directives = {d.split()[0]: d.split()[1:] for d in csp.split("; ")}
    assert directives["script-src"] == ["'self'"] and directives["style-src"] == ["'self'"]
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert "'self'" in directives["frame-ancestors"] and any("work.weixin.qq.com" in a for a in directives["frame-ancestors"])
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Referrer-Policy"] == "no-referrer"


def test_static_files_and_api_answers_say_nosniff(api: ApiServer) -> None:
    with httpx.Client(base_url=api.url) as http:
        for path in ("/static/hr.js", "/static/style.css", "/openapi.json", "/v1/sessions"):
            assert http.get(path).headers.get("X-Content-Type-Options") == "nosniff", path


@pytest.mark.parametrize("page", ["hr.html", "candidate.html"])
def test_pages_have_no_inline_script_or_style(page: str) -> None:
    html = (WEB / page).read_text()
    assert not re.search(r"\sstyle\s*=", html), "a style attribute needs 'unsafe-inline'"
    assert "<style" not in html
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag, tag
    assert not re.search(r"\son[a-z]+\s*=", html), "an inline event handler needs 'unsafe-inline'"
