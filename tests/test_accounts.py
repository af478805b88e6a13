"""Issue 12, section 1: HR accounts. Passwords (argon2id), TOTP (RFC 6238), sign-ins kept in the database,
API tokens, failure limits per account and per address, the bootstrap token and its switch, the CLI.

A real Candor on loopback (no models); requests from other loopback
addresses (127.0.0.x) stand for other clients.
"""

from __future__ import annotations

import contextlib
import logging
import time
from datetime import timedelta
from pathlib import Path
from typing import Iterator

import httpx
import pyotp
import pytest

from db import utcnow
from server.__main__ import main as cli
from server.accounts import hash_password, totp_step, verify_password, verify_totp
from server.auth import HR_COOKIE
from tests.helpers import HR_TOKEN, make_settings
from tests.pg_fixtures import stored_bytes
from tests.test_hardening_limits import ApiServer

HR = {"Authorization": f"Bearer {HR_TOKEN}"}
PASSWORD = "correct horse battery staple"


@pytest.fixture()
def api(tmp_path: Path, db_url: str) -> Iterator[ApiServer]:
    with ApiServer(tmp_path, database_url=db_url) as server:
        yield server


def add_user(api: ApiServer, login: str, role: str = "recruiter", **extra: object) -> dict:
    made = httpx.post(f"{api.url}/v1/users", headers=HR, timeout=30,
                      json={"login": login, "display_name": login.title(), "role": role, "password": PASSWORD, **extra})
    assert made.status_code == 201, made.text
    return made.json()["user"]


@contextlib.contextmanager
def sign_in(api: ApiServer, login: str, password: str = PASSWORD, **extra: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api.url, timeout=30) as http:
        answer = http.post("/v1/hr/login", json={"login": login, "password": password, **extra})
        assert answer.status_code == 204, answer.text
        yield http


def from_address(api: ApiServer, host: str) -> httpx.Client:
    """A client whose requests come from another loopback address (another machine, as the server sees it)."""
    return httpx.Client(base_url=api.url, transport=httpx.HTTPTransport(local_address=host), timeout=30)


# -- the pure parts ------------------------------------------------------------------------------


def test_passwords_are_argon2id_hashes_that_verify_only_the_password() -> None:
    stored = hash_password(PASSWORD)
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert verify_password(stored, PASSWORD)
    assert not verify_password(stored, PASSWORD + " ")
    assert not verify_password(None, PASSWORD)  # no password set: nothing matches
    assert not verify_password("not a hash", PASSWORD)
    assert hash_password(PASSWORD) != stored  # salted


def test_totp_takes_pyotps_code_at_that_time_and_one_step_either_side() -> None:
    secret = pyotp.random_base32()
    at = 1_765_000_000.0
    totp = pyotp.TOTP(secret)
    assert verify_totp(secret, totp.at(at), clock=lambda: at)
    assert verify_totp(secret, totp.at(at - 30), clock=lambda: at)  # the step before (clock drift)
    assert not verify_totp(secret, totp.at(at - 90), clock=lambda: at)  # three steps old
    assert not verify_totp(secret, "12345", clock=lambda: at) and not verify_totp(secret, None, clock=lambda: at)
    assert not verify_totp(None, totp.at(at), clock=lambda: at)
    assert totp_step(secret, totp.at(at), clock=lambda: at) == int(at) // 30


# -- signing in ------------------------------------------------------------------------------------


def test_a_user_signs_in_with_login_and_password_and_is_who_the_server_says(api: ApiServer) -> None:
    user = add_user(api, "wang.li", "recruiter", job_ids=["wealth_manager"])
    typo = httpx.post(f"{api.url}/v1/users", headers=HR, json={"login": "x.y", "display_name": "X", "role": "recruiter",
                                                               "job_ids": ["wealth_manger"]})
    assert typo.status_code == 422 and "wealth_manger" in typo.json()["detail"]
    with sign_in(api, "Wang.Li") as http:  # logins are case-insensitive
        me = http.get("/v1/me").json()
        assert me["user_id"] == user["id"] and me["role"] == "recruiter" and me["job_ids"] == ["wealth_manager"]
        assert "applications.read" in me["permissions"] and "users.admin" not in me["permissions"]
        assert http.get("/v1/users").status_code == 403
    with httpx.Client(base_url=api.url) as http:
        wrong = http.post("/v1/hr/login", json={"login": "wang.li", "password": "not the password"})
        assert wrong.status_code == 401
        unknown = http.post("/v1/hr/login", json={"login": "nobody", "password": PASSWORD})
        assert unknown.status_code == 401 and unknown.json()["detail"] == wrong.json()["detail"]  # no hint which was wrong
    audit = httpx.get(f"{api.url}/v1/audit", params={"action": "hr.sign_in"}, headers=HR).json()["entries"]
    assert any(e["actor"] == user["id"] and e["role"] == "recruiter" for e in audit)


