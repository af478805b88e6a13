"""Redirect tickets: a candidate's WHIP offer carried to another node.

A browser following a cross-origin ``307`` drops the ``Authorization`` header
(the Fetch standard removes it when a redirect leaves the origin), and so does
httpx. The node that redirects has checked the candidate's token; it puts a
short-lived ticket for that one session in the ``Location`` URL instead,
signed with the key every node shares (``CANDOR_SECRET_KEY``). The node it
points to takes the ticket in place of the token, for that session's WHIP
offer only.
"""

from __future__ import annotations

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

SALT = "candor.whip-redirect"


class TicketError(ValueError):
    """A ticket that is forged, for another session, or too old."""


class Tickets:
    def __init__(self, secret: str, *, max_age_s: int = 60) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt=SALT)
        self.max_age_s = max_age_s

    def issue(self, session_id: str, *, hops: int = 1) -> str:
        """A ticket for ``session_id``'s WHIP offer; ``hops`` counts redirects (a node never sends one on twice)."""
        return self._serializer.dumps({"s": session_id, "h": hops})

    def check(self, ticket: str, session_id: str) -> int:
        """The ticket's hop count when it is genuine, fresh and for ``session_id``; else :class:`TicketError`."""
        try:
            data = self._serializer.loads(ticket, max_age=self.max_age_s)
        except SignatureExpired:
            raise TicketError("the redirect ticket has expired") from None
        except BadSignature:
            raise TicketError("the redirect ticket is not valid") from None
        if not isinstance(data, dict) or data.get("s") != session_id:
            raise TicketError("the redirect ticket is for another session")
        return int(data.get("h", 1))
