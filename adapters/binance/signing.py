"""Request signing for the Binance REST API: HMAC-SHA256, Ed25519 and RSA (PKCS#1 v1.5, SHA-256).

Since 2026-01-15 (testnet 2025-12-17) the server verifies the signature over the *percent-encoded* parameter
string. So the parameters are serialised once, by ``encode_params`` (UTF-8, only ``A-Za-z0-9-_.~`` left
unescaped, like Binance's reference encoder), that exact string is signed, and that exact string is sent
with ``&signature=<percent-encoded signature>`` appended. Nothing re-encodes it on the way out.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
from collections.abc import Iterable, Sequence
from typing import Protocol
from urllib.parse import quote

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa

from adapters.binance.secrets import Secret

__all__ = [
    "MAX_RSA_BITS",
    "MIN_RSA_BITS",
    "Ed25519Signer",
    "HmacSigner",
    "KeyLoadError",
    "RsaSigner",
    "Signer",
    "encode_params",
    "load_private_key_signer",
    "sign_query",
    "symbols_param",
]

MIN_RSA_BITS = 2048
MAX_RSA_BITS = 4096

Params = Sequence[tuple[str, str]]


def _quote(text: str) -> str:
    # urllib's always-safe set is exactly A-Za-z0-9 and "-_.~"; safe="" escapes "/" too.
    if text.isascii() and text.isalnum():
        return text  # names, symbols, numbers, hex signatures: nothing to escape
    return _quote_parameter(text)


@functools.lru_cache(maxsize=1024)
def _quote_parameter(text: str) -> str:
    # Parameter values repeat (symbol lists, intervals): each is escaped once. Signatures never come here.
    return quote(text, safe="", encoding="utf-8")


def encode_params(params: Iterable[tuple[str, str]]) -> str:
    """``k=v&k=v`` with names and values percent-encoded as UTF-8, in the order given."""
    return "&".join(f"{_quote(name)}={_quote(value)}" for name, value in params)


def symbols_param(symbols: Iterable[str]) -> str:
    """The ``symbols`` value: a compact JSON array (no spaces), non-ASCII kept as text for UTF-8 encoding."""
    return json.dumps(list(symbols), separators=(",", ":"), ensure_ascii=False)


class Signer(Protocol):
    """Signs the exact payload bytes; returns the signature text (hex or base64) before URL encoding."""

    @property
    def key_type(self) -> str:
        """``HMAC``, ``ED25519`` or ``RSA``."""
        ...

    def sign(self, payload: bytes) -> str: ...


class HmacSigner:
    """HMAC-SHA256 with the API secret; the signature is 64 lower-case hex characters."""

    key_type = "HMAC"

    def __init__(self, secret: Secret) -> None:
        # The keyed state (the key padded and hashed into the inner and outer digests) is set up once;
        # each signature starts from a copy of it.
        self._keyed = hmac.new(secret.reveal().encode("utf-8"), digestmod=hashlib.sha256)

    def sign(self, payload: bytes) -> str:
        mac = self._keyed.copy()
        mac.update(payload)
        return mac.hexdigest()

    def __repr__(self) -> str:
        return "HmacSigner(secret=Secret('***'))"


class Ed25519Signer:
    """Ed25519 over the payload; the signature is base64 (88 characters)."""

    key_type = "ED25519"

    def __init__(self, key: ed25519.Ed25519PrivateKey) -> None:
        self._key = key

    def sign(self, payload: bytes) -> str:
        return base64.b64encode(self._key.sign(payload)).decode("ascii")

    def __repr__(self) -> str:
        return "Ed25519Signer(key=***)"


class RsaSigner:
    """RSASSA-PKCS1-v1_5 with SHA-256 (not PSS); the signature is base64."""

    key_type = "RSA"

    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        if not MIN_RSA_BITS <= key.key_size <= MAX_RSA_BITS:
            msg = f"an RSA key for Binance has {MIN_RSA_BITS} to {MAX_RSA_BITS} bits, not {key.key_size}"
            raise KeyLoadError(msg)
        self._key = key

    @property
    def key_size(self) -> int:
        return self._key.key_size

    def sign(self, payload: bytes) -> str:
        signature = self._key.sign(payload, padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(signature).decode("ascii")

    def __repr__(self) -> str:
        return f"RsaSigner(bits={self._key.key_size}, key=***)"


def sign_query(params: Params, signer: Signer) -> str:
    """The query string to send: the encoded ``params``, then ``&signature=`` and the encoded signature.

    ``params`` must already hold ``timestamp`` (and ``recvWindow`` when used); the signature covers the
    encoded string byte for byte.
    """
    payload = encode_params(params)
    signature = signer.sign(payload.encode("ascii"))
    return f"{payload}&signature={quote(signature, safe='', encoding='utf-8')}"


class KeyLoadError(ValueError):
    """A private key could not be used; the message never contains key material."""


def load_private_key_signer(pem: bytes, passphrase: Secret | None = None) -> Ed25519Signer | RsaSigner:
    """A signer for an Ed25519 or RSA (2048-4096 bit) private key in PEM form (PKCS#8 or traditional)."""
    if b"PRIVATE KEY" not in pem:
        if b"PUBLIC KEY" in pem:
            msg = "the file holds a public key; give the private key (the public key is what Binance gets)"
        else:
            msg = "the file is not a PEM private key (it has no 'BEGIN ... PRIVATE KEY' line)"
        raise KeyLoadError(msg)
    password = passphrase.reveal().encode("utf-8") if passphrase is not None else None
    try:
        key = serialization.load_pem_private_key(pem, password=password)
    except TypeError as exc:
        encrypted = password is None
        msg = (
            "the private key is encrypted; set its passphrase"
            if encrypted
            else "a passphrase was given but the private key is not encrypted; remove the passphrase"
        )
        raise KeyLoadError(msg) from exc
    except UnsupportedAlgorithm as exc:
        msg = "the private key uses an algorithm this installation cannot load"
        raise KeyLoadError(msg) from exc
    except ValueError as exc:
        msg = (
            "the private key could not be decrypted with the given passphrase, or its PEM data is damaged"
            if password is not None
            else "the PEM data of the private key is damaged or in an unsupported format"
        )
        raise KeyLoadError(msg) from exc
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return Ed25519Signer(key)
    if isinstance(key, rsa.RSAPrivateKey):
        return RsaSigner(key)
    msg = f"Binance accepts Ed25519 or RSA keys, not {_key_kind(key)}"
    raise KeyLoadError(msg)


def _key_kind(key: object) -> str:
    kinds = ((ec.EllipticCurvePrivateKey, "an EC (ECDSA) key"), (dsa.DSAPrivateKey, "a DSA key"),
             (ed448.Ed448PrivateKey, "an Ed448 key"))
    return next((name for cls, name in kinds if isinstance(key, cls)), "this kind of key")
