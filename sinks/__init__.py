"""Where reports and decisions go: the outbox and its REST (Standard Webhooks) sinks."""

from .outbox import Attempt, Delivery, Outbox, create_tables
from .retry import DEAD, DELIVERED, FAILED, PENDING, STATES, Backoff
from .channel import Channel
from .webhook import SendResult, SinkConfig

__all__ = [
    "Attempt",
    "Backoff",
    "Channel",
    "DEAD",
    "DELIVERED",
    "Delivery",
    "FAILED",
    "Outbox",
    "PENDING",
    "STATES",
    "SendResult",
    "SinkConfig",
    "create_tables",
]
