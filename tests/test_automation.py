"""Automation rules: the language, saving them on a job, and the engine running them on real applications.

The engine's tests drive a settable clock (48 hours in one step) through the
real app, the real sentence encoder (screening) and a real SQLite file. The
messages go through the real outbox to a channel that keeps what it is
given: these tests are about the rules, not about e-mail or WeCom (their own
tests speak SMTP and WeCom's HTTP API to real local servers, and the
end-to-end test runs both).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from starlette.testclient import TestClient

from automation import templates as tpl
from automation.rules import Automation, Rule, evaluate, parse_action, parse_duration
from runtime.models import Models
from scoring.encoder import SentenceEncoder
from server.app import create_app
from sinks.webhook import SendResult
from tests.helpers import HR_TOKEN, make_settings
from tests.sf_fake import FakeSuccessFactors
from tests.test_screening import PEOPLE, RESUME_ZH
from tests.test_successfactors import ORDER as SF_ORDER, app_settings as sf_app_settings, bank_key, basic as sf_basic, sf

__all__ = ["bank_key", "sf"]  # fixtures used here
HR = {"Authorization": f"Bearer {HR_TOKEN}"}
STRONG = RESUME_ZH.format(**PEOPLE[0])  # screened "advance" for wealth_manager (tests/test_screening.py)
WEAK = "李雷\n手机：13900001111\n邮箱：lilei@example.com\n高中\n喜欢打篮球"

RULES_YAML = """
enabled: true
rules:
  - id: invite_strong
    on: screened
    if: band == "advance"
    do: "invite(channel: wecom|email, template: invite)"
  - id: remind_unopened
    on: invited
    after: 48h
    if: not opened
    do: remind(channel=email)
  - id: tell_candidate
    on: decided
    do:
      - notify_candidate: {channel: email}
