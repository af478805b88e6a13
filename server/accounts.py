"""Passwords and second factors: argon2id hashes (argon2-cffi) and TOTP (pyotp, RFC 6238).

Pure and synchronous: the sign-in handler (server/routes/hr.py) and the
users API (server/routes/users.py) call these; the rows are db/users.py's.
Nothing here logs a password, a hash, a secret or a code.
"""

from __future__ import annotations

import re
import secrets
import time
from typing import Callable

import pyotp
import pyotp.utils
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

ISSUER = "Candor"
MIN_PASSWORD = 10
MAX_PASSWORD = 256  # argon2 hashes anything, but a megabyte "password" is a way to burn CPU
LOGIN = re.compile(r"^[a-z0-9][a-z0-9._@\-]{1,63}$")

# argon2-cffi's defaults are RFC 9106's low-memory recommendation (argon2id, t=3, m=64 MiB, p=4).
_hasher = PasswordHasher()
# Verified when the login is unknown, so an unknown login takes as long as a wrong password.
_DUMMY = _hasher.hash(secrets.token_urlsafe(16))


def check_login(login: str) -> str:
    login = login.strip().lower()
    if not LOGIN.match(login):
        raise ValueError("a login is 2-64 characters: lower-case letters, digits, '.', '_', '-', '@'")
    return login


def check_password(password: str) -> str:
    if not (MIN_PASSWORD <= len(password) <= MAX_PASSWORD):
        raise ValueError(f"a password is {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return password


def hash_password(password: str) -> str:
    return _hasher.hash(check_password(password))


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; a missing hash (no password set) is checked against a dummy, and fails."""
    if not isinstance(password, str) or len(password) > MAX_PASSWORD:
        return False
    try:
        return _hasher.verify(password_hash or _DUMMY, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def one_time_password() -> str:
    """A password for a new or reset account, shown once (the user changes it: POST /v1/me/password)."""
    return secrets.token_urlsafe(15)  # 20 characters, 120 bits


def new_totp_secret() -> str:
    return pyotp.random_base32()  # 32 base32 characters, 160 bits (RFC 4226's recommended length)


def totp_uri(secret: str, login: str, issuer: str = ISSUER) -> str:
    """The otpauth:// URI an authenticator app reads (as a QR code or typed in)."""
    return pyotp.TOTP(secret).provisioning_uri(name=login, issuer_name=issuer)


def totp_step(secret: str | None, code: object, *, clock: Callable[[], float] = time.time) -> int | None:
    """The time step (RFC 6238's T) whose 6-digit code this is: now's, or one 30 s step either side (clock drift); None if none.

    The caller accepts each step once per user (RFC 6238 section 5.2: a code that was used is not taken again).
    """
    if secret is None or not isinstance(code, str):
        return None
    code = code.strip().replace(" ", "")
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    now = totp.timecode(clock())
    for step in (now, now - 1, now + 1):
        if pyotp.utils.strings_equal(code, totp.generate_otp(step)):
            return step
    return None


def verify_totp(secret: str | None, code: object, *, clock: Callable[[], float] = time.time) -> bool:
    return totp_step(secret, code, clock=clock) is not None