def test_once_enrolled_a_sign_in_needs_the_totp_code(api: ApiServer, caplog: pytest.LogCaptureFixture, tmp_path: Path,
                                                     db_url: str) -> None:
    caplog.set_level(logging.DEBUG)
    add_user(api, "zhao.min", "reviewer")
    with sign_in(api, "zhao.min") as http:
        started = http.post("/v1/me/totp")
        assert started.status_code == 200
        secret = started.json()["secret"]
        assert started.json()["otpauth_uri"].startswith("otpauth://totp/")
        assert http.post("/v1/me/totp/confirm", json={"code": "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"}).status_code == 422
        confirmed_with = pyotp.TOTP(secret).now()
        assert http.post("/v1/me/totp/confirm", json={"code": confirmed_with}).status_code == 204
        assert http.get("/v1/me").json()["totp_enabled"] is True
    # The second factor's secret is sealed at rest: a copy of the database does not hold it.
    stored = stored_bytes(db_url, tmp_path)
    assert stored and secret.encode() not in stored
    with httpx.Client(base_url=api.url) as http:
        asked = http.post("/v1/hr/login", json={"login": "zhao.min", "password": PASSWORD})
        assert asked.status_code == 401 and asked.json()["type"].endswith("totp-required")
        wrong = http.post("/v1/hr/login", json={"login": "zhao.min", "password": PASSWORD, "totp": "12345x"})
        assert wrong.status_code == 401 and wrong.json()["type"].endswith("totp-invalid")
        assert http.get("/v1/me").status_code == 401
        replayed = http.post("/v1/hr/login", json={"login": "zhao.min", "password": PASSWORD, "totp": confirmed_with})
        assert replayed.status_code == 401 and replayed.json()["type"].endswith("totp-invalid")  # a code is taken once
        next_code = pyotp.TOTP(secret).at(time.time() + 30)  # the next step's (a phone's clock a little ahead)
        ok = http.post("/v1/hr/login", json={"login": "zhao.min", "password": PASSWORD, "totp": next_code})
        assert ok.status_code == 204 and http.get("/v1/me").json()["role"] == "reviewer"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert secret not in logged and PASSWORD not in logged


def test_failures_for_one_account_from_many_addresses_lock_that_account(api: ApiServer) -> None:
    add_user(api, "chen.jie")
    add_user(api, "sun.yu")
    for i in range(10):
        with from_address(api, f"127.0.0.{i + 2}") as http:
            assert http.post("/v1/hr/login", json={"login": "chen.jie", "password": f"guess-{i}"}).status_code == 401
    with from_address(api, "127.0.0.20") as http:
        locked = http.post("/v1/hr/login", json={"login": "chen.jie", "password": PASSWORD})  # even the right password
        assert locked.status_code == 429 and 800 < int(locked.headers["Retry-After"]) <= 901
        assert http.post("/v1/hr/login", json={"login": "sun.yu", "password": PASSWORD}).status_code == 204  # others are not
    failed = httpx.get(f"{api.url}/v1/audit", params={"action": "hr.sign_in_failed"}, headers=HR).json()["entries"]
    assert len(failed) == 11 and {e["details"]["status"] for e in failed} == {401, 429}


def test_failures_from_one_address_over_many_accounts_lock_that_address(api: ApiServer) -> None:
    add_user(api, "li.na")
    with from_address(api, "127.0.0.3") as attacker:
        for i in range(10):
            assert attacker.post("/v1/hr/login", json={"login": f"hunter{i}pw", "password": "guess"}).status_code == 401
        locked = attacker.post("/v1/hr/login", json={"login": "li.na", "password": PASSWORD})
        assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    with from_address(api, "127.0.0.4") as colleague:
        assert colleague.post("/v1/hr/login", json={"login": "li.na", "password": PASSWORD}).status_code == 204
    failed = httpx.get(f"{api.url}/v1/audit", params={"action": "hr.sign_in_failed"}, headers=HR).json()["entries"]
    # a login that is no one's is "unknown" in the trail: people type passwords into the login field
    assert len(failed) == 11 and {e["target_id"] for e in failed} == {"unknown", api.candor.store.store.user_by_login("li.na").id}
    assert not any("hunter" in str(e) for e in failed)


