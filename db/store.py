"""The store: every repository on one engine, behind one interface.

Everything Candor keeps goes through :class:`Store`, so that encryption at
rest and deletion by policy can wrap it in one place. Each resource's rows
and queries live in its own module (``db/sessions.py``, ``candidates.py``,
``catalog.py``, ``reports.py``, ``events.py``, ``applications.py``, ``outcomes.py``); :class:`Store` is all of
them at once, on one engine, and creates the tables where missing.
"""

from __future__ import annotations

from vault import KeyWrapper, Vault

from .applications import ApplicationRepository
from .audit import AuditRepository
from .automation import AutomationRepository
from .base import Base, open_engine
from .candidates import CandidateRepository
from .catalog import CatalogRepository
from .contacts import ContactRepository
from .erasure import ErasureRepository
from .events import EventRepository
from .keys import DataKeyRepository, default_master, vault_for
from .outcomes import OutcomeRepository
from .reports import ReportRepository
from .selfid import SelfIdRepository
from .sessions import SessionRepository
from .recommendations import RecommendationRepository
from .users import UserRepository


class Store(
    SessionRepository, CandidateRepository, CatalogRepository, ReportRepository, EventRepository, ApplicationRepository,
    AutomationRepository,
    OutcomeRepository,
    ContactRepository,
    AuditRepository,
    DataKeyRepository,
    SelfIdRepository,
    ErasureRepository,
    UserRepository,
    RecommendationRepository,
):
    """Sessions, candidates, their event logs, versioned jobs and banks, reports and decisions, applications, automation's actions, later outcomes, contacts."""

    def __init__(self, url: str, *, master: KeyWrapper | None = None) -> None:
        super().__init__(open_engine(url))
        # Seals personal data at rest (vault/): the master key from the server's settings
        # (server/keys.py); without one, the embedded default's key file var/master-key.
        self.vault: Vault = vault_for(self, master if master is not None else default_master())
        self.entry_hooks = []
        # Called after an erasure commits with (candidate_id, session_ids): recordings delete their files (db/erasure.py).
        self.erasure_hooks = []
        # Called by the retention purge with the session ids whose recordings expired; returns how many it deleted.
        self.recording_purge_hooks = []
        # The candidate's page asks these how many recordings a candidate's sessions keep (session ids -> count).
        self.recording_probes = []
        Base.metadata.create_all(self.engine)

    def close(self) -> None:
        self.engine.dispose()
