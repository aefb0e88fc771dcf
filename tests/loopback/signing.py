"""API keys and signed-request verification (section 4): HMAC-SHA256, Ed25519 and RSA PKCS#1 v1.5 SHA-256.

The payload is the query string exactly as received, less the `signature` pair. A payload holding characters
that the reference encoder would have escaped was signed over raw text, which Binance rejects with -1022.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import string
import threading
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from urllib.parse import quote, unquote_plus

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from tests.loopback.errors import TIMESTAMP_AHEAD, TIMESTAMP_OUTSIDE_WINDOW, BinanceError, illegal, mandatory
from tests.loopback.params import Params

HMAC, ED25519, RSA = "HMAC", "ED25519", "RSA"
RECV_WINDOW_DEFAULT = 5_000
RECV_WINDOW_MAX = 60_000
EARLIEST_TIMESTAMP_MS = 1_483_228_800_000  # 2017-01-01
_API_KEY = re.compile(r"^[A-Za-z0-9]{64}$")
_ENCODED = re.compile(r"^[A-Za-z0-9\-_.~=&%]*$")
_RECV_WINDOW = re.compile(r"^[0-9]{1,20}(\.[0-9]{1,3})?$")
_ALPHANUMERIC = string.ascii_letters + string.digits


def generate_api_key() -> str:
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(64))


def encode_query(pairs: list[tuple[str, str]] | dict[str, str]) -> str:
    """`k=v&...` with values percent-encoded by the reference encoder (only A-Za-z0-9-_.~ left as is)."""
    items = pairs.items() if isinstance(pairs, dict) else pairs
    return "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in items)


@dataclass(frozen=True)
class HmacKey:
    api_key: str
    secret: str = field(repr=False)
    kind: str = HMAC

    def sign(self, payload: str) -> str:
        return hmac.new(self.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()

    def signed_query(self, pairs: list[tuple[str, str]] | dict[str, str]) -> str:
        payload = encode_query(pairs)
        return f"{payload}&signature={quote(self.sign(payload), safe='')}"


@dataclass(frozen=True)
class AsymmetricKey:
    """An Ed25519 or RSA key pair generated for a test; the exchange holds only the public half."""

    api_key: str
    kind: str
    private_key_pem: bytes = field(repr=False)
    public_key_pem: bytes

    def sign(self, payload: str) -> str:
        """Base64 signature (not yet URL-encoded)."""
        key = serialization.load_pem_private_key(self.private_key_pem, password=None)
        if isinstance(key, ed25519.Ed25519PrivateKey):
            raw = key.sign(payload.encode())
        elif isinstance(key, rsa.RSAPrivateKey):
            raw = key.sign(payload.encode(), padding.PKCS1v15(), hashes.SHA256())
        else:  # pragma: no cover - only the two kinds are generated
            raise TypeError("unsupported key type")
        return base64.b64encode(raw).decode()

    def signed_query(self, pairs: list[tuple[str, str]] | dict[str, str]) -> str:
        payload = encode_query(pairs)
        return f"{payload}&signature={quote(self.sign(payload), safe='')}"


def generate_ed25519(api_key: str | None = None) -> AsymmetricKey:
    private = ed25519.Ed25519PrivateKey.generate()
    return _pair(api_key, ED25519, private)


def generate_rsa(api_key: str | None = None, key_size: int = 2048) -> AsymmetricKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    return _pair(api_key, RSA, private)


def _pair(
    api_key: str | None, kind: str, private: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey
) -> AsymmetricKey:
    private_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return AsymmetricKey(api_key or generate_api_key(), kind, private_pem, public_pem)


@dataclass(frozen=True)
class _Entry:
    kind: str
    secret: bytes | None = field(default=None, repr=False)
    public_key: ed25519.Ed25519PublicKey | rsa.RSAPublicKey | None = None

    def verify(self, payload: str, signature: str) -> bool:
        if self.kind == HMAC:
            assert self.secret is not None
            expected = hmac.new(self.secret, payload.encode(), hashlib.sha256).hexdigest()
            return hmac.compare_digest(expected, signature.lower())
        try:
            raw = base64.b64decode(signature, validate=True)
        except (binascii.Error, ValueError):
            return False
        try:
            if isinstance(self.public_key, ed25519.Ed25519PublicKey):
                self.public_key.verify(raw, payload.encode())
            elif isinstance(self.public_key, rsa.RSAPublicKey):
                self.public_key.verify(raw, payload.encode(), padding.PKCS1v15(), hashes.SHA256())
            else:  # pragma: no cover
                return False
        except InvalidSignature:
            return False
        return True


class KeyStore:
    """The API keys the exchange accepts, each with its kind and verification material."""

    def __init__(self) -> None:
        self._keys: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def __contains__(self, api_key: str) -> bool:
        return api_key in self._keys

    def add_hmac(self, api_key: str, secret: str) -> None:
        _check_api_key(api_key)
        with self._lock:
            self._keys[api_key] = _Entry(HMAC, secret=secret.encode())

    def add_public_key(self, api_key: str, public_key_pem: bytes | str) -> str:
        """Register an Ed25519 or RSA public key (PEM); returns its kind."""
        _check_api_key(api_key)
        pem = public_key_pem.encode() if isinstance(public_key_pem, str) else public_key_pem
        key = serialization.load_pem_public_key(pem)
        if isinstance(key, ed25519.Ed25519PublicKey):
            kind = ED25519
        elif isinstance(key, rsa.RSAPublicKey):
            kind = RSA
        else:
            raise ValueError("only Ed25519 and RSA public keys are supported")
        with self._lock:
            self._keys[api_key] = _Entry(kind, public_key=key)
        return kind

    def remove(self, api_key: str) -> None:
        with self._lock:
            self._keys.pop(api_key, None)

    def authenticate(self, api_key_header: str | None, params: Params, now: int) -> str:
        """Check key, parameters, signature and timestamp in Binance's order; returns the API key."""
        if api_key_header is None or not _API_KEY.match(api_key_header):
            raise BinanceError(-2014)
        entry = self._keys.get(api_key_header)
        if entry is None:
            raise BinanceError(-2015)
        raw_timestamp = params.optional("timestamp")
        if raw_timestamp is None or not raw_timestamp.isascii() or not raw_timestamp.isdigit():
            raise mandatory("timestamp")
        timestamp = int(raw_timestamp)
        if timestamp >= 10**14:
            timestamp //= 1000
        recv_window = _recv_window(params.optional("recvWindow"))
        signature = params.optional("signature")
        if signature is None:
            raise mandatory("signature")
        payload = _payload(params.raw)
        if not _ENCODED.match(payload) or not entry.verify(payload, signature):
            raise BinanceError(-1022)
        if timestamp >= now + 1000:
            raise BinanceError(-1021, TIMESTAMP_AHEAD)
        if now - timestamp > recv_window or timestamp < EARLIEST_TIMESTAMP_MS:
            raise BinanceError(-1021, TIMESTAMP_OUTSIDE_WINDOW)
        return api_key_header


def _check_api_key(api_key: str) -> None:
    if not _API_KEY.match(api_key):
        raise ValueError("API keys are 64 ASCII letters and digits, like Binance's")


def _recv_window(raw: str | None) -> Decimal:
    if raw is None:
        return Decimal(RECV_WINDOW_DEFAULT)
    if not _RECV_WINDOW.match(raw):
        raise illegal("recvWindow", r"^[0-9]{1,20}(\.[0-9]{1,3})?$")
    try:
        value = Decimal(raw)
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        raise mandatory("recvWindow") from None
    if value > RECV_WINDOW_MAX:
        raise BinanceError(-1102, f"Param 'recvWindow' cannot be greater than {RECV_WINDOW_MAX}.")
    if value <= 0:
        raise mandatory("recvWindow")
    return value


def _payload(raw_query: str) -> str:
    """The query string as sent, less its `signature=` pair."""
    return "&".join(part for part in raw_query.split("&") if not part.startswith("signature="))


def signature_value(raw_query: str) -> str | None:
    for part in raw_query.split("&"):
        if part.startswith("signature="):
            return unquote_plus(part[len("signature=") :])
    return None
