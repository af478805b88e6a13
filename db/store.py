"""The store: every repository on one engine, behind one interface.

Everything Candor keeps goes through :class:`Store`, so that encryption at
rest and deletion by policy can wrap it in one place. Each resource's rows
and queries live in its own module (``db/sessions.py``, ``candidates.py``,
``catalog.py``, ``reports.py``, ``events.py``, ``applications.py``, ``outcomes.py``); :class:`Store` is all of
them at once, on one engine, and creates the tables where missing.
"""

from __future__ import annotations

from .applications import ApplicationRepository
from .audit import AuditRepository
from .automation import AutomationRepository
from .base import Base, open_engine
from .candidates import CandidateRepository
from .catalog import CatalogRepository
from .contacts import ContactRepository
from .events import EventRepository
from .outcomes import OutcomeRepository
from .reports import ReportRepository
from .sessions import SessionRepository
from .recommendations import RecommendationRepository
from .users import UserRepository


class Store(
    SessionRepository, CandidateRepository, CatalogRepository, ReportRepository, EventRepository, ApplicationRepository,
    AutomationRepository,
    OutcomeRepository,
    ContactRepository,
    AuditRepository,
    UserRepository,
    RecommendationRepository,
):
    """Sessions, candidates, their event logs, versioned jobs and banks, reports and decisions, applications, automation's actions, later outcomes, contacts."""

    def __init__(self, url: str) -> None:
        super().__init__(open_engine(url))
        self.entry_hooks = []
        Base.metadata.create_all(self.engine)

    def close(self) -> None:
        self.engine.dispose()
