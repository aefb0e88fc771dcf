"""Settings of the Binance adapter, validated before any request is sent.

Built from the ``binance`` section of the configuration (environment variables ``BINANCE_*``):

- ``environment``: ``testnet`` (default) or ``production``. Production is never reached by accident: a
  production host in ``base_url`` is refused unless ``environment`` is ``production``.
- ``base_url`` / ``stream_url``: ``https://`` / ``wss://``; plain ``http://`` / ``ws://`` only for loopback
  hosts (127.0.0.0/8, ::1, localhost), which tests and local tools use. Defaults follow ``environment``.
- ``api_key`` with ``api_secret`` (HMAC), or ``api_key`` with ``private_key_path`` (Ed25519 or RSA PEM) and an
  optional ``private_key_passphrase``. Credentials belong to ``key_environment`` (``testnet`` by default) and
  are never sent to a host of the other environment. Public market data needs none.
- ``recv_window_ms`` (1..60000, up to 3 decimals), timeouts in seconds, ``max_retries``,
  ``retry_max_seconds``, ``ca_bundle`` (a PEM file or a directory of certificates), ``clock_refresh_seconds``.

Every error is a ``ConfigurationError`` that names the setting and never repeats a key or secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path

import attrs

from adapters.binance._hosts import host_environment, is_loopback, parse_endpoint_url
from adapters.binance.credentials import Credentials, Environment, load_credentials
from domain.errors import ConfigurationError

__all__ = ["BinanceSettings", "Credentials", "Environment"]  # the last two live in ``credentials``

_MAX_RECV_WINDOW = Decimal(60000)


_DEFAULT_URLS = {
    Environment.TESTNET: ("https://testnet.binance.vision", "wss://stream.testnet.binance.vision"),
    Environment.PRODUCTION: ("https://api.binance.com", "wss://stream.binance.com:9443"),
}


_ENV_NAMES = {"recv_window_ms": "BINANCE_RECV_WINDOW"}


def _setting(key: str) -> str:
    """The environment variable behind a key of the ``binance`` section."""
    return _ENV_NAMES.get(key, f"BINANCE_{key.upper()}")


@attrs.frozen(kw_only=True)
class BinanceSettings:
    """Validated settings; build them with ``from_mapping`` (or directly, for tests)."""

    environment: Environment = Environment.TESTNET
    base_url: str = "https://testnet.binance.vision"
    stream_url: str = "wss://stream.testnet.binance.vision"
    credentials: Credentials | None = None
    recv_window_ms: Decimal = Decimal(5000)
    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    pool_timeout: float = 5.0
    max_retries: int = 3
    retry_max_seconds: float = 30.0
    ca_bundle: Path | None = None
    clock_refresh_seconds: float = 300.0
    max_connections: int = 20

    @classmethod
    def from_mapping(cls, config: Mapping[str, object]) -> BinanceSettings:
        """Validate the ``binance`` configuration section; empty strings count as unset."""
        values = {k: v for k, v in config.items() if v is not None and v != ""}
        environment = _environment(values.get("environment"), "environment", Environment.TESTNET)
        default_base, default_stream = _DEFAULT_URLS[environment]
        base_url = _url(str(values.get("base_url", default_base)), "base_url", environment, ("https", "http"))
        stream_url = _url(
            str(values.get("stream_url", default_stream)), "stream_url", environment, ("wss", "ws")
        )
        key_environment = _environment(values.get("key_environment"), "key_environment", Environment.TESTNET)
        return cls(
            environment=environment,
            base_url=base_url,
            stream_url=stream_url,
            credentials=load_credentials(values, key_environment),
            recv_window_ms=_recv_window(values.get("recv_window_ms", Decimal(5000))),
            connect_timeout=_seconds(values, "connect_timeout", 5.0),
            read_timeout=_seconds(values, "read_timeout", 15.0),
            pool_timeout=_seconds(values, "pool_timeout", 5.0),
            max_retries=_integer(values, "max_retries", 3, 0, 10),
            retry_max_seconds=_seconds(values, "retry_max_seconds", 30.0, upper=3600.0),
            ca_bundle=_ca_bundle(values.get("ca_bundle")),
            clock_refresh_seconds=_seconds(values, "clock_refresh_seconds", 300.0, upper=86400.0),
            max_connections=_integer(values, "max_connections", 20, 1, 1000),
        )

    @property
    def is_loopback(self) -> bool:
        """Whether the REST host is this machine (a test or local exchange)."""
        return is_loopback(parse_endpoint_url(self.base_url).host)

    @property
    def recv_window_param(self) -> str:
        """``recvWindow`` as sent: plain notation, no exponent (``5000``, ``6000.346``)."""
        return format(self.recv_window_ms.normalize(), "f")

    @property
    def credential_problem(self) -> str | None:
        """Why signed calls cannot be made with these settings, or ``None`` when they can."""
        if self.credentials is None:
            return (
                "no credentials are configured: set BINANCE_API_KEY with BINANCE_API_SECRET "
                "or BINANCE_PRIVATE_KEY_PATH"
            )
        if self.credentials.environment is not self.environment:
            return (
                f"the API key belongs to {self.credentials.environment.value} (BINANCE_KEY_ENVIRONMENT) but "
                f"BINANCE_BASE_URL is a {self.environment.value} host; keys are never sent to the other "
                "environment: use a key of that environment or change BINANCE_ENVIRONMENT"
            )
        if parse_endpoint_url(self.base_url).host == "data-api.binance.vision":
            return "data-api.binance.vision serves public market data only; use https://api.binance.com"
        return None

    @property
    def can_sign(self) -> bool:
        return self.credential_problem is None


def _environment(value: object, key: str, default: Environment) -> Environment:
    if value is None:
        return default
    if isinstance(value, Environment):
        return value
    text = str(value).strip().lower()
    try:
        return Environment(text)
    except ValueError:
        msg = f"{_setting(key)} must be 'testnet' or 'production', not {text!r}"
        raise ConfigurationError(msg) from None


def _url(text: str, key: str, environment: Environment, schemes: tuple[str, str]) -> str:
    secure, plain = schemes
    try:
        url = parse_endpoint_url(text)
    except ValueError as exc:
        msg = f"{_setting(key)} is not a usable URL: {exc}"
        raise ConfigurationError(msg) from None
    if url.scheme == plain and not is_loopback(url.host):
        msg = (
            f"{_setting(key)} uses plain {plain}:// for {url.host}; only {secure}:// is allowed "
            f"(plain {plain}:// only for 127.0.0.1, ::1 or localhost)"
        )
        raise ConfigurationError(msg)
    if url.scheme not in schemes:
        msg = f"{_setting(key)} must start with {secure}://, not {url.scheme}://"
        raise ConfigurationError(msg)
    host_env = host_environment(url.host)
    if host_env == "production" and environment is not Environment.PRODUCTION:
        msg = (
            f"{_setting(key)} points at production Binance ({url.host}); production must be chosen "
            "explicitly: set BINANCE_ENVIRONMENT=production"
        )
        raise ConfigurationError(msg)
    if host_env == "testnet" and environment is Environment.PRODUCTION:
        msg = (
            f"{_setting(key)} points at the Spot testnet ({url.host}) but BINANCE_ENVIRONMENT is production; "
            "unset BINANCE_ENVIRONMENT or use a production URL"
        )
        raise ConfigurationError(msg)
    return url.text


def _recv_window(value: object) -> Decimal:
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        msg = f"BINANCE_RECV_WINDOW must be a number of milliseconds, not {value!r}"
        raise ConfigurationError(msg) from None
    if not number.is_finite() or not 1 <= number <= _MAX_RECV_WINDOW:
        msg = f"BINANCE_RECV_WINDOW must be 1 to 60000 ms (5000 or less is advised), not {value}"
        raise ConfigurationError(msg)
    exponent = number.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -3:  # noqa: PLR2004 - Binance allows three decimals
        msg = f"BINANCE_RECV_WINDOW has at most 3 decimals (microseconds), not {value}"
        raise ConfigurationError(msg)
    return number


def _seconds(values: Mapping[str, object], key: str, default: float, upper: float = 600.0) -> float:
    value = values.get(key, default)
    try:
        number = float(str(value).strip())
    except ValueError:
        msg = f"{_setting(key)} must be a number of seconds, not {value!r}"
        raise ConfigurationError(msg) from None
    if not 0 < number <= upper:
        msg = f"{_setting(key)} must be more than 0 and at most {upper:g} seconds, not {value}"
        raise ConfigurationError(msg)
    return number


def _integer(values: Mapping[str, object], key: str, default: int, lower: int, upper: int) -> int:
    value = values.get(key, default)
    try:
        number = int(str(value).strip())
    except ValueError:
        msg = f"{_setting(key)} must be a whole number, not {value!r}"
        raise ConfigurationError(msg) from None
    if not lower <= number <= upper:
        msg = f"{_setting(key)} must be {lower} to {upper}, not {number}"
        raise ConfigurationError(msg)
    return number


def _ca_bundle(value: object) -> Path | None:
    if value is None:
        return None
    path = Path(str(value)).expanduser()
    if not path.exists():
        msg = f"BINANCE_CA_BUNDLE: there is no file or folder at {path}"
        raise ConfigurationError(msg)
    return path
