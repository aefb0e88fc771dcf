"""Configuration: command-line options over environment variables over a ``.env`` file over defaults.

``load_config`` returns the nested dict the container's ``Configuration`` is fed with. It reads the
``.env`` file with python-dotenv without touching ``os.environ``. Secrets are passed through as given;
they are never logged here, and the Binance adapter checks their format.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import attrs
import platformdirs
from dotenv import dotenv_values

from adapters.telemetry.settings import TelemetrySettings
from domain import (
    DEFAULT_SYMBOLS,
    ConfigurationError,
    HealthThresholds,
    InvalidInputError,
    Threshold,
    parse_symbols,
)

__all__ = ["ADAPTERS", "APP_NAME", "LOG_LEVELS", "default_db_path", "health_thresholds", "load_config"]

APP_NAME = "binance-gateway"
ADAPTERS = ("binance", "fake")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

_T = TypeVar("_T")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})
_MAX_STREAMS_PER_CONNECTION = 1024


def default_db_path() -> str:
    """The database file in the user's data folder (not created here)."""
    return str(Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / f"{APP_NAME}.sqlite3")


def _read_env_file(env_file: Path | None) -> dict[str, str]:
    if env_file is None or not env_file.is_file():
        return {}
    try:
        values = dotenv_values(env_file)
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"cannot read {env_file}: {exc.__class__.__name__}"
        raise ConfigurationError(msg) from exc
    return {name: value for name, value in values.items() if value is not None}


def _boolean(name: str, text: str) -> bool:
    folded = text.strip().lower()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    msg = f"{name} must be true or false, not {text!r}"
    raise ConfigurationError(msg)


def _parse(kind: Callable[[str], _T], name: str, text: str) -> _T:
    try:
        return kind(text.strip())
    except ValueError:
        noun = "whole number" if kind is int else "number"
        msg = f"{name} must be a {noun}, not {text!r}"
        raise ConfigurationError(msg) from None


class _Source:
    """Looks a setting up: command line, then the environment, then the ``.env`` file."""

    def __init__(self, environ: Mapping[str, str], dotenv: Mapping[str, str], cli: Mapping[str, Any]) -> None:
        self._environ = environ
        self._dotenv = dotenv
        self._cli = cli

    def get(self, env_name: str, cli_name: str | None = None) -> Any:
        if cli_name is not None and self._cli.get(cli_name) is not None:
            return self._cli[cli_name]
        if env_name in self._environ:
            return self._environ[env_name]
        return self._dotenv.get(env_name)

    def text(self, env_name: str, default: str | None = None, cli_name: str | None = None) -> str | None:
        value = self.get(env_name, cli_name)
        if value is None or (isinstance(value, str) and not value.strip()):
            return default
        return str(value).strip()

    def integer(self, env_name: str, default: int, *, minimum: int = 0) -> int:
        text = self.text(env_name)
        value = default if text is None else _parse(int, env_name, text)
        if value < minimum:
            msg = f"{env_name} must be at least {minimum}, not {value}"
            raise ConfigurationError(msg)
        return value

    def seconds(self, env_name: str, default: float) -> float:
        text = self.text(env_name)
        value = default if text is None else _parse(float, env_name, text)
        if not value > 0 or value == float("inf"):
            msg = f"{env_name} must be a positive number of seconds, not {text}"
            raise ConfigurationError(msg)
        return value


def _adapter(source: _Source) -> str:
    adapter = (source.text("BINANCE_GATEWAY_ADAPTER", "binance", "adapter") or "binance").lower()
    if adapter not in ADAPTERS:
        choices = ", ".join(ADAPTERS)
        msg = f"unknown adapter {adapter!r} (--adapter or BINANCE_GATEWAY_ADAPTER); use one of {choices}"
        raise ConfigurationError(msg)
    return adapter


def _log_level(source: _Source) -> str:
    level = (source.text("BINANCE_GATEWAY_LOG_LEVEL", "WARNING", "log_level") or "WARNING").upper()
    if level not in LOG_LEVELS:
        choices = ", ".join(LOG_LEVELS)
        msg = f"unknown log level {level!r} (--log-level or BINANCE_GATEWAY_LOG_LEVEL); use one of {choices}"
        raise ConfigurationError(msg)
    return level


