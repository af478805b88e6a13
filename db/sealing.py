"""A database made before sealing at rest, copied into a new one with its personal data sealed.

``python -m server keys seal-existing --from OLD_URL [--database-url NEW_URL]``
(docs/encryption.md): every row of every table the two have in common is
copied, in foreign-key order, the personal columns sealed on the way as the
repositories seal them (same subjects, same contexts, the same keyed hashes
for lookups). The old database is only read; the new one must be empty.
Afterwards destroy the old file and its backups: they hold the data in the
clear. There is no in-place migration (issue 13 brings Alembic).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterator

from sqlalchemy import MetaData, Table, create_engine, func, select
from sqlalchemy.orm import Session

from .applications import ANSWER, APP, ENTRY, FILES, SEALED_FIELDS, name_lookup, split_entry
from .base import Base
from .candidates import PROFILE
from .contacts import VALUE
from .events import PAYLOAD
from .reports import BODY, REASON
from .sessions import CANDIDATE

if TYPE_CHECKING:
    from .store import Store

# The outbox's sealed column (sinks/outbox.py seals the envelope's UTF-8 bytes under this context).
OUTBOX_BODY = "outbox_deliveries.body"
CHUNK = 500
# The tables with personal columns: each has its _Copy method of the same name.
SEALED_TABLES = frozenset({
    "candidates", "sessions", "events", "reports", "decisions", "applications", "application_events",
    "application_batches", "inbound_deliveries", "application_contacts", "outbox_deliveries",
})


class NotPlain(RuntimeError):
    """The source is not a plain database (already sealed), or the target is not empty."""


class _Copy:
    def __init__(self, store: Store, db: Session, apps: dict[str, str], actions: dict[str, str]) -> None:
        self.store, self.db = store, db
        self.apps = apps  # application id -> candidate id
        self.actions = actions  # automation action id -> application id

    def seal(self, subject: str, context: str, value: Any) -> bytes:
        return self.store._seal(self.db, subject, context, value)

    # one per table with personal columns: the old row in, the new row out
    def candidates(self, r: dict[str, Any]) -> dict[str, Any]:
        return {**r, "profile": self.seal(r["id"], PROFILE, r["profile"])}

    def sessions(self, r: dict[str, Any]) -> dict[str, Any]:
        return {**r, "candidate": None if r.get("candidate") is None else self.seal(r["id"], CANDIDATE, r["candidate"])}

    def events(self, r: dict[str, Any]) -> dict[str, Any]:
        return {**r, "payload": self.seal(r["session_id"], PAYLOAD, r["payload"] or {})}

    def reports(self, r: dict[str, Any]) -> dict[str, Any]:
        return {**r, "body": self.seal(r["session_id"], BODY, r["body"])}

    def decisions(self, r: dict[str, Any]) -> dict[str, Any]:
        return {**r, "reason": self.seal(r["session_id"], REASON, r.get("reason") or "")}

    def applications(self, r: dict[str, Any]) -> dict[str, Any]:
        out = dict(r)
        defaults: dict[str, Any] = {"resume": {}, "resume_text": "", "parsed": {}, "screening": {}, "duplicates": []}
        for name in SEALED_FIELDS:
            value = r.get(name)
            if name == "name":
                out["name"] = None if not value else self.seal(r["candidate_id"], APP + name, value)
                out["name_key"] = self.store.lookup_hash("name", name_lookup(value)) if value else None
            else:
                out[name] = self.seal(r["candidate_id"], APP + name, value if value is not None else defaults[name])
        return out

    def application_events(self, r: dict[str, Any]) -> dict[str, Any]:
        plain, private = split_entry(dict(r["entry"] or {}))
        sealed = self.seal(self.apps[r["application_id"]], ENTRY, private) if private else None
        return {**r, "entry": plain, "sealed": sealed}

    def application_batches(self, r: dict[str, Any]) -> dict[str, Any]:
        return {**r, "files": self.seal(r["id"], FILES, r["files"] or [])}

    def inbound_deliveries(self, r: dict[str, Any]) -> dict[str, Any]:
        answer = dict(r["answer"] or {})
        candidate = answer.get("candidate") if isinstance(answer.get("candidate"), dict) else {}
        subject = (candidate.get("id") or self.apps.get(str(answer.get("id") or answer.get("applicationId") or ""))
                   or f"inbound:{r['source']}:{r['delivery_id']}"[:128])
        return {**r, "subject": subject, "answer": self.seal(subject, ANSWER, answer)}

    def application_contacts(self, r: dict[str, Any]) -> dict[str, Any]:
        candidate = self.apps[r["application_id"]]
        return {**r, "value": self.seal(candidate, VALUE, r["value"]),
                "value_key": self.store.contact_key(r["kind"], r["value"])}  # type: ignore[attr-defined]

    def outbox_deliveries(self, r: dict[str, Any]) -> dict[str, Any]:
        # an automation's message is its application's candidate's; a report or decision its session's (the key)
        subject = self.apps.get(self.actions.get(r["key"], ""), r["key"])
        body = r["body"] if isinstance(r["body"], str) else bytes(r["body"]).decode()
        return {**r, "subject": subject, "body": self.store.vault.seal(subject, body.encode(), OUTBOX_BODY, db=self.db)}


def _rows(conn: Any, table: Table) -> Iterator[list[dict[str, Any]]]:
    result = conn.execution_options(stream_results=True).execute(select(table))
    for part in result.mappings().partitions(CHUNK):
        yield [dict(r) for r in part]


def seal_existing(old_url: str, store: Store) -> dict[str, int]:
    """Copy the plain database at ``old_url`` into ``store`` (empty), sealing as it goes; rows copied per table."""
    old = create_engine(old_url)
    try:
        found = MetaData()
        found.reflect(old)
        apps_table = found.tables.get("applications")
        if apps_table is not None and "name_key" in apps_table.c:
            raise NotPlain("the source database is sealed already (applications has name_key)")
        with Session(store.engine) as probe:
            for table in Base.metadata.sorted_tables:
                if table.name != "data_keys" and probe.scalar(select(func.count()).select_from(table)):
                    raise NotPlain(f"the target database is not empty (table {table.name} has rows): give a new one")
        counts: dict[str, int] = {}
        with old.connect() as conn, Session(store.engine) as db, db.begin():
            apps = ({r.id: r.candidate_id for r in conn.execute(select(apps_table.c.id, apps_table.c.candidate_id))}
                    if apps_table is not None else {})
            actions_table = found.tables.get("automation_actions")
            actions = ({r.id: r.application_id for r in conn.execute(select(actions_table.c.id, actions_table.c.application_id))}
                       if actions_table is not None else {})
            copy = _Copy(store, db, apps, actions)
            for table in Base.metadata.sorted_tables:
                source = found.tables.get(table.name)
                if source is None or table.name == "data_keys":
                    continue
                transform: Callable[[dict[str, Any]], dict[str, Any]] | None = (
                    getattr(copy, table.name) if table.name in SEALED_TABLES else None)
                columns = set(table.c.keys())
                n = 0
                for part in _rows(conn, source):
                    rows = [transform(r) if transform else r for r in part]
                    db.execute(table.insert(), [{k: v for k, v in r.items() if k in columns} for r in rows])
                    n += len(rows)
                counts[table.name] = n
        return counts
    finally:
        old.dispose()
