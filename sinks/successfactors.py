"""SAP SuccessFactors: interview results into the job application, as an assessment vendor writes them.

SuccessFactors Recruiting (RCM) lets a third-party assessment vendor run a
step of the hiring pipeline. When a candidate reaches the assessment status,
SF raises an assessment order (the ``rcm_assessment_alert`` event, an order
id per application and package); the vendor runs the assessment and writes
the result back as a ``JobApplicationAssessmentReport`` (OData v2) whose
``assessmentReportDetail`` rows are ``scoreComponent``/``scoreValue`` pairs.
The order's way in is ``server/routes/successfactors.py``; this module is the
way back out (docs/successfactors.md says what was checked against SAP's
documentation and what still needs a real tenant).

What the automation enqueues for this channel is the payload
:func:`assessment_payload` builds (:func:`scores_from_report` reads the
scores out of an interview report)::

    outbox.enqueue_to(db, "successfactors", ASSESSMENT_TYPE,
                      key=f"{application_id}:{state}", version=report_version, payload=...)

    {
      "order_id": "4711",                      # SF's assessment order id (the application's external_id)
      "state": "decided",                      # the Candor application state the report is for
      "status_date": "2026-12-05T21:00:00Z",   # when it got there (UTC, ISO 8601)
      "report_url": "https://interview.bank.cn/hr/applications/a1",
      "scores": {"overall": 82.5, "recommendation": "strong", "decision": "advance",
                 "screening_match": 0.71, "competency:client_focus": 80.0}
    }

The outbox keeps one message per (channel, type, key, version): a new state
or a new report version is a new message, a retry of one is the same.
Scores are keyed by Candor's names; which of them become which
``scoreComponent`` in SF, how a value is written (SF's reporting reads a
Recommendation as 1 to 4), and which state means which SF status are
configuration (:class:`SuccessFactorsMapping`), not code.

The pure core: :func:`build_assertion` (the SAML 2.0 bearer assertion, signed
RSA-SHA256 with the bank's key), :func:`upsert_body` (payload + mapping ->
the OData upsert body) and :func:`read_upsert` (the per-record results: SF
answers 200 even when a record failed). :class:`SuccessFactorsChannel` is the
thin async shell the outbox calls (:class:`sinks.channel.Channel`). Logs
carry the delivery id, order id and status codes only, never scores.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Mapping

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from signxml import CanonicalizationMethod, XMLSigner

from .channel import AddressedChannel, SendResult, result_since

log = logging.getLogger("candor.sinks.successfactors")

CHANNEL = "successfactors"
ASSESSMENT_TYPE = "successfactors.assessment"  # the outbox message type this channel takes
ENTITY = "JobApplicationAssessmentReport"
DETAIL_ENTITY = "JobApplicationAssessmentReportDetail"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:saml2-bearer"
SAML_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
USER_AGENT = "Candor-SuccessFactors/1"
TOKEN_MARGIN_S = 60.0  # a cached token is renewed this long before SF says it expires
_MESSAGE_CODE = re.compile(r"^\s*\[?([A-Z]{2,}[A-Z0-9_]*\d+)\]?")  # "[COE0019] ..." -> COE0019


# -- configuration ------------------------------------------------------------------
class SuccessFactorsMapping(BaseModel):
    """What Candor's names become in SF. Defaults follow SAP's notes on the assessment report.

    ``components``: Candor score key -> ``scoreComponent``. SF's recruiting
    reports read the components named ``Score`` and ``Recommendation`` (any
    case); others show on the application's assessment portlet.
    ``values``: per score key, Candor's value -> the value written. SF reads
    a Recommendation as 1 Recommended, 2 Recommended with Qualifications,
    3 Recommended with Reservations, 4 Not Recommended; Candor's
    recommendation is its report's band (strong, consider, not_yet). A key
    with a table must find its value there; a key without one is sent as is.
    ``statuses``: Candor application state -> the report's ``status``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    components: dict[str, str] = Field(
        default_factory=lambda: {"overall": "Score", "recommendation": "Recommendation", "decision": "HR Decision"}
    )
    values: dict[str, dict[str, str]] = Field(
        default_factory=lambda: {"recommendation": {"strong": "1", "consider": "2", "not_yet": "4"}}
    )
    statuses: dict[str, str] = Field(
        default_factory=lambda: {"invited": "In Progress", "interviewing": "In Progress", "interviewed": "Completed", "decided": "Completed"}
    )
    # Where the order endpoint finds the Candor job for an order: SF's job
    # requisition id first, then the assessment package code.
    requisitions: dict[str, str] = Field(default_factory=dict)
    packages: dict[str, str] = Field(default_factory=dict)


