"""Candor's database: the engine, ``Base`` and one repository per resource.

``db`` imports nothing from ``server``: sinks, jobs and the server all build
on it. :class:`Store` composes the repositories on one engine;
:class:`AsyncStore` runs its calls off the event loop.
"""

from .applications import ApplicationRecord, ApplicationRepository, BatchRecord, contact_keys
from .base import AlreadyExists, AsyncStore, Base, Repository, VersionConflict, aware, open_engine, token_hash, utcnow
from .candidates import CandidateRecord, CandidateRepository, CandidateRow
from .catalog import BankRecord, BankRow, CatalogRepository, JobRecord, JobRow, SeedReport, Source, body_of
from .events import EventRepository, EventRow
from .reports import DecisionRecord, DecisionRow, ReportHook, ReportRecord, ReportRepository, ReportRow
from .sessions import CandidateSessionRow, SessionRecord, SessionRepository, SessionRow, SessionTokenRow
from .store import Store

__all__ = [
    "AlreadyExists",
    "ApplicationRecord",
    "ApplicationRepository",
    "BatchRecord",
    "contact_keys",
    "AsyncStore",
    "BankRecord",
    "BankRow",
    "Base",
    "CandidateRecord",
    "CandidateRepository",
    "CandidateRow",
    "CandidateSessionRow",
    "CatalogRepository",
    "DecisionRecord",
    "DecisionRow",
    "EventRepository",
    "EventRow",
    "JobRecord",
    "JobRow",
    "ReportHook",
    "ReportRecord",
    "ReportRepository",
    "ReportRow",
    "Repository",
    "SeedReport",
    "SessionRecord",
    "SessionRepository",
    "SessionRow",
    "SessionTokenRow",
    "Source",
    "Store",
    "VersionConflict",
    "aware",
    "body_of",
    "open_engine",
    "token_hash",
    "utcnow",
]
