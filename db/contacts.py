"""How to reach a candidate: an application's contacts, and the messages that came back.

``application_contacts`` holds one value per application and kind: an
e-mail address, a phone number, a WeCom external contact id (the candidate
added the bank's HR as a WeCom contact) or a WeCom member id. Personal data:
read through the HR API only, never logged, sealed at rest (vault/) for the
application's candidate; ``value_key``, a keyed hash of the normalised value,
finds the application of an inbound message's sender. ``inbound_messages`` remembers
the id of every message a candidate sent back (WeCom's MsgId), so a
callback WeCom retries lands on the timeline once.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String, UniqueConstraint, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from .applications import ApplicationRow
from .base import Base, Repository, utcnow

KINDS = ("email", "phone", "wecom_external", "wecom_user")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 \-]{5,19}$")
_WECOM_ID = re.compile(r"^[A-Za-z0-9_\-.@]{1,64}$")


class ContactRow(Base):
    __tablename__ = "application_contacts"
    __table_args__ = (UniqueConstraint("application_id", "kind", name="uq_contact_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(String(64), ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[bytes] = mapped_column(LargeBinary)  # personal data: sealed (vault/) for the candidate
    value_key: Mapped[str] = mapped_column(String(64), index=True)  # keyed hash of kind and value: lookups
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class InboundMessageRow(Base):
    """A message from a candidate that reached a timeline, by its channel's id (dedupe)."""

    __tablename__ = "inbound_messages"
    __table_args__ = (UniqueConstraint("channel", "message_id", name="uq_inbound_message"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(32))
    message_id: Mapped[str] = mapped_column(String(128))
    application_id: Mapped[str] = mapped_column(String(64), ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def check_contacts(contacts: dict[str, Any]) -> dict[str, str | None]:
    """Validated contacts (pure): kinds from :data:`KINDS`, values trimmed, None or "" to remove.

    ValueError names the first kind that is wrong (never its value).
    """
    out: dict[str, str | None] = {}
    for kind, value in contacts.items():
        if kind not in KINDS:
            raise ValueError(f"a contact kind is one of {', '.join(KINDS)}, got {kind!r}")
        if value is None or (isinstance(value, str) and not value.strip()):
            out[kind] = None
            continue
        if not isinstance(value, str):
            raise ValueError(f"{kind} is a string")
        value = value.strip()
        pattern = {"email": _EMAIL, "phone": _PHONE}.get(kind, _WECOM_ID)
        if len(value) > 254 or not pattern.match(value):
            raise ValueError(f"{kind} is not a valid {kind.replace('_', ' ')}")
        out[kind] = value.lower() if kind == "email" else value
    return out


VALUE = "application_contacts.value"  # the sealed column's context (vault AAD)


def normal_contact(kind: str, value: str) -> str:
    """A contact value as stored and looked up: trimmed; an e-mail address in lower case."""
    value = value.strip()
    return value.lower() if kind == "email" else value


class ContactRepository(Repository):
    """An application's contacts, and which application a contact belongs to."""

    def contact_key(self, kind: str, value: str) -> str:
        """The keyed hash a contact is found by."""
        return self.lookup_hash("contact:" + kind, normal_contact(kind, value))

    def set_contacts(self, application_id: str, contacts: dict[str, Any], db: Session | None = None) -> bool:
        """Set (or with None, remove) the given kinds; others stay. False if there is no such application."""
        checked = check_contacts(contacts)
        if db is None:
            with Session(self.engine) as own, own.begin():
                return self.set_contacts(application_id, checked, own)
        app = db.get(ApplicationRow, application_id)
        if app is None:
            return False
        now = utcnow()
        for kind, value in checked.items():
            row = db.scalars(
                select(ContactRow).where(ContactRow.application_id == application_id, ContactRow.kind == kind)
            ).first()
            if value is None:
                if row is not None:
                    db.delete(row)
                continue
            key = self.contact_key(kind, value)
            if row is None:
                db.add(ContactRow(application_id=application_id, kind=kind, value=self._seal(db, app.candidate_id, VALUE, value),
                                  value_key=key, updated_at=now))
            elif row.value_key != key:
                row.value, row.value_key, row.updated_at = self._seal(db, app.candidate_id, VALUE, value), key, now
        return True

    def contacts_from_resume(self, application_id: str, parsed: dict[str, Any]) -> dict[str, str]:
        """Fill e-mail and phone from a parsed resume (``parsed["personal"][kind]["value"]``); a value that
        does not look like one is skipped, never an error. Returns what was set."""
        personal = parsed.get("personal") or {}
        found: dict[str, str] = {}
        for kind in ("email", "phone"):
            field = personal.get(kind) or {}
            value = field.get("value") if isinstance(field, dict) else None
            if isinstance(value, str) and value.strip():
                try:
                    found.update({k: v for k, v in check_contacts({kind: value}).items() if v})
                except ValueError:
                    continue
        if found:
            self.set_contacts(application_id, found)
        return found

    def contacts(self, application_id: str) -> dict[str, str]:
        with Session(self.engine) as db:
            app = db.get(ApplicationRow, application_id)
            if app is None:
                return {}
            rows = db.scalars(select(ContactRow).where(ContactRow.application_id == application_id))
            return {r.kind: self._open(db, app.candidate_id, VALUE, r.value) for r in rows}

    def application_for_contact(self, kind: str, value: str) -> str | None:
        """The application this contact belongs to: the most recently created one if several."""
        key = self.contact_key(kind, value)
        with Session(self.engine) as db:
            return db.scalars(
                select(ContactRow.application_id)
                .join(ApplicationRow, ApplicationRow.id == ContactRow.application_id)
                .where(ContactRow.kind == kind, ContactRow.value_key == key)
                .order_by(ApplicationRow.created_at.desc())
            ).first()

    def add_message_in(self, application_id: str, channel: str, message_id: str, entry: dict[str, Any]) -> bool:
        """The candidate's message as a timeline note, once per (channel, message id); False if seen before."""
        try:
            with Session(self.engine) as db, db.begin():
                app = db.get(ApplicationRow, application_id)
                if app is None:
                    return False
                db.add(InboundMessageRow(channel=channel, message_id=message_id, application_id=application_id,
                                         received_at=utcnow()))
                db.flush()  # the unique constraint answers here, before the note is added
                db.add(self._entry_row(db, app.candidate_id, application_id, entry))  # type: ignore[attr-defined]
            return True
        except IntegrityError:
            return False

    def forget_contacts(self, application_id: str) -> None:
        """Deletion by policy: contacts and inbound message ids of one application."""
        with Session(self.engine) as db, db.begin():
            db.execute(delete(ContactRow).where(ContactRow.application_id == application_id))
            db.execute(delete(InboundMessageRow).where(InboundMessageRow.application_id == application_id))
