"""SAP SuccessFactors: results written as an assessment vendor's report, orders taken in.

The outbound tests run the real outbox and :class:`SuccessFactorsChannel`
against :class:`tests.sf_fake.FakeSuccessFactors`, a real HTTP server on
loopback that verifies the SAML assertion's XML signature with the bank's
certificate and answers upserts with per-record status, as SF does. The
bank's key and certificate are made here (cryptography).
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from pydantic import ValidationError
from signxml import XMLVerifier
from starlette.testclient import TestClient

from runtime.models import Models
from server.app import create_app
from server.settings import Settings
from sinks import DELIVERED, FAILED, Outbox
from sinks.successfactors import (
    ASSESSMENT_TYPE,
    CHANNEL,
    SuccessFactorsChannel,
    SuccessFactorsConfig,
    SuccessFactorsMapping,
    assessment_payload,
    build_assertion,
    message_for_application,
    outcome,
    read_upsert,
    scores_from_report,
    upsert_body,
)
from tests.helpers import HR_TOKEN, make_settings
from tests.outbox_fixtures import Outboxes, enqueue_to, until_state
from tests.sf_fake import FakeSuccessFactors

SAML = "{urn:oasis:names:tc:SAML:2.0:assertion}"
CLIENT_ID = "Y2FuZG9yLWJhbmstYXBpLWtleQ"  # SF's API key for the registered certificate
HR = {"Authorization": f"Bearer {HR_TOKEN}"}
ORDER_SECRET = "sf-order-secret-0123456789"


@pytest.fixture(scope="module")
def bank_key() -> tuple[bytes, bytes]:
    """The bank's RSA key and its self-signed X.509 certificate (PEM), as registered in SF's Admin Center."""
    return _key_pair("Candor at the bank")


def _key_pair(common_name: str) -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365)).sign(key, hashes.SHA256())
    )
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return pem, cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture
def sf(bank_key: tuple[bytes, bytes]) -> Iterator[FakeSuccessFactors]:
    fake = FakeSuccessFactors(clients={CLIENT_ID: bank_key[1].decode()}, orders={"4711", "4712"}).start()
    yield fake
    fake.stop()


def config(sf: FakeSuccessFactors, key: tuple[bytes, bytes], **overrides: object) -> SuccessFactorsConfig:
    values: dict = {
        "api_base": sf.url, "company_id": sf.company_id, "client_id": CLIENT_ID, "user_id": "candor_api",
        "private_key": key[0].decode(), "certificate": key[1].decode(), "timeout_s": 5.0,
    }
    values.update(overrides)
    return SuccessFactorsConfig(**values)


def app_settings(tmp_path: Path, sf: FakeSuccessFactors, key: tuple[bytes, bytes]) -> Settings:
    """Candor's settings with SuccessFactors on the fake; orders for requisition 1021 are for wealth_manager."""
    sf_config = {
        **config(sf, key).model_dump(mode="json", exclude_none=True),
        "private_key": key[0].decode(), "order_secret": ORDER_SECRET,
        "mapping": {"requisitions": {"1021": "wealth_manager"}},
    }
    return make_settings(tmp_path, contact_key="test-contact-key", successfactors=sf_config)


async def enqueue(outbox: Outbox, payload: dict, key: str = "a1", version: int = 1) -> str:
    return await outbox.store.run(enqueue_to, outbox, CHANNEL, ASSESSMENT_TYPE, key, payload, version)


def decided(order_id: str = "4711", **scores: object) -> dict:
    return assessment_payload(
        order_id=order_id, state="decided", status_date=datetime(2026, 12, 5, 21, 0, tzinfo=timezone.utc),
        report_url="https://interview.bank.cn/hr/applications/a1",
        scores=scores or {"overall": 82.5, "recommendation": "strong", "decision": "advance", "screening_match": 0.71},  # type: ignore[arg-type]
    )


