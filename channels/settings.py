"""Typed settings of the ways out that are not webhooks: WeCom and SMTP.

``CANDOR_WECOM`` is JSON (:class:`WeComConfig`); ``CANDOR_SMTP_URL`` is
``smtp://user:pass@host:port`` (``?starttls=true`` to upgrade, ``smtps://``
for implicit TLS), parsed by :func:`SmtpConfig.from_url`. Secrets are
``SecretStr``: their ``repr`` and ``str`` show stars, so a settings object
can be logged without leaking them.
"""

from __future__ import annotations

from email.utils import parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from .wecom_crypto import aes_key

NAME = r"^[a-z0-9_\-]{1,40}$"
DEFAULT_API_BASE = "https://qyapi.weixin.qq.com"


class WeComConfig(BaseModel):
    """One bank's self-built WeCom app (自建应用) and its group robots (docs/wecom.md)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    corp_id: str = Field(min_length=1, max_length=64)  # 企业ID (My Company -> Company Info)
    agent_id: int  # the app's AgentId
    secret: SecretStr  # the app's Secret (gettoken's corpsecret)
    callback_token: SecretStr | None = None  # the app's API receive Token
    callback_aes_key: SecretStr | None = None  # its EncodingAESKey (43 characters)
    api_base: str = Field(default=DEFAULT_API_BASE, pattern=r"^https?://")
    # Group robots by name: {"shanghai-hr": "<the key of webhook/send?key=...>"}
    robots: dict[str, SecretStr] = Field(default_factory=dict)
    # The employee (userid) whose customers the candidates are; external-contact
    # messages are tasks this person confirms in the WeCom client. None: no external channel.
    external_sender: str | None = None
    # message/send's duplicate check: the same content within this many seconds is shown once (max 4 h).
    duplicate_check_interval_s: int = Field(default=1800, ge=0, le=14400)
    # After a frequency limit (45009...) WeCom blocks a minute-limited caller for 60 s: wait that long.
    limit_retry_after_s: int = Field(default=60, ge=0)
    timeout_s: float = Field(default=10.0, gt=0, le=120)
    horizon_s: float = Field(default=24 * 3600.0, gt=0)

    @field_validator("callback_aes_key")
    @classmethod
    def _aes_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            aes_key(value.get_secret_value())
        return value

    @field_validator("robots")
    @classmethod
    def _robot_names(cls, value: dict[str, SecretStr]) -> dict[str, SecretStr]:
        import re

        for name in value:
            if not re.match(NAME, name):
                raise ValueError(f"a robot's name is [a-z0-9_-]{{1,40}}, got {name!r}")
        return value

    @property
    def api(self) -> str:
        return self.api_base.rstrip("/")

    @property
    def callback_ready(self) -> bool:
        return self.callback_token is not None and self.callback_aes_key is not None


class SmtpConfig(BaseModel):
    """Where e-mail goes: an SMTP submission server."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str
    port: int = Field(gt=0, lt=65536)
    username: str | None = None
    password: SecretStr | None = None
    use_tls: bool = False  # smtps:// (implicit TLS, usually port 465)
    start_tls: bool = False  # ?starttls=true (usually port 587)
    validate_certs: bool = True  # ?verify=false for a relay with a private CA (say so in the docs)
    mail_from: str
    timeout_s: float = Field(default=30.0, gt=0, le=300)
    horizon_s: float = Field(default=24 * 3600.0, gt=0)

    @field_validator("mail_from")
    @classmethod
    def _from(cls, value: str) -> str:
        _, addr = parseaddr(value)
        if "@" not in addr:
            raise ValueError("CANDOR_MAIL_FROM is an address (Name <hr@bank.cn> or hr@bank.cn)")
        return value

    @property
    def from_domain(self) -> str:
        return parseaddr(self.mail_from)[1].rsplit("@", 1)[1].lower()

    @classmethod
    def from_url(cls, url: str, mail_from: str) -> "SmtpConfig":
        """``smtp://user:pass@host:port?starttls=true`` or ``smtps://...``; ValueError says what is wrong."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError("CANDOR_SMTP_URL starts with smtp:// or smtps://")
        if not parts.hostname:
            raise ValueError("CANDOR_SMTP_URL names a host: smtp://host:587")
        query = {k: v[-1].lower() for k, v in parse_qs(parts.query).items()}
        start_tls = query.get("starttls", "false") in ("1", "true", "yes")
        use_tls = parts.scheme == "smtps"
        if use_tls and start_tls:
            raise ValueError("smtps:// is TLS from the start; starttls=true is for smtp://")
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if use_tls else 587 if start_tls else 25),
            username=unquote(parts.username) if parts.username else None,
            password=SecretStr(unquote(parts.password)) if parts.password else None,
            use_tls=use_tls,
            start_tls=start_tls,
            validate_certs=query.get("verify", "true") not in ("0", "false", "no"),
            mail_from=mail_from,
            **({"timeout_s": _seconds(query["timeout"])} if "timeout" in query else {}),
        )


def _seconds(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError("CANDOR_SMTP_URL's timeout is in seconds, e.g. ?timeout=20") from None
