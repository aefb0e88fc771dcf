"""Every HTTP status and Binance code maps to its domain error in one place; transport failures too."""

from __future__ import annotations

import json

import httpx
import pytest

from adapters.binance.errors import error_from_response, parse_retry_after, translate_transport_errors
from adapters.binance.secrets import register_secret
from domain import (
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
from tests.unit.adapters.binance.conftest import START_MS

ENDPOINT = "/api/v3/klines"


def body(code: int, msg: str = "message") -> bytes:
    return json.dumps({"code": code, "msg": msg}).encode()


@pytest.mark.parametrize(
    ("status", "payload", "expected", "exit_code"),
    [
        (400, body(-1002), AuthenticationError, 4),
        (401, body(-1022), AuthenticationError, 4),
        (401, body(-2014), AuthenticationError, 4),
        (401, body(-2015), AuthenticationError, 4),
        (401, b"", AuthenticationError, 4),
        (400, body(-1021), ClockSkewError, 4),
        (400, body(-1121), InvalidSymbolError, 2),
        (400, body(-1120), InvalidIntervalError, 2),
        (400, body(-1100), InvalidRequestError, 2),
        (400, body(-1102), InvalidRequestError, 2),
        (400, body(-1151), InvalidRequestError, 2),
        (400, body(-1194), InvalidRequestError, 2),
        (500, body(-1000), ExchangeUnavailableError, 6),
        (500, body(-1001), ExchangeUnavailableError, 6),
        (500, body(-1006), ExchangeUnavailableError, 6),
        (408, body(-1007), ExchangeUnavailableError, 6),
        (503, body(-1008), ExchangeUnavailableError, 6),
        (400, body(-1016), ExchangeUnavailableError, 6),
        (502, b"<html>Bad Gateway</html>", ExchangeUnavailableError, 6),
        (503, b"", ExchangeUnavailableError, 6),
        (504, body(-1001), ExchangeUnavailableError, 6),
        (429, body(-1003), RateLimitError, 5),
        (400, body(-1003), RateLimitError, 5),
        (418, body(-1003), IPBannedError, 5),
        (403, b"<html><body>403 Forbidden</body></html>", AccessDeniedError, 6),
        (400, body(-2010), BinanceAPIError, 6),
        (400, body(-1013), BinanceAPIError, 6),
        (404, b"<html>Not Found</html>", MalformedResponseError, 6),
        (302, b"", MalformedResponseError, 6),
        (400, b"not json at all", MalformedResponseError, 6),
    ],
)
def test_status_and_code_map_to_the_domain_error(
    status: int, payload: bytes, expected: type[BinanceAPIError], exit_code: int
) -> None:
    error = error_from_response(status, payload, ENDPOINT, now_ms=START_MS)

    assert type(error) is expected
    assert error.exit_code == exit_code
    assert error.http_status == status
    assert error.endpoint == ENDPOINT


def test_the_binance_code_and_message_are_kept() -> None:
    error = error_from_response(400, body(-1121, "Invalid symbol."), ENDPOINT, now_ms=START_MS)

    assert error.code == -1121
    assert "Invalid symbol." in str(error)
    assert str(error).endswith("(code -1121, HTTP 400, /api/v3/klines)")


def test_a_429_carries_its_retry_after() -> None:
    error = error_from_response(429, body(-1003), ENDPOINT, retry_after="7", now_ms=START_MS)

    assert isinstance(error, RateLimitError)
    assert error.retry_after == 7.0
    assert error.retryable
    assert "retry after 7 s" in str(error)


def test_a_418_ends_after_its_retry_after() -> None:
    error = error_from_response(418, body(-1003), ENDPOINT, retry_after="120", now_ms=START_MS)

    assert isinstance(error, IPBannedError)
    assert error.banned_until_ms == START_MS + 120_000
    assert not error.retryable


def test_a_ban_end_in_the_message_wins() -> None:
    message = "Way too much request weight used; IP banned until 1767229200000. Please use the websocket."
    error = error_from_response(418, body(-1003, message), ENDPOINT, retry_after="5", now_ms=START_MS)

    assert isinstance(error, IPBannedError)
    assert error.banned_until_ms == 1767229200000
    assert error.banned_until.isoformat() == "2026-01-01T01:00:00+00:00"
    assert str(error).startswith("the exchange has banned this IP until 2026-01-01 01:00:00 UTC")


def test_a_ban_without_any_end_lasts_the_shortest_ban() -> None:
    error = error_from_response(418, b"", ENDPOINT, now_ms=START_MS)

    assert isinstance(error, IPBannedError)
    assert error.banned_until_ms == START_MS + 120_000


def test_an_html_403_quotes_nothing_of_the_page() -> None:
    error = error_from_response(403, b"<html>secret-looking waf page</html>", ENDPOINT, now_ms=START_MS)

    assert "waf page" not in str(error)


def test_a_malformed_body_is_quoted_short_and_scrubbed() -> None:
    register_secret("credential-in-a-proxy-page-0001")
    page = (
        b"<html>credential-in-a-proxy-page-0001 /api/v3/account?signature=abcdef " + b"x" * 500 + b"</html>"
    )

    error = error_from_response(404, page, ENDPOINT, now_ms=START_MS)

    text = str(error)
    assert "credential-in-a-proxy-page-0001" not in text
    assert "abcdef" not in text
    assert len(text) < 220


def test_an_error_message_is_cut_and_scrubbed() -> None:
    error = error_from_response(400, body(-1100, "signature=abc " + "y" * 1000), ENDPOINT, now_ms=START_MS)

    assert "abc" not in str(error)
    assert len(str(error)) < 300


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("3", 3.0),
        (" 0 ", 0.0),
        ("1.5", 1.5),
        ("-4", 0.0),
        (None, None),
        ("", None),
        ("soon", None),
        ("nan", None),
        ("Thu, 01 Jan 2026 00:00:30 GMT", 30.0),
    ],
)
def test_retry_after_is_seconds_or_an_http_date(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, START_MS) == seconds


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (httpx.ConnectTimeout("t"), RequestTimeoutError),
        (httpx.ReadTimeout("t"), RequestTimeoutError),
        (httpx.WriteTimeout("t"), RequestTimeoutError),
        (httpx.PoolTimeout("t"), RequestTimeoutError),
        (httpx.ConnectError("refused"), NetworkError),
        (httpx.ReadError("reset"), NetworkError),
        (httpx.WriteError("reset"), NetworkError),
        (httpx.RemoteProtocolError("cut short"), NetworkError),
        (httpx.ProxyError("proxy"), NetworkError),
        (httpx.UnsupportedProtocol("x"), NetworkError),
        (httpx.DecodingError("gzip"), MalformedResponseError),
    ],
)
def test_transport_failures_become_domain_errors_from_their_cause(
    raised: Exception, expected: type[BinanceAPIError]
) -> None:
    with pytest.raises(expected) as caught, translate_transport_errors(ENDPOINT):
        raise raised

    assert caught.value.__cause__ is raised
    assert caught.value.endpoint == ENDPOINT
    assert caught.value.http_status is None


def test_request_timeouts_are_network_errors_too() -> None:
    assert issubclass(RequestTimeoutError, NetworkError)
