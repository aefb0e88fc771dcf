"""Retry decisions: only idempotent requests, only transient failures, bounded; tried through the HTTP path
with the zero-wait policy injected through the constructor."""

from __future__ import annotations

import httpx
import pytest

from adapters.binance import RetryPolicy
from adapters.binance.retry import is_transient
from domain import (
    AccessDeniedError,
    AuthenticationError,
    BinanceAPIError,
    ClockSkewError,
    ExchangeUnavailableError,
    InvalidRequestError,
    InvalidSymbolError,
    IPBannedError,
    MalformedResponseError,
    NetworkError,
    RateLimitError,
    RequestTimeoutError,
    Symbol,
)
from tests.unit.adapters.binance.conftest import (
    START_MS,
    AdapterFactory,
    FakeExchange,
    FakeTime,
    error,
    hmac_settings,
    ok,
)

PRICE = "/api/v3/ticker/price"
BTC = Symbol("BTCUSDT")
QUOTE = {"symbol": "BTCUSDT", "price": "64250.10"}
ACCOUNT = {
    "makerCommission": 10,
    "takerCommission": 10,
    "commissionRates": {"maker": "0.001", "taker": "0.001", "buyer": "0", "seller": "0"},
    "canTrade": True,
    "canWithdraw": False,
    "canDeposit": False,
    "updateTime": 1767225500000,
    "accountType": "SPOT",
    "balances": [],
    "permissions": ["SPOT"],
}


@pytest.mark.parametrize(
    ("failure", "retried"),
    [
        (NetworkError("reset"), True),
        (RequestTimeoutError("slow"), True),
        (ExchangeUnavailableError("5xx", http_status=502), True),
        (ExchangeUnavailableError("internal", code=-1001, http_status=500), True),
        (ExchangeUnavailableError("unknown", code=-1006, http_status=500), True),
        (ExchangeUnavailableError("timeout", code=-1007, http_status=408), True),
        (ExchangeUnavailableError("busy", code=-1008, http_status=503), False),
        (ExchangeUnavailableError("shutting down", code=-1016, http_status=400), False),
        (ExchangeUnavailableError("unknown", code=-1000, http_status=400), False),
        (RateLimitError("429", retry_after=1.0), True),
        (IPBannedError("418", banned_until_ms=START_MS), False),
        (AuthenticationError("-1022", code=-1022, http_status=400), False),
        (AuthenticationError("401", http_status=401), False),
        (AccessDeniedError("waf", http_status=403), False),
        (InvalidSymbolError("-1121", code=-1121), False),
        (InvalidRequestError("-1102", code=-1102), False),
        (MalformedResponseError("html"), False),
        (ClockSkewError("-1021", code=-1021), False),
        (BinanceAPIError("-2010", code=-2010), False),
        (ValueError("not ours"), False),
    ],
)
def test_only_transient_failures_are_retried(failure: Exception, retried: bool) -> None:
    assert is_transient(failure) is retried
    assert RetryPolicy().should_retry(failure, elapsed_s=0.0) is retried


def test_nothing_is_retried_for_a_request_that_is_not_idempotent() -> None:
    assert not is_transient(NetworkError("reset"), idempotent=False)


def test_a_rate_limit_is_retried_only_when_its_wait_fits_the_time_budget() -> None:
    policy = RetryPolicy(max_seconds=10.0)

    assert policy.should_retry(RateLimitError("429", retry_after=4.0), elapsed_s=5.0)
    assert not policy.should_retry(RateLimitError("429", retry_after=6.0), elapsed_s=5.0)
    assert not policy.should_retry(RateLimitError("429", retry_after=None), elapsed_s=0.0)


def test_the_policy_is_built_from_the_settings() -> None:
    policy = RetryPolicy.from_settings(max_retries=2, retry_max_seconds=12.5)

    assert (policy.max_attempts, policy.max_seconds) == (3, 12.5)
    assert policy.max_wait_s > 0


async def test_a_5xx_then_success_is_retried_and_succeeds(
    make_adapter: AdapterFactory, exchange: FakeExchange
) -> None:
    exchange.on(PRICE, [error(503, -1001), httpx.Response(502, text="<html>Bad Gateway</html>"), ok(QUOTE)])
    adapter = make_adapter(exchange)

    quote = await adapter.get_symbol_ticker(BTC)

    assert str(quote.price) == "64250.10"
    assert len(exchange.to(PRICE)) == 3


