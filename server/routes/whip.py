"""WHIP (RFC 9725): the candidate's media offer in, the server's answer out; admission when the server is full."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from media.offer import IceAllowList, TooManyCandidates, check_candidate_count, ice_server_hosts, keep_allowed_candidates
from media.peer import SdpError

from cluster import TicketError
from db import SessionRecord

from ..admission import Refusal, current_load
from ..openapi import Operation, Reply
from ..problems import Problem
from ._common import NO_BODY, Resource

if TYPE_CHECKING:
    from ..context import Context

log = logging.getLogger("candor")


class WhipRoutes(Resource):
    """``/whip/{session_id}`` and ``/whip/{session_id}/{connection_id}``."""

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self._ice_hosts: set[str] = set()
        self._ice_hosts_at: float | None = None

    def operations(self) -> list[Operation]:
        return [
            Operation(
                "OPTIONS", "/whip/{session_id}", self.whip_options, "WHIP: CORS preflight and Accept-Post", "whip",
                auth=None, replies={204: Reply("allowed", headers={"Accept-Post": "application/sdp"}, **NO_BODY)},
            ),
            Operation(
                "POST", "/whip/{session_id}", self.whip_post, "WHIP (RFC 9725): an SDP offer in, the answer out",
                "whip", auth="candidate", body="application/sdp",
                replies={
                    201: Reply(
                        "the SDP answer",
                        media_type="application/sdp",
                        headers={
                            "Location": "the connection's URL",
                            "ETag": "the connection",
                            "Link": 'one <url>; rel="ice-server" per ICE server',
                        },
                    ),
                    307: Reply(
                        "several nodes: another node serves this session (the one holding it, or one with room); post "
                        "the same offer there (Location carries a ticket for this session in place of the token)",
                        headers={"Location": "the other node's WHIP URL"}, **NO_BODY,
                    ),
                },
                problems=(400, 401, 403, 415, 422, 503),
            ),
            Operation(
                "OPTIONS", "/whip/{session_id}/{connection_id}", self.whip_resource_options,
                "WHIP connection: CORS preflight", "whip", auth=None, replies={204: Reply("allowed", **NO_BODY)},
            ),
            Operation(
                "DELETE", "/whip/{session_id}/{connection_id}", self.whip_delete, "WHIP: hang up", "whip",
                auth="candidate", replies={200: Reply("hung up", **NO_BODY)}, problems=(404,),
            ),
            Operation(
                "PATCH", "/whip/{session_id}/{connection_id}", self.whip_patch, "Trickle ICE (not supported)", "whip",
                auth=None, problems=(405,),
            ),
        ]

    async def whip_options(self, request: Request) -> Response:
        headers = {"Accept-Post": "application/sdp", "Allow": "OPTIONS, POST"}
        headers.update(self.ctx.cors_headers(request))
        return Response(status_code=204, headers=headers)

    async def whip_post(self, request: Request) -> Response:
        cors = self.ctx.cors_headers(request)
        record, hops = await self._candidate(request)
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/sdp":
            raise Problem(415, "Unsupported media type", "WHIP offers are sent as Content-Type: application/sdp")
        try:
            offer = (await request.body()).decode("utf-8")  # at most whip_max_offer_bytes (server/bodylimit.py)
        except UnicodeDecodeError:
            raise Problem(400, "Malformed SDP", "the offer is not UTF-8 text")
        offer = await self._allowed_candidates(offer)
        self.ctx.models()  # 503 while loading
        if self.ctx.nodes is not None:
            # Several nodes: the one holding the session serves it, else one with room (a 307), else 503.
            placement = await self.ctx.nodes.place(record.id, hops=hops, admitted=lambda: self._refusal(record.id) is None)
            if placement.url is not None:
                self.ctx.metrics.whip_redirects.inc()
                location = self.ctx.nodes.redirect_url(placement, record.id, request.url.query)
                return Response(status_code=307, headers={"Location": location, **cors})
            if placement.full:
                self._refuse(self._refusal(record.id) or Refusal("every node is at its capacity", self.ctx.admission.retry_after_s))
        if await self.ctx.sessions.consent(record.id) is None:
            raise Problem(
                403, "Consent required",
                "the candidate has not consented to analysis; POST /v1/sessions/{id}/consent first",
                slug="consent-required",
            )
        self._admit(record.id)
        await self.ctx.events_for(record.id)  # the report listener, before the live session publishes
        session = await self.ctx.sessions.live(record)
        try:
            connection = await session.connect(offer)
        except SdpError as exc:
            raise Problem(exc.status, exc.title, exc.detail, slug="sdp")
        self.ctx.metrics.whip_answers.inc()
        headers = {"Location": f"/whip/{record.id}/{connection.id}", "ETag": f'"{connection.id}"', **cors}
        response = Response(connection.answer_sdp, status_code=201, media_type="application/sdp", headers=headers)
        for link in self.ice_links():
            response.headers.append("Link", link)
        return response

    async def whip_resource_options(self, request: Request) -> Response:
        headers = {"Allow": "OPTIONS, DELETE, PATCH"}
        headers.update(self.ctx.cors_headers(request))
        return Response(status_code=204, headers=headers)

    async def whip_delete(self, request: Request) -> Response:
        record = await self.ctx.candidate(request)
        session = self.ctx.sessions.get_live(record.id)
        if session is None or not await session.hang_up(request.path_params["connection_id"]):
            raise Problem(404, "Not found", "no such connection (it may have ended already)")
        return Response(status_code=200, headers=self.ctx.cors_headers(request))

    async def whip_patch(self, request: Request) -> Response:
        raise Problem(405, "Trickle ICE not supported", "send the offer with all candidates gathered", headers={"Allow": "DELETE"})

    async def _allowed_candidates(self, offer: str) -> str:
        """The offer with only candidates the server may check (media/offer.py); 422 with too many or none left."""
        settings = self.ctx.settings
        try:
            check_candidate_count(offer, settings.whip_max_candidates)
        except TooManyCandidates as exc:
            raise Problem(422, "Too many ICE candidates", str(exc), slug="sdp")
        allow = IceAllowList(tuple(settings.ice_allow), frozenset(await self._ice_server_addresses()))
        kept_offer, kept, dropped = keep_allowed_candidates(offer, allow)
        if dropped:
            log.info("WHIP offer: %d ICE candidates outside CANDOR_ICE_ALLOW dropped, %d kept", dropped, kept)
            if not kept:
                raise Problem(
                    422, "No reachable ICE candidate",
                    "none of the offer's ICE candidates is an address this server may connect to "
                    "(CANDOR_ICE_ALLOW; on a LAN or a developer's machine: [\"public\", \"private\"])", slug="sdp",
                )
        return kept_offer

    async def _ice_server_addresses(self) -> set[str]:
        """The configured STUN/TURN servers' addresses (names resolved off the loop, kept for 5 minutes)."""
        now = time.monotonic()
        if self._ice_hosts_at is not None and now - self._ice_hosts_at < 300:
            return self._ice_hosts
        addresses: set[str] = set()
        loop = asyncio.get_running_loop()
        for host in ice_server_hosts(url for server in self.ctx.settings.ice_servers for url in server.urls):
            try:
                infos = await asyncio.wait_for(loop.getaddrinfo(host, None), 5)
            except (OSError, asyncio.TimeoutError):
                log.warning("ICE server host not resolved; its relay candidates are not allowed until it is")
                continue
            addresses.update(str(info[4][0]) for info in infos)
        self._ice_hosts, self._ice_hosts_at = addresses, now
        return addresses

    def ice_links(self) -> list[str]:
        links = []
        for server in self.ctx.settings.ice_servers:
            for url in server.urls:
                link = f'<{url}>; rel="ice-server"'
                if server.username is not None and server.credential is not None:
                    link += f'; username="{server.username}"; credential="{server.credential.get_secret_value()}"; credential-type="password"'
                links.append(link)
        return links

    async def _candidate(self, request: Request) -> tuple[SessionRecord, int]:
        """The session and how many nodes redirected the offer here: the candidate's token, or a node's ticket."""
        ticket = request.query_params.get("ticket")
        if ticket is None or self.ctx.nodes is None:
            return await self.ctx.candidate(request), 0
        session_id = request.path_params["session_id"]
        try:
            hops = self.ctx.nodes.tickets.check(ticket, session_id)
        except TicketError as exc:
            raise Problem(401, "Unauthorised", f"{exc}; post the offer to the interview link's WHIP URL again",
                          headers={"WWW-Authenticate": "Bearer"})
        record = await self.ctx.session_record(session_id)
        if record.expired():
            raise Problem(401, "Token expired", "this session's token has expired; ask for a new interview link", slug="token-expired")
        return record, hops

    def _refusal(self, session_id: str) -> Refusal | None:
        """Why this node would not take a new session now (server/admission.py); None when it would."""
        if self.ctx.sessions.holds_live(session_id):
            # a second connection replaces the first, or a dropped candidate comes back to analyzers this node
            # still runs (a draining node too): no more load than it had
            return None
        return self.ctx.admission.check(current_load(self.ctx))

    def _admit(self, session_id: str) -> None:
        """503 + Retry-After for a new session when the server is full (see server/admission.py)."""
        refusal = self._refusal(session_id)
        if refusal is not None:
            self._refuse(refusal)

    def _refuse(self, refusal: Refusal) -> None:
        reason = "capacity" if "capacity" in refusal.reason else "draining" if "draining" in refusal.reason else "overload"
        self.ctx.metrics.admission_refused.labels(reason).inc()
        log.warning("session refused: %s", refusal.reason)
        raise Problem(
            503, "Server busy", f"{refusal.reason}; try again in {refusal.retry_after_s} s",
            slug="server-busy", headers={"Retry-After": str(refusal.retry_after_s)},
        )
