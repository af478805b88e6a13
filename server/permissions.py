"""Who may do what: the role -> permissions table, and who a request is (:class:`Principal`).

This is the one place that says what each role may do (issue 12, section 1).
Every HR operation in the REST table names one permission
(``Operation(perm=...)``, server/openapi.py), and the router checks it
before the handler runs (:func:`server.openapi.routes`), so a handler
cannot forget it. tests/test_roles.py walks every operation x every role
against this table.

Roles:

* ``admin``: everything (users, settings, rules, deliveries, the audit log).
* ``recruiter``: their jobs: applications, invites, decisions, candidates'
  contacts and resumes, reports, sessions; reads jobs and rules.
* ``reviewer``: reads the reports and sessions of the jobs they are given,
  records a recommendation on them (server/routes/recommendations.py), and nothing of a candidate's contact data (no phone, e-mail, resume, WeCom
  id): a session's candidate profile shows the name only
  (:func:`for_reviewer`). No applications (their parsed resumes hold contact data).
* ``auditor``: the audit log and the bias audit, aggregate analytics, jobs;
  no candidate personal data.

Row scoping: a recruiter or reviewer sees only the jobs they are given
(:attr:`Principal.job_ids`; ``None`` means every job: admin, auditor).
A row of another job is answered 404, as if it did not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

# -- permissions -------------------------------------------------------------------------------
SELF = "self"  # any signed-in user: who am I, my TOTP, my API tokens
PERMISSIONS: dict[str, str] = {
    SELF: "see and manage one's own account (GET /v1/me, TOTP, own API tokens)",
    "sessions.read": "list and show interview sessions (of one's jobs)",
    "sessions.write": "create interview sessions",
    "candidates.read": "list and show candidates (personal data)",
    "candidates.write": "create and edit candidates",
    "reports.read": "read interview reports (of one's jobs)",
    "reports.write": "rebuild reports",
    "decisions.write": "record a person's decision on a report or an application",
    "recommendations.write": "record one's recommendation on an interview (advice to whoever decides)",
    "applications.read": "list and show applications (of one's jobs), their timelines and actions",
    "applications.write": "take applications, invite, decide, bulk actions, retry automation's actions",
    "applications.personal": "read a resume's text and parsed fields (contact data)",
    "contacts.read": "read how to reach a candidate",
    "contacts.write": "set how to reach a candidate",
    "jobs.read": "list and show jobs and question banks",
    "jobs.write": "create and edit jobs and question banks",
    "automation.read": "read a job's automation rules and preview templates",
    "automation.write": "replace a job's automation rules",
    "analytics.read": "aggregate analytics (funnels, sources, score validity)",
    "analytics.write": "set what a source cost",
    "outcomes.write": "record what became of a candidate",
    "deliveries.read": "see the outbox's deliveries (failed ones included)",
    "deliveries.write": "replay a delivery",
    "audit.read": "read and verify the audit log",
    "bias.read": "the bias audit",
    # For the routes other parts of issue 12 add (recordings, erasure, retention): named here so they plug in.
    "recordings.read": "play an interview's recorded answers (of one's jobs)",
    "candidates.erase": "erase a candidate's personal data (DELETE /v1/candidates/{id})",
    "retention.admin": "retention policies and purges",
    "users.admin": "manage users, their roles, jobs, passwords, TOTP and API tokens",
    "nodes.admin": "see the nodes' load and drain a node for a release",
}
# An HR operation that names no permission is for admins only until someone decides (deny by default).
UNDECIDED = "admin.only"
ALL = frozenset(PERMISSIONS) | {UNDECIDED}

ROLES: dict[str, frozenset[str]] = {
    "admin": ALL,
    "recruiter": frozenset({
        SELF, "sessions.read", "sessions.write", "candidates.read", "candidates.write", "reports.read", "reports.write",
        "decisions.write", "applications.read", "applications.write", "applications.personal", "contacts.read",
        "contacts.write", "jobs.read", "automation.read", "analytics.read", "outcomes.write", "recordings.read",
        "recommendations.write",
    }),
    "reviewer": frozenset({SELF, "sessions.read", "reports.read", "jobs.read", "recordings.read", "recommendations.write"}),
    "auditor": frozenset({SELF, "audit.read", "bias.read", "analytics.read", "jobs.read"}),
}
SCOPED_ROLES = frozenset({"recruiter", "reviewer"})  # see only the jobs they are given


def role_permissions(role: str) -> frozenset[str]:
    return ROLES.get(role, frozenset())


def check_scopes(scopes: Iterable[str]) -> list[str]:
    """An API token's scopes: known permissions (ValueError names an unknown one)."""
    out = sorted(set(scopes))
    for scope in out:
        if scope not in PERMISSIONS:
            raise ValueError(f"unknown scope {scope!r}: a scope is a permission ({', '.join(sorted(PERMISSIONS))})")
    return out


@dataclass(frozen=True)
class Principal:
    """Who a request is: a user id (never a name), the role, what they may do, and which jobs they see."""

    user_id: str
    role: str
    login: str
    perms: frozenset[str]
    job_ids: frozenset[str] | None  # None: every job
    via: str  # "cookie", "api-token", "bootstrap-token"
    token_id: str | None = None

    @classmethod
    def of(cls, user_id: str, role: str, login: str, job_ids: Iterable[str], via: str, *,
           scopes: Iterable[str] = (), token_id: str | None = None) -> "Principal":
        perms = role_permissions(role)
        scoped = frozenset(scopes)
        if scoped:
            perms = perms & (scoped | {SELF})
        return cls(user_id, role, login, perms, frozenset(job_ids) if role in SCOPED_ROLES else None, via, token_id)

    @classmethod
    def bootstrap(cls, via: str) -> "Principal":
        """CANDOR_HR_TOKEN's holder: the bootstrap admin, user ``hr`` (as the audit log named HR before accounts)."""
        return cls("hr", "admin", "hr", ALL, None, via)

    def can(self, perm: str | None) -> bool:
        return (perm or UNDECIDED) in self.perms

    def sees_job(self, job_id: str | None) -> bool:
        """Whether a row of this job is this principal's to see (a row of no job: only for those who see every job)."""
        return self.job_ids is None or (job_id is not None and job_id in self.job_ids)

    def public(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "login": self.login, "role": self.role, "permissions": sorted(self.perms - {UNDECIDED}),
                "job_ids": sorted(self.job_ids) if self.job_ids is not None else None, "via": self.via}


# A candidate profile's fields a reviewer may see: the name, nothing to contact them by.
REVIEWER_PROFILE_FIELDS = frozenset({"name", "language", "languages"})


def for_reviewer(profile: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A candidate profile without contact data (phone, e-mail, resume, ids): what a reviewer sees."""
    if profile is None:
        return None
    return {k: v for k, v in profile.items() if k in REVIEWER_PROFILE_FIELDS}


def shows_contacts(principal: Principal | None) -> bool:
    """Whether this principal sees candidates' contact data (everyone with candidate access but reviewers)."""
    return principal is not None and principal.role != "reviewer" and principal.can("candidates.read")