"""


# -- the language ----------------------------------------------------------------
def test_rules_read_as_written_and_their_mistakes_are_named() -> None:
    rules = Automation.model_validate(
        {"enabled": True, "rules": [
            {"id": "a", "on": "screened", "if": 'band == "advance"', "do": "invite(channel: wecom|email, template: invite)"},
            {"id": "b", "on": "invited", "after": "48h", "if": "not opened", "do": "remind"},
            {"id": "c", "on": "decided", "do": ["notify_candidate", "sync(successfactors)"]},
            {"id": "d", "on": "interview.ended", "do": {"notify_hr": {"group": "branch_hr"}}},
        ]}
    )
    assert [r.id for r in rules.triggered_by("screen")] == ["a"]
    assert [r.id for r in rules.triggered_by("confirm_pool")] == ["c"]  # a person's pool confirmation is a decision
    assert rules.rules[1].delay_s() == 48 * 3600
    invite = rules.rules[0].actions()[0]
    assert invite.channels() == ("wecom", "email") and invite.args["template"] == "invite"
    assert [a.name for a in rules.rules[2].actions()] == ["notify_candidate", "sync"]
    assert not Automation.model_validate({"enabled": False, "rules": [r.to_dict() for r in rules.rules]}).triggered_by("screen")
    assert parse_duration("30m") == 1800 and parse_duration("2d") == 172800
    assert parse_action("notify_hr(branch_hr)").args["group"] == "branch_hr"

    def refused(rule: dict[str, Any]) -> str:
        with pytest.raises(ValueError) as caught:
            Rule.model_validate(rule)
        return str(caught.value)

    assert "on is one of" in refused({"id": "x", "on": "hired", "do": "remind"})
    assert "unknown name 'bnd'" in refused({"id": "x", "on": "screened", "if": "bnd == 1", "do": "invite"})
    assert "unknown action 'fax'" in refused({"id": "x", "on": "screened", "do": "fax"})
    assert "channel is one or more" in refused({"id": "x", "on": "screened", "do": "invite(channel: pigeon)"})
    assert "only on decided" in refused({"id": "x", "on": "screened", "do": "notify_candidate"})
    assert "a delay is" in refused({"id": "x", "on": "invited", "after": "two days", "do": "remind"})
    assert "not a condition" in refused({"id": "x", "on": "screened", "if": '__import__("os")', "do": "invite"})
    with pytest.raises(ValueError, match="no template 'nope'"):
        Automation.model_validate({"rules": [{"id": "x", "on": "screened", "do": "invite(template: nope)"}]})
    assert evaluate('band == "advance" and score >= 70', {"band": "advance", "score": 81})
    assert not evaluate("score >= 70", {"score": None})  # no score: the condition is not met


def test_templates_escape_what_a_candidate_typed_and_keep_the_link() -> None:
    variables = {**tpl.sample_variables("zh"), "candidate_name": '<img src=x onerror="alert(1)">'}
    message = tpl.render(tpl.merged(None), "invite", "zh", variables)
    assert message.text.startswith('<img src=x onerror="alert(1)">您好')  # plain text is plain
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;您好" in message.html and "<img" not in message.html
    assert f'<a href="{variables["invite_link"]}">' in message.html
    english = tpl.render(tpl.merged(None), "invite", "en", tpl.sample_variables("en"))
    assert english.subject.startswith("Example Bank | AI pre-interview") and english.language == "en"
    assert tpl.render(tpl.merged(None), "invite", "fr", tpl.sample_variables("zh")).language == "zh"


# -- the engine, through the real app --------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Keeper:
    """A channel (sinks/channel.py's interface) that keeps what the outbox hands it, as a mailbox would."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.timeout_s = 5.0
        self.horizon_s = 3600.0
        self.rate_per_min = None
        self.received: list[dict[str, Any]] = []
        self.refuse = False  # answer as a mail server that refuses the address (a dead letter)

    def wants(self, type_: str) -> bool:
        return False

    async def send(self, client: httpx.AsyncClient, msg_id: str, body: str) -> SendResult:
        if self.refuse:
            return SendResult(400, "smtp:550", None, 0.0)
        self.received.append({"id": msg_id, **json.loads(body)})
        return SendResult(200, None, None, 0.0)


@pytest.fixture()
def encoder_models(encoder: SentenceEncoder) -> Models:
    models = Models(vad=None, asr=None, face=None, encoder=encoder)
    models.warm = True
    return models


def _app(tmp_path: Path, db_url: str, models: Models, clock: Clock, mail: Keeper, **settings: Any) -> Any:
    return create_app(
        make_settings(tmp_path, database_url=db_url, contact_key="test-contact-key", org_name="示例银行", **settings),
        models=models, load_models=False, clock=clock, channels=[mail],
    )


def _wait(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def _run_due(client: TestClient) -> int:
    return client.portal.call(client.app.state.candor.automation.run_due)


def _timeline(client: TestClient, app_id: str) -> list[dict[str, Any]]:
    return client.get(f"/v1/applications/{app_id}/timeline", headers=HR).json()["entries"]


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def mail() -> Keeper:
    return Keeper("email")


@pytest.fixture()
def client(tmp_path: Path, db_url: str, encoder_models: Models, clock: Clock, mail: Keeper) -> Iterator[TestClient]:
    with TestClient(_app(tmp_path, db_url, encoder_models, clock, mail), base_url="http://127.0.0.1") as test_client:
        yield test_client


def test_hr_save_rules_as_yaml_and_see_them_as_a_new_job_version(client: TestClient) -> None:
    before = client.get("/v1/jobs/wealth_manager/automation", headers=HR)
    assert before.status_code == 200 and before.json()["enabled"] is False  # shipped rules start idle
    saved = client.put("/v1/jobs/wealth_manager/automation", content=RULES_YAML.encode(),
                       headers={**HR, "Content-Type": "application/yaml", "If-Match": before.headers["etag"]})
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert body["enabled"] and [r["id"] for r in body["rules"]] == ["invite_strong", "remind_unopened", "tell_candidate"]
    assert body["rules"][1] == {"id": "remind_unopened", "on": "invited", "after": "48h", "if": "not opened", "do": ["remind(channel=email)"]}
    assert int(saved.headers["etag"].strip('"')) == int(before.headers["etag"].strip('"')) + 1
    assert client.get("/v1/jobs/wealth_manager", headers=HR).json()["version"] == body["version"]
    stale = client.put("/v1/jobs/wealth_manager/automation", content=RULES_YAML.encode(),
                       headers={**HR, "Content-Type": "application/yaml", "If-Match": before.headers["etag"]})
    assert stale.status_code == 412
    bad = client.put("/v1/jobs/wealth_manager/automation", json={"enabled": True, "rules": [
        {"id": "oops", "on": "screened", "if": "scor > 70", "do": "invite"}]}, headers=HR)
    assert bad.status_code == 422 and "rule oops" in bad.json()["detail"] and "scor" in bad.json()["detail"]
    broken = client.put("/v1/jobs/wealth_manager/automation", content=b"rules: [", headers={**HR, "Content-Type": "application/yaml"})
    assert broken.status_code == 400 and broken.json()["title"] == "Malformed YAML"
    assert client.put("/v1/jobs/wealth_manager/automation", json={}).status_code == 401
    preview = client.post("/v1/jobs/wealth_manager/templates/preview", json={
        "template": "invite", "language": "zh", "draft": {"subject": "{{ org }}邀请{{ candidate_name }}", "text": "链接 {{ invite_link }}"}}, headers=HR)
    assert preview.status_code == 200 and preview.json()["subject"] == "示例银行邀请张三"
    unknown = client.post("/v1/jobs/wealth_manager/templates/preview", json={
        "template": "invite", "draft": {"subject": "{{ salary }}", "text": "x"}}, headers=HR)
    assert unknown.status_code == 422 and "salary" in unknown.json()["detail"]


def test_a_strong_resume_is_invited_by_the_rule_and_reminded_48_hours_later_unless_opened(
    client: TestClient, clock: Clock, mail: Keeper
) -> None:
    assert client.put("/v1/jobs/wealth_manager/automation", content=RULES_YAML.encode(),
                      headers={**HR, "Content-Type": "application/yaml"}).status_code == 200
    strong = client.post("/v1/applications", json={"job_id": "wealth_manager", "resume_text": STRONG}, headers=HR).json()
    opener = client.post("/v1/applications", json={"job_id": "wealth_manager", "resume_text": STRONG.replace("张伟", "王芳").replace(
        "13800138000", "13700137000").replace("candidate@example.com", "wangfang@example.com")}, headers=HR).json()
    weak = client.post("/v1/applications", json={"job_id": "wealth_manager", "resume_text": WEAK}, headers=HR).json()
    assert strong["outcome"] == opener["outcome"] == "advance" and weak["outcome"] == "pool"
    _run_due(client)

    invited = client.get(f"/v1/applications/{strong['id']}", headers=HR).json()
    assert invited["state"] == "invited" and invited["invite_url"]
    assert client.get(f"/v1/applications/{weak['id']}", headers=HR).json()["state"] == "screened"  # condition not met
    _wait(lambda: len(mail.received) == 2)
    invite = next(m for m in mail.received if m["data"]["to"] == ["candidate@example.com"])
    assert invite["type"] == "message.invite" and "张伟您好" in invite["data"]["text"]
    # The deadline is the link's expiry (CANDOR_INVITE_TTL_S, a week), in the candidates' time zone.
    session = client.get(f"/v1/sessions/{invited['session_id']}", headers=HR).json()
    expiry = datetime.fromisoformat(session["expires_at"]).astimezone(ZoneInfo("Asia/Shanghai"))
    assert expiry - datetime.now(timezone.utc) > timedelta(days=6, hours=23)
    assert f"请在 {expiry:%Y-%m-%d %H:%M} (UTC+8) 前完成" in invite["data"]["text"]
    assert invited["invite_url"] in invite["data"]["text"] and "示例银行" in invite["data"]["subject"]
    timeline = _timeline(client, strong["id"])
    step = next(e for e in timeline if e["action"] == "invite")
    assert step["actor"] == "system" and step["details"]["rule"] == "invite_strong"
    sent = next(e for e in timeline if e["action"] == "message_out")
    assert sent["details"]["channel"] == "email" and sent["details"]["delivery_id"] == invite["id"]
    assert "candidate@example.com" not in json.dumps(sent)  # the timeline names the channel, not the address

    # The second candidate opens the link; the first does not.
    code = client.get(f"/v1/applications/{opener['id']}", headers=HR).json()["invite_url"].split("#code=")[1]
    assert client.post("/v1/candidate/exchange", json={"code": code}).status_code == 200
    clock.advance(hours=47)
    assert _run_due(client) == 0  # not yet
    time.sleep(1.2)  # the worker's own poll finds nothing either
    assert len(mail.received) == 2
    clock.advance(hours=1, seconds=1)
    _run_due(client)
    _wait(lambda: len(mail.received) == 3)
    reminder = mail.received[-1]
    assert reminder["type"] == "message.reminder" and reminder["data"]["to"] == ["candidate@example.com"]
    actions = client.get(f"/v1/applications/{opener['id']}/actions", headers=HR).json()["actions"]
    remind = next(a for a in actions if a["rule"] == "remind_unopened")
    assert remind["state"] == "skipped" and remind["result"]["reason"] == "condition not met"
    done = client.get(f"/v1/applications/{strong['id']}/actions", headers=HR).json()["actions"]
    assert [a["state"] for a in done] == ["done", "done"]
    assert done[0]["deliveries"][0]["state"] == "delivered" and done[0]["deliveries"][0]["attempts_list"][0]["status"] == 200
    assert _run_due(client) == 0  # nothing twice


def test_a_timer_survives_a_restart(tmp_path: Path, db_url: str, encoder_models: Models, clock: Clock) -> None:
    first = Keeper("email")
    with TestClient(_app(tmp_path, db_url, encoder_models, clock, first), base_url="http://127.0.0.1") as c:
        c.put("/v1/jobs/wealth_manager/automation", content=RULES_YAML.encode(), headers={**HR, "Content-Type": "application/yaml"})
        made = c.post("/v1/applications", json={"job_id": "wealth_manager", "resume_text": STRONG}, headers=HR).json()
        _run_due(c)
        _wait(lambda: len(first.received) == 1)
    clock.advance(hours=49)
    second = Keeper("email")
    with TestClient(_app(tmp_path, db_url, encoder_models, clock, second), base_url="http://127.0.0.1") as c:
        _wait(lambda: len(second.received) == 1)  # the new process's worker finds the timer due
        assert second.received[0]["type"] == "message.reminder"
        actions = c.get(f"/v1/applications/{made['id']}/actions", headers=HR).json()["actions"]
        assert [(a["rule"], a["state"]) for a in actions] == [("invite_strong", "done"), ("remind_unopened", "done")]
    assert len(first.received) == 1


def test_no_way_to_reach_the_candidate_fails_on_the_timeline_and_hr_can_retry(client: TestClient, mail: Keeper) -> None:
    rules = {"enabled": True, "rules": [{"id": "sms_invite", "on": "screened", "if": 'band == "advance"',
                                         "do": "invite(channel: sms|wecom)"}]}
    assert client.put("/v1/jobs/wealth_manager/automation", json=rules, headers=HR).status_code == 200
    made = client.post("/v1/applications", json={"job_id": "wealth_manager", "resume_text": STRONG}, headers=HR).json()
    _run_due(client)
    entry = _timeline(client, made["id"])[-1]
    assert entry["action"] == "automation" and entry["details"]["outcome"] == "failed"
    assert "SMS is not configured" in entry["reason"] and "WeCom external contacts are not configured" in entry["reason"]
    action = client.get(f"/v1/applications/{made['id']}/actions", headers=HR).json()["actions"][0]
    assert action["state"] == "failed"
    # The application was still invited (a person can send the link); HR switch the rule to e-mail and retry.
    rules["rules"][0]["do"] = "invite(channel: email)"
    assert client.put("/v1/jobs/wealth_manager/automation", json=rules, headers=HR).status_code == 200
    retried = client.post(f"/v1/automation/actions/{action['id']}/retry", headers=HR)
    assert retried.status_code == 200 and retried.json()["state"] == "scheduled"
    _run_due(client)
    # The action keeps the arguments it was scheduled with: the retry fails the same way, and says so again.
    assert client.get(f"/v1/applications/{made['id']}/actions", headers=HR).json()["actions"][0]["state"] == "failed"
    assert sum(e["action"] == "automation" for e in _timeline(client, made["id"])) == 2
    assert client.post("/v1/automation/actions/act_nope/retry", headers=HR).status_code == 404
    assert not mail.received


@pytest.mark.parametrize("policy", ["none", "next_step", "next_step_with_band"])
def test_a_candidate_is_told_only_after_a_person_decided_and_only_what_the_policy_allows(
    tmp_path: Path, db_url: str, encoder_models: Models, clock: Clock, policy: str
) -> None:
    mail = Keeper("email")
    with TestClient(_app(tmp_path, db_url, encoder_models, clock, mail, feedback=policy), base_url="http://127.0.0.1") as c:
        c.put("/v1/jobs/wealth_manager/automation", json={"enabled": True, "rules": [
            {"id": "tell", "on": "decided", "do": "notify_candidate(channel: email)"}]}, headers=HR)
        made = c.post("/v1/applications", json={"job_id": "wealth_manager", "resume_text": STRONG}, headers=HR).json()
        assert c.post(f"/v1/applications/{made['id']}/invite", headers=HR).status_code == 200
        _run_due(c)
        assert not mail.received  # invited, not decided: nothing to tell
        decided = c.post(f"/v1/applications/{made['id']}/decide", json={"decision": "advance"}, headers=HR)
        assert decided.status_code == 200, decided.text
        _run_due(c)
        if policy == "none":
            time.sleep(0.3)
            assert not mail.received
            assert _timeline(c, made["id"])[-1]["reason"] == "the bank's feedback policy: candidates are not told"
            return
        _wait(lambda: len(mail.received) == 1)
        text = mail.received[0]["data"]["text"]
        assert mail.received[0]["type"] == "message.decision" and "进入下一轮" in text
        assert "分" not in text.replace("三个工作日", "")  # never a number
        # No interview took place here, so there is no band to tell even where the policy allows one.
        assert "AI预面试表现" not in text


def test_a_decision_on_an_order_from_successfactors_is_written_back_by_the_sync_rule(
    tmp_path: Path, sf: FakeSuccessFactors, bank_key: tuple[bytes, bytes]
) -> None:
    settings = sf_app_settings(tmp_path, sf, bank_key)
    models = Models(vad=None, asr=None, face=None, encoder=None)
    models.warm = True
    with TestClient(create_app(settings, models=models, load_models=False), base_url="http://127.0.0.1") as c:
        assert c.put("/v1/jobs/wealth_manager/automation", json={"enabled": True, "rules": [
            {"id": "write_back", "on": "decided", "do": "sync(successfactors)"}]}, headers=HR).status_code == 200
        taken = c.post("/v1/successfactors/orders", json=SF_ORDER, headers=sf_basic())
        assert taken.status_code == 201, taken.text
        sf.orders.add(str(SF_ORDER["orderId"]))
        app_id = taken.json()["applicationId"]
        manual = c.post("/v1/applications", json={"job_id": "wealth_manager", "resume_text": WEAK}, headers=HR).json()
        assert c.post(f"/v1/applications/{manual['id']}/confirm-pool", headers=HR).status_code == 200
        assert c.post(f"/v1/applications/{app_id}/decide", json={"decision": "advance"}, headers=HR).status_code == 200
        _run_due(c)
        _wait(lambda: bool(sf.reports(str(SF_ORDER["orderId"]))))
        (report,) = sf.reports(str(SF_ORDER["orderId"]))
        assert report["status"] == "Completed", report
        rows = {r["scoreComponent"]: r["scoreValue"] for r in report["assessmentReportDetail"]}
        assert rows.get("HR Decision"), rows
        synced = [e for e in _timeline(c, app_id) if e["action"] == "sync"]
        assert len(synced) == 1 and synced[0]["details"]["channel"] == "successfactors"
        # An application that did not come from SuccessFactors has no order to write to: skipped, said so.
        action = c.get(f"/v1/applications/{manual['id']}/actions", headers=HR).json()["actions"][0]
        assert action["state"] == "skipped" and "SuccessFactors order" in action["result"]["reason"]


def test_a_refused_message_is_a_dead_letter_hr_see_and_send_again(client: TestClient, mail: Keeper) -> None:
    assert client.put("/v1/jobs/wealth_manager/automation", content=RULES_YAML.encode(),
                      headers={**HR, "Content-Type": "application/yaml"}).status_code == 200
    mail.refuse = True
    made = client.post("/v1/applications", json={"job_id": "wealth_manager", "resume_text": STRONG}, headers=HR).json()
    _run_due(client)

    def dead() -> list[dict[str, Any]]:
        return client.get("/v1/deliveries?state=failed&sink=email", headers=HR).json()["deliveries"]

    _wait(lambda: len(dead()) == 1)
    (letter,) = dead()
    assert letter["type"] == "message.invite" and "body" not in letter  # no personal data in the listing
    detail = client.get(f"/v1/deliveries/{letter['id']}", headers=HR).json()
    assert [(a["status"], a["error"], a["outcome"]) for a in detail["attempts_list"]] == [(400, "smtp:550", "failed")]
    action = client.get(f"/v1/applications/{made['id']}/actions", headers=HR).json()["actions"][0]
    assert action["deliveries"][0]["state"] == "failed"  # the application's page shows it too
    mail.refuse = False
    replayed = client.post(f"/v1/deliveries/{letter['id']}/replay", headers=HR)
    assert replayed.status_code == 200 and replayed.json()["state"] == "pending"
    _wait(lambda: len(mail.received) == 1)
    assert mail.received[0]["id"] == letter["id"]  # the same id: the far end drops a copy it already has
    assert client.post("/v1/deliveries/msg_nope/replay", headers=HR).status_code == 404
    assert client.get("/v1/deliveries?state=lost", headers=HR).status_code == 422
    assert client.get("/v1/deliveries").status_code == 401
