"""The store: every repository on one engine, behind one interface.

Everything Candor keeps goes through :class:`Store`, so that encryption at
rest and deletion by policy can wrap it in one place. Each resource's rows
and queries live in its own module (``db/sessions.py``, ``candidates.py``,
``catalog.py``, ``reports.py``, ``events.py``, ``applications.py``, ``outcomes.py``); :class:`Store` is all of
them at once, on one engine, and creates the tables where missing.
"""

from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from vault import KeyWrapper, Vault

from .applications import ApplicationRepository
from .audit import AuditRepository
from .automation import AutomationRepository
from .base import LOOKUP_SUBJECT, Base, open_engine
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


# A column each sealed table gained when personal data was sealed at rest (issue 12): a database made
# before has none of them and holds plain personal data in columns now read as sealed blobs.
SEALED_SCHEMA = {"applications": "name_key", "application_contacts": "value_key", "inbound_deliveries": "subject",
                 "outbox_deliveries": "subject"}


class PlainDatabase(RuntimeError):
    """The database predates sealing at rest: re-create it, or ``keys seal-existing`` (docs/encryption.md)."""


def _refuse_plain_schema(engine: Engine) -> None:
    found = inspect(engine)
    tables = set(found.get_table_names())
    for table, column in SEALED_SCHEMA.items():
        if table in tables and column not in {c["name"] for c in found.get_columns(table)}:
            raise PlainDatabase(
                f"this database was made before personal data was sealed at rest (table {table} has no {column}): "
                "re-create it, or copy it into a new one sealed: python -m server keys seal-existing --from OLD_URL "
                "(docs/encryption.md)"
            )


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
        _refuse_plain_schema(self.engine)
        # Called after an erasure commits with (candidate_id, session_ids): recordings delete their files (db/erasure.py).
        self.erasure_hooks = []
        # Called by the retention purge with the session ids whose recordings expired; returns how many it deleted.
        self.recording_purge_hooks = []
        # The candidate's page asks these how many recordings a candidate's sessions keep (session ids -> count).
        self.recording_probes = []
        Base.metadata.create_all(self.engine)
        # The key of the keyed hashes that find sealed values (contacts, names): a data key of its own
        # subject, wrapped by the master key (so rotation keeps it) and never forgotten by erasure. Made
        # here, before any transaction needs it; unwrapped when first used (Repository.lookup_key).
        if self.get_data_key(LOOKUP_SUBJECT) is None:
            self.vault.data_key(LOOKUP_SUBJECT, create=True)

    def close(self) -> None:
        self.engine.dispose()
