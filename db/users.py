"""HR accounts: users, their sign-ins and their API tokens (issue 12, section 1).

* ``users``: a login, a display name, one role (``admin``, ``recruiter``,
  ``reviewer``, ``auditor``), an argon2id password hash (never the
  password), a TOTP secret once the user enrolled (read only to check a
  code; kept out of every ``repr`` and log), a WeCom ``userid`` (unique) for
  single sign-on, the job ids the user is given, and a disabled flag.
* ``sign_ins``: a browser's sign-in, kept here (not in a process) so it
  survives a restart and works on every node. Only the SHA-256 digest of the
  cookie's random id is stored; it ends at ``expires_at`` or when revoked.
* ``api_tokens``: per-user bearer tokens for integrations: the digest only,
  scopes (permissions, a subset of the role's), an optional expiry, when it
  was last used, and revocation.

Hashing and checking passwords and codes is the server's (server/accounts.py);
this module stores and finds rows. Times are UTC.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Collection

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, LargeBinary, String, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from .base import AlreadyExists, Base, Repository, aware, token_hash, utcnow

ROLES = ("admin", "recruiter", "reviewer", "auditor")
LAST_USED_EVERY = timedelta(seconds=60)  # an API token's last use is written at most this often


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # enrolled or being enrolled: sealed for the user (vault/, subject "user:<id>"), so a copy of the database
    # holds no second factor
    totp_secret: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False)  # confirmed with a code
    totp_last_step: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the newest time step used: no replay
    wecom_userid: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    job_ids: Mapped[list] = mapped_column(JSON, default=list)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SignInRow(Base):
    __tablename__ = "sign_ins"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), index=True)  # a users.id, or "hr" (the bootstrap admin)
    method: Mapped[str] = mapped_column(String(16))  # password, token, wecom
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ApiTokenRow(Base):
    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    scopes: Mapped[list] = mapped_column(JSON, default=list)  # permissions; empty: all of the role's
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


@dataclass(frozen=True)
class UserRecord:
    id: str
    login: str
    display_name: str
    role: str
    job_ids: tuple[str, ...]
    disabled: bool
    totp_enabled: bool
    wecom_userid: str | None
    created_at: datetime
    updated_at: datetime
    has_password: bool
    # Secrets: never in a repr (a record may end up in a log line or a traceback).
    password_hash: str | None = field(default=None, repr=False)
    totp_secret: str | None = field(default=None, repr=False)

    def public(self) -> dict[str, Any]:
        """What the users API shows: no hash, no secret."""
        return {
            "id": self.id, "login": self.login, "display_name": self.display_name, "role": self.role,
            "job_ids": list(self.job_ids), "disabled": self.disabled, "totp_enabled": self.totp_enabled,
            "wecom_userid": self.wecom_userid, "has_password": self.has_password,
            "created_at": self.created_at.isoformat(), "updated_at": self.updated_at.isoformat(),
        }


@dataclass(frozen=True)
class SignInRecord:
    user_id: str
    method: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class ApiTokenRecord:
    id: str
    user_id: str
    name: str
    scopes: tuple[str, ...]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    def public(self) -> dict[str, Any]:
        iso = lambda t: t.isoformat() if t is not None else None  # noqa: E731
        return {
            "id": self.id, "user_id": self.user_id, "name": self.name, "scopes": list(self.scopes),
            "created_at": iso(self.created_at), "expires_at": iso(self.expires_at),
            "last_used_at": iso(self.last_used_at), "revoked_at": iso(self.revoked_at),
        }


TOTP_SECRET = "users.totp_secret"  # the sealed column's context


def _user(row: UserRow, totp_secret: str | None) -> UserRecord:
    return UserRecord(
        id=row.id, login=row.login, display_name=row.display_name, role=row.role, job_ids=tuple(row.job_ids or ()),
        disabled=bool(row.disabled), totp_enabled=bool(row.totp_enabled), wecom_userid=row.wecom_userid,
        created_at=aware(row.created_at), updated_at=aware(row.updated_at), has_password=row.password_hash is not None,
        password_hash=row.password_hash, totp_secret=totp_secret,
    )


def _token(row: ApiTokenRow) -> ApiTokenRecord:
    opt = lambda t: aware(t) if t is not None else None  # noqa: E731
    return ApiTokenRecord(
        id=row.id, user_id=row.user_id, name=row.name, scopes=tuple(row.scopes or ()), created_at=aware(row.created_at),
        expires_at=opt(row.expires_at), last_used_at=opt(row.last_used_at), revoked_at=opt(row.revoked_at),
    )


# The columns update_user may change (the users API and the CLI; the password and TOTP through their own calls too).
EDITABLE = frozenset({"display_name", "role", "job_ids", "disabled", "wecom_userid", "password_hash", "totp_secret", "totp_enabled",
                      "totp_last_step"})


class UserRepository(Repository):
    """Users, sign-ins and API tokens."""

    def _user_record(self, db: Session, row: UserRow) -> UserRecord:
        secret = self._open(db, f"user:{row.id}", TOTP_SECRET, row.totp_secret) if row.totp_secret is not None else None
        return _user(row, secret)

    # -- users ----------------------------------------------------------------------------
    def create_user(self, login: str, display_name: str, role: str, *, password_hash: str | None = None,
                    job_ids: Collection[str] = (), wecom_userid: str | None = None) -> UserRecord:
        """A new user; AlreadyExists when the login or the WeCom userid is taken."""
        if role not in ROLES:
            raise ValueError(f"a role is one of {', '.join(ROLES)}")
        now = utcnow()
        row = UserRow(
            id="u_" + secrets.token_hex(8), login=login, display_name=display_name, role=role, password_hash=password_hash,
            totp_secret=None, totp_enabled=False, wecom_userid=wecom_userid, job_ids=sorted(set(job_ids)), disabled=False,
            created_at=now, updated_at=now,
        )
        try:
            with Session(self.engine) as db, db.begin():
                db.add(row)
                db.flush()
                return self._user_record(db, row)
        except IntegrityError:
            raise AlreadyExists("that login or WeCom userid is taken") from None

    def get_user(self, user_id: str) -> UserRecord | None:
        with Session(self.engine) as db:
            row = db.get(UserRow, user_id)
            return self._user_record(db, row) if row is not None else None

    def user_by_login(self, login: str) -> UserRecord | None:
        with Session(self.engine) as db:
            row = db.scalars(select(UserRow).where(UserRow.login == login)).first()
            return self._user_record(db, row) if row is not None else None

    def user_by_wecom(self, wecom_userid: str) -> UserRecord | None:
        with Session(self.engine) as db:
            row = db.scalars(select(UserRow).where(UserRow.wecom_userid == wecom_userid)).first()
            return self._user_record(db, row) if row is not None else None

    def list_users(self) -> list[UserRecord]:
        with Session(self.engine) as db:
            return [self._user_record(db, r) for r in db.scalars(select(UserRow).order_by(UserRow.login))]

    def count_admins(self) -> int:
        with Session(self.engine) as db:
            return len(list(db.scalars(select(UserRow.id).where(UserRow.role == "admin", UserRow.disabled.is_(False)))))

    def update_user(self, user_id: str, **changes: Any) -> UserRecord | None:
        """Change the given columns (:data:`EDITABLE`); None if there is no such user; AlreadyExists for a taken WeCom userid.

        Disabling a user, or changing their role or password, ends their sign-ins (their API tokens stay, and refuse while disabled).
        """
        unknown = set(changes) - EDITABLE
        if unknown:
            raise ValueError(f"not editable: {', '.join(sorted(unknown))}")
        if "role" in changes and changes["role"] not in ROLES:
            raise ValueError(f"a role is one of {', '.join(ROLES)}")
        if "job_ids" in changes:
            changes["job_ids"] = sorted(set(changes["job_ids"]))
        try:
            with Session(self.engine) as db, db.begin():
                row = db.get(UserRow, user_id)
                if row is None:
                    return None
                ends_sign_ins = (changes.get("disabled") and not row.disabled) or (
                    "role" in changes and changes["role"] != row.role) or "password_hash" in changes
                for name, value in changes.items():
                    if name == "totp_secret" and value is not None:
                        value = self._seal(db, f"user:{user_id}", TOTP_SECRET, value)
                    setattr(row, name, value)
                row.updated_at = utcnow()
                if ends_sign_ins:
                    db.execute(update(SignInRow).where(SignInRow.user_id == user_id, SignInRow.revoked_at.is_(None))
                               .values(revoked_at=utcnow()))
                db.flush()
                return self._user_record(db, row)
        except IntegrityError:
            raise AlreadyExists("that WeCom userid is taken") from None

    def use_totp_step(self, user_id: str, step: int) -> bool:
        """Take a TOTP time step for this user once: False when it (or a later one) was used already (a replayed code)."""
        with Session(self.engine) as db, db.begin():
            done = db.execute(
                update(UserRow).where(UserRow.id == user_id)
                .where((UserRow.totp_last_step.is_(None)) | (UserRow.totp_last_step < step))
                .values(totp_last_step=step)
            )
            return done.rowcount == 1

    # -- sign-ins -------------------------------------------------------------------------
    def create_sign_in(self, sign_in_id: str, user_id: str, method: str, ttl: timedelta) -> SignInRecord:
        now = utcnow()
        with Session(self.engine) as db, db.begin():
            db.execute(delete(SignInRow).where(SignInRow.expires_at < now - timedelta(days=1)))  # long over: tidy
            db.add(SignInRow(id_hash=token_hash(sign_in_id), user_id=user_id, method=method, created_at=now, expires_at=now + ttl))
        return SignInRecord(user_id, method, now, now + ttl)

    def sign_in(self, sign_in_id: str) -> SignInRecord | None:
        """The live sign-in this id names: not revoked, not expired."""
        with Session(self.engine) as db:
            row = db.get(SignInRow, token_hash(sign_in_id))
            if row is None or row.revoked_at is not None or aware(row.expires_at) <= utcnow():
                return None
            return SignInRecord(row.user_id, row.method, aware(row.created_at), aware(row.expires_at))

    def revoke_sign_in(self, sign_in_id: str) -> bool:
        with Session(self.engine) as db, db.begin():
            row = db.get(SignInRow, token_hash(sign_in_id))
            if row is None or row.revoked_at is not None:
                return False
            row.revoked_at = utcnow()
            return True

    # -- API tokens ---------------------------------------------------------------------------
    def create_api_token(self, user_id: str, token: str, name: str, scopes: Collection[str] = (),
                         expires_at: datetime | None = None) -> ApiTokenRecord:
        row = ApiTokenRow(
            id="tok_" + secrets.token_hex(8), user_id=user_id, token_hash=token_hash(token), name=name,
            scopes=sorted(set(scopes)), created_at=utcnow(), expires_at=expires_at,
        )
        with Session(self.engine) as db, db.begin():
            db.add(row)
            db.flush()
            return _token(row)

    def api_token(self, token: str) -> ApiTokenRecord | None:
        """The live token (not revoked, not expired) this bearer value is; its last use noted (at most once a minute)."""
        now = utcnow()
        with Session(self.engine) as db, db.begin():
            row = db.scalars(select(ApiTokenRow).where(ApiTokenRow.token_hash == token_hash(token))).first()
            if row is None or row.revoked_at is not None or (row.expires_at is not None and aware(row.expires_at) <= now):
                return None
            if row.last_used_at is None or aware(row.last_used_at) < now - LAST_USED_EVERY:
                row.last_used_at = now
            return _token(row)

    def list_api_tokens(self, user_id: str | None = None) -> list[ApiTokenRecord]:
        query = select(ApiTokenRow).order_by(ApiTokenRow.created_at.desc())
        if user_id is not None:
            query = query.where(ApiTokenRow.user_id == user_id)
        with Session(self.engine) as db:
            return [_token(r) for r in db.scalars(query)]

    def get_api_token(self, token_id: str) -> ApiTokenRecord | None:
        with Session(self.engine) as db:
            row = db.get(ApiTokenRow, token_id)
            return _token(row) if row is not None else None

    def revoke_api_token(self, token_id: str) -> bool:
        with Session(self.engine) as db, db.begin():
            row = db.get(ApiTokenRow, token_id)
            if row is None or row.revoked_at is not None:
                return False
            row.revoked_at = utcnow()
            return True