# -- the pure core -----------------------------------------------------------------------
def test_the_assertion_is_signed_by_the_bank_and_says_who_for_whom_until_when(bank_key: tuple[bytes, bytes]) -> None:
    now = datetime.now(timezone.utc).replace(microsecond=0)
    xml = build_assertion(
        client_id=CLIENT_ID, user_id="candor_api", audience="www.successfactors.com",
        recipient="https://api55.sapsf.eu/oauth/token", key_pem=bank_key[0], cert_pem=bank_key[1], now=now, lifetime_s=600,
    )
    signed = XMLVerifier().verify(xml, x509_cert=bank_key[1].decode(), id_attribute="ID").signed_xml
    assert signed.findtext(SAML + "Issuer") == CLIENT_ID
    assert signed.findtext(f"{SAML}Subject/{SAML}NameID") == "candor_api"
    data = signed.find(f"{SAML}Subject/{SAML}SubjectConfirmation/{SAML}SubjectConfirmationData")
    assert data.get("Recipient") == "https://api55.sapsf.eu/oauth/token"
    assert signed.findtext(f"{SAML}Conditions/{SAML}AudienceRestriction/{SAML}Audience") == "www.successfactors.com"
    conditions = signed.find(SAML + "Conditions")
    assert conditions.get("NotOnOrAfter") == (now + timedelta(seconds=600)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert signed.find(SAML + "AuthnStatement") is not None
    # SAML's schema order: the signature right after the Issuer.
    root = etree.fromstring(xml)
    assert [etree.QName(c).localname for c in root][:3] == ["Issuer", "Signature", "Subject"]
    # Another key's certificate does not verify it.
    other = _key_pair("someone else")
    with pytest.raises(Exception):
        XMLVerifier().verify(xml, x509_cert=other[1].decode(), id_attribute="ID")


def test_upsert_body_follows_the_configured_mapping() -> None:
    body = upsert_body(decided(), SuccessFactorsMapping(), api_base="https://api55.sapsf.eu")
    assert body["__metadata"]["uri"] == "https://api55.sapsf.eu/odata/v2/JobApplicationAssessmentReport"
    assert body["orderId"] == "4711" and body["status"] == "Completed"
    assert body["statusDate"] == "/Date(1796504400000)/"  # 2026-12-05T21:00:00Z
    assert body["reportURL"] == "https://interview.bank.cn/hr/applications/a1"
    assert {d["scoreComponent"]: d["scoreValue"] for d in body["assessmentReportDetail"]} == {
        "Score": "82.5", "Recommendation": "1", "HR Decision": "advance"}

    bank = SuccessFactorsMapping(
        components={"overall": "Overall Score", "decision": "Recommendation", "screening_match": "Resume Match"},
        values={"decision": {"advance": "Recommended", "hold": "Recommended with Reservations", "reject": "Not Recommended"}},
        statuses={"decided": "Complete"},
    )
    body = upsert_body(decided(), bank, api_base="https://x")
    assert body["status"] == "Complete"
    assert {d["scoreComponent"]: d["scoreValue"] for d in body["assessmentReportDetail"]} == {
        "Overall Score": "82.5", "Recommendation": "Recommended", "Resume Match": "0.71"}
    with pytest.raises(ValueError, match="state 'decided'"):
        upsert_body(decided(), SuccessFactorsMapping(statuses={"interviewed": "Completed"}), api_base="https://x")
    with pytest.raises(ValueError, match="recommendation 'maybe'"):
        upsert_body(decided(overall=50, recommendation="maybe"), SuccessFactorsMapping(), api_base="https://x")


def test_scores_come_from_the_interview_report() -> None:
    report = {
        "overall": 74.3, "recommendation": {"band": "strong", "label": {"en": "Strong"}},
        "competencies": [{"id": "client_focus", "score": 80.0}, {"id": "ethics", "score": None}],
        "decision": {"state": "decided", "decision": "hold"},
    }
    assert scores_from_report(report, screening_score=0.66) == {
        "screening_match": 0.66, "overall": 74.3, "recommendation": "strong", "decision": "hold", "competency:client_focus": 80.0}
    assert scores_from_report({"overall": None, "recommendation": None, "decision": {"state": "pending_review"}}) == {}


def test_per_record_results_inside_a_200() -> None:
    ok = {"d": [{"key": "JobApplicationAssessmentReport/id=9", "status": "OK", "editStatus": "UPSERTED", "message": None, "index": 0, "httpCode": 204}]}
    assert outcome(read_upsert(ok)) == (200, None)
    missing = {"d": [{"key": None, "status": "ERROR", "editStatus": None, "message": "[COE0018] order 9 not found", "index": 0, "httpCode": 404}]}
    assert outcome(read_upsert(missing)) == (404, "sf:COE0018")
    broken = {"d": [{"status": "ERROR", "message": "something failed", "httpCode": 500}]}
    assert outcome(read_upsert(broken)) == (500, "sf:ERROR")
    with pytest.raises(ValueError):
        read_upsert({"error": {"code": "x"}})


def test_configuration_needs_one_key_and_one_certificate(bank_key: tuple[bytes, bytes]) -> None:
    base = {"api_base": "https://api55.sapsf.eu", "company_id": "C", "client_id": "K", "user_id": "u"}
    with pytest.raises(ValidationError, match="private_key"):
        SuccessFactorsConfig(**base, certificate=bank_key[1].decode())
    made = SuccessFactorsConfig(**base, private_key=bank_key[0].decode(), certificate=bank_key[1].decode())
    assert made.token_endpoint == "https://api55.sapsf.eu/oauth/token"
    assert made.upsert_endpoint == "https://api55.sapsf.eu/odata/v2/upsert"
    other = _key_pair("not the bank")
    with pytest.raises(ValueError, match="not the private key's"):
        SuccessFactorsChannel(SuccessFactorsConfig(**base, private_key=bank_key[0].decode(), certificate=other[1].decode()))


# -- the channel against the fake tenant ------------------------------------------------------
async def test_a_report_is_written_to_the_order(sf: FakeSuccessFactors, bank_key: tuple[bytes, bytes], outboxes: Outboxes) -> None:
    channel = SuccessFactorsChannel(config(sf, bank_key))
    outbox = await outboxes.start([channel])
    msg_id = await enqueue(outbox, decided())
    await until_state(outbox, msg_id, DELIVERED)
    assert sf.scores("4711") == {"Score": "82.5", "Recommendation": "1", "HR Decision": "advance"}
    (report,) = sf.reports("4711")
    assert report["status"] == "Completed" and report["reportURL"].endswith("/applications/a1")
    assert sf.token_requests == [(200, "ok")]
    assert [(a.status, a.outcome) for a in await outbox.attempts(msg_id)] == [(200, "delivered")]
    # A second message rides on the cached token.
    second = await enqueue(outbox, decided("4712", overall=40, recommendation="not_yet"), key="a2")
    await until_state(outbox, second, DELIVERED)
    assert sf.scores("4712") == {"Score": "40", "Recommendation": "4"} and len(sf.token_requests) == 1


async def test_a_record_error_inside_a_200_is_a_dead_letter_with_its_attempt(
    sf: FakeSuccessFactors, bank_key: tuple[bytes, bytes], outboxes: Outboxes
) -> None:
    outbox = await outboxes.start([SuccessFactorsChannel(config(sf, bank_key))])
    msg_id = await enqueue(outbox, decided("9999"))  # SF has no such order
    await until_state(outbox, msg_id, FAILED)
    await asyncio.sleep(0.4)  # several backoff periods: no second try
    assert sf.upserts == [200]  # the HTTP answer was 200 ...
    delivery = await outbox.get(msg_id)
    assert delivery is not None and delivery.last_status == 404 and delivery.last_error == "sf:COE0018"
    assert [(a.status, a.error, a.outcome) for a in await outbox.attempts(msg_id)] == [(404, "sf:COE0018", "failed")]
    assert sf.reports("9999") == []
    # The operator fixes it in SF (the order exists now) and replays: same message, delivered.
    sf.orders.add("9999")
    await outbox.replay(msg_id)
    await until_state(outbox, msg_id, DELIVERED)
    assert sf.scores("9999")["Score"] == "82.5"


async def test_an_unmapped_state_is_a_dead_letter_that_names_the_mapping(
    sf: FakeSuccessFactors, bank_key: tuple[bytes, bytes], outboxes: Outboxes
) -> None:
    mapping = SuccessFactorsMapping(statuses={"interviewed": "Completed"})
    outbox = await outboxes.start([SuccessFactorsChannel(config(sf, bank_key, mapping=mapping))])
    msg_id = await enqueue(outbox, decided())
    await until_state(outbox, msg_id, FAILED)
    delivery = await outbox.get(msg_id)
    assert delivery is not None and (delivery.last_status, delivery.last_error) == (422, "sf:unmapped_status")
    assert sf.upserts == [] and sf.token_requests == []


async def test_an_expired_token_is_renewed_once(sf: FakeSuccessFactors, bank_key: tuple[bytes, bytes], outboxes: Outboxes) -> None:
    channel = SuccessFactorsChannel(config(sf, bank_key))
    outbox = await outboxes.start([channel])
    first = await enqueue(outbox, decided())
    await until_state(outbox, first, DELIVERED)
    sf.expire_tokens()  # SF let the token lapse before Candor expected it to
    second = await enqueue(outbox, decided("4712"), key="a2")
    await until_state(outbox, second, DELIVERED)
    assert sf.upserts == [200, 401, 200]
    assert [status for status, _ in sf.token_requests] == [200, 200] and channel.tokens_fetched == 2
    assert [(a.status, a.outcome) for a in await outbox.attempts(second)] == [(200, "delivered")]


async def test_a_short_lived_token_is_fetched_again_before_it_expires(
    sf: FakeSuccessFactors, bank_key: tuple[bytes, bytes], outboxes: Outboxes
) -> None:
    sf.token_lifetime_s = 30  # under the renewal margin: never reused
    outbox = await outboxes.start([SuccessFactorsChannel(config(sf, bank_key))])
    for n, order in enumerate(("4711", "4712")):
        await until_state(outbox, await enqueue(outbox, decided(order), key=f"a{n}"), DELIVERED)
    assert len(sf.token_requests) == 2 and 401 not in sf.upserts


async def test_sf_down_is_retried_then_delivered(sf: FakeSuccessFactors, bank_key: tuple[bytes, bytes], outboxes: Outboxes) -> None:
    sf.outage = 2
    outbox = await outboxes.start([SuccessFactorsChannel(config(sf, bank_key))])
    msg_id = await enqueue(outbox, decided())
    await until_state(outbox, msg_id, DELIVERED)
    assert [(a.status, a.outcome) for a in await outbox.attempts(msg_id)] == [(503, "retry"), (503, "retry"), (200, "delivered")]
    assert len(sf.reports("4711")) == 1


async def test_sf_unreachable_is_retried_then_delivered(bank_key: tuple[bytes, bytes], outboxes: Outboxes) -> None:
    sf = FakeSuccessFactors(clients={CLIENT_ID: bank_key[1].decode()}, orders={"4711"})  # not started yet
    try:
        outbox = await outboxes.start([SuccessFactorsChannel(config(sf, bank_key))])
        msg_id = await enqueue(outbox, decided())
        deadline = time.monotonic() + 10
        while len(await outbox.attempts(msg_id)) < 2:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        sf.start()
        await until_state(outbox, msg_id, DELIVERED)
        attempts = await outbox.attempts(msg_id)
        assert attempts[0].status is None and attempts[0].error == "ConnectError" and attempts[0].outcome == "retry"
        assert sf.scores("4711")["Recommendation"] == "1"
    finally:
        sf.stop()


async def test_a_bad_key_is_refused_by_the_token_endpoint_and_the_delivery_says_so(
    sf: FakeSuccessFactors, bank_key: tuple[bytes, bytes], outboxes: Outboxes
) -> None:
    stranger = _key_pair("not registered in SF")
    outbox = await outboxes.start([SuccessFactorsChannel(config(sf, bank_key, private_key=stranger[0].decode(), certificate=stranger[1].decode()))])
    msg_id = await enqueue(outbox, decided())
    await until_state(outbox, msg_id, FAILED)
    assert sf.token_requests[0][0] == 401 and sf.token_requests[0][1].startswith("signature")
    delivery = await outbox.get(msg_id)
    assert delivery is not None and (delivery.last_status, delivery.last_error) == (401, "sf:token:401")
    assert sf.upserts == [] and sf.reports("4711") == []


async def test_the_fake_refuses_an_assertion_for_another_audience_or_recipient(
    sf: FakeSuccessFactors, bank_key: tuple[bytes, bytes]
) -> None:
    # The fake must be able to fail: a wrong audience, then a wrong recipient, are refused.
    for override, why in (({"audience": "www.example.com"}, "wrong audience"), ({"recipient": sf.url + "/odata/v2"}, "wrong recipient")):
        channel = SuccessFactorsChannel(config(sf, bank_key, **override))
        import httpx

        async with httpx.AsyncClient() as client:
            result = await channel.send(client, "msg_x", json.dumps({"type": ASSESSMENT_TYPE, "timestamp": "", "data": decided()}))
        assert (result.status, result.error) == (401, "sf:token:401")
        assert sf.token_requests[-1] == (401, why)


# -- the order endpoint -----------------------------------------------------------------------
@pytest.fixture
def client(tmp_path: Path, bank_key: tuple[bytes, bytes]) -> Iterator[TestClient]:
    sf_config = {
        "api_base": "https://api55.sapsf.eu", "company_id": "BANKCN", "client_id": CLIENT_ID, "user_id": "candor_api",
        "private_key": bank_key[0].decode(), "certificate": bank_key[1].decode(), "order_secret": ORDER_SECRET,
        "mapping": {"requisitions": {"1021": "wealth_manager"}, "packages": {"CANDOR_RISK": "risk_manager"}},
    }
    settings = make_settings(tmp_path, contact_key="test-contact-key", successfactors=sf_config)
    models = Models(vad=None, asr=None, face=None, encoder=None)  # screening on vocabulary and words only
    models.warm = True
    app = create_app(settings, models=models, load_models=False)
    with TestClient(app, base_url="http://127.0.0.1") as test_client:
        yield test_client


def basic(user: str = "successfactors", password: str = ORDER_SECRET) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


ORDER = {
    "orderId": 4711, "jobReqId": "1021", "packageCode": "CANDOR_WM", "applicationId": "88123",
    "candidate": {"firstName": "Mei", "lastName": "Lin", "email": "mei.lin@example.com"},
    "resumeText": "Lin Mei\nmei.lin@example.com\nWealth manager at a bank, 2019-2025: advised high net worth clients on funds and insurance.",
}


def test_an_order_makes_one_application_and_one_invite(client: TestClient) -> None:
    first = client.post("/v1/successfactors/orders", json=ORDER, headers=basic())
    assert first.status_code == 201, first.text
    answer = first.json()
    assert answer["orderId"] == "4711" and answer["status"] == "In Progress"
    assert answer["assessmentURL"] and answer["sessionId"]
    application = client.get(f"/v1/applications/{answer['applicationId']}", headers=HR).json()
    assert application["source"] == "successfactors" and application["external_id"] == "4711"
    assert application["job_id"] == "wealth_manager" and application["state"] == "invited"
    assert application["invite_url"] == answer["assessmentURL"]
    timeline = client.get(f"/v1/applications/{answer['applicationId']}/timeline", headers=HR).json()
    invite = [e for e in timeline["entries"] if e["action"] == "invite"]
    assert invite and invite[0]["actor"] == "system"
    # The candidate's link opens the interview.
    assert client.get(answer["assessmentURL"].replace("http://127.0.0.1:" + str(client.app.state.candor.settings.port), "")).status_code == 200

    again = client.post("/v1/successfactors/orders", json={**ORDER, "jobReqId": "other"}, headers=basic())
    assert again.status_code == 200 and again.json() == answer  # the first answer, nothing new
    listed = client.get("/v1/applications", headers=HR).json()["applications"]
    assert len(listed) == 1 and listed[0]["duplicates"] == 0


def test_an_order_by_package_with_only_the_candidate(client: TestClient) -> None:
    order = {"orderId": "5001", "packageCode": "CANDOR_RISK", "candidate": {"firstName": "Wei", "lastName": "Zhang", "email": "wei.zhang@example.com"}}
    taken = client.post("/v1/successfactors/orders", json=order, headers=basic())
    assert taken.status_code == 201, taken.text
    application = client.get(f"/v1/applications/{taken.json()['applicationId']}", headers=HR).json()
    assert application["job_id"] == "risk_manager" and application["external_id"] == "5001"


def test_order_problems_are_clear_and_keep_nothing(client: TestClient) -> None:
    url = "/v1/successfactors/orders"
    refused = client.post(url, json=ORDER, headers=basic(password="wrong"))
    assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Basic")
    assert client.post(url, json=ORDER).status_code == 401
    unknown_job = client.post(url, json={**ORDER, "orderId": "6000", "jobReqId": "9999", "packageCode": None}, headers=basic())
    assert unknown_job.status_code == 422 and unknown_job.json()["title"] == "Unknown job mapping"
    assert "9999" in unknown_job.json()["detail"]
    malformed = client.post(url, content=b"{not json", headers={**basic(), "content-type": "application/json"})
    assert malformed.status_code == 400 and malformed.headers["content-type"] == "application/problem+json"
    no_id = client.post(url, json={"jobReqId": "1021", "resumeText": "x"}, headers=basic())
    assert no_id.status_code == 422 and no_id.json()["errors"][0]["field"] == "orderId"
    nobody = client.post(url, json={"orderId": "6001", "jobReqId": "1021"}, headers=basic())
    assert nobody.status_code == 422 and nobody.json()["errors"][0]["field"] == "candidate"
    assert client.get("/v1/applications", headers=HR).json()["applications"] == []
    # A refused order was not remembered: fixed and sent again, it is taken.
    fixed = client.post(url, json={**ORDER, "orderId": "6000"}, headers=basic())
    assert fixed.status_code == 201


def test_orders_are_closed_when_successfactors_is_not_configured(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path), load_models=False)
    with TestClient(app, base_url="http://127.0.0.1") as test_client:
        assert test_client.post("/v1/successfactors/orders", json=ORDER, headers=basic()).status_code == 404
        assert CHANNEL not in app.state.candor.outbox.sinks


