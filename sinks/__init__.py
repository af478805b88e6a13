"""Where reports and decisions go: the outbox and its REST (Standard Webhooks) sinks."""

from .outbox import Attempt, Delivery, Outbox, create_tables
from .retry import DEAD, DELIVERED, FAILED, PENDING, STATES, Backoff
from .webhook import SinkConfig

__all__ = [
    "Attempt",
    "Backoff",
    "DEAD",
    "DELIVERED",
    "Delivery",
    "FAILED",
    "Outbox",
    "PENDING",
    "STATES",
    "SinkConfig",
    "create_tables",
]
