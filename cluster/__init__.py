"""Several Candor nodes on one PostgreSQL and one Redis (issue 13, docs/deploy.md).

The database stays the record of everything (sessions, the event log, the
outbox, leases); Redis carries only what is live and may be lost:

* Node load: each node writes ``candor:node:{id}`` (its URL, live sessions,
  capacity, whether it takes a new session now, draining) with a TTL, every
  heartbeat. A node whose key has expired is dead.
* Session ownership: ``candor:owner:{session}`` names the one node that runs
  the session's analyzers and writes its events. The owner's heartbeat keeps
  the key alive; a dead node's keys expire and the node the candidate reaches
  next takes the session over from the log.
* Events: after the owner has committed a batch to the database it adds each
  event, sealed with the session's data key, to ``candor:events:{session}``
  with the stream ID ``{seq}-1``; a watcher on any node reads the log from the
  database, then follows the stream (a gap is filled from the database).
* Requests about a session owned elsewhere (a consent, an HR decision, a
  candidate's message, an erasure) go to the owner's inbox stream
  ``candor:inbox:{node}``, sealed too.

With no Redis configured none of this runs: one box, in-process fan-out.
"""

from .node import Cluster, NodeInfo, Ownership
from .tickets import TicketError, Tickets

__all__ = ["Cluster", "NodeInfo", "Ownership", "TicketError", "Tickets"]
