"""One node's view of the others through Redis: load, placement, session ownership, events, inbox.

See the package's docstring for the keys. Every call here is a few Redis
round trips on loopback or a LAN; none holds a lock across nodes longer than
the node's TTL, so a node that dies (SIGKILL, power) lets go of everything it
held within ``ttl_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import asdict, dataclass
from typing import Awaitable, Callable, Iterable

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# Take a session when nobody holds it or its holder is dead; 1 = mine (now or already), 2 = taken over from a
# dead node, else the live holder's id.
_CLAIM = """
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if current and redis.call('EXISTS', ARGV[3] .. current) == 1 then
  return current
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if current then return 2 end
return 1
"""
# Let go of a session only if it is still ours.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# Keep our sessions; the ones another node took meanwhile come back (we must stop writing them).
_REFRESH = """
local lost = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    redis.call('PEXPIRE', key, ARGV[2])
  else
    table.insert(lost, key)
  end
end
return lost
"""

EVENTS_MAXLEN = 5000  # per session: a watcher further behind reads the database
EVENTS_KEEP_MS = 6 * 3600 * 1000  # a session's stream goes 6 h after its last event


@dataclass(frozen=True)
class NodeInfo:
    """What a node publishes of itself, every heartbeat."""

    id: str
    url: str
    live: int
    capacity: int
    accepting: bool  # would admit a new session now (capacity, loop lag, backlog: server/admission.py)
    draining: bool  # being emptied for a release: takes no new session
    at: float  # wall time of the heartbeat

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.live)

    @property
    def takes_new(self) -> bool:
        return self.accepting and not self.draining and self.free > 0


@dataclass(frozen=True)
class Ownership:
    """Who holds a session after a claim: this node (``mine``), perhaps taken over from a dead one, or another."""

    owner: str
    mine: bool
    taken_over: bool = False


Status = Callable[[], dict]
Handler = Callable[[str, str, bytes], Awaitable[None]]


class Cluster:
    """This node among the others. ``start`` begins the heartbeat and the inbox; ``close`` leaves."""

    def __init__(
        self, url: str, *, node_id: str, node_url: str, heartbeat_s: float = 2.0, ttl_s: float = 10.0,
        prefix: str = "candor:",
    ) -> None:
        self.redis = aioredis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5, health_check_interval=30)
        self.node_id = node_id
        self.node_url = node_url.rstrip("/")
        self.heartbeat_s = heartbeat_s
        self.ttl_ms = int(ttl_s * 1000)
        self.prefix = prefix
        self.owned: set[str] = set()
        self.on_lost: Callable[[str], Awaitable[None]] | None = None  # a session another node took from us
        self._claim = self.redis.register_script(_CLAIM)
        self._release = self.redis.register_script(_RELEASE)
        self._refresh = self.redis.register_script(_REFRESH)
        self._tasks: list[asyncio.Task[None]] = []
        self._status: Status = lambda: {}
        self._handler: Handler | None = None
        # the sessions with a candidate connected here now (set by the app); published every heartbeat
        self.connected: Callable[[], Iterable[str]] = lambda: ()
        self._connected_published: set[str] = set()
        self.heartbeats_failed = 0

    # -- keys --------------------------------------------------------------------------
    def _node_key(self, node_id: str) -> str:
        return f"{self.prefix}node:{node_id}"

    def _owner_key(self, session_id: str) -> str:
        return f"{self.prefix}owner:{session_id}"

    def _events_key(self, session_id: str) -> str:
        return f"{self.prefix}events:{session_id}"

    def _inbox_key(self, node_id: str) -> str:
        return f"{self.prefix}inbox:{node_id}"

    def _readers_key(self, session_id: str) -> str:
        return f"{self.prefix}readers:{session_id}"

    def _connected_key(self, session_id: str) -> str:
        return f"{self.prefix}connected:{session_id}"

    # -- life --------------------------------------------------------------------------
    async def start(self, status: Status, handler: Handler) -> None:
        """Publish this node now (fails loudly when Redis cannot be reached), then every heartbeat."""
        self._status, self._handler = status, handler
        await self.redis.ping()
        self._inbox_from = (await self._last_inbox_id()) or "0-0"
        await self.beat()
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._heartbeat(), name="cluster-heartbeat"),
            loop.create_task(self._inbox(), name="cluster-inbox"),
        ]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        with contextlib.suppress(RedisError, OSError):
            for session_id in list(self.owned):
                await self.release(session_id)
            for session_id in self._connected_published:
                await self._release(keys=[self._connected_key(session_id)], args=[self.node_id])
            await self.redis.delete(self._node_key(self.node_id))
        await self.redis.aclose()

    async def beat(self) -> None:
        """Publish this node's load, keep its sessions (the lost ones go to ``on_lost``), say which have a candidate connected."""
        info = NodeInfo(id=self.node_id, url=self.node_url, at=time.time(), **self._status())
        await self.redis.set(self._node_key(self.node_id), json.dumps(asdict(info)), px=self.ttl_ms)
        if self.owned:
            owned = sorted(self.owned)
            lost = await self._refresh(keys=[self._owner_key(s) for s in owned], args=[self.node_id, self.ttl_ms])
            prefix = self._owner_key("")
            for key in lost or []:
                session_id = (key.decode() if isinstance(key, bytes) else key)[len(prefix):]
                self.owned.discard(session_id)
                log.warning("session %s is held by another node now: this node stops writing it", session_id)
                if self.on_lost is not None:
                    await self.on_lost(session_id)
        await self._publish_connected()  # after the leases: those matter more

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s)
            try:
                await self.beat()
                self.heartbeats_failed = 0
            except (RedisError, OSError) as exc:
                self.heartbeats_failed += 1
                log.error("cluster heartbeat failed (%s); the other nodes see this one dead after its TTL", type(exc).__name__)
            except Exception:
                log.exception("cluster heartbeat failed")

    # -- nodes -------------------------------------------------------------------------
    async def nodes(self) -> list[NodeInfo]:
        """Every live node (its key not expired), this one included."""
        keys = [key async for key in self.redis.scan_iter(match=self._node_key("*"), count=200)]
        if not keys:
            return []
        found = []
        for raw in await self.redis.mget(keys):
            if raw is None:
                continue
            try:
                found.append(NodeInfo(**json.loads(raw)))
            except (ValueError, TypeError):
                log.warning("a node published a record this release cannot read")
        return sorted(found, key=lambda n: n.id)

    async def node(self, node_id: str) -> NodeInfo | None:
        raw = await self.redis.get(self._node_key(node_id))
        return NodeInfo(**json.loads(raw)) if raw else None

    async def place(self, *, exclude: set[str] = frozenset()) -> NodeInfo | None:  # type: ignore[assignment]
        """The live node with the most free room that takes new sessions, not in ``exclude``; None when all are full."""
        candidates = [n for n in await self.nodes() if n.takes_new and n.id not in exclude]
        return max(candidates, key=lambda n: (n.free, n.id == self.node_id), default=None)

    # -- sessions ----------------------------------------------------------------------
    async def claim(self, session_id: str) -> Ownership:
        """Hold ``session_id`` (nobody holds it, or its holder is dead), or learn which live node does."""
        result = await self._claim(keys=[self._owner_key(session_id)], args=[self.node_id, self.ttl_ms, self._node_key("")])
        if result in (1, 2):
            self.owned.add(session_id)
            return Ownership(self.node_id, True, taken_over=result == 2)
        owner = result.decode() if isinstance(result, bytes) else str(result)
        return Ownership(owner, False)

    async def owner(self, session_id: str) -> str | None:
        """The live node holding ``session_id``, or None (nobody, or a dead node)."""
        raw = await self.redis.get(self._owner_key(session_id))
        if raw is None:
            return None
        owner = raw.decode()
        if owner != self.node_id and not await self.redis.exists(self._node_key(owner)):
            return None
        return owner

    async def release(self, session_id: str) -> None:
        self.owned.discard(session_id)
        await self._release(keys=[self._owner_key(session_id)], args=[self.node_id])

    # -- events ------------------------------------------------------------------------
    async def add_events(self, items: list[tuple[str, int, bytes]]) -> None:
        """Committed events, (session, seq, sealed event) in seq order, onto each session's stream."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for session_id, seq, blob in items:
                pipe.xadd(self._events_key(session_id), {"e": blob}, id=f"{seq}-1", maxlen=EVENTS_MAXLEN, approximate=True)
            for session_id in {s for s, _, _ in items}:
                pipe.pexpire(self._events_key(session_id), EVENTS_KEEP_MS)
            results = await pipe.execute(raise_on_error=False)
        for result in results:
            if isinstance(result, Exception) and "equal or smaller" not in str(result):
                raise result  # an ID already there is an event a watcher has (a takeover's overlap): skipped

    async def read_events(self, session_id: str, after_seq: int, *, block_ms: int, count: int = 200) -> list[tuple[int, bytes]]:
        """Events after ``after_seq`` on the session's stream, waiting up to ``block_ms`` for the first."""
        reply = await self.redis.xread({self._events_key(session_id): f"{after_seq}-1"}, count=count, block=block_ms)
        out: list[tuple[int, bytes]] = []
        for _key, entries in _stream_entries(reply):
            for entry_id, fields in entries:
                seq = int((entry_id.decode() if isinstance(entry_id, bytes) else entry_id).split("-")[0])
                out.append((seq, fields.get(b"e") or fields.get("e")))
        return out

    async def drop_events(self, session_id: str) -> None:
        await self.redis.delete(self._events_key(session_id))

    # -- who reads partials ------------------------------------------------------------
    async def mark_reader(self, session_id: str, token: str, ttl_ms: int) -> None:
        """An HR watcher (``token``) on this node reads ``session_id``'s partials for the next ``ttl_ms``."""
        key = self._readers_key(session_id)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zadd(key, {token: int(time.time() * 1000) + ttl_ms})
            pipe.pexpire(key, ttl_ms)
            await pipe.execute()

    async def unmark_reader(self, session_id: str, token: str) -> None:
        await self.redis.zrem(self._readers_key(session_id), token)

    async def read_by_someone(self, session_ids: list[str]) -> set[str]:
        """Those of ``session_ids`` whose partials a watcher on any node reads now."""
        if not session_ids:
            return set()
        now = int(time.time() * 1000)
        async with self.redis.pipeline(transaction=False) as pipe:
            for session_id in session_ids:
                pipe.zcount(self._readers_key(session_id), now, "+inf")
            counts = await pipe.execute()
        return {session_id for session_id, count in zip(session_ids, counts) if count}

    # -- who is connected where ---------------------------------------------------------
    async def _publish_connected(self) -> None:
        """Say which sessions have their candidate connected here (for a heartbeat's TTL); take back the ones gone."""
        now = set(self.connected())
        gone = self._connected_published - now
        async with self.redis.pipeline(transaction=False) as pipe:
            for session_id in now:
                pipe.set(self._connected_key(session_id), self.node_id, px=self.ttl_ms)
            await pipe.execute()
        for session_id in gone:  # only our own claim: the candidate may be connected to another node by now
            await self._release(keys=[self._connected_key(session_id)], args=[self.node_id])
        self._connected_published = now

    async def connected_among(self, session_ids: list[str]) -> dict[str, str]:
        """Of ``session_ids``, those with a candidate connected to some node now: session id -> node id."""
        if not session_ids:
            return {}
        found = await self.redis.mget([self._connected_key(s) for s in session_ids])
        return {s: _text(node) for s, node in zip(session_ids, found) if node is not None}

    # -- inbox -------------------------------------------------------------------------
    async def send(self, node_id: str, kind: str, session_id: str, blob: bytes = b"") -> None:
        """A request about ``session_id`` to the node holding it (handled there by the app's handler)."""
        await self.redis.xadd(self._inbox_key(node_id), {"k": kind, "s": session_id, "b": blob}, maxlen=10000, approximate=True)

    async def _last_inbox_id(self) -> str | None:
        entries = await self.redis.xrevrange(self._inbox_key(self.node_id), count=1)
        if not entries:
            return None
        entry_id = entries[0][0]
        return entry_id.decode() if isinstance(entry_id, bytes) else entry_id

    async def _inbox(self) -> None:
        key = self._inbox_key(self.node_id)
        last = self._inbox_from
        while True:
            try:
                reply = await self.redis.xread({key: last}, count=100, block=2000)  # under the socket timeout (5 s)
            except (RedisError, OSError) as exc:
                log.error("cluster inbox read failed (%s)", type(exc).__name__)
                await asyncio.sleep(1)
                continue
            for _key, entries in _stream_entries(reply):
                for entry_id, fields in entries:
                    last = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
                    kind = _text(fields.get(b"k", fields.get("k", b"")))
                    session_id = _text(fields.get(b"s", fields.get("s", b"")))
                    blob = fields.get(b"b", fields.get("b", b""))
                    try:
                        assert self._handler is not None
                        await self._handler(kind, session_id, blob)
                    except Exception:
                        log.exception("cluster inbox: %s for a session failed", kind)
            with contextlib.suppress(RedisError, OSError):
                await self.redis.xtrim(key, minid=last)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _stream_entries(reply: object) -> list[tuple[object, list[tuple[object, dict]]]]:
    """XREAD's reply (RESP2, redis-py's default) as [(key, [(id, fields)])]."""
    if not reply:
        return []
    return [(item[0], item[1]) for item in reply]  # type: ignore[union-attr, index]
