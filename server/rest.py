"""The REST API's bodies as pydantic models.

Requests are validated with them (a failing field becomes a 422 problem
naming it); responses have the same shape, and the OpenAPI document
(:mod:`server.openapi`) takes its schemas from them and from
:mod:`jobs.models`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from jobs.models import CandidateProfile, Job, Localized, QuestionBank

Source = Literal["shipped", "api"]


class FieldProblem(BaseModel):
    field: str = Field(
        description="dotted path of the failing field, e.g. questions.2.answer_s ('' for the whole body)"
    )
    message: str
    type: str | None = Field(default=None, description="pydantic's error type, e.g. greater_than_equal")


class ProblemDetails(BaseModel):
    """RFC 9457 problem details (``application/problem+json``)."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldProblem] | None = Field(default=None, description="one entry per failing field (422)")


# -- sessions -------------------------------------------------------------
class SessionCreate(BaseModel):
    """``POST /v1/sessions``: all optional; an empty body is a free-talk session."""

    model_config = ConfigDict(extra="forbid")
    job_id: str | None = Field(default=None, description="the job interviewed for; its bank unless bank_id is given")
    job_version: int | None = Field(default=None, ge=1, le=2**31 - 1, description="a version of the job (default: the latest)")
    bank_id: str | None = Field(default=None, description="the question bank (default: the job's bank)")
    bank_version: int | None = Field(default=None, ge=1, le=2**31 - 1, description="a version of the bank (default: the latest)")
    candidate: CandidateProfile | None = Field(
        default=None, description="the candidate's profile, given inline (or candidate_id, not both)"
    )
    candidate_id: str | None = Field(
        default=None, description="a candidate made with POST /v1/candidates: the session records a copy of the profile"
    )

    @field_validator("candidate_id")
    @classmethod
    def _one_candidate(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("candidate") is not None:
            raise ValueError("give candidate or candidate_id, not both")
        return value

    @field_validator("job_version", "bank_version")
    @classmethod
    def _needs_id(cls, value: int | None, info: ValidationInfo) -> int | None:
        key = info.field_name.replace("_version", "_id") if info.field_name else ""
        if value is not None and not info.data.get(key):
            raise ValueError(f"give {key} with a version")
        return value


# -- candidates -----------------------------------------------------------
class CandidateCreate(BaseModel):
    """``POST /v1/candidates`` and ``PUT /v1/candidates/{id}``."""

    model_config = ConfigDict(extra="forbid")
    profile: CandidateProfile
    external_id: str | None = Field(
        default=None, min_length=1, max_length=128, description="the bank's own id for the person (HRIS); unique"
    )


class CandidateInfo(BaseModel):
    id: str
    created_at: datetime
    updated_at: datetime
    external_id: str | None
    profile: CandidateProfile
    sessions: list[str] = Field(description="the sessions that interviewed this candidate, oldest first")


class CandidateSummary(BaseModel):
    id: str
    created_at: datetime
    external_id: str | None
    name: str


class CandidateList(BaseModel):
    candidates: list[CandidateSummary]


class SessionRefs(BaseModel):
    """The exact job and bank versions a session runs (all null: free talk)."""

    job_id: str | None = None
    job_version: int | None = None
    bank_id: str | None = None
    bank_version: int | None = None
    candidate_id: str | None = None


class SessionCreated(SessionRefs):
    id: str
    candidate_url: str = Field(description="send this to the candidate; the one-time code is in the fragment")
    whip_url: str
    candidate_token: str
    watch_url: str
    events_url: str
    expires_at: datetime


class ConsentCreate(BaseModel):
    """The candidate's consent, per scope (the policy says which are required)."""

    model_config = ConfigDict(extra="forbid")
    voice: bool = Field(description="processing of the candidate's voice: speech recognition, voice features")
    face: bool = Field(description="processing of the candidate's face image: presence, gaze, expression")
    recording: bool = Field(default=False, description="keep each answer's audio (and video with face consent) for "
                            "human review; optional, off unless given")


class ConsentInfo(BaseModel):
    policy: str
    voice: bool
    face: bool
    emotion: bool = Field(description="whether emotion inference (expression, voice arousal) runs")
    recording: bool = Field(default=False, description="answers are recorded for human review")
    given_at: datetime


class PolicyScope(BaseModel):
    id: Literal["voice", "face", "recording"]
    required: bool


class PolicyConsent(BaseModel):
    separate: bool = Field(description="face and voice are asked each on its own")
    scopes: list[PolicyScope]


class PolicyInfo(BaseModel):
    name: Literal["pipl", "eu"]
    emotion: bool = Field(description="emotion inference may run (false under eu)")
    consent: PolicyConsent


class SessionInfo(SessionRefs):
    id: str
    created_at: datetime
    expires_at: datetime
    state: str
    connected: bool
    policy: str
    consent: ConsentInfo | None = Field(default=None, description="null until the candidate consents")
    candidate: CandidateProfile | None = Field(
        default=None, description="personal data: only in GET /v1/sessions/{id}, and only when one was given"
    )


class SessionList(BaseModel):
    sessions: list[SessionInfo]


class ExchangeRequest(BaseModel):
    code: str


class ExchangeResponse(BaseModel):
    session_id: str
    token: str
    whip_url: str
    ice_servers: list[dict[str, Any]]
    expires_at: datetime
    language_hint: str
    policy: PolicyInfo
    consent: ConsentInfo | None = Field(default=None, description="consent already given (e.g. before a reload)")


class HrLogin(BaseModel):
    """A user's login, password and (once enrolled) TOTP code; or ``token``: CANDOR_HR_TOKEN (the bootstrap admin)."""

    login: str | None = Field(default=None, max_length=64)
    password: str | None = Field(default=None, max_length=256)
    totp: str | None = Field(default=None, max_length=16, description="the 6-digit code, once the user enrolled")
    token: str | None = Field(default=None, max_length=256)


class Health(BaseModel):
    status: Literal["ok", "starting", "error"]
    detail: str | None = None


class Drain(BaseModel):
    """Drain this node for a release (true) or let it take new sessions again (false)."""

    model_config = ConfigDict(extra="forbid")
    draining: bool


class NodeStatus(BaseModel):
    """A node's load as it publishes it (several nodes: every live node; one box: this one)."""

    id: str
    url: str
    live: int = Field(description="sessions with a candidate connected")
    capacity: int
    accepting: bool = Field(description="would take a new session now")
    draining: bool


class NodeList(BaseModel):
    this: str = Field(description="the node that answered")
    nodes: list[NodeStatus]


# -- jobs and banks --------------------------------------------------------
class JobVersion(BaseModel):
    """One version of a job."""

    id: str
    version: int = Field(ge=1)
    created_at: datetime
    source: Source = Field(description="shipped: seeded from jobs/banks; api: written through the API")
    job: Job


class BankVersion(BaseModel):
    """One version of a question bank."""

    id: str
    version: int = Field(ge=1)
    job_id: str
    created_at: datetime
    source: Source
    bank: QuestionBank


class JobSummary(BaseModel):
    id: str
    version: int = Field(description="the latest version")
    created_at: datetime
    source: Source
    title: Localized


class BankSummary(BaseModel):
    id: str
    version: int = Field(description="the latest version")
    job_id: str
    created_at: datetime
    source: Source
    title: Localized
    questions: int = Field(description="how many questions, the practice question included")


class JobList(BaseModel):
    jobs: list[JobSummary]


class BankList(BaseModel):
    banks: list[BankSummary]


# -- reports and decisions ---------------------------------------------------
class DecisionCreate(BaseModel):
    """``POST /v1/sessions/{id}/decision``: a person's decision (JSON or a form)."""

    model_config = ConfigDict(extra="forbid")
    decision: Literal["advance", "hold", "reject"]
    reason: str = Field(default="", max_length=4000, description="why (shown in the report and sent to the sinks)")


class DecisionInfo(BaseModel):
    session_id: str
    number: int = Field(description="1, 2, … per session; the latest counts")
    decision: Literal["advance", "hold", "reject"]
    reason: str
    decided_by: str
    decided_at: datetime
    report_version: int


class ReportVersion(BaseModel):
    """One version of a session's report; ``report`` follows schema ``candor.report/1`` (docs/api.md)."""

    session_id: str
    version: int
    created_at: datetime
    report: dict[str, Any]


# -- applications -----------------------------------------------------------
class ApplicationCreate(BaseModel):
    """``POST /v1/applications`` as JSON: the resume as text (a file comes as multipart/form-data)."""

    model_config = ConfigDict(extra="forbid")
    job_id: str = Field(description="the job applied for (its latest version screens the resume)")
    resume_text: str = Field(min_length=1, max_length=200_000, description="the resume's text, UTF-8")
    source: str | None = Field(default=None, max_length=64, description="the channel: campus, liepin, boss, referral, wecom, website, …")
    external_id: str | None = Field(default=None, max_length=128, description="the channel's own id for the application")


class EvidenceSpan(BaseModel):
    text: str
    start: int = Field(description="offset in the resume's extracted text")
    end: int


class ScreeningRow(BaseModel):
    kind: Literal["education", "years", "skill", "certificate", "language"]
    asks: str = Field(description="what the job asks")
    shows: str | None = Field(description="what the resume shows (None: nothing)")
    status: Literal["met", "partly", "not_met"]
    points: float
    max_points: float
    evidence: list[EvidenceSpan]
    how: str | None = Field(description="how a skill matched: vocabulary, words 0.80, meaning 0.59")


class ScreeningInfo(BaseModel):
    score: float = Field(description="0-100: the points given over the points possible")
    decision: Literal["advance", "review", "pool"] = Field(
        description="advance: marked for invite; review: HR look; pool: HR confirm (nothing is rejected without a person)"
    )
    advance_at: float
    pool_below: float
    rows: list[ScreeningRow]
    version: str


class ResumeInfo(BaseModel):
    filename: str | None
    kind: Literal["pdf", "docx", "txt"]
    pages: int
    text_chars: int
    language: Literal["zh", "en"]
    needs_review: list[str] = Field(description="e.g. no_text_layer (a scan), cid_fonts: read it yourself")


class ApplicationCandidate(BaseModel):
    id: str
    profile: CandidateProfile


class ApplicationInfo(BaseModel):
    id: str
    job_id: str
    job_version: int
    state: Literal["applied", "screened", "invited", "interviewing", "interviewed", "decided", "withdrawn"]
    outcome: str | None = Field(description="screened: advance, review or pool; decided: advance, hold or reject")
    candidate: ApplicationCandidate
    resume: ResumeInfo
    screening: ScreeningInfo
    source: str | None
    external_id: str | None
    session_id: str | None = Field(description="the interview session, once invited")
    invite_url: str | None = Field(default=None, description="the candidate's interview link, once invited")
    duplicates: list[dict[str, Any]] = Field(description="later attempts by the same person (same phone or e-mail) for this job")
    created_at: datetime
    updated_at: datetime


class ApplicationSummary(BaseModel):
    id: str
    job_id: str
    state: str
    outcome: str | None
    name: str | None
    score: float | None
    interview_score: float | None = Field(default=None, description="the interview report's overall score, once made")
    source: str | None
    session_id: str | None
    duplicates: int
    created_at: datetime


class ApplicationList(BaseModel):
    applications: list[ApplicationSummary]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; None on the last")
    counts: dict[str, int] = Field(description="applications per state (screened/advance, screened/review, …) for the filter's job")


class TimelineEntry(BaseModel):
    action: str
    from_: str | None = Field(alias="from")
    to: str
    outcome: str | None
    actor: Literal["system", "hr", "candidate"]
    actor_id: str | None
    at: datetime
    reason: str | None
    details: dict[str, Any]


class Timeline(BaseModel):
    application_id: str
    entries: list[TimelineEntry]


class ApplicationAction(BaseModel):
    """``POST /v1/applications/{id}/decide`` and ``/withdraw``: a person's step, with why."""

    model_config = ConfigDict(extra="forbid")
    decision: Literal["advance", "hold", "reject"] | None = Field(default=None, description="for decide")
    reason: str | None = Field(default=None, max_length=2000)


class BulkAction(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Literal["invite", "confirm_pool", "decide", "withdraw"]
    ids: list[str] = Field(min_length=1, max_length=500)
    decision: Literal["advance", "hold", "reject"] | None = Field(default=None, description="for decide")
    reason: str | None = Field(default=None, max_length=2000)


class BulkResult(BaseModel):
    id: str
    ok: bool
    status: int = Field(description="what the single call would have answered")
    application: ApplicationSummary | None = None
    error: dict[str, Any] | None = Field(default=None, description="the problem, as the single call would give it")


class BulkResults(BaseModel):
    results: list[BulkResult]


class BatchFile(BaseModel):
    index: int
    filename: str | None
    status: Literal["pending", "ok", "duplicate", "error"]
    application_id: str | None = None
    error: dict[str, Any] | None = Field(default=None, description="code (empty, too_large, unsupported_type, corrupt, encrypted) and message")


class BatchInfo(BaseModel):
    id: str
    job_id: str
    state: Literal["running", "done", "interrupted"]
    total: int
    done: int
    files: list[BatchFile]
    created_at: datetime
    updated_at: datetime


class InboundApplication(BaseModel):
    """A job board's delivery (``POST /v1/inbound/applications/{source}``)."""

    model_config = ConfigDict(extra="forbid")
    delivery_id: str = Field(min_length=1, max_length=128, description="unique per delivery: a replay gets the first answer")
    job_id: str
    external_id: str | None = Field(default=None, max_length=128)
    resume_text: str | None = Field(default=None, max_length=200_000)
    resume_base64: str | None = Field(default=None, description="a resume file (PDF, DOCX, TXT), base64")
    filename: str | None = Field(default=None, max_length=255)


class QuestionScores(BaseModel):
    question_id: str
    alternative: str | None = Field(description="the personalised version asked (null: the question as written)")
    answers: int
    no_answer: int
    mean: float | None = None
    min: float | None = None
    p25: float | None = None
    median: float | None = None
    p75: float | None = None
    max: float | None = None


class BankScores(BaseModel):
    bank_id: str
    interviews: int = Field(description="sessions with a report")
    questions: list[QuestionScores]