class SuccessFactorsConfig(BaseModel):
    """``CANDOR_SUCCESSFACTORS``: one SF tenant (JSON), e.g.::

        {"api_base": "https://api55.sapsf.eu", "company_id": "BANKCN", "client_id": "<API key>",
         "user_id": "candor_api", "private_key_file": "/run/secrets/sf-key.pem",
         "certificate_file": "/run/secrets/sf-cert.pem", "order_secret": "...",
         "mapping": {"packages": {"CANDOR_WM": "wealth_manager"}}}

    ``client_id`` is the API key SF's "Manage OAuth2 Client Applications"
    gives for the X.509 certificate registered there; ``user_id`` is the SF
    user the API acts as (the assertion's NameID). ``recipient`` defaults to
    the token URL. ``order_secret`` is the password SF's event subscription
    sends (HTTP Basic, user ``order_user``) to ``POST /v1/successfactors/orders``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    api_base: str = Field(pattern=r"^https?://")
    token_url: str | None = Field(default=None, pattern=r"^https?://")
    company_id: str = Field(min_length=1)
    client_id: str = Field(min_length=1)
    user_id: str = Field(min_length=1)
    private_key: SecretStr | None = None
    private_key_file: Path | None = None
    certificate: str | None = None
    certificate_file: Path | None = None
    audience: str = "www.successfactors.com"
    recipient: str | None = None
    assertion_lifetime_s: int = Field(default=600, gt=0, le=3600)  # SAP's tool: 10 minutes by default
    timeout_s: float = Field(default=20.0, gt=0, le=300)
    horizon_s: float = Field(default=3 * 24 * 3600.0, gt=0)
    rate_per_min: int | None = Field(default=None, gt=0)
    mapping: SuccessFactorsMapping = Field(default_factory=SuccessFactorsMapping)
    order_user: str = "successfactors"
    order_secret: SecretStr | None = None

    @model_validator(mode="after")
    def _one_key_one_cert(self) -> "SuccessFactorsConfig":
        if (self.private_key is None) == (self.private_key_file is None):
            raise ValueError("give private_key (PEM) or private_key_file, one of them")
        if (self.certificate is None) == (self.certificate_file is None):
            raise ValueError("give certificate (PEM) or certificate_file, one of them")
        return self

    @property
    def token_endpoint(self) -> str:
        return self.token_url or self.api_base.rstrip("/") + "/oauth/token"

    @property
    def upsert_endpoint(self) -> str:
        return self.api_base.rstrip("/") + "/odata/v2/upsert"

    def key_pem(self) -> bytes:
        if self.private_key is not None:
            return self.private_key.get_secret_value().encode()
        assert self.private_key_file is not None
        return self.private_key_file.read_bytes()

    def certificate_pem(self) -> bytes:
        if self.certificate is not None:
            return self.certificate.encode()
        assert self.certificate_file is not None
        return self.certificate_file.read_bytes()


# -- the payload ----------------------------------------------------------------------
def assessment_payload(
    *,
    order_id: str,
    state: str,
    status_date: datetime,
    report_url: str | None,
    scores: Mapping[str, float | int | str],
) -> dict[str, Any]:
    """What to enqueue for this channel: one report of one order, in Candor's terms.

    ``state`` is the application's state (invited, interviewed, decided...);
    the mapping says which SF status it is. ``scores`` keys are Candor's
    (overall, recommendation, screening_match, a competency id...); only those
    the mapping names are sent.
    """
    if not order_id:
        raise ValueError("order_id is SF's assessment order id (the application's external_id)")
    if status_date.tzinfo is None:
        raise ValueError("status_date must carry its time zone")
    stamp = status_date.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    return {
        "order_id": str(order_id),
        "state": state,
        "status_date": stamp,
        "report_url": report_url,
        "scores": {str(k): v for k, v in scores.items()},
    }


def scores_from_report(report: Mapping[str, Any] | None, *, screening_score: float | None = None) -> dict[str, float | str]:
    """Candor's scores for :func:`assessment_payload`, from an interview report (reports/builder.py).

    ``overall`` (0-100), ``recommendation`` (the band: strong, consider,
    not_yet), ``decision`` (HR's: advance, hold, reject) once made,
    ``competency:<id>`` per scored competency, and ``screening_match`` when
    given (the resume screening's score). Missing parts are left out.
    """
    out: dict[str, float | str] = {}
    if screening_score is not None:
        out["screening_match"] = screening_score
    if not report:
        return out
    if report.get("overall") is not None:
        out["overall"] = report["overall"]
    band = (report.get("recommendation") or {}).get("band")
    if band:
        out["recommendation"] = band
    decision = (report.get("decision") or {}).get("decision")
    if decision:
        out["decision"] = decision
    for competency in report.get("competencies") or []:
        if competency.get("score") is not None and competency.get("id"):
            out[f"competency:{competency['id']}"] = competency["score"]
    return out


def message_for_application(
    *,
    application_id: str,
    source: str | None,
    external_id: str | None,
    state: str,
    status_date: datetime,
    report: Mapping[str, Any] | None = None,
    screening_score: float | None = None,
    report_url: str | None = None,
) -> tuple[str, dict[str, Any]] | None:
    """The outbox key and payload of an application's report to SF; None unless SF ordered it.

    Only applications that came in as an SF order (source ``successfactors``,
    external_id = the order id) have an order to write to. Enqueue with
    ``Outbox.enqueue_to(db, CHANNEL, ASSESSMENT_TYPE, key, version, payload)``,
    ``version`` the report's version (1 before there is a report).
    """
    if source != CHANNEL or not external_id:
        return None
    payload = assessment_payload(
        order_id=external_id, state=state, status_date=status_date, report_url=report_url,
        scores=scores_from_report(report, screening_score=screening_score),
    )
    return f"{application_id}:{state}", payload


class MappingError(ValueError):
    """The payload names something the configured mapping does not: fix the configuration, then replay."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def odata_date(value: datetime) -> str:
    """OData v2 JSON's Edm.DateTime: ``/Date(<ms since the epoch, UTC>)/``."""
    return f"/Date({int(value.astimezone(timezone.utc).timestamp() * 1000)})/"


def _score_text(value: Any) -> str:
    if isinstance(value, bool):
        raise MappingError("bad_score", "a score is a number or a text, not a boolean")
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def upsert_body(payload: Mapping[str, Any], mapping: SuccessFactorsMapping, *, api_base: str) -> dict[str, Any]:
    """The ``/odata/v2/upsert`` body for one payload: a ``JobApplicationAssessmentReport`` with its details.

    :class:`MappingError` when the state has no SF status, or a value with a
    table (a recommendation) is not in it. Scores the mapping does not name are left out.
    """
    state = payload.get("state")
    status = mapping.statuses.get(str(state))
    if status is None:
        raise MappingError("unmapped_status", f"no SF status is configured for the state {state!r}")
    try:
        when = datetime.fromisoformat(str(payload["status_date"]).replace("Z", "+00:00"))
        order_id = str(payload["order_id"])
    except (KeyError, ValueError):
        raise MappingError("bad_payload", "the payload needs order_id and an ISO 8601 status_date") from None
    base = api_base.rstrip("/") + "/odata/v2/"
    details = []
    for key, value in (payload.get("scores") or {}).items():
        component = mapping.components.get(key)
        if component is None or value is None:
            continue
        table = mapping.values.get(key)
        if table is not None:
            coded = table.get(str(value))
            if coded is None:
                raise MappingError("unmapped_value", f"no SF value is configured for the {key} {value!r}")
            value = coded
        details.append(
            {
                "__metadata": {"uri": base + DETAIL_ENTITY, "type": "SFOData." + DETAIL_ENTITY},
                "scoreComponent": component,
                "scoreValue": _score_text(value),
            }
        )
    body: dict[str, Any] = {
        "__metadata": {"uri": base + ENTITY, "type": "SFOData." + ENTITY},
        "orderId": order_id,
        "status": status,
        "statusDate": odata_date(when),
        "assessmentReportDetail": details,
    }
    if payload.get("report_url"):
        body["reportURL"] = payload["report_url"]
    return body


# -- the answer ------------------------------------------------------------------------
@dataclass(frozen=True)
class RecordResult:
    """One record of an upsert's answer (``{"d": [{key, status, editStatus, message, index, httpCode}]}``)."""

    index: int
    ok: bool
    http_code: int | None
    key: str | None
    edit_status: str | None
    message: str | None

    @property
    def code(self) -> str:
        """SF's message code (``COE0019``) when the message starts with one, else the record's status."""
        match = _MESSAGE_CODE.match(self.message or "")
        return match.group(1) if match else ("OK" if self.ok else "ERROR")


def read_upsert(answer: Any) -> list[RecordResult]:
    """The per-record results of an upsert; ``ValueError`` if the answer is not that shape."""
    records = answer.get("d") if isinstance(answer, dict) else None
    if isinstance(records, dict):  # some answers wrap the list: {"d": {"results": [...]}}
        records = records.get("results")
    if not isinstance(records, list) or not records:
        raise ValueError("an upsert answer is {'d': [one result per record]}")
    out = []
    for n, record in enumerate(records):
        if not isinstance(record, dict):
            raise ValueError("each upsert result is an object")
        code = record.get("httpCode")
        out.append(
            RecordResult(
                index=int(record.get("index", n) or n),
                ok=str(record.get("status", "")).upper() == "OK",
                http_code=int(code) if isinstance(code, (int, str)) and str(code).isdigit() else None,
                key=record.get("key"),
                edit_status=record.get("editStatus"),
                message=record.get("message"),
            )
        )
    return out


def outcome(records: list[RecordResult]) -> tuple[int, str | None]:
    """All records OK -> 200; else the first failed record's httpCode (500 if it has none) and ``sf:<code>``."""
    for record in records:
        if not record.ok:
            status = record.http_code if record.http_code and record.http_code >= 400 else 500
            return status, f"sf:{record.code}"
    return 200, None


# -- the SAML bearer assertion -----------------------------------------------------------------
def _instant(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_assertion(
    *,
    client_id: str,
    user_id: str,
    audience: str,
    recipient: str,
    key_pem: bytes,
    cert_pem: bytes,
    now: datetime,
    lifetime_s: int = 600,
    assertion_id: str | None = None,
) -> bytes:
    """A SAML 2.0 assertion for SF's ``/oauth/token``, enveloped-signed (RSA-SHA256, exclusive c14n).

    Issuer = the OAuth client id (API key); Subject NameID = the SF user id,
    confirmed as bearer for ``recipient`` until NotOnOrAfter; Conditions with
    the audience ``www.successfactors.com``; an AuthnStatement; and the
    ``api_key`` attribute SAP's sample assertion carries. Returns the XML bytes.
    """
    ident = assertion_id or "_" + uuid.uuid4().hex
    not_before = now - timedelta(seconds=60)  # other clocks run a little behind
    not_after = now + timedelta(seconds=lifetime_s)
    S = "{%s}" % SAML_NS
    root = etree.Element(S + "Assertion", nsmap={"saml2": SAML_NS}, ID=ident, IssueInstant=_instant(now), Version="2.0")
    etree.SubElement(root, S + "Issuer").text = client_id
    # signxml replaces this placeholder, so the signature sits after Issuer as SAML's schema wants.
    etree.SubElement(root, "{%s}Signature" % DS_NS, nsmap={"ds": DS_NS}, Id="placeholder")
    subject = etree.SubElement(root, S + "Subject")
    name_id = etree.SubElement(subject, S + "NameID", Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified")
    name_id.text = user_id
    confirmation = etree.SubElement(subject, S + "SubjectConfirmation", Method="urn:oasis:names:tc:SAML:2.0:cm:bearer")
    etree.SubElement(confirmation, S + "SubjectConfirmationData", NotOnOrAfter=_instant(not_after), Recipient=recipient)
    conditions = etree.SubElement(root, S + "Conditions", NotBefore=_instant(not_before), NotOnOrAfter=_instant(not_after))
    restriction = etree.SubElement(conditions, S + "AudienceRestriction")
    etree.SubElement(restriction, S + "Audience").text = audience
    authn = etree.SubElement(root, S + "AuthnStatement", AuthnInstant=_instant(now), SessionIndex=ident)
    context = etree.SubElement(authn, S + "AuthnContext")
    etree.SubElement(context, S + "AuthnContextClassRef").text = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
    attributes = etree.SubElement(root, S + "AttributeStatement")
    attribute = etree.SubElement(attributes, S + "Attribute", Name="api_key")
    etree.SubElement(attribute, S + "AttributeValue").text = client_id
    signer = XMLSigner(
        signature_algorithm="rsa-sha256", digest_algorithm="sha256", c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0
    )
    signed = signer.sign(root, key=key_pem, cert=cert_pem.decode(), reference_uri=ident, id_attribute="ID")
    return etree.tostring(signed)


def check_key_pair(key_pem: bytes, cert_pem: bytes) -> None:
    """``ValueError`` unless the key is an RSA private key and the certificate holds its public half."""
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
        cert = x509.load_pem_x509_certificate(cert_pem)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"the SuccessFactors key or certificate is not PEM: {type(exc).__name__}") from None
    pub = serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(*pub) != cert.public_key().public_bytes(*pub):
        raise ValueError("the SuccessFactors certificate is not the private key's")


# -- the channel ------------------------------------------------------------------------
class TokenRefused(Exception):
    def __init__(self, status: int | None, error: str) -> None:
        super().__init__(error)
        self.status = status
        self.error = error


class SuccessFactorsChannel(AddressedChannel[SuccessFactorsConfig]):
    """The outbox's way into SF (:class:`sinks.channel.Channel`): one upsert per message.

    The access token is cached until shortly before it expires and fetched
    again once when SF answers 401. Results map onto the outbox's statuses:
    every record OK -> 200; a record in ERROR -> its ``httpCode`` (a 4xx is a
    dead letter HR can replay, a 5xx is retried) with ``sf:<message code>``;
    a refused token -> the token endpoint's status with ``sf:token:<status>``;
    no answer -> retried. A payload the mapping cannot write -> 422
    (``sf:unmapped_status``...): fix the mapping, then replay.
    """

    def __init__(self, config: SuccessFactorsConfig, *, clock: Any = None) -> None:
        super().__init__(CHANNEL, config, rate_per_min=config.rate_per_min)
        self._key = config.key_pem()
        self._cert = config.certificate_pem()
        check_key_pair(self._key, self._cert)
        self._clock = clock or (lambda: datetime.now(timezone.utc))
        self._token: str | None = None
        self._token_until = 0.0  # time.monotonic()
        self._lock = asyncio.Lock()
        self.tokens_fetched = 0

    def assertion(self) -> str:
        """The base64 of a freshly signed assertion, as the token endpoint's ``assertion`` field."""
        c = self.config
        xml = build_assertion(
            client_id=c.client_id, user_id=c.user_id, audience=c.audience, recipient=c.recipient or c.token_endpoint,
            key_pem=self._key, cert_pem=self._cert, now=self._clock(), lifetime_s=c.assertion_lifetime_s,
        )
        return base64.b64encode(xml).decode("ascii")

    async def _access_token(self, client: httpx.AsyncClient, *, renew: bool = False) -> str:
        async with self._lock:
            if not renew and self._token is not None and time.monotonic() < self._token_until:
                return self._token
            c = self.config
            form = {"company_id": c.company_id, "client_id": c.client_id, "grant_type": GRANT_TYPE, "assertion": self.assertion()}
            response = await client.post(
                c.token_endpoint, data=form, headers={"user-agent": USER_AGENT, "accept": "application/json"}, timeout=c.timeout_s
            )
            if response.status_code != 200:
                raise TokenRefused(response.status_code, f"sf:token:{response.status_code}")
            try:
                answer = response.json()
                token = str(answer["access_token"])
                lifetime = float(answer.get("expires_in", 3600))
            except (ValueError, KeyError, TypeError):
                raise TokenRefused(502, "sf:token:malformed") from None
            self._token = token
            self._token_until = time.monotonic() + max(0.0, lifetime - TOKEN_MARGIN_S)
            self.tokens_fetched += 1
            return token

    async def _upsert(self, client: httpx.AsyncClient, token: str, body: bytes) -> httpx.Response:
        headers = {
            "authorization": f"Bearer {token}",
            "content-type": "application/json",
            "accept": "application/json",
            "user-agent": USER_AGENT,
        }
        return await client.post(self.config.upsert_endpoint, content=body, headers=headers, timeout=self.config.timeout_s)

    async def send(self, client: httpx.AsyncClient, msg_id: str, body: str) -> SendResult:
        started = time.monotonic()
        try:
            payload = json.loads(body)["data"]
            record = upsert_body(payload, self.config.mapping, api_base=self.config.api_base)
        except MappingError as exc:
            log.warning("successfactors %s: %s", msg_id, exc.code)
            return result_since(started, 422, f"sf:{exc.code}")
        except (ValueError, KeyError, TypeError):
            return result_since(started, 422, "sf:bad_payload")
        content = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        try:
            async with asyncio.timeout(self.config.timeout_s):
                token = await self._access_token(client)
                response = await self._upsert(client, token, content)
                if response.status_code == 401:  # expired or revoked early: one fresh token, one more try
                    token = await self._access_token(client, renew=True)
                    response = await self._upsert(client, token, content)
        except TokenRefused as exc:
            log.warning("successfactors %s: token refused (%s)", msg_id, exc.status)
            return result_since(started, exc.status, exc.error)
        except TimeoutError:
            return result_since(started, None, "Timeout")
        except (httpx.HTTPError, OSError) as exc:
            return result_since(started, None, type(exc).__name__)
        if response.status_code != 200:
            status, retry_after = response.status_code, response.headers.get("retry-after")
            return result_since(started, status, f"sf:http:{status}", retry_after)
        try:
            records = read_upsert(response.json())
        except ValueError:
            return result_since(started, 502, "sf:malformed_answer")
        status, error = outcome(records)
        log.info("successfactors %s: order %s -> %s %s", msg_id, record["orderId"], status, error or "")
        return result_since(started, status, error)