def _json(source: _Source) -> bool:
    value = source.get("BINANCE_GATEWAY_JSON", "json")
    if isinstance(value, bool):
        return value
    return False if value is None else _boolean("BINANCE_GATEWAY_JSON", str(value))


def _symbols(source: _Source) -> list[str]:
    text = source.text("BINANCE_GATEWAY_SYMBOLS")
    if text is None:
        return [str(s) for s in DEFAULT_SYMBOLS]
    try:
        symbols = parse_symbols(part.strip() for part in text.split(",") if part.strip())
    except InvalidInputError as exc:
        msg = f"BINANCE_GATEWAY_SYMBOLS: {exc}"
        raise ConfigurationError(msg) from None
    if not symbols:
        msg = "BINANCE_GATEWAY_SYMBOLS lists no symbol; give a comma-separated list such as BTCUSDT,ETHUSDT"
        raise ConfigurationError(msg)
    return [str(s) for s in symbols]


def _binance(source: _Source) -> dict[str, Any]:
    # Production is opted into with BINANCE_ENVIRONMENT=production, which also moves the default URLs there;
    # the Binance adapter validates the pair (and binds keys to BINANCE_KEY_ENVIRONMENT, testnet by default).
    production = (source.text("BINANCE_ENVIRONMENT") or "").lower() == "production"
    return {
        "environment": source.text("BINANCE_ENVIRONMENT"),
        "key_environment": source.text("BINANCE_KEY_ENVIRONMENT"),
        "base_url": source.text(
            "BINANCE_BASE_URL", "https://api.binance.com" if production else "https://testnet.binance.vision"
        ),
        "stream_url": source.text(
            "BINANCE_STREAM_URL",
            "wss://stream.binance.com:9443" if production else "wss://stream.testnet.binance.vision",
        ),
        "api_key": source.text("BINANCE_API_KEY"),
        "api_secret": source.text("BINANCE_API_SECRET"),
        "private_key_path": source.text("BINANCE_PRIVATE_KEY_PATH"),
        "private_key_passphrase": source.text("BINANCE_PRIVATE_KEY_PASSPHRASE"),
        "recv_window_ms": source.integer("BINANCE_RECV_WINDOW", 5000, minimum=1),
        "connect_timeout": source.seconds("BINANCE_CONNECT_TIMEOUT", 5.0),
        "read_timeout": source.seconds("BINANCE_READ_TIMEOUT", 10.0),
        "pool_timeout": source.seconds("BINANCE_POOL_TIMEOUT", 5.0),
        "max_retries": source.integer("BINANCE_MAX_RETRIES", 4),
        "retry_max_seconds": source.seconds("BINANCE_RETRY_MAX_SECONDS", 30.0),
        "ca_bundle": source.text("BINANCE_CA_BUNDLE"),
        "clock_refresh_seconds": source.seconds("BINANCE_CLOCK_REFRESH_SECONDS", 300.0),
    }


_OTEL_NAMES = (
    "OTEL_SERVICE_NAME",
    "OTEL_TRACES_EXPORTER",
    "OTEL_METRICS_EXPORTER",
    "OTEL_SDK_DISABLED",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
)


def _telemetry(source: _Source) -> dict[str, Any]:
    # The OTLP exporter itself reads OTEL_EXPORTER_OTLP_ENDPOINT and the like from the process environment.
    found = {name: value for name in _OTEL_NAMES if (value := source.text(name)) is not None}
    return attrs.asdict(TelemetrySettings.from_environ(found))


def _share_or_amount(source: _Source, name: str, default: float) -> float:
    text = source.text(name)
    value = default if text is None else _parse(float, name, text)
    if not 0 <= value < float("inf"):
        msg = f"{name} must be a number of at least 0, not {text}"
        raise ConfigurationError(msg)
    return value


