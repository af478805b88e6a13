"""Who may do what: HR (bearer token or signed cookie) and candidates.

Tokens are compared in constant time and never logged. The HR cookie is
HttpOnly and signed; browsers need it because a WebSocket cannot carry an
Authorization header, and no token ever travels in a query string.

The cookie names a sign-in kept on the server (issue 12): signing out ends
it there, so a copied cookie stops working at once, not 12 h later. Sign-ins
live in this process (a restart signs HR out). A request the cookie
authenticates must come from Candor's own pages: one a browser marks as
cross-site (``Sec-Fetch-Site``, or an ``Origin`` of another host) is refused,
which is what stops a form or script on another site from acting as HR
(CSRF), whatever content type it sends. :class:`FailureLimit` counts
failed sign-ins and code exchanges per address and per account.
"""

from __future__ import annotations

import collections
import hmac
import logging
import secrets
import time
from typing import Callable, Hashable, Iterable
from urllib.parse import urlsplit

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner
from starlette.requests import HTTPConnection

HR_COOKIE = "candor_hr"


def new_token(nbytes: int = 32) -> str:
    """A CSPRNG token (256 bits by default)."""
    return secrets.token_urlsafe(nbytes)


# A token the invite exchange issued to the candidate's own page starts with this (new_token()'s
# alphabet has no "."): consent is taken only from such a token, never from HR's copy (issue 12).
EXCHANGED_PREFIX = "c."


def exchanged_token() -> str:
    return EXCHANGED_PREFIX + new_token()


def is_exchanged(token: str | None) -> bool:
    return token is not None and token.startswith(EXCHANGED_PREFIX)


def bearer(conn: HTTPConnection) -> str | None:
    value = conn.headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


audit_log = logging.getLogger("candor.audit")


def client_address(conn: HTTPConnection) -> str:
    return conn.client.host if conn.client is not None else "unknown"


def audit_failure(what: str, conn: HTTPConnection, status: int, failures: int) -> None:
    """Every failed sign-in or exchange, for the security log: what, the address, the answer, the count (never a token)."""
    audit_log.warning("auth failure: %s from %s -> %d (%d in the window)", what, client_address(conn), status, failures)


UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def cross_site(conn: HTTPConnection, own_hosts: Iterable[str] = ()) -> bool:
    """Whether the browser says this request came from another site (no such header: not a browser's cross-site request)."""
    site = conn.headers.get("sec-fetch-site")
    if site is not None:
        return site.lower() not in ("same-origin", "none")
    origin = conn.headers.get("origin")
    if origin is None:
        return False
    if origin == "null":
        return True
    hosts = {h.lower() for h in own_hosts}
    hosts.add(conn.headers.get("host", "").lower())
    return urlsplit(origin).netloc.lower() not in hosts


class FailureLimit:
    """At most ``limit`` failures per key in ``window_s``; pure, on the given clock."""

    def __init__(self, limit: int = 10, window_s: float = 900.0, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._max_keys = max_keys
        self._failures: dict[Hashable, collections.deque[float]] = {}

    def _recent(self, key: Hashable, now: float) -> collections.deque[float] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.window_s:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times

    def retry_after(self, keys: Iterable[Hashable]) -> int | None:
        """Seconds until the most limited key may fail again; None when none is at its limit."""
        now = self._clock()
        waits = []
        for key in keys:
            times = self._recent(key, now)
            if times is not None and len(times) >= self.limit:
                waits.append(times[len(times) - self.limit] + self.window_s - now)
        return max(1, int(max(waits)) + 1) if waits else None

    def failed(self, keys: Iterable[Hashable]) -> int:
        """Count a failure against each key; the most failures any of them has now."""
        now = self._clock()
        if len(self._failures) >= self._max_keys:
            for key in list(self._failures)[: self._max_keys // 10]:
                self._recent(key, now)
        most = 0
        for key in keys:
            times = self._recent(key, now)
            if times is None:
                times = self._failures[key] = collections.deque(maxlen=self.limit * 2)
            times.append(now)
            most = max(most, len(times))
        return most


class HrAuth:
    def __init__(
        self, hr_token: str, secret_key: str, max_age_s: int, *, own_hosts: Iterable[str] = (),
        failures: FailureLimit | None = None, clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._token = hr_token
        self._signer = TimestampSigner(secret_key, salt="candor-hr-cookie")
        self._max_age = max_age_s
        self._clock = clock
        self._sign_ins: dict[str, float] = {}  # sign-in id -> when it ends (clock)
        self.own_hosts = tuple(own_hosts)
        self.failures = failures or FailureLimit()

    def token_ok(self, token: str | None) -> bool:
        return isinstance(token, str) and hmac.compare_digest(token.encode(), self._token.encode())

    def cookie_value(self) -> str:
        """A new sign-in: its id, signed, for the cookie."""
        now = self._clock()
        for sid in [sid for sid, ends in self._sign_ins.items() if ends <= now]:
            del self._sign_ins[sid]
        sid = secrets.token_urlsafe(16)
        self._sign_ins[sid] = now + self._max_age
        return self._signer.sign(sid).decode()

    def _sign_in(self, value: str | None) -> str | None:
        if not value:
            return None
        try:
            sid = self._signer.unsign(value, max_age=self._max_age).decode()
        except (BadSignature, SignatureExpired, UnicodeDecodeError):
            return None
        ends = self._sign_ins.get(sid)
        return sid if ends is not None and ends > self._clock() else None

    def cookie_ok(self, value: str | None) -> bool:
        return self._sign_in(value) is not None

    def revoke(self, value: str | None) -> bool:
        """End the sign-in this cookie names (signing out); whether there was one."""
        sid = self._sign_in(value)
        return sid is not None and self._sign_ins.pop(sid, None) is not None

    def cookie_cross_site(self, conn: HTTPConnection) -> bool:
        """A cookie-authenticated request (no bearer token) that changes something, or a WebSocket, sent from another site."""
        if self.token_ok(bearer(conn)) or not self.cookie_ok(conn.cookies.get(HR_COOKIE)):
            return False
        if conn.scope["type"] == "http" and conn.scope.get("method", "GET") not in UNSAFE_METHODS:
            return False
        return cross_site(conn, self.own_hosts)

    def allowed(self, conn: HTTPConnection) -> bool:
        if self.token_ok(bearer(conn)):
            return True
        return self.cookie_ok(conn.cookies.get(HR_COOKIE)) and not self.cookie_cross_site(conn)
