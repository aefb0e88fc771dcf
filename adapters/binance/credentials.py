"""Credentials of the Binance adapter: an API key with an HMAC secret or an Ed25519/RSA private key, bound to
the environment (testnet or production) they were made for.

Formats are checked before any request; every error is a ``ConfigurationError`` naming the setting and never
showing the value. Binance issues API keys and HMAC secrets of 64 letters and digits; the check is looser
(16 to 256 of letters, digits, ``-`` and ``_``) so that it catches copy mistakes without refusing a valid key.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from pathlib import Path

import attrs

from adapters.binance.secrets import Secret
from adapters.binance.signing import HmacSigner, KeyLoadError, Signer, load_private_key_signer
from domain.errors import ConfigurationError

__all__ = ["Credentials", "Environment", "load_credentials"]

_MAX_KEY_FILE_BYTES = 64 * 1024
_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_MIN_KEY_LENGTH, _MAX_KEY_LENGTH = 16, 256
_SETTING = {"api_key": "BINANCE_API_KEY", "api_secret": "BINANCE_API_SECRET"}


class Environment(enum.Enum):
    """Which Binance a URL or a key belongs to; testnet keys and production keys are separate."""

    TESTNET = "testnet"
    PRODUCTION = "production"


@attrs.frozen(kw_only=True)
class Credentials:
    """An API key and the signer that goes with it, bound to one environment."""

    api_key: Secret
    signer: Signer = attrs.field(repr=False)
    environment: Environment
    #: The HMAC secret or the private key's passphrase, kept only so the log filter can scrub them.
    other_secrets: tuple[Secret, ...] = ()

    @property
    def key_type(self) -> str:
        return self.signer.key_type

    def secrets(self) -> tuple[Secret, ...]:
        """Every secret value these credentials hold as text (the key, the HMAC secret, a passphrase)."""
        return (self.api_key, *self.other_secrets)


def _key_text(value: object, key: str) -> Secret:
    text = value.reveal() if isinstance(value, Secret) else str(value)
    text = text.strip()
    if not _MIN_KEY_LENGTH <= len(text) <= _MAX_KEY_LENGTH:
        msg = (
            f"{_SETTING[key]} has {len(text)} characters; Binance issues 64 letters and digits, "
            "so check that the whole value was copied"
        )
        raise ConfigurationError(msg)
    if not set(text) <= _KEY_CHARS:
        msg = (
            f"{_SETTING[key]} contains a character other than letters, digits, '-' and '_' (spaces, quotes "
            "or line breaks are common copy mistakes); the value is not shown"
        )
        raise ConfigurationError(msg)
    return Secret(text)


def load_credentials(values: Mapping[str, object], environment: Environment) -> Credentials | None:
    """The credentials in the ``binance`` settings, bound to ``environment``; ``None`` when there are none."""
    api_key = values.get("api_key")
    secret = values.get("api_secret")
    key_path = values.get("private_key_path")
    passphrase = values.get("private_key_passphrase")
    if passphrase is not None and key_path is None:
        msg = "BINANCE_PRIVATE_KEY_PASSPHRASE is set without BINANCE_PRIVATE_KEY_PATH"
        raise ConfigurationError(msg)
    if api_key is None and secret is None and key_path is None:
        return None
    if secret is not None and key_path is not None:
        msg = "set BINANCE_API_SECRET (HMAC key) or BINANCE_PRIVATE_KEY_PATH (Ed25519/RSA key), not both"
        raise ConfigurationError(msg)
    if api_key is None:
        which = "BINANCE_API_SECRET" if secret is not None else "BINANCE_PRIVATE_KEY_PATH"
        msg = f"{which} is set but BINANCE_API_KEY is missing; every signed call needs the API key"
        raise ConfigurationError(msg)
    if secret is None and key_path is None:
        msg = (
            "BINANCE_API_KEY is set without BINANCE_API_SECRET (HMAC key) or BINANCE_PRIVATE_KEY_PATH "
            "(Ed25519/RSA key)"
        )
        raise ConfigurationError(msg)
    key = _key_text(api_key, "api_key")
    if secret is not None:
        hmac_secret = _key_text(secret, "api_secret")
        return Credentials(
            api_key=key, signer=HmacSigner(hmac_secret), environment=environment, other_secrets=(hmac_secret,)
        )
    phrase: Secret | None = None
    if passphrase is not None:
        phrase = passphrase if isinstance(passphrase, Secret) else Secret(str(passphrase))
    signer = _private_key(Path(str(key_path)).expanduser(), phrase)
    return Credentials(
        api_key=key, signer=signer, environment=environment, other_secrets=(phrase,) if phrase else ()
    )


def _private_key(path: Path, phrase: Secret | None) -> Signer:
    try:
        size = path.stat().st_size
        if size > _MAX_KEY_FILE_BYTES:
            msg = f"BINANCE_PRIVATE_KEY_PATH: {path} has {size} bytes, too large for a PEM private key"
            raise ConfigurationError(msg)
        pem = path.read_bytes()
    except FileNotFoundError:
        msg = f"BINANCE_PRIVATE_KEY_PATH: there is no file at {path}"
        raise ConfigurationError(msg) from None
    except OSError as exc:
        msg = f"BINANCE_PRIVATE_KEY_PATH: {path} cannot be read ({exc.strerror or type(exc).__name__})"
        raise ConfigurationError(msg) from None
    try:
        return load_private_key_signer(pem, phrase)
    except KeyLoadError as exc:
        msg = f"BINANCE_PRIVATE_KEY_PATH: {exc}"
        raise ConfigurationError(msg) from None