def test_the_channel_is_in_the_outbox_when_configured(client: TestClient) -> None:
    sinks = client.app.state.candor.outbox.sinks
    assert isinstance(sinks[CHANNEL], SuccessFactorsChannel) and not sinks[CHANNEL].wants("report.ready")
    document = client.get("/openapi.json").json()
    assert "/v1/successfactors/orders" in document["paths"]



def test_an_order_comes_in_and_its_report_goes_back_through_the_apps_outbox(
    tmp_path: Path, sf: FakeSuccessFactors, bank_key: tuple[bytes, bytes]
) -> None:
    """The wiring: the channel is in the app's outbox (server/app.py) and writes to the order SF sent."""
    from sqlalchemy.orm import Session

    settings = app_settings(tmp_path, sf, bank_key)
    models = Models(vad=None, asr=None, face=None, encoder=None)
    models.warm = True
    app = create_app(settings, models=models, load_models=False)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        taken = client.post("/v1/successfactors/orders", json=ORDER, headers=basic())
        assert taken.status_code == 201, taken.text
        application = client.get(f"/v1/applications/{taken.json()['applicationId']}", headers=HR).json()
        sf.orders.add(application["external_id"])
        made = message_for_application(
            application_id=application["id"], source=application["source"], external_id=application["external_id"],
            state=application["state"], status_date=datetime.now(timezone.utc), report=None,
            screening_score=application["screening"]["score"], report_url=f"{settings.base_url}/hr",
        )
        assert made is not None
        key, payload = made
        outbox = app.state.candor.outbox
        with Session(outbox.engine) as db, db.begin():
            msg_id = outbox.enqueue_to(db, CHANNEL, ASSESSMENT_TYPE, key, 1, payload)
        deadline = time.monotonic() + 15
        while not sf.reports("4711"):
            assert time.monotonic() < deadline, [a.to_dict() for a in client.portal.call(outbox.attempts, msg_id)]
            time.sleep(0.05)
        (report,) = sf.reports("4711")
        assert report["status"] == "In Progress" and report["assessmentReportDetail"] == []  # no score is mapped for an invite yet
    assert message_for_application(application_id="a", source="liepin", external_id="LP-1", state="decided",
                                   status_date=datetime.now(timezone.utc)) is None
