"""The exception hierarchy: one base, retryable versus permanent, an exit status for each."""

from __future__ import annotations

import inspect

import pytest

from domain import errors
from domain.errors import (
    AuthenticationError,
    BinanceAPIError,
    ClockSkewError,
    ConfigurationError,
    DataValidationError,
    ExchangeUnavailableError,
    GatewayError,
    InvalidInputError,
    InvalidSymbolError,
    IPBannedError,
    MalformedResponseError,
    NetworkError,
    RateLimitError,
    RequestTimeoutError,
)

ALL_ERRORS = [obj for _, obj in inspect.getmembers(errors, inspect.isclass) if issubclass(obj, GatewayError)]


def test_every_error_is_drawn_in_the_module_docstring() -> None:
    assert errors.__doc__ is not None
    for cls in ALL_ERRORS:
        assert cls.__name__ in errors.__doc__


def test_every_error_is_exported() -> None:
    assert sorted(errors.__all__) == sorted(cls.__name__ for cls in ALL_ERRORS)


@pytest.mark.parametrize(
    ("cls", "retryable"),
    [
        (NetworkError, True),
        (RequestTimeoutError, True),
        (ExchangeUnavailableError, True),
        (RateLimitError, True),
        (ClockSkewError, True),
        (IPBannedError, False),
        (AuthenticationError, False),
        (InvalidSymbolError, False),
        (MalformedResponseError, False),
        (ConfigurationError, False),
        (DataValidationError, False),
    ],
)
def test_retryable_or_permanent(cls: type[GatewayError], retryable: bool) -> None:
    assert cls.retryable is retryable


@pytest.mark.parametrize("cls", ALL_ERRORS)
def test_every_error_has_an_exit_status_and_a_hint(cls: type[GatewayError]) -> None:
    assert cls.exit_code in {1, 2, 3, 4, 5, 6, 7}
    if cls is not GatewayError and cls is not BinanceAPIError:
        assert cls.hint


def test_exchange_errors_carry_code_status_and_endpoint() -> None:
    error = InvalidSymbolError(
        "Invalid symbol.", code=-1121, http_status=400, endpoint="/api/v3/ticker/price"
    )
    assert isinstance(error, BinanceAPIError)
    assert (error.code, error.http_status, error.endpoint) == (-1121, 400, "/api/v3/ticker/price")
    assert str(error) == "Invalid symbol. (code -1121, HTTP 400, /api/v3/ticker/price)"


def test_a_network_error_without_response_prints_only_its_message() -> None:
    assert str(NetworkError("connection refused")) == "connection refused"


def test_rate_limit_carries_retry_after_and_ban_its_end() -> None:
    limited = RateLimitError("too much weight", retry_after=12.0)
    assert limited.retry_after == 12.0
    assert limited.exit_code == 5
    banned = IPBannedError("banned", banned_until_ms=1_767_225_600_000)
    assert isinstance(banned, RateLimitError)
    assert banned.http_status == 418
    assert banned.banned_until.isoformat() == "2026-01-01T00:00:00+00:00"


def test_invalid_input_is_also_a_value_error() -> None:
    assert issubclass(InvalidInputError, ValueError)
    assert InvalidInputError.exit_code == 2