def test_signing_out_ends_that_sign_in_everywhere_and_a_disabled_user_is_out(api: ApiServer) -> None:
    user = add_user(api, "he.ping")
    with sign_in(api, "he.ping") as http:
        earlier = http.cookies[HR_COOKIE]
        assert http.post("/v1/hr/login", json={"login": "he.ping", "password": PASSWORD}).status_code == 204
        copied = http.cookies[HR_COOKIE]
        assert copied != earlier
        with httpx.Client(base_url=api.url, cookies={HR_COOKIE: earlier}) as old:
            assert old.get("/v1/me").status_code == 401  # signing in again ends the browser's earlier sign-in
        assert http.post("/v1/hr/logout").status_code == 204
    with httpx.Client(base_url=api.url, cookies={HR_COOKIE: copied}) as thief:
        assert thief.get("/v1/me").status_code == 401
    with sign_in(api, "he.ping") as http:
        token = http.post("/v1/me/tokens", json={"name": "ci"}).json()["token"]
        assert httpx.patch(f"{api.url}/v1/users/{user['id']}", json={"disabled": True}, headers=HR).json()["disabled"] is True
        assert http.get("/v1/me").status_code == 401  # the sign-in ended
    assert httpx.get(f"{api.url}/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401  # the token refuses
    assert httpx.post(f"{api.url}/v1/hr/login", json={"login": "he.ping", "password": PASSWORD}).status_code == 401


def test_sign_ins_survive_a_restart(tmp_path: Path, db_url: str) -> None:
    with ApiServer(tmp_path, database_url=db_url) as first:
        add_user(first, "qian.hao")
        with sign_in(first, "qian.hao") as http:
            cookie = http.cookies[HR_COOKIE]
    with ApiServer(tmp_path, database_url=db_url) as second:  # a new process on the same database (another node, too)
        with httpx.Client(base_url=second.url, cookies={HR_COOKIE: cookie}) as http:
            me = http.get("/v1/me")
            assert me.status_code == 200 and me.json()["login"] == "qian.hao"


# -- API tokens ---------------------------------------------------------------------------------------


def test_api_tokens_are_shown_once_scoped_revocable_and_expire(api: ApiServer) -> None:
    user = add_user(api, "zhou.yan", "recruiter", job_ids=["wealth_manager"])
    with sign_in(api, "zhou.yan") as http:
        made = http.post("/v1/me/tokens", json={"name": "ats sync", "scopes": ["jobs.read"], "expires_in_days": 30})
        assert made.status_code == 201, made.text
        token, token_id = made.json()["token"], made.json()["id"]
        listed = http.get("/v1/me/tokens").json()["tokens"]
        assert [t["id"] for t in listed] == [token_id] and "token" not in listed[0]  # the value is never shown again
        too_much = http.post("/v1/me/tokens", json={"name": "x", "scopes": ["users.admin"]})
        assert too_much.status_code == 422  # not beyond the role
    bearer = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{api.url}/v1/jobs", headers=bearer).status_code == 200
    assert httpx.get(f"{api.url}/v1/applications", headers=bearer).status_code == 403  # outside its scopes
    assert httpx.get(f"{api.url}/v1/me/tokens", headers=bearer).json()["tokens"][0]["last_used_at"] is not None
    assert httpx.delete(f"{api.url}/v1/users/{user['id']}/tokens/{token_id}", headers=HR).status_code == 204
    assert httpx.get(f"{api.url}/v1/jobs", headers=bearer).status_code == 401  # revoked
    store = api.candor.store.store
    store.create_api_token(user["id"], "cnd_expired-token-value", "old", (), utcnow() - timedelta(seconds=1))
    assert httpx.get(f"{api.url}/v1/jobs", headers={"Authorization": "Bearer cnd_expired-token-value"}).status_code == 401
    assert httpx.get(f"{api.url}/v1/jobs", headers={"Authorization": "Bearer cnd_never-made"}).status_code == 401
    actions = {e["action"] for e in httpx.get(f"{api.url}/v1/audit", headers=HR).json()["entries"]}
    assert {"user.create", "token.create", "token.revoke", "hr.sign_in"} <= actions


# -- the bootstrap admin ----------------------------------------------------------------------------------


def test_the_hr_token_is_the_bootstrap_admin_until_turned_off(tmp_path: Path, db_url: str) -> None:
    with ApiServer(tmp_path, database_url=db_url) as api:
        assert httpx.get(f"{api.url}/v1/me", headers=HR).json() | {"permissions": []} == {
            "user_id": "hr", "login": "hr", "role": "admin", "permissions": [], "job_ids": None, "via": "bootstrap-token",
            "wecom_sso": False}
        with httpx.Client(base_url=api.url) as http:
            assert http.post("/v1/hr/login", json={"token": HR_TOKEN}).status_code == 204
            assert http.get("/v1/users").status_code == 200
            bootstrap_cookie = http.cookies[HR_COOKIE]
        add_user(api, "admin.wu", "admin")
    with ApiServer(tmp_path, database_url=db_url, hr_token_enabled=False) as api:
        assert httpx.get(f"{api.url}/v1/me", headers=HR).status_code == 401
        assert httpx.post(f"{api.url}/v1/hr/login", json={"token": HR_TOKEN}).status_code == 401
        with httpx.Client(base_url=api.url, cookies={HR_COOKIE: bootstrap_cookie}) as old:
            assert old.get("/v1/me").status_code == 401  # its sign-ins end with it
        with sign_in(api, "admin.wu") as http:
            assert http.get("/v1/users").status_code == 200


def test_the_cli_adds_a_user_with_a_one_time_password(tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    settings = make_settings(tmp_path, database_url=db_url)
    assert cli(["users", "create", "--login", "ops.admin", "--role", "admin", "--database-url", settings.database_url]) == 0
    printed = capsys.readouterr().out
    password = printed.split("one-time password ")[1].split()[0]
    assert cli(["users", "create", "--login", "ops.admin", "--role", "admin", "--database-url", settings.database_url]) == 1
    with ApiServer(tmp_path, database_url=db_url) as api:
        with sign_in(api, "ops.admin", password) as http:
            assert http.get("/v1/me").json()["role"] == "admin"
            changed = http.post("/v1/me/password", json={"current_password": password, "new_password": PASSWORD})
            assert changed.status_code == 204
            assert http.get("/v1/me").status_code == 401  # a new password ends the sign-ins
        with sign_in(api, "ops.admin"):
            pass


# -- the HR page ------------------------------------------------------------------------------------------


@pytest.mark.browser
async def test_the_hr_page_signs_in_with_password_and_code_and_shows_only_the_roles_views(api: ApiServer) -> None:
    from tests.test_browser_e2e import CHROMIUM, SHOTS, PageLog, playwright_api

    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    add_user(api, "admin.wu", "admin")
    add_user(api, "zhao.min", "reviewer", job_ids=["wealth_manager"])
    secret = pyotp.random_base32()
    store = api.candor.store.store
    store.update_user(store.user_by_login("zhao.min").id, totp_secret=secret, totp_enabled=True)
    shots = SHOTS / "accounts"
    shots.mkdir(parents=True, exist_ok=True)
    expect = playwright_api.expect
    log = PageLog("hr")
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            page = await (await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")).new_page()
            log.attach(page)
            await page.goto(f"{api.url}/hr")
            await expect(page.locator("#signin")).to_be_visible()
            await expect(page.locator("#signin-wecom")).to_be_hidden()  # WeCom is not configured here
            await page.locator("#signin-login").fill("zhao.min")
            await page.locator("#signin-password").fill(PASSWORD)
            await page.get_by_role("button", name="登录").click()
            await expect(page.locator("#signin-totp")).to_be_visible()  # the password was right: now the code
            await page.screenshot(path=str(shots / "signin-code.png"))
            await page.locator("#signin-totp").fill(pyotp.TOTP(secret).now())
            await page.get_by_role("button", name="登录").click()
            # a reviewer has no jobs board (applications): the sessions, and no way to make one
            await expect(page.locator("#list-view")).to_be_visible()
            await expect(page.locator("#nav-jobs")).to_be_hidden()
            await expect(page.locator("#nav-users")).to_be_hidden()
            await expect(page.locator("#new-session")).to_be_hidden()
            await expect(page.locator("#me-badge")).to_contain_text("面试评审")
            await page.locator("#logout").click()
            await expect(page.locator("#signin")).to_be_visible()
            await page.locator("#signin-login").fill("admin.wu")
            await page.locator("#signin-password").fill(PASSWORD)
            await page.get_by_role("button", name="登录").click()
            await expect(page.locator("#nav-users")).to_be_visible()
            await page.locator("#nav-users").click()
            await expect(page.locator('#users-body tr[data-user]')).to_have_count(2)
            await page.locator("#user-login").fill("li.na")
            await page.locator("#user-name").fill("李娜")
            await page.locator("#user-role").select_option("recruiter")
            await page.locator("#user-jobs").fill("wealth_manager, credit_analyst")
            await page.locator("#user-submit").click()
            await expect(page.locator("#user-password")).to_contain_text("li.na")
            await expect(page.locator('#users-body tr[data-user]')).to_have_count(3)
            await page.screenshot(path=str(shots / "users.png"), full_page=True)
            one_time = (await page.locator("#user-password").text_content()).split("：")[1].split("（")[0].strip()
        finally:
            await browser.close()
    with sign_in(api, "li.na", one_time) as http:
        me = http.get("/v1/me").json()
        assert me["role"] == "recruiter" and me["job_ids"] == ["credit_analyst", "wealth_manager"]
    assert log.errors == [], log.dump()
