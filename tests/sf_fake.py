"""A stand-in SAP SuccessFactors tenant on loopback, written from SAP's documented behaviour.

What it does, and where that comes from (docs/successfactors.md has the table):

* ``POST /oauth/token`` takes the SAML 2.0 bearer grant as a form
  (``company_id``, ``client_id``, ``grant_type``, ``assertion`` = base64 of
  the signed assertion). It verifies the assertion's XML signature with the
  certificate registered for ``client_id`` (signxml's ``XMLVerifier``, on
  the signed part only), and checks the issuer, the audience
  ``www.successfactors.com``, the bearer recipient (the token URL), the
  NotBefore/NotOnOrAfter window and the company. It answers
  ``{"access_token", "token_type": "Bearer", "expires_in"}``, or 401 with
  ``{"errorMessage"}``.
* ``POST /odata/v2/upsert`` needs a live bearer token (401 otherwise) and
  takes one record or a list. Each ``JobApplicationAssessmentReport`` for a
  known order is kept; an unknown order is an ERROR record with httpCode 404,
  inside a 200, as SF reports per-record failures. The answer is
  ``{"d": [{"key", "status", "editStatus", "message", "index", "httpCode"}]}``.
* ``outage`` makes the next N upserts answer 503 (SF down for maintenance).

``reports(order_id)`` reads what it holds.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from lxml import etree
from signxml import XMLVerifier
from signxml.exceptions import SignXMLException
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.helpers import LoopbackServer, free_port

SAML = "{urn:oasis:names:tc:SAML:2.0:assertion}"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:saml2-bearer"
AUDIENCE = "www.successfactors.com"


def _instant(text: str | None) -> datetime:
    if not text:
        raise ValueError("missing time")
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass
class FakeSuccessFactors:
    """One tenant: a company, OAuth clients with their certificates, assessment orders, reports."""

    company_id: str = "BANKCN"
    token_lifetime_s: float = 3600.0
    clients: dict[str, str] = field(default_factory=dict)  # client_id (API key) -> certificate PEM
    orders: set[str] = field(default_factory=set)
    outage: int = 0  # answer 503 to this many upserts
    port: int = field(default_factory=free_port)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, float] = {}  # token -> time.monotonic() it expires
        self._reports: list[dict[str, Any]] = []
        self.token_requests: list[tuple[int, str]] = []  # (status, why) per /oauth/token call
        self.upserts: list[int] = []  # HTTP status per /odata/v2/upsert call
        self._server: LoopbackServer | None = None

    # -- what a test reads ----------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def token_url(self) -> str:
        return self.url + "/oauth/token"

    def reports(self, order_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self._reports if r["orderId"] == order_id]

    def scores(self, order_id: str) -> dict[str, str]:
        """The latest report's ``scoreComponent -> scoreValue``."""
        latest = self.reports(order_id)[-1]
        return {d["scoreComponent"]: d["scoreValue"] for d in latest["assessmentReportDetail"]}

    def expire_tokens(self) -> None:
        with self._lock:
            self._tokens = {t: 0.0 for t in self._tokens}

    # -- /oauth/token -----------------------------------------------------------------
    def _check_assertion(self, form: dict[str, str]) -> str | None:
        """Why the grant is refused, or None."""
        if form.get("grant_type") != GRANT_TYPE:
            return "unsupported grant_type"
        if form.get("company_id") != self.company_id:
            return "unknown company_id"
        client_id = form.get("client_id", "")
        cert = self.clients.get(client_id)
        if cert is None:
            return "unknown client_id"
        try:
            raw = base64.b64decode(form.get("assertion", ""), validate=True)
        except (binascii.Error, ValueError):
            return "assertion is not base64"
        try:
            verified = XMLVerifier().verify(raw, x509_cert=cert, id_attribute="ID")
        except (SignXMLException, etree.XMLSyntaxError, ValueError) as exc:
            return f"signature: {type(exc).__name__}"
        signed = verified.signed_xml  # read claims from the signed part only
        if signed is None or signed.tag != SAML + "Assertion":
            return "the signature does not cover an Assertion"
        now = datetime.now(timezone.utc)
        try:
            issuer = signed.findtext(SAML + "Issuer")
            audience = signed.findtext(f"{SAML}Conditions/{SAML}AudienceRestriction/{SAML}Audience")
            conditions = signed.find(SAML + "Conditions")
            data = signed.find(f"{SAML}Subject/{SAML}SubjectConfirmation/{SAML}SubjectConfirmationData")
            name_id = signed.findtext(f"{SAML}Subject/{SAML}NameID")
            not_before = _instant(conditions.get("NotBefore") if conditions is not None else None)
            not_after = _instant(conditions.get("NotOnOrAfter") if conditions is not None else None)
            recipient = data.get("Recipient") if data is not None else None
        except ValueError:
            return "malformed conditions"
        if issuer != client_id:
            return "issuer is not the client_id"
        if audience != AUDIENCE:
            return "wrong audience"
        if recipient != self.token_url:
            return "wrong recipient"
        if not name_id:
            return "no NameID"
        if not not_before <= now < not_after:
            return "outside NotBefore/NotOnOrAfter"
        if signed.find(SAML + "AuthnStatement") is None:
            return "no AuthnStatement"
        return None

    async def token(self, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        why = self._check_assertion(form)
        with self._lock:
            self.token_requests.append((401 if why else 200, why or "ok"))
            if why:
                return JSONResponse({"errorMessage": f"Unable to authenticate the client: {why}"}, status_code=401)
            token = secrets.token_urlsafe(24)
            self._tokens[token] = time.monotonic() + self.token_lifetime_s
        return JSONResponse({"access_token": token, "token_type": "Bearer", "expires_in": int(self.token_lifetime_s)})

    # -- /odata/v2/upsert -------------------------------------------------------------------
    def _authorised(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer "):
            return False
        with self._lock:
            until = self._tokens.get(header.removeprefix("Bearer "))
        return until is not None and time.monotonic() < until

    def _one(self, index: int, record: Any) -> dict[str, Any]:
        def error(code: int, message: str) -> dict[str, Any]:
            return {"key": None, "status": "ERROR", "editStatus": None, "message": message, "index": index, "httpCode": code, "inlineResults": None}

        if not isinstance(record, dict):
            return error(400, "[COE0001] a record is an object")
        uri = str((record.get("__metadata") or {}).get("uri", ""))
        if uri.rstrip("/").rsplit("/", 1)[-1] != "JobApplicationAssessmentReport":
            return error(400, "[COE0021] entity not supported here")
        order_id = str(record.get("orderId", ""))
        if order_id not in self.orders:
            return error(404, f"[COE0018] JobApplicationAssessmentOrder {order_id} not found")
        details = record.get("assessmentReportDetail") or []
        if not isinstance(details, list) or not all(
            isinstance(d, dict) and isinstance(d.get("scoreComponent"), str) and isinstance(d.get("scoreValue"), str) for d in details
        ):
            return error(400, "[COE0019] assessmentReportDetail rows need scoreComponent and scoreValue strings")
        if not str(record.get("statusDate", "")).startswith("/Date("):
            return error(400, "[COE0019] statusDate is not an Edm.DateTime")
        with self._lock:
            self._reports.append(record)
            report_id = len(self._reports)
        return {"key": f"JobApplicationAssessmentReport/id={report_id}", "status": "OK", "editStatus": "UPSERTED",
                "message": None, "index": index, "httpCode": 204, "inlineResults": None}

    async def upsert(self, request: Request) -> Response:
        if not self._authorised(request):
            self.upserts.append(401)
            return JSONResponse({"error": {"code": "401", "message": {"lang": "en-US", "value": "token expired or invalid"}}}, status_code=401)
        with self._lock:
            down = self.outage > 0
            if down:
                self.outage -= 1
        if down:
            self.upserts.append(503)
            return Response("down for maintenance", status_code=503)
        try:
            body = json.loads(await request.body())
        except ValueError:
            self.upserts.append(400)
            return JSONResponse({"error": {"code": "400", "message": {"value": "not JSON"}}}, status_code=400)
        records = body if isinstance(body, list) else [body]
        self.upserts.append(200)
        return JSONResponse({"d": [self._one(n, r) for n, r in enumerate(records)]})

    # -- life ------------------------------------------------------------------------------
    def start(self) -> "FakeSuccessFactors":
        app = Starlette(routes=[
            Route("/oauth/token", self.token, methods=["POST"]),
            Route("/odata/v2/upsert", self.upsert, methods=["POST"]),
        ])
        self._server = LoopbackServer(app, self.port, name="fake-successfactors").start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
