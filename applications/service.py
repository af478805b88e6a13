"""Taking an application in: read the resume, screen it, keep it (one person, one application per job).

The steps are plain blocking functions so the server can run each where it
belongs: reading and parsing on a worker thread (:func:`read_resume`),
screening where the sentence encoder runs (:func:`screen`), and keeping it
on the store's thread (:func:`keep`). A bad file is a
:class:`~intake.extract.ResumeError` with a code, for that file alone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, BinaryIO

from db.applications import ApplicationRecord, contact_keys
from db.catalog import JobRecord
from db.store import Store
from intake.extract import MAX_BYTES, ResumeText, extract_text
from intake.parse import ParsedResume, parse_resume
from jobs.models import Job
from screening import Screener, ScreeningResult
from screening.resume import qualifications

from .pipeline import apply, receive

UNNAMED = "（未识别姓名）"  # a resume whose name the parser did not find: HR see it and can correct it


@dataclass(frozen=True)
class ReadResume:
    text: ResumeText
    parsed: ParsedResume
    filename: str | None


def read_resume(
    source: bytes | BinaryIO | None,
    filename: str | None = None,
    *,
    text: str | None = None,
    max_bytes: int = MAX_BYTES,
    today: dt.date | None = None,
) -> ReadResume:
    """The resume's text and its parsed fields; ``ResumeError`` for a bad file (empty, too large, ...)."""
    if text is not None:
        source, filename = text.encode("utf-8"), filename or "resume.txt"
    assert source is not None
    extracted = extract_text(source, filename or "", max_bytes=max_bytes)
    return ReadResume(extracted, parse_resume(extracted, today=today), filename)


def screen(screener: Screener, job: Job, read: ReadResume) -> ScreeningResult:
    return screener.screen(job, qualifications(read.parsed.qualifications))


def resume_summary(read: ReadResume) -> dict[str, Any]:
    t = read.text
    return {
        "filename": read.filename,
        "kind": t.kind,
        "pages": t.pages,
        "text_chars": len(t.text),
        "language": t.language,
        "needs_review": sorted(set(t.needs_review) | set(read.parsed.needs_review)),
    }


def keep(
    store: Store,
    *,
    job: JobRecord,
    read: ReadResume,
    result: ScreeningResult,
    contact_key: bytes,
    source: str | None,
    external_id: str | None,
    actor: str,
    actor_id: str | None = None,
    now: dt.datetime | None = None,
) -> tuple[ApplicationRecord, bool]:
    """Keep a new application (True), or, for the same phone or e-mail applying to the same job again,
    the first application with this attempt added to its duplicates (False)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    personal = read.parsed.personal
    phone_key, email_key = contact_keys(
        contact_key, personal.phone.value if personal.phone else None, personal.email.value if personal.email else None
    )
    first = store.find_duplicate(job.id, phone_key, email_key)
    if first is not None:
        attempt = {"at": now.isoformat(), "source": source, "external_id": external_id, "filename": read.filename}
        again = store.add_duplicate(first.id, attempt)
        assert again is not None
        return again, False
    name = personal.name.value if personal.name else None
    candidate = store.create_candidate(read.parsed.profile(name=name or UNNAMED))
    status, received = receive(actor=actor, at=now, actor_id=actor_id, details={"source": source, "external_id": external_id})
    status, screened = apply(
        status, "screen", actor="system", at=now, outcome=result.decision,
        reason=f"job match {result.score:g} (advance at {result.advance_at:g}, pool below {result.pool_below:g})",
        details={"score": result.score, "job_version": job.version},
    )
    record = store.create_application(
        job_id=job.id,
        job_version=job.version,
        candidate_id=candidate.id,
        state=status.state,
        outcome=status.outcome,
        source=source,
        external_id=external_id,
        name=name,
        phone_key=phone_key,
        email_key=email_key,
        score=result.score,
        resume=resume_summary(read),
        resume_text=read.text.text,
        parsed=read.parsed.model_dump(mode="json"),
        screening=result.to_dict(),
        timeline=[received.to_dict(), screened.to_dict()],
    )
    return record, True
