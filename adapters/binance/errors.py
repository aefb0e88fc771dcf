"""The one place where transport failures and Binance answers become ``domain.errors``.

Transport (httpx, including what the aiohttp transport raises as httpx errors)::

    httpx.TimeoutException (Connect/Read/Write/PoolTimeout)    -> RequestTimeoutError
    httpx.TransportError (ConnectError, ReadError, RemoteProtocolError, ...) -> NetworkError
    httpx.DecodingError (a body that fails its Content-Encoding)  -> MalformedResponseError

HTTP status and Binance ``{"code": .., "msg": ..}``, first match wins::

    418, or -1003 "banned until <ms>"               -> IPBannedError(banned_until_ms)
    429, -1003                                      -> RateLimitError(retry_after)
    401, -1002, -1022, -2014, -2015                 -> AuthenticationError
    -1021                                           -> ClockSkewError
    -1121 / -1120                                   -> InvalidSymbolError / InvalidIntervalError
    other -11xx                                     -> InvalidRequestError
    5xx, -1000, -1001, -1006, -1007, -1008, -1016   -> ExchangeUnavailableError
    403 (the web application firewall)              -> AccessDeniedError
    any other Binance code                          -> BinanceAPIError
    anything else (404, 3xx, a non-JSON error body) -> MalformedResponseError

Every error carries ``endpoint`` (the path, never the query string); translations are ``raise .. from exc``.
Messages quote at most a short, scrubbed prefix of a body and never a key, a signature or a query string.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from collections.abc import Callable, Iterator
from email.utils import parsedate_to_datetime

import httpx

from adapters.binance.secrets import redact
from domain.errors import (
    AccessDeniedError,
    AuthenticationError,
    BinanceAPIError,
    ClockSkewError,
    ExchangeUnavailableError,
    InvalidIntervalError,
    InvalidRequestError,
    InvalidSymbolError,
    IPBannedError,
    MalformedResponseError,
    NetworkError,
    RateLimitError,
    RequestTimeoutError,
)
from domain.market import ms_to_datetime

__all__ = [
    "AUTHENTICATION_CODES",
    "UNAVAILABLE_CODES",
    "error_from_response",
    "malformed_body",
    "parse_retry_after",
    "translate_transport_errors",
]

AUTHENTICATION_CODES = frozenset({-1002, -1022, -2014, -2015})
UNAVAILABLE_CODES = frozenset({-1000, -1001, -1006, -1007, -1008, -1016})
_PREFIX_CHARS = 60
_MSG_CHARS = 200
_DEFAULT_BAN_S = 120  # the shortest ban Binance hands out, used when the answer does not say
_BAN_UNTIL = re.compile(r"banned until (\d{12,})")
_HTTP_SERVER_ERROR = 500
_HTTP_UNAUTHORIZED = 401
_HTTP_FORBIDDEN = 403
_HTTP_TEAPOT = 418
_HTTP_TOO_MANY = 429


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else " " for c in text)


def malformed_body(
    endpoint: str, body: bytes, reason: str, *, http_status: int | None = None
) -> MalformedResponseError:
    """A ``MalformedResponseError`` quoting at most a short, scrubbed prefix of ``body``."""
    prefix = redact(_printable(body[: _PREFIX_CHARS * 4].decode("utf-8", "replace")))[:_PREFIX_CHARS]
    shown = f"; it began {prefix!r}" if prefix else "; it was empty"
    return MalformedResponseError(
        f"the exchange's answer was not usable: {reason}{shown}", http_status=http_status, endpoint=endpoint
    )


@contextlib.contextmanager
def translate_transport_errors(endpoint: str) -> Iterator[None]:
    """Turn httpx's exceptions into domain errors for the call to ``endpoint``."""
    try:
        yield
    except httpx.TimeoutException as exc:
        phase = {
            httpx.ConnectTimeout: "connecting",
            httpx.ReadTimeout: "waiting for the answer",
            httpx.WriteTimeout: "sending the request",
            httpx.PoolTimeout: "waiting for a free connection",
        }.get(type(exc), "waiting")
        msg = f"the exchange did not answer in time ({phase})"
        raise RequestTimeoutError(msg, endpoint=endpoint) from exc
    except httpx.DecodingError as exc:
        msg = "the answer's compressed body could not be decoded"
        raise MalformedResponseError(msg, endpoint=endpoint) from exc
    except httpx.TransportError as exc:
        raise NetworkError(_network_message(exc), endpoint=endpoint) from exc


