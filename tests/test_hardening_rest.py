"""Issue 12, the rest of the list: no report for an interview never held, the database file 0600,
sinks over HTTPS (plain HTTP only to loopback), /metrics behind a token when set."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from db import Store
from events import Event, payload_from_dict
from sinks import SinkConfig
from tests.helpers import HR_TOKEN
from tests.test_hardening_limits import ApiServer
from tests.test_sinks import SECRET

HR = {"Authorization": f"Bearer {HR_TOKEN}"}


def test_a_report_cannot_be_rebuilt_for_an_interview_never_held(tmp_path: Path) -> None:
    with ApiServer(tmp_path) as api, httpx.Client(base_url=api.url, headers=HR) as http:
        sid = http.post("/v1/sessions", json={"job_id": "wealth_manager"}).json()["id"]
        refused = http.post(f"/v1/sessions/{sid}/report/rebuild")
        assert refused.status_code == 409, refused.text
        assert refused.json()["type"].endswith("interview-not-held")
        assert http.get(f"/v1/sessions/{sid}/report").status_code == 404  # nothing was made, nothing sent
        assert http.post(f"/v1/sessions/{sid}/decision", json={"decision": "advance"}).status_code == 409
        # once the interview has ended (here: its end in the log), the report can be built
        store = api.candor.store.store
        store.append_events([Event(session_id=sid, seq=store.last_seq(sid) + 1, media_time=0.0, wall_time=time.time(),
                                   payload=payload_from_dict("interview.ended", {"questions": 0}))])
        made = http.post(f"/v1/sessions/{sid}/report/rebuild")
        assert made.status_code == 201, made.text


def test_the_sqlite_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)
    try:
        path = tmp_path / "var" / "candor.db"
        store = Store(f"sqlite:///{path}")
        store.close()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        for extra in (path.with_name("candor.db-wal"), path.with_name("candor.db-shm")):
            if extra.exists():
                assert stat.S_IMODE(extra.stat().st_mode) & 0o077 == 0, extra
        older = tmp_path / "older.db"
        older.touch(mode=0o644)
        os.chmod(older, 0o644)
        Store(f"sqlite:///{older}").close()
        assert stat.S_IMODE(older.stat().st_mode) == 0o600  # an older world-readable file is made private
    finally:
        os.umask(old_umask)


def test_sinks_use_https_and_plain_http_only_to_loopback() -> None:
    assert SinkConfig(name="hris", url="https://hris.bank.cn/hooks", secret=SECRET)
    for local in ("http://127.0.0.1:8099/hook", "http://localhost/hook", "http://[::1]:80/hook"):
        assert SinkConfig(name="hris", url=local, secret=SECRET).url == local
    for plain in ("http://hris.bank.cn/hooks", "http://10.0.0.5/hook", "http://127.0.0.1.evil.example/hook", "ftp://x/y", "https:///nohost"):
        with pytest.raises(ValidationError):
            SinkConfig(name="hris", url=plain, secret=SECRET)


def test_metrics_need_the_token_when_one_is_set(tmp_path: Path) -> None:
    with ApiServer(tmp_path / "open") as api, httpx.Client(base_url=api.url) as http:
        assert http.get("/metrics").status_code == 200  # unset: open, as before
    with ApiServer(tmp_path / "closed", metrics_token="prom-secret-123") as api, httpx.Client(base_url=api.url) as http:
        assert http.get("/metrics").status_code == 401
        assert http.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert http.get("/metrics", headers=HR).status_code == 401  # its own token, not HR's
        answer = http.get("/metrics", headers={"Authorization": "Bearer prom-secret-123"})
        assert answer.status_code == 200 and "candor_sessions_live" in answer.text
