"""Secrets that never print themselves, and a logging filter that scrubs credentials from log records.

``Secret`` holds an API key, an API secret or a passphrase; its ``repr`` and ``str`` are ``Secret('***')`` and
the value is reachable only through ``reveal()``. ``RedactingFilter`` rewrites log records so that the
``X-MBX-APIKEY`` header value, every ``signature=`` value and every registered secret string become ``***``,
in the message, its arguments, the exception text and the stack text. ``install_log_redaction`` puts the one
filter on the HTTP libraries' loggers and the project's own.
"""

from __future__ import annotations

import hmac
import logging
import re
import threading
from collections.abc import Iterable

__all__ = [
    "REDACTED",
    "RedactingFilter",
    "Secret",
    "install_log_redaction",
    "redact",
    "redacting_filter",
    "register_secret",
]

REDACTED = "***"

# Secrets shorter than this are not registered: replacing a two-letter string everywhere would shred logs.
_MIN_REGISTERED_LENGTH = 8

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # A header or field name followed by its value: "X-MBX-APIKEY: v", "'x-mbx-apikey': 'v'",
    # "(b'X-MBX-APIKEY', b'v')", "apiKey=v", '"apiKey":"v"', "api_secret=v".
    (
        re.compile(
            r"""(?ix)
            ((?:x-mbx-apikey|api[_-]?key|api[_-]?secret|secret[_-]?key|private[_-]?key[_-]?passphrase)
             (?:["']?\s*[:=]\s*b?["']?|["']\s*,\s*b?["']))
            ([^\s"',)}\]&]+)
            """
        ),
        rf"\1{REDACTED}",
    ),
    # "signature=v" in a query string or form body, also when the "=" itself is percent-encoded.
    (re.compile(r"(?i)(signature(?:=|%3D)|signature[\"']?\s*:\s*[\"']?)([^&\s\"',)}\]]+)"), rf"\1{REDACTED}"),
)

_registered: set[str] = set()
_registered_lock = threading.Lock()


class Secret:
    """A credential whose ``repr`` and ``str`` never show it; ``reveal()`` is the one way to the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret value itself: use it only to sign or to put it in a request header."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({REDACTED!r})"

    __str__ = __repr__

    def __format__(self, _spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __reduce__(self) -> tuple[object, ...]:
        msg = "a Secret cannot be pickled"
        raise TypeError(msg)


def register_secret(secret: Secret | str) -> None:
    """Make the log filter replace this exact value wherever it appears (not values under 8 characters)."""
    value = secret.reveal() if isinstance(secret, Secret) else secret
    if len(value) >= _MIN_REGISTERED_LENGTH:
        with _registered_lock:
            _registered.add(value)


def redact(text: str) -> str:
    """``text`` with API-key headers, ``signature=`` values and registered secrets replaced by ``***``."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    # Longest first, so that a secret containing another registered secret is removed whole.
    for value in sorted(_registered, key=len, reverse=True):
        if value in text:
            text = text.replace(value, REDACTED)
    return text


class RedactingFilter(logging.Filter):
    """Scrubs a record in place; never drops one. The message is formatted once, then scrubbed."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a record whose arguments do not format is left to the handler as it is
            return True
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_FILTER = RedactingFilter()

#: Filters on a logger apply only to records logged on that exact logger, not on its children, so every
#: logger that can print a URL, a header or an exception is named here.
DEFAULT_LOGGERS: tuple[str, ...] = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "aiohttp",
    "aiohttp.client",
    "aiohttp.access",
    "aiohttp.internal",
    "aiohttp.server",
    "aiohttp.web",
    "aiohttp.websocket",
    "websockets",
    "websockets.client",
    "binance_gateway",
    "adapters",
    "adapters.binance",
    "adapters.binance.adapter",
    "adapters.binance.client",
    "adapters.binance.clock",
    "adapters.binance.limiter",
    "adapters.binance.retry",
    "adapters.cli",
    "adapters.container",
    "application",
)


def redacting_filter() -> RedactingFilter:
    """The shared filter, for a log handler that should scrub every record passing through it."""
    return _FILTER


def install_log_redaction(secrets: Iterable[Secret] = (), loggers: Iterable[str] = ()) -> RedactingFilter:
    """Register ``secrets`` and put the filter on the default loggers, ``loggers`` and the root handlers.

    Idempotent: calling it again adds the new secrets and loggers without stacking filters.
    """
    for secret in secrets:
        register_secret(secret)
    for name in (*DEFAULT_LOGGERS, *loggers):
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
    for handler in logging.getLogger().handlers:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)
    return _FILTER
