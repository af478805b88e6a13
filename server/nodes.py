"""This app as one node of several (cluster/, docs/deploy.md): what the routes and the registry ask of the others.

:class:`Nodes` exists when ``CANDOR_REDIS_URL`` is set. It decides where a
candidate's WHIP offer is served (here, the node holding the session, another
node with room, or nowhere: 503), carries committed events to the other
nodes' watchers, follows a session's events for a watcher on any node, and
sends a request about a session held elsewhere (a consent, an HR decision, an
erasure) to its holder. Everything that crosses Redis is sealed with the
session's data key (vault/): Redis may persist to disk, personal data must
not reach it in the clear.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Awaitable, Callable

import msgpack
from redis.exceptions import RedisError

from cluster import Cluster, NodeInfo, Ownership, Tickets
from db import AsyncStore
from events import Event, Payload, payload_from_dict

from .headers import origin_of

if TYPE_CHECKING:
    from .live import SessionRegistry

log = logging.getLogger(__name__)

STREAM_CONTEXT = "redis.events"  # the sealed stream entries' context (vault AAD)
INBOX_CONTEXT = "redis.inbox"
HISTORY_PAGE = 500
# A watcher on any node that reads a session's partials says so in Redis every READER_REFRESH_S, for
# READER_TTL_S; the holder looks twice as often and decodes partials only while someone reads them.
READER_REFRESH_S = 3.0
READER_TTL_S = 10.0


@dataclass(frozen=True)
class Placement:
    """Where a WHIP offer goes: here (``node`` None), another node (a 307 to ``url``), or nowhere (503)."""

    url: str | None = None
    node: NodeInfo | None = None
    full: bool = False


class RemoteEvents:
    """A session's events when another node holds the session: publishing goes to that node's inbox."""

    def __init__(self, nodes: Nodes, session_id: str, owner: str) -> None:
        self.session_id = session_id
        self.owner = owner
        self._nodes = nodes
        self.listeners: list[Callable[[Event], None]] = []  # run on the holder, never here
        self.watcher_count = 0

    def publish(self, media_time: float | None, payload: Payload) -> None:
        """Sent to the holder, which stamps and logs it (returns before it is there)."""
        self._nodes.forward(self.owner, "publish", self.session_id, {"media_time": media_time, "type": str(payload.type),
                                                                    "payload": payload.to_dict()})

    async def flush(self) -> None:
        """Nothing of this session's waits on this node."""


