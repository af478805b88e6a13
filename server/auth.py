"""Who may do what: HR (bearer token or signed cookie) and candidates.

Tokens are compared in constant time and never logged. The HR cookie is
HttpOnly and signed; browsers need it because a WebSocket cannot carry an
Authorization header, and no token ever travels in a query string.
"""

from __future__ import annotations

import hmac
import secrets

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner
from starlette.requests import HTTPConnection

HR_COOKIE = "candor_hr"


def new_token(nbytes: int = 32) -> str:
    """A CSPRNG token (256 bits by default)."""
    return secrets.token_urlsafe(nbytes)


def bearer(conn: HTTPConnection) -> str | None:
    value = conn.headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class HrAuth:
    def __init__(self, hr_token: str, secret_key: str, max_age_s: int) -> None:
        self._token = hr_token
        self._signer = TimestampSigner(secret_key, salt="candor-hr-cookie")
        self._max_age = max_age_s

    def token_ok(self, token: str | None) -> bool:
        return isinstance(token, str) and hmac.compare_digest(token.encode(), self._token.encode())

    def cookie_value(self) -> str:
        return self._signer.sign(secrets.token_urlsafe(16)).decode()

    def cookie_ok(self, value: str | None) -> bool:
        if not value:
            return False
        try:
            self._signer.unsign(value, max_age=self._max_age)
        except (BadSignature, SignatureExpired):
            return False
        return True

    def allowed(self, conn: HTTPConnection) -> bool:
        return self.token_ok(bearer(conn)) or self.cookie_ok(conn.cookies.get(HR_COOKIE))
