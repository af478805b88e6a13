"""WeCom's callback encryption (WXBizMsgCrypt), written against the official description.

developer.work.weixin.qq.com "加解密方案说明" (document/path/91144):

* ``msg_signature = sha1("".join(sorted([token, timestamp, nonce, msg_encrypt])))``;
* ``AESKey = base64decode(EncodingAESKey + "=")`` (43 characters -> 32 bytes),
  AES-256-CBC, IV = the key's first 16 bytes, PKCS#7 padding to a multiple
  of **32** bytes (not AES's 16);
* plaintext = 16 random bytes + 4-byte big-endian length of msg + msg +
  ReceiveId (the corp id for a self-built app), msg_encrypt = base64 of the
  ciphertext.

Pure and synchronous: :class:`MsgCrypt` signs, verifies, encrypts and
decrypts; :func:`parse_xml` reads a callback body with ``defusedxml`` (no
entities, no external DTDs). Errors are :class:`CallbackError` with a
``status`` the HTTP edge answers with (401 bad signature, 400 malformed).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
from dataclasses import dataclass
from typing import Callable
from xml.etree.ElementTree import Element, ParseError

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

BLOCK = 32  # WeCom pads to 32 bytes (PKCS#7 with k = 32)


class CallbackError(ValueError):
    """A callback that cannot be accepted; ``status`` is what the HTTP edge answers."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    """``msg_signature``: SHA-1 of the four strings sorted and joined."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode("utf-8")).hexdigest()


def aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key from the 43-character EncodingAESKey."""
    if len(encoding_aes_key) != 43:
        raise ValueError("an EncodingAESKey is 43 characters (WeCom admin console)")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("an EncodingAESKey is base64 characters (a-z, A-Z, 0-9)") from None
    if len(key) != 32:
        raise ValueError("an EncodingAESKey decodes to 32 bytes")
    return key


def _pad(data: bytes) -> bytes:
    n = BLOCK - len(data) % BLOCK
    return data + bytes([n]) * n


def _unpad(data: bytes) -> bytes:
    if not data:
        raise CallbackError(400, "empty plaintext")
    n = data[-1]
    if not 1 <= n <= BLOCK or len(data) < n:
        raise CallbackError(400, "bad padding")
    return data[:-n]


@dataclass(frozen=True)
class MsgCrypt:
    """One app's callback keys: its Token, EncodingAESKey and ReceiveId (the corp id)."""

    token: str
    encoding_aes_key: str
    receive_id: str

    def _cipher(self) -> Cipher:
        key = aes_key(self.encoding_aes_key)
        return Cipher(algorithms.AES(key), modes.CBC(key[:16]))

    # -- signatures -------------------------------------------------------
    def sign(self, timestamp: str, nonce: str, encrypted: str) -> str:
        return signature(self.token, timestamp, nonce, encrypted)

    def verify(self, msg_signature: str, timestamp: str, nonce: str, encrypted: str) -> None:
        """CallbackError(401) unless ``msg_signature`` is right (constant-time compare)."""
        expected = self.sign(timestamp, nonce, encrypted)
        if not hmac.compare_digest(expected, (msg_signature or "").lower()):
            raise CallbackError(401, "bad msg_signature")

    # -- AES ----------------------------------------------------------------
    def encrypt(self, message: str, random_bytes: Callable[[int], bytes] = os.urandom) -> str:
        """``msg_encrypt`` (base64) of ``message`` for this app."""
        raw = message.encode("utf-8")
        plain = random_bytes(16) + struct.pack(">I", len(raw)) + raw + self.receive_id.encode("utf-8")
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(_pad(plain)) + encryptor.finalize()).decode("ascii")

    def decrypt(self, encrypted: str) -> str:
        """The message inside ``msg_encrypt``; CallbackError(400) if it is not one of ours."""
        try:
            data = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError):
            raise CallbackError(400, "msg_encrypt is not base64") from None
        if not data or len(data) % 16:
            raise CallbackError(400, "msg_encrypt is not whole AES blocks")
        decryptor = self._cipher().decryptor()
        plain = _unpad(decryptor.update(data) + decryptor.finalize())
        if len(plain) < 20:
            raise CallbackError(400, "plaintext too short")
        (length,) = struct.unpack(">I", plain[16:20])
        if 20 + length > len(plain):
            raise CallbackError(400, "bad message length")
        message, receive_id = plain[20 : 20 + length], plain[20 + length :]
        if receive_id.decode("utf-8", "replace") != self.receive_id:
            raise CallbackError(401, "the ReceiveId is not this corp's")
        try:
            return message.decode("utf-8")
        except UnicodeDecodeError:
            raise CallbackError(400, "message is not UTF-8") from None

    # -- the callback's two shapes ------------------------------------------
    def verify_url(self, msg_signature: str, timestamp: str, nonce: str, echostr: str) -> str:
        """URL verification (GET): check the signature, return the decrypted echostr."""
        self.verify(msg_signature, timestamp, nonce, echostr)
        return self.decrypt(echostr)

    def decrypt_body(self, msg_signature: str, timestamp: str, nonce: str, body: bytes | str) -> dict[str, str]:
        """A message or event (POST): check, decrypt and parse; the inner XML as a flat dict."""
        outer = parse_xml(body)
        encrypted = outer.get("Encrypt")
        if not encrypted:
            raise CallbackError(400, "no Encrypt element")
        self.verify(msg_signature, timestamp, nonce, encrypted)
        return parse_xml(self.decrypt(encrypted))

    def encrypt_body(self, message: str, timestamp: str, nonce: str) -> str:
        """What WeCom posts (and what a passive reply is): the outer XML with Encrypt and its signature."""
        encrypted = self.encrypt(message)
        return (
            f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt>"
            f"<MsgSignature><![CDATA[{self.sign(timestamp, nonce, encrypted)}]]></MsgSignature>"
            f"<TimeStamp>{timestamp}</TimeStamp><Nonce><![CDATA[{nonce}]]></Nonce></xml>"
        )


def parse_xml(body: bytes | str) -> dict[str, str]:
    """A WeCom XML document's top-level children as ``{tag: text}``; CallbackError(400) if malformed."""
    try:
        root: Element = fromstring(body, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError):
        raise CallbackError(400, "malformed XML") from None
    if root.tag != "xml":
        raise CallbackError(400, "the root element is not <xml>")
    return {child.tag: (child.text or "").strip() for child in root}