def _network_message(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.ConnectError):
        return "could not connect to the exchange (refused, unreachable, DNS or TLS failure)"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "the connection broke during the exchange's answer (closed, reset or cut short)"
    if isinstance(exc, httpx.ReadError):
        return "the connection was reset while reading the exchange's answer"
    if isinstance(exc, httpx.WriteError):
        return "the connection was reset while sending the request"
    if isinstance(exc, httpx.ProxyError):
        return "the HTTP proxy refused or failed the connection"
    return f"the request to the exchange failed ({type(exc).__name__})"


def parse_retry_after(value: str | None, now_ms: float) -> float | None:
    """Seconds to wait from ``Retry-After`` (delta seconds or an HTTP date); ``None`` if absent or bad."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        seconds = when.timestamp() - now_ms / 1000
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _decode_error(body: bytes) -> tuple[int | None, str]:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None, ""
    if not isinstance(payload, dict):
        return None, ""
    code = payload.get("code")
    msg = payload.get("msg")
    code = code if isinstance(code, int) and not isinstance(code, bool) else None
    text = redact(_printable(msg))[:_MSG_CHARS] if isinstance(msg, str) else ""
    return code, text


_Rule = tuple[Callable[[int, "int | None"], bool], type[BinanceAPIError], str]
# Checked in order after bans and rate limits; the first rule that matches decides.
_RULES: tuple[_Rule, ...] = (
    (lambda s, c: s == _HTTP_UNAUTHORIZED or c in AUTHENTICATION_CODES, AuthenticationError,
     "the exchange rejected the API key or signature"),
    (lambda _s, c: c == -1021, ClockSkewError, "the exchange rejected the request timestamp"),  # noqa: PLR2004
    (lambda _s, c: c == -1121, InvalidSymbolError, "the exchange does not know the symbol"),  # noqa: PLR2004
    (lambda _s, c: c == -1120, InvalidIntervalError, "the exchange does not know the interval"),  # noqa: PLR2004
    (lambda _s, c: c is not None and -1199 <= c <= -1100, InvalidRequestError,  # noqa: PLR2004
     "the exchange rejected a parameter"),
    (lambda s, c: c in UNAVAILABLE_CODES or s >= _HTTP_SERVER_ERROR, ExchangeUnavailableError,
     "the exchange is unavailable or overloaded"),
    (lambda s, _c: s == _HTTP_FORBIDDEN, AccessDeniedError,
     "the exchange's web application firewall blocked the request"),
    (lambda _s, c: c is not None, BinanceAPIError, "the exchange refused the request"),
)


def error_from_response(
    status: int, body: bytes, endpoint: str, *, retry_after: str | None = None, now_ms: float
) -> BinanceAPIError:
    """The domain error for a non-2xx answer (``status``, ``body``, the ``Retry-After`` header)."""
    code, text = _decode_error(body)
    said = f": {text}" if text else ""
    wait_s = parse_retry_after(retry_after, now_ms)
    ban = _BAN_UNTIL.search(text)
    if status == _HTTP_TEAPOT or ban is not None:
        if ban is not None:
            until_ms = int(ban.group(1))
        else:
            until_ms = int(now_ms + 1000 * (wait_s if wait_s is not None else _DEFAULT_BAN_S))
        when = ms_to_datetime(until_ms).strftime("%Y-%m-%d %H:%M:%S UTC")
        return IPBannedError(
            f"the exchange has banned this IP until {when} for ignoring rate limits{said}",
            banned_until_ms=until_ms, retry_after=wait_s, code=code, http_status=status, endpoint=endpoint,
        )
    if status == _HTTP_TOO_MANY or code == -1003:  # noqa: PLR2004
        wait = f"; retry after {wait_s:g} s" if wait_s is not None else ""
        return RateLimitError(
            f"request rate limit exceeded{wait}{said}",
            retry_after=wait_s, code=code, http_status=status, endpoint=endpoint,
        )
    for matches, error_class, what in _RULES:
        if matches(status, code):
            # 403 pages come from the firewall, not from Binance's API: their text is not worth quoting.
            shown = "" if error_class is AccessDeniedError else said
            return error_class(f"{what}{shown}", code=code, http_status=status, endpoint=endpoint)
    return malformed_body(endpoint, body, f"unexpected HTTP status {status}", http_status=status)
