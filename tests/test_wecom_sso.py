"""Issue 12, section 1: HR sign in from WeCom without a password (OAuth2 网页授权 -> auth/getuserinfo -> userid -> user).

Candor on loopback talks to the local WeCom (tests/wecom_fake.py): the
browser is sent to its authorize page, comes back with a code and the
state, and Candor turns the code into the member's userid.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from channels.settings import WeComConfig
from server.auth import HR_COOKIE
from server.routes.hr import WECOM_STATE_COOKIE
from tests.helpers import HR_TOKEN
from tests.test_hardening_limits import ApiServer
from tests.wecom_fake import AGENT_ID, CORP_ID, SECRET, FakeWeCom

HR = {"Authorization": f"Bearer {HR_TOKEN}"}


@pytest.fixture()
def wecom() -> Iterator[FakeWeCom]:
    fake = FakeWeCom().start()
    yield fake
    fake.stop()


@pytest.fixture()
def api(tmp_path: Path, wecom: FakeWeCom) -> Iterator[ApiServer]:
    config = WeComConfig(corp_id=CORP_ID, agent_id=AGENT_ID, secret=SECRET, api_base=wecom.url)
    with ApiServer(tmp_path, wecom=config, wecom_oauth_url=f"{wecom.url}/connect/oauth2/authorize") as server:
        yield server


def add_user(api: ApiServer, login: str, wecom_userid: str, role: str = "recruiter") -> dict:
    made = httpx.post(f"{api.url}/v1/users", headers=HR, json={"login": login, "display_name": login, "role": role, "wecom_userid": wecom_userid})
    assert made.status_code == 201, made.text
    return made.json()["user"]


def through_wecom(http: httpx.Client) -> httpx.Response:
    """What the browser does: Candor -> WeCom's authorize page -> Candor's callback; the callback's answer."""
    start = http.get("/v1/hr/wecom/login")
    assert start.status_code == 302
    at_wecom = http.get(start.headers["location"])
    assert at_wecom.status_code == 302, at_wecom.text
    return http.get(at_wecom.headers["location"])


def test_a_wecom_member_with_a_candor_user_is_signed_in(api: ApiServer, wecom: FakeWeCom) -> None:
    user = add_user(api, "zhang.san", "zhangsan")
    with httpx.Client(base_url=api.url) as http:
        start = http.get("/v1/hr/wecom/login")
        location = urlsplit(start.headers["location"])
        query = parse_qs(location.query)
        assert f"{location.scheme}://{location.netloc}{location.path}" == f"{wecom.url}/connect/oauth2/authorize"
        assert location.fragment == "wechat_redirect"
        assert query["appid"] == [CORP_ID] and query["response_type"] == ["code"] and query["scope"] == ["snsapi_base"]
        assert query["redirect_uri"] == [f"{api.url}/v1/hr/wecom/callback"] and query["agentid"] == [str(AGENT_ID)]
        assert len(query["state"][0]) >= 32
        signed_in = through_wecom(http)
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/hr"
        assert HR_COOKIE in http.cookies
        me = http.get("/v1/me").json()
        assert me["user_id"] == user["id"] and me["role"] == "recruiter" and me["wecom_sso"] is True
    entries = httpx.get(f"{api.url}/v1/audit", params={"action": "hr.sign_in"}, headers=HR).json()["entries"]
    assert any(e["actor"] == user["id"] and e["details"].get("method") == "wecom" for e in entries)


def test_a_code_works_once_and_only_with_its_state(api: ApiServer, wecom: FakeWeCom) -> None:
    add_user(api, "zhang.san", "zhangsan")
    with httpx.Client(base_url=api.url) as http:
        http.get("/v1/hr/wecom/login")
        callback = http.get(http.get("/v1/hr/wecom/login").headers["location"]).headers["location"]
        path = urlsplit(callback)
        stolen = f"{path.path}?{path.query}"
    with httpx.Client(base_url=api.url) as other_browser:  # no state cookie: a code sent to someone else's browser
        refused = other_browser.get(stolen)
        assert refused.status_code == 400 and refused.json()["type"].endswith("state-mismatch")
        assert HR_COOKIE not in other_browser.cookies
    with httpx.Client(base_url=api.url) as http:
        first = through_wecom(http)
        assert first.status_code == 303
        assert http.get(first.request.url).status_code == 400  # the state was used up with the sign-in
        state = parse_qs(first.request.url.query.decode())["state"][0]
    with httpx.Client(base_url=api.url, cookies={WECOM_STATE_COOKIE: state}) as replaying:
        replay = replaying.get(first.request.url)  # the same code again, state and all
        assert replay.status_code == 403 and replay.json()["type"].endswith("wecom-code")


def test_only_linked_enabled_members_sign_in(api: ApiServer, wecom: FakeWeCom) -> None:
    wecom.user_in_wecom = "lisi"  # a member of the corp, but no Candor user has that userid
    with httpx.Client(base_url=api.url) as http:
        answer = through_wecom(http)
        assert answer.status_code == 403 and answer.json()["type"].endswith("wecom-no-user")
        assert http.get("/v1/me").status_code == 401
    wecom.user_in_wecom = ("openid", "oAAAAAAA")  # someone outside the corp
    with httpx.Client(base_url=api.url) as http:
        assert through_wecom(http).json()["type"].endswith("wecom-not-member")
    user = add_user(api, "li.si", "lisi")
    httpx.patch(f"{api.url}/v1/users/{user['id']}", json={"disabled": True}, headers=HR)
    wecom.user_in_wecom = "lisi"
    with httpx.Client(base_url=api.url) as http:
        assert through_wecom(http).status_code == 403
    failed = httpx.get(f"{api.url}/v1/audit", params={"action": "hr.sign_in_failed"}, headers=HR).json()["entries"]
    assert len(failed) == 3 and all(e["details"]["method"] == "wecom" for e in failed)


def test_the_sign_in_lands_on_the_page_asked_for_and_only_on_an_hr_page(api: ApiServer, wecom: FakeWeCom) -> None:
    add_user(api, "zhang.san", "zhangsan")
    for asked, lands in (("/hr/applications/app_123", "/hr/applications/app_123"), ("https://evil.example/x", "/hr"),
                         ("//evil.example", "/hr"), ("/hr/../v1/users", "/hr")):
        with httpx.Client(base_url=api.url) as http:
            start = http.get("/v1/hr/wecom/login", params={"next": asked})
            answer = http.get(http.get(start.headers["location"]).headers["location"])
            assert answer.status_code == 303 and answer.headers["location"] == lands, asked


def test_without_wecom_configured_there_is_no_wecom_sign_in(tmp_path: Path) -> None:
    with ApiServer(tmp_path) as api:
        answer = httpx.get(f"{api.url}/v1/hr/wecom/login")
        assert answer.status_code == 404 and answer.json()["type"].endswith("wecom-not-configured")
        assert httpx.get(f"{api.url}/v1/me", headers=HR).json()["wecom_sso"] is False
