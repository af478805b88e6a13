"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives.

``SmtpServer().start()`` listens on a free port; ``messages`` holds every
accepted mail parsed with the stdlib (``email.message.EmailMessage``).
``require_auth`` turns on AUTH PLAIN/LOGIN with one user, after STARTTLS
(a self-signed certificate made for the test: clients connect with
``?starttls=true&verify=false``); ``replies`` is a
list of SMTP replies handed out at DATA, one per transaction, before the
server accepts normally (``["451 4.3.0 try later"]``: one temporary
failure); ``rcpt_reply`` refuses every recipient with a given reply;
``delay_s`` holds each DATA answer that long.
"""

from __future__ import annotations

import asyncio
import datetime
import ssl
import tempfile
import threading
from pathlib import Path
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.helpers import free_port


class _Handler:
    def __init__(self, server: "SmtpServer") -> None:
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd's name)
        if self.server.rcpt_reply:
            return self.server.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        s = self.server
        if s.delay_s:
            await asyncio.sleep(s.delay_s)
        with s.lock:
            s.transactions += 1
            if s.replies:
                return s.replies.pop(0)
            msg = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
            assert isinstance(msg, EmailMessage)
            s.messages.append(msg)
            s.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


def self_signed_context(host: str = "127.0.0.1") -> ssl.SSLContext:
    """A server TLS context with a fresh self-signed certificate for ``host``."""
    import ipaddress

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    folder = Path(tempfile.mkdtemp(prefix="candor-smtp-"))
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return context


class SmtpServer:
    def __init__(self, *, require_auth: tuple[str, str] | None = None) -> None:
        self.port = free_port()
        self.require_auth = require_auth
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.replies: list[str] = []
        self.rcpt_reply: str | None = None
        self.delay_s = 0.0
        self.transactions = 0  # DATA commands seen (accepted or not)
        self.auth_failures = 0
        self.lock = threading.Lock()
        self.controller: Controller | None = None

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        assert self.require_auth is not None
        if isinstance(auth_data, LoginPassword) and (
            auth_data.login.decode(),
            auth_data.password.decode(),
        ) == self.require_auth:
            return AuthResult(success=True)
        self.auth_failures += 1
        return AuthResult(success=False, handled=False)

    def url(self, *, user: str | None = None, password: str | None = None) -> str:
        cred = f"{user}:{password}@" if user else ""
        tls = "?starttls=true&verify=false" if self.require_auth is not None else ""
        return f"smtp://{cred}127.0.0.1:{self.port}{tls}"

    def start(self) -> "SmtpServer":
        kwargs: dict = {}
        if self.require_auth is not None:
            kwargs = dict(
                authenticator=self._authenticate,
                auth_required=True,
                tls_context=self_signed_context(),
                require_starttls=True,
            )
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port, **kwargs)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