def _health(source: _Source) -> dict[str, Any]:
    thresholds: dict[str, dict[str, float]] = {}
    defaults = HealthThresholds()
    for field in attrs.fields(HealthThresholds):
        default: Threshold = getattr(defaults, field.name)
        prefix = f"BINANCE_GATEWAY_HEALTH_{field.name.upper()}"
        degraded = _share_or_amount(source, f"{prefix}_DEGRADED", default.degraded)
        down = _share_or_amount(source, f"{prefix}_DOWN", default.down)
        if down < degraded:
            msg = f"{prefix}_DOWN ({down:g}) is below {prefix}_DEGRADED ({degraded:g}); make down the larger"
            raise ConfigurationError(msg)
        thresholds[field.name] = {"degraded": degraded, "down": down}
    store = source.text("BINANCE_GATEWAY_HEALTH_STORE_FRESHNESS", "true") or "true"
    return {
        "probes": source.integer("BINANCE_GATEWAY_HEALTH_PROBES", 5, minimum=1),
        "thresholds": thresholds,
        "store_freshness": _boolean("BINANCE_GATEWAY_HEALTH_STORE_FRESHNESS", store),
    }


def health_thresholds(config: Mapping[str, Mapping[str, float]]) -> HealthThresholds:
    """The ``health.thresholds`` part of the configuration as the domain's ``HealthThresholds``."""
    return HealthThresholds(**{name: Threshold(**bounds) for name, bounds in config.items()})


def _alerts(source: _Source) -> dict[str, Any]:
    url = source.text("BINANCE_GATEWAY_ALERT_WEBHOOK")
    if url is not None and (urlsplit(url).scheme not in {"http", "https"} or not urlsplit(url).hostname):
        # The URL often carries a token, so it is not quoted.
        msg = "BINANCE_GATEWAY_ALERT_WEBHOOK must be an http:// or https:// URL"
        raise ConfigurationError(msg)
    return {
        "webhook_url": url,
        "webhook_timeout": source.seconds("BINANCE_GATEWAY_ALERT_WEBHOOK_TIMEOUT", 5.0),
        "webhook_attempts": source.integer("BINANCE_GATEWAY_ALERT_WEBHOOK_ATTEMPTS", 3, minimum=1),
    }


def _streams(source: _Source) -> dict[str, Any]:
    # The stream host is BINANCE_STREAM_URL, in the binance section, checked with the other URLs.
    enabled = source.text("BINANCE_GATEWAY_STREAMS")
    per_connection = source.integer("BINANCE_STREAM_MAX_PER_CONNECTION", 1024, minimum=1)
    if per_connection > _MAX_STREAMS_PER_CONNECTION:
        msg = f"BINANCE_STREAM_MAX_PER_CONNECTION must be at most 1024, not {per_connection}"
        raise ConfigurationError(msg)
    return {
        "enabled": True if enabled is None else _boolean("BINANCE_GATEWAY_STREAMS", enabled),
        "silence_timeout_s": source.seconds("BINANCE_STREAM_SILENCE_SECONDS", 30.0),
        "reconnect_max_s": source.seconds("BINANCE_STREAM_RECONNECT_MAX_SECONDS", 30.0),
        "buffer_size": source.integer("BINANCE_STREAM_BUFFER", 10_000, minimum=1),
        "max_streams_per_connection": per_connection,
    }


def load_config(
    environ: Mapping[str, str],
    cli_overrides: Mapping[str, Any] | None = None,
    *,
    env_file: Path | None = Path(".env"),
) -> dict[str, Any]:
    """The configuration as a nested dict, for ``Container.config.from_dict``.

    ``cli_overrides`` holds the global command-line options by key (``adapter``, ``log_level``, ``json``,
    ``db``); a ``None`` value means "not given". ``env_file`` (default ``.env`` in the current folder) is
    read when it exists and never written to ``os.environ``. A value that cannot be used raises
    ``ConfigurationError`` naming the setting, never its value when it is a secret.
    """
    source = _Source(environ, _read_env_file(env_file), cli_overrides or {})
    return {
        "adapter": _adapter(source),
        "log_level": _log_level(source),
        "json": _json(source),
        "db": source.text("BINANCE_GATEWAY_DB", None, "db") or default_db_path(),
        "symbols": _symbols(source),
        "fake": {"seed": source.integer("BINANCE_GATEWAY_FAKE_SEED", 7)},
        "binance": _binance(source),
        "telemetry": _telemetry(source),
        "health": _health(source),
        "alerts": _alerts(source),
        "streams": _streams(source),
    }