class Nodes:
    def __init__(self, cluster: Cluster, store: AsyncStore, tickets: Tickets) -> None:
        self.cluster = cluster
        self.store = store
        self.tickets = tickets
        self.registry: SessionRegistry | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._sweeper: asyncio.Task[None] | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self.forward_failures = 0
        self._origins: list[str] = []
        self._origins_at: float | None = None

    @property
    def node_id(self) -> str:
        return self.cluster.node_id

    async def start(self, registry: SessionRegistry, status: Callable[[], dict]) -> None:
        self.registry = registry
        self.cluster.on_lost = registry.lost
        self.cluster.connected = registry.connected_ids
        await self.cluster.start(status, self._handle)
        loop = asyncio.get_running_loop()
        self._sweeper = loop.create_task(self._sweep(), name="cluster-release")
        self._reader_task = loop.create_task(self._readers(), name="cluster-readers")

    async def connected(self, session_ids: list[str]) -> set[str]:
        """Those of ``session_ids`` with a candidate connected to any node (as of the nodes' last heartbeats).

        Redis unreachable: only this node's own (logged), so a list still answers.
        """
        here = {s for s in session_ids if self.registry is not None and self.registry.is_connected(s)}
        try:
            return here | set(await self.cluster.connected_among([s for s in session_ids if s not in here]))
        except (RedisError, OSError) as exc:
            log.warning("cannot ask Redis which candidates are connected to other nodes (%s)", type(exc).__name__)
            return here

    async def close(self) -> None:
        for task in (self._sweeper, self._reader_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=5)
        await self.cluster.close()

    async def _sweep(self) -> None:
        """Let go of sessions held for a one-off write (a consent before the media, a decision after it)."""
        while True:
            await asyncio.sleep(self.cluster.heartbeat_s / 2)
            try:
                assert self.registry is not None
                await self.registry.release_unused()
            except (RedisError, OSError) as exc:
                log.error("releasing unused sessions failed (%s)", type(exc).__name__)
            except Exception:
                log.exception("releasing unused sessions failed")

    async def claim(self, session_id: str) -> Ownership:
        """Hold the session (cluster/node.py), or learn who does; with Redis unreachable, this node serves it.

        Redis down must not stop interviews: the candidate who reached this node is served here (as on one
        box), at the small risk that another node serves the same session meanwhile.
        """
        try:
            return await self.cluster.claim(session_id)
        except (RedisError, OSError) as exc:
            log.error("Redis unreachable (%s): this node serves the session on its own", type(exc).__name__)
            return Ownership(self.node_id, True)

    async def holder(self, session_id: str) -> str | None:
        """Another live node holding the session, or None (nobody, this node, or Redis unreachable)."""
        try:
            owner = await self.cluster.owner(session_id)
        except (RedisError, OSError) as exc:
            log.error("Redis unreachable (%s): the session's holder is not known", type(exc).__name__)
            return None
        return owner if owner != self.node_id else None

    async def let_go(self, session_id: str) -> None:
        """Release the session and drop its stream (erasure); Redis unreachable: its keys expire on their own."""
        try:
            await self.cluster.release(session_id)
            await self.cluster.drop_events(session_id)
        except (RedisError, OSError) as exc:
            log.error("Redis unreachable (%s): the session's keys expire on their own", type(exc).__name__)

    # -- placement ---------------------------------------------------------------------
    async def place(self, session_id: str, *, hops: int, admitted: Callable[[], bool]) -> Placement:
        """Where this candidate's offer is served. ``admitted()``: this node would take it (server/admission.py).

        The node holding the session serves it (a reconnect goes back to its analyzers); nobody holds it, or its
        holder is dead: this node takes it if it has room, else the node with the most room; a redirected offer
        (``hops`` > 0) is never sent on again, so two nodes cannot bounce a candidate between them.
        """
        try:
            return await self._place(session_id, hops=hops, admitted=admitted)
        except (RedisError, OSError) as exc:
            log.error("Redis unreachable while placing (%s): this node decides alone", type(exc).__name__)
            return Placement() if admitted() else Placement(full=True)

    async def _place(self, session_id: str, *, hops: int, admitted: Callable[[], bool]) -> Placement:
        ownership = await self.claim(session_id)
        if not ownership.mine:
            holder = await self.cluster.node(ownership.owner)
            if holder is not None and hops == 0:
                return Placement(url=holder.url, node=holder)
            return Placement(full=True)
        if admitted():
            if ownership.taken_over:
                log.warning("session %s taken over from a node that stopped", session_id)
            return Placement()
        assert self.registry is not None
        if not self.registry.holds_live(session_id):
            await self.cluster.release(session_id)
        if hops == 0:
            other = await self.cluster.place(exclude={self.node_id})
            if other is not None:
                return Placement(url=other.url, node=other)
        return Placement(full=True)

    def redirect_url(self, placement: Placement, session_id: str, query: str) -> str:
        """The other node's WHIP URL for this session, with a ticket in place of the token (cluster/tickets.py)."""
        assert placement.url is not None
        extra = "&".join(p for p in query.split("&") if p and not p.startswith("ticket="))
        ticket = self.tickets.issue(session_id)
        return f"{placement.url}/whip/{session_id}?ticket={ticket}" + (f"&{extra}" if extra else "")

    async def origins(self) -> list[str]:
        """The live nodes' origins (scheme://host:port), for the candidate page's CSP: its offer may follow a 307 there."""
        now = time.monotonic()
        if self._origins_at is None or now - self._origins_at > 10:
            try:
                found = {origin_of(n.url) for n in await self.cluster.nodes()}
            except (RedisError, OSError):
                found = set(self._origins)  # the last known: Redis down does not break the page
            self._origins, self._origins_at = sorted(found), now
        return self._origins

    # -- events across nodes -----------------------------------------------------------
    async def committed(self, batch: list[Event]) -> None:
        """After the event writer's commit: the batch onto the sessions' streams (sealed)."""
        vault = self.store.store.vault

        def seal() -> list[tuple[str, int, bytes]]:
            out = []
            for event in batch:
                try:
                    out.append((event.session_id, event.seq, vault.seal_json(event.session_id, event.to_dict(), STREAM_CONTEXT)))
                except Exception:  # an erased session's late event: its key is gone, nobody may read it
                    continue
            return out

        items = await self.store.run(seal)
        if items:
            try:
                await self.cluster.add_events(items)
            except (RedisError, OSError) as exc:
                # watchers on other nodes read these from the database when their stream is quiet
                log.error("events not carried to the other nodes (%s): they read the database", type(exc).__name__)

    async def follow(self, session_id: str, from_seq: int, send: Callable[[dict[str, Any]], Awaitable[None]],
                     *, quiet_ms: int = 2000, partials: bool = True) -> None:
        """A session's events from ``from_seq`` on, whichever node holds it: the database, then the stream.

        Each event once, in seq order: a gap in the stream (Redis restarted, a takeover) is filled from the
        database, and when the stream is quiet the database is asked for anything it missed. With
        ``partials``, the holder is told (through Redis) that someone reads its partials while this runs.
        """
        if not partials:
            return await self._follow(session_id, from_seq, send, quiet_ms)
        token = secrets.token_hex(8)
        marker = asyncio.get_running_loop().create_task(self._mark_reader(session_id, token), name=f"reader:{session_id}")
        try:
            return await self._follow(session_id, from_seq, send, quiet_ms)
        finally:
            marker.cancel()
            with contextlib.suppress(RedisError, OSError, asyncio.TimeoutError):
                await asyncio.wait_for(self.cluster.unmark_reader(session_id, token), 2.0)

    async def _mark_reader(self, session_id: str, token: str) -> None:
        while True:
            try:
                await self.cluster.mark_reader(session_id, token, int(READER_TTL_S * 1000))
            except (RedisError, OSError) as exc:
                log.warning("partials' reader not marked (%s)", type(exc).__name__)
            await asyncio.sleep(READER_REFRESH_S)

    async def _readers(self) -> None:
        """Tell the sessions held here whether a watcher on any node reads their partials."""
        while True:
            await asyncio.sleep(READER_REFRESH_S / 2)
            assert self.registry is not None
            sessions = self.registry.live_sessions()
            try:
                read = await self.cluster.read_by_someone([s.id for s in sessions])
            except Exception as exc:
                # Unknown: decode partials for every session, as if a watcher read each (as before readers counted).
                if isinstance(exc, (RedisError, OSError)):
                    log.warning("partials' readers not read (%s): decoding them for every session", type(exc).__name__)
                else:
                    log.exception("partials' readers not read: decoding them for every session")
                read = {s.id for s in sessions}
            for session in sessions:
                session.remote_partial_readers = session.id in read

    async def _follow(self, session_id: str, from_seq: int, send: Callable[[dict[str, Any]], Awaitable[None]],
                      quiet_ms: int) -> None:
        last = from_seq - 1
        last = await self._from_database(session_id, last, send)
        vault = self.store.store.vault
        while True:
            try:
                items = await self.cluster.read_events(session_id, last, block_ms=quiet_ms)
            except (RedisError, OSError) as exc:
                log.error("event stream read failed (%s): reading the database", type(exc).__name__)
                items = []
                await asyncio.sleep(quiet_ms / 1000)
            if not items:
                last = await self._from_database(session_id, last, send)
                continue
            opened = await self.store.run(lambda: [(seq, _open(vault, session_id, blob)) for seq, blob in items])
            for seq, data in opened:
                if seq <= last:
                    continue
                if seq > last + 1 or data is None:
                    last = await self._from_database(session_id, last, send, until=seq)
                    if seq <= last:
                        continue
                if data is None:
                    continue
                await send(data)
                last = seq

    async def _from_database(self, session_id: str, last: int, send: Callable[[dict[str, Any]], Awaitable[None]],
                             *, until: int | None = None) -> int:
        store = self.store.store
        while True:
            page = await self.store.run(store.read_events, session_id, last + 1, HISTORY_PAGE)
            for event in page:
                if until is not None and event.seq > until:
                    return last
                await send(event.to_dict())
                last = event.seq
            if len(page) < HISTORY_PAGE:
                return last

    # -- requests to the holder --------------------------------------------------------
    def forward(self, node_id: str, kind: str, session_id: str, body: dict[str, Any]) -> None:
        """``body`` (sealed) to the node holding ``session_id``; done in the background, failures logged."""
        task = asyncio.get_running_loop().create_task(self.send(node_id, kind, session_id, body), name=f"forward:{kind}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def send(self, node_id: str, kind: str, session_id: str, body: dict[str, Any]) -> None:
        vault = self.store.store.vault
        try:
            blob = await self.store.run(vault.seal, session_id, msgpack.packb(body, use_bin_type=True), INBOX_CONTEXT)
            await self.cluster.send(node_id, kind, session_id, blob)
        except Exception as exc:
            self.forward_failures += 1
            log.error("%s for a session held by node %s not sent (%s)", kind, node_id, type(exc).__name__)

    async def _handle(self, kind: str, session_id: str, blob: bytes) -> None:
        assert self.registry is not None
        vault = self.store.store.vault
        body = msgpack.unpackb(await self.store.run(vault.open, session_id, blob, INBOX_CONTEXT), raw=False)
        if kind == "publish":
            payload = payload_from_dict(body["type"], body["payload"])
            await self.registry.publish_here(session_id, body.get("media_time"), payload)
        elif kind == "consent":
            await self.registry.apply_consent(session_id, body.get("consent"))
        elif kind == "forget":
            await self.registry.forget(session_id, body.get("reason", "erased"))
        else:
            log.warning("cluster inbox: unknown request %r", kind)



def _open(vault: Any, session_id: str, blob: bytes) -> dict[str, Any] | None:
    try:
        return vault.open_json(session_id, blob, STREAM_CONTEXT)
    except Exception:  # erased meanwhile, or not ours to read: the database decides
        return None