async def test_connection_failures_are_retried_until_the_attempts_run_out(
    make_adapter: AdapterFactory, exchange: FakeExchange
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    exchange.on(PRICE, refuse)
    adapter = make_adapter(exchange, retry=RetryPolicy.instant(max_attempts=3))

    with pytest.raises(NetworkError) as caught:
        await adapter.get_symbol_ticker(BTC)

    assert len(exchange.to(PRICE)) == 3
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


@pytest.mark.parametrize(
    "answer",
    [
        error(401, -2015, "Invalid API-key, IP, or permissions for action."),
        error(400, -1022, "Signature for this request is not valid."),
        error(400, -1121, "Invalid symbol."),
        httpx.Response(403, text="<html>Forbidden</html>"),
        httpx.Response(200, text="<html>not json</html>"),
    ],
)
async def test_permanent_failures_are_sent_once(
    answer: httpx.Response, make_adapter: AdapterFactory, exchange: FakeExchange
) -> None:
    exchange.on(PRICE, answer)
    adapter = make_adapter(exchange)

    with pytest.raises(BinanceAPIError):
        await adapter.get_symbol_ticker(BTC)

    assert len(exchange.to(PRICE)) == 1


async def test_a_429_waits_out_retry_after_then_retries(
    make_adapter: AdapterFactory, exchange: FakeExchange
) -> None:
    time = FakeTime()
    exchange.on(PRICE, [error(429, -1003, "Too much request weight used", {"Retry-After": "2"}), ok(QUOTE)])
    adapter = make_adapter(exchange, time=time)

    await adapter.get_symbol_ticker(BTC)

    assert len(exchange.to(PRICE)) == 2
    assert time.now_ms >= START_MS + 2000  # the second attempt went out after Retry-After


async def test_a_429_longer_than_the_budget_is_raised_with_its_wait(
    make_adapter: AdapterFactory, exchange: FakeExchange
) -> None:
    exchange.on(PRICE, error(429, -1003, "Too much request weight used", {"Retry-After": "600"}))
    adapter = make_adapter(exchange, retry=RetryPolicy(max_attempts=4, max_seconds=30.0))

    with pytest.raises(RateLimitError) as caught:
        await adapter.get_symbol_ticker(BTC)

    assert caught.value.retry_after == 600.0
    assert len(exchange.to(PRICE)) == 1


async def test_a_418_stops_everything_until_the_ban_ends(
    make_adapter: AdapterFactory, exchange: FakeExchange
) -> None:
    exchange.on(PRICE, error(418, -1003, "IP banned until 1767229200000.", {"Retry-After": "3600"}))
    adapter = make_adapter(exchange)

    with pytest.raises(IPBannedError) as first:
        await adapter.get_symbol_ticker(BTC)
    with pytest.raises(IPBannedError) as second:
        await adapter.get_server_time()

    assert first.value.banned_until_ms == second.value.banned_until_ms == 1767229200000
    assert [r.url.path for r in exchange.requests] == [PRICE]  # the second call sent nothing
    assert adapter.exchange_status().banned_until_ms == 1767229200000


async def test_a_rejected_timestamp_resyncs_the_clock_and_retries_once(
    make_adapter: AdapterFactory, exchange: FakeExchange
) -> None:
    skew = error(400, -1021, "Timestamp for this request was 1000ms ahead of the server's time.")
    exchange.on("/api/v3/account", [skew, ok(ACCOUNT)])
    adapter = make_adapter(exchange, hmac_settings())

    await adapter.get_account_info()

    assert [r.url.path for r in exchange.requests] == [
        "/api/v3/time",  # the first sync before the first signed call
        "/api/v3/account",
        "/api/v3/time",  # the resync after -1021
        "/api/v3/account",
    ]


async def test_a_timestamp_rejected_twice_is_a_clock_skew_error(
    make_adapter: AdapterFactory, exchange: FakeExchange
) -> None:
    skew = error(400, -1021, "Timestamp for this request is outside of the recvWindow.")
    exchange.on("/api/v3/account", skew)
    adapter = make_adapter(exchange, hmac_settings())

    with pytest.raises(ClockSkewError) as caught:
        await adapter.get_account_info()

    assert caught.value.exit_code == 4
    assert len(exchange.to("/api/v3/account")) == 2
