"""Who may do what: HR (bearer token or signed cookie) and candidates.

Tokens are compared in constant time and never logged. The HR cookie is
HttpOnly and signed; browsers need it because a WebSocket cannot carry an
Authorization header, and no token ever travels in a query string.

The cookie names a sign-in kept in the database (issue 12): signing out ends
it there, so a copied cookie stops working at once, not 12 h later; sign-ins
survive a restart and work across nodes. A request the cookie
authenticates must come from Candor's own pages: one a browser marks as
cross-site (``Sec-Fetch-Site``, or an ``Origin`` of another host) is refused,
which is what stops a form or script on another site from acting as HR
(CSRF), whatever content type it sends. Failed sign-ins and code exchanges
are counted per address and per account by :attr:`HrAuth.failures`
(server/limits.py: in this process, or in Redis shared by every node).
"""

from __future__ import annotations

import hmac
import logging
import secrets
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Callable, Iterable
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection

from .limits import FailureLimit, Failures, LocalFailures

if TYPE_CHECKING:
    from db import AsyncStore
    from db.users import UserRepository

    from .permissions import Principal

HR_COOKIE = "candor_hr"
API_TOKEN_PREFIX = "cnd_"  # every per-user API token starts so (server/routes/users.py)


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


class HrAuth:
    """Who an HR request is (a :class:`~server.permissions.Principal`), from a bearer token or the sign-in cookie.

    * ``Authorization: Bearer <CANDOR_HR_TOKEN>``: the bootstrap admin (while ``token_enabled``);
    * ``Authorization: Bearer <an API token>``: its user, with the token's scopes (db/users.py's ``api_tokens``);
    * the ``candor_hr`` cookie: a random id naming a sign-in kept in the database (``sign_ins``, only its
      digest stored), so sign-ins survive a restart, work on every node, and end at once when revoked.

    A request that carries a bearer token is judged by the token alone (a cookie beside it is ignored).
    ``store`` is the app's :class:`~db.Store`: lookups are blocking; async code calls :meth:`principal`.
    """

    def __init__(
        self, hr_token: str, secret_key: str, max_age_s: int, *, own_hosts: Iterable[str] = (),
        failures: Failures | None = None, clock: Callable[[], float] = time.monotonic,
        store: "UserRepository | None" = None, token_enabled: bool = True, async_store: "AsyncStore | None" = None,
    ) -> None:
        self._token = hr_token
        self._max_age = max_age_s
        self._clock = clock
        self.store = store
        self.async_store = async_store
        self.token_enabled = token_enabled
        self.own_hosts = tuple(own_hosts)
        self.failures: Failures = failures or LocalFailures(FailureLimit())
        del secret_key  # the cookie is a random id looked up in the database: nothing to sign

    def token_ok(self, token: str | None) -> bool:
        """Whether this is CANDOR_HR_TOKEN (and it is still accepted)."""
        return self.token_enabled and isinstance(token, str) and hmac.compare_digest(token.encode(), self._token.encode())

    # -- who ---------------------------------------------------------------------------------
    def resolve(self, bearer_token: str | None, cookie: str | None) -> "Principal | None":
        """The principal these credentials name, or None (blocking: a database read)."""
        from .permissions import Principal

        if bearer_token is not None:
            if self.token_ok(bearer_token):
                return Principal.bootstrap("bootstrap-token")
            if self.store is None or len(bearer_token) > 256 or not bearer_token.startswith(API_TOKEN_PREFIX):
                return None  # a candidate's token, or nothing we made: no lookup
            token = self.store.api_token(bearer_token)
            if token is None:
                return None
            user = self.store.get_user(token.user_id)
            if user is None or user.disabled:
                return None
            return Principal.of(user.id, user.role, user.login, user.job_ids, "api-token", scopes=token.scopes, token_id=token.id)
        if not cookie or len(cookie) > 256 or self.store is None:
            return None
        sign_in = self.store.sign_in(cookie)
        if sign_in is None:
            return None
        if sign_in.user_id == "hr":
            return Principal.bootstrap("cookie") if self.token_enabled else None
        user = self.store.get_user(sign_in.user_id)
        if user is None or user.disabled:
            return None
        return Principal.of(user.id, user.role, user.login, user.job_ids, "cookie")

    def resolve_conn(self, conn: HTTPConnection) -> "Principal | None":
        """Blocking: for a WebSocket's handshake and code outside the operations table (prefer :meth:`principal`)."""
        cached = conn.scope.get("state", {}).get("principal")
        if cached is not None:
            return cached
        return self.resolve(bearer(conn), conn.cookies.get(HR_COOKIE))

    async def principal(self, conn: HTTPConnection) -> "Principal | None":
        """Who this request is, looked up off the event loop (on the store's thread)."""
        token, cookie = bearer(conn), conn.cookies.get(HR_COOKIE)
        if token is not None and self.token_ok(token):
            from .permissions import Principal

            return Principal.bootstrap("bootstrap-token")
        if token is None and not cookie:
            return None
        if self.async_store is None:
            return self.resolve(token, cookie)
        return await self.async_store.run(self.resolve, token, cookie)

    # -- sign-ins -------------------------------------------------------------------------------
    def new_sign_in(self, user_id: str, method: str) -> str:
        """A new sign-in for this user (blocking): the cookie's value (a random id; the database keeps its digest)."""
        assert self.store is not None
        value = secrets.token_urlsafe(32)
        self.store.create_sign_in(value, user_id, method, timedelta(seconds=self._max_age))
        return value

    def cookie_ok(self, value: str | None) -> bool:
        return bool(value) and self.store is not None and len(value) <= 256 and self.resolve(None, value) is not None

    def revoke(self, value: str | None) -> bool:
        """End the sign-in this cookie names (signing out); whether there was one (blocking)."""
        return bool(value) and self.store is not None and len(value) <= 256 and self.store.revoke_sign_in(value)

    def cookie_cross_site(self, conn: HTTPConnection) -> bool:
        """A cookie-authenticated request (no bearer token) that changes something, or a WebSocket, sent from another site."""
        if bearer(conn) is not None or not conn.cookies.get(HR_COOKIE):
            return False
        if conn.scope["type"] == "http" and conn.scope.get("method", "GET") not in UNSAFE_METHODS:
            return False
        return cross_site(conn, self.own_hosts)

    def allowed(self, conn: HTTPConnection) -> bool:
        """Signed in as anyone (blocking; the WebSocket's check)."""
        return not self.cookie_cross_site(conn) and self.resolve_conn(conn) is not None
