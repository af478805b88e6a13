"""Recording the audit trail from the HTTP edge: who is asking, from where, and one call per action.

:meth:`AuditTrail.who` is the one place that says who a request is: the
signed-in user's id and role (the bootstrap admin, CANDOR_HR_TOKEN, is user
``hr`` with role ``admin``); :meth:`AuditTrail.require_reader` says who may
read the trail (the ``audit.read`` permission: ``admin``, ``auditor``).
Handlers call :meth:`AuditTrail.record` with the request (or an
:class:`Actor` for the system, a candidate or a job board), the action,
the target and ids only. The entry is written before the handler answers: a
view that cannot be recorded is not shown (the error is a 500).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Sequence

from prometheus_client import Gauge
from starlette.requests import HTTPConnection

from audit import Entry, Sealed, ref
from db import AsyncStore, utcnow

from .auth import HrAuth
from .problems import Problem

log = logging.getLogger("candor.audit")

READER_ROLES = frozenset({"admin", "auditor"})  # the roles with audit.read (server/permissions.py decides)
ANCHOR_EVERY_S = 24 * 3600


@dataclass(frozen=True)
class Actor:
    """Who did it: a user (an id, never a name), their role, and the address they came from."""

    user: str
    role: str
    address: str | None = None

    @classmethod
    def system(cls) -> "Actor":
        """Candor itself: automation's rules, the workers."""
        return cls("system", "system")

    @classmethod
    def candidate(cls, session_id: str, address: str | None = None) -> "Actor":
        """A candidate, known by the session their token opens."""
        return cls(session_id, "candidate", address)

    @classmethod
    def source(cls, name: str, address: str | None = None) -> "Actor":
        """A system that calls in: SuccessFactors, a job board (its configured name)."""
        return cls(name, "source", address)


SYSTEM = Actor.system()


class AuditTrail:
    """Appends entries to the store's audit log and keeps the chain's head in view (metrics, a daily log line)."""

    def __init__(self, store: AsyncStore, hr: HrAuth, *, trusted_proxies: Sequence[str] = (),
                 registry: Any = None, clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.hr = hr
        self.clock = clock
        self._proxies = [ipaddress.ip_network(p, strict=False) for p in trusted_proxies]
        self._anchor: asyncio.Task[None] | None = None
        self.head_id = Gauge("candor_audit_head_id", "Id of the newest audit log entry (falls only if entries were removed)",
                             registry=registry) if registry is not None else None

    # -- who ---------------------------------------------------------------------------------
    def who(self, conn: HTTPConnection) -> Actor:
        """The one place that names a request's actor: the signed-in user's id and role (server/permissions.py)."""
        principal = self.hr.resolve_conn(conn)
        if principal is not None:
            return Actor(principal.user_id, principal.role, self.address(conn))
        return Actor("anonymous", "none", self.address(conn))

    def hr_actor(self, conn: HTTPConnection, user_id: str = "hr", role: str = "admin") -> Actor:
        """A user acting from this request whose sign-in is being made (the sign-in handler: no cookie yet)."""
        return Actor(user_id, role, self.address(conn))

    def require_reader(self, conn: HTTPConnection) -> Actor:
        """Who may read the trail: the ``audit.read`` permission (admin, auditor); 401 anonymous, 403 other roles."""
        principal = self.hr.resolve_conn(conn)
        if principal is None:
            raise Problem(401, "Unauthorised", "HR sign-in required (Authorization: Bearer <token> or the HR cookie)",
                          headers={"WWW-Authenticate": "Bearer"})
        if not principal.can("audit.read"):
            raise Problem(403, "Forbidden", f"the {principal.role} role may not read the audit log", slug="forbidden")
        return Actor(principal.user_id, principal.role, self.address(conn))

    def address(self, conn: HTTPConnection) -> str | None:
        """The client's address: the direct peer, or (behind a trusted proxy) the nearest untrusted hop of X-Forwarded-For."""
        peer = conn.client.host if conn.client else None
        if not self._proxies or peer is None or not self._trusted(peer):
            return peer
        hops = [h.strip() for h in conn.headers.get("x-forwarded-for", "").split(",") if h.strip()]
        for hop in reversed(hops):  # the right end was written by our proxy; the left end by anyone
            if not self._trusted(hop):
                return hop if _is_ip(hop) else peer
        return hops[0] if hops and _is_ip(hops[0]) else peer

    def _trusted(self, host: str) -> bool:
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(ip in net for net in self._proxies)

    # -- record --------------------------------------------------------------------------------
    async def record(self, by: HTTPConnection | Actor, action: str, target_type: str, target_id: str | None = None, /,
                     **details: Any) -> Sealed:
        """Append one entry: ``by`` a request (its actor per :meth:`who`) or an :class:`Actor`; details are ids and counts."""
        actor = by if isinstance(by, Actor) else self.who(by)
        target = None if target_id is None else ref(target_id)  # a target named by a free-form key (a source) is kept as a digest
        entry = Entry(self.clock(), ref(actor.user), actor.role, action, target_type, target, actor.address, details)
        sealed = await self.store.run(self.store.store.append_audit, entry)
        if self.head_id is not None:
            self.head_id.set(sealed.id)
        return sealed

    # -- anchor -------------------------------------------------------------------------------
    async def log_head(self) -> None:
        head_id, head_hash = await self.store.run(self.store.store.audit_head)
        if self.head_id is not None and head_id is not None:
            self.head_id.set(head_id)
        if head_id is None:
            log.info("audit head: no entries yet")
        else:
            log.info("audit head: entry %d, hash %s", head_id, head_hash)

    def start(self) -> None:
        """Log the chain's head now and once a day (copy it off the box to anchor the chain: docs/audit.md)."""
        async def loop() -> None:
            while True:
                try:
                    await self.log_head()
                except Exception:
                    log.exception("audit head could not be read")
                await asyncio.sleep(ANCHOR_EVERY_S)

        self._anchor = asyncio.get_running_loop().create_task(loop(), name="audit-anchor")

    async def close(self) -> None:
        if self._anchor is not None:
            self._anchor.cancel()
            await asyncio.gather(self._anchor, return_exceptions=True)
            self._anchor = None


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True
