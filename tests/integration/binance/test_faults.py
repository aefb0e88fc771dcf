"""Injected faults on the loopback exchange: transient ones are retried to success, permanent ones raised
after one request, 429 waits out Retry-After, and a 418 ban stops all sending until it ends."""

from __future__ import annotations

import time

import pytest

from domain import (
    AccessDeniedError,
    ExchangeUnavailableError,
    IPBannedError,
    MalformedResponseError,
    NetworkError,
    RequestTimeoutError,
    Symbol,
)
from tests.integration.binance.conftest import Connect
from tests.loopback import Fault, LoopbackExchange

BTC = Symbol("BTCUSDT")
PRICE = "/api/v3/ticker/price"


@pytest.mark.parametrize(
    "fault",
    [
        Fault.http_status(500),
        Fault.http_status(502, body="html"),
        Fault.http_status(503, body="empty"),
        Fault.binance_error(-1001),
        Fault.binance_error(-1007),
        Fault.reset(),
        Fault.disconnect(),
        Fault.partial_body(),
        Fault.hang(5.0),
        Fault.binance_error(-1003, status=429, retry_after=0),
    ],
    ids=lambda fault: f"{fault.kind}-{fault.status or fault.code or ''}",
)
async def test_a_transient_fault_is_retried_to_success(
    fault: Fault, loopback_exchange: LoopbackExchange, connect: Connect
) -> None:
    adapter = connect(loopback_exchange, read_timeout=0.3)
    loopback_exchange.inject(fault, path=PRICE)

    quote = await adapter.get_symbol_ticker(BTC)

    assert quote.symbol == BTC
    assert len(loopback_exchange.requests_to(PRICE)) == 2
    status = adapter.exchange_status()
    assert (status.requests, status.errors) == (2, 1)


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault.http_status(500), ExchangeUnavailableError),
        (Fault.reset(), NetworkError),
        (Fault.hang(5.0), RequestTimeoutError),
    ],
)
async def test_a_lasting_fault_is_raised_after_the_retries(
    fault: Fault, error: type[Exception], loopback_exchange: LoopbackExchange, connect: Connect
) -> None:
    adapter = connect(loopback_exchange, read_timeout=0.3)
    loopback_exchange.inject(fault, times=10, path=PRICE)

    with pytest.raises(error) as caught:
        await adapter.get_symbol_ticker(BTC)

    assert len(loopback_exchange.requests_to(PRICE)) == 4  # the zero-wait policy's four attempts
    assert getattr(caught.value, "exit_code", None) == 6


@pytest.mark.parametrize(
    ("fault", "error", "exit_code"),
    [
        (Fault.truncated_json(), MalformedResponseError, 6),
        (Fault.non_json(), MalformedResponseError, 6),
        (Fault.waf_403(), AccessDeniedError, 6),
    ],
)
async def test_a_permanent_fault_is_raised_after_one_request(
    fault: Fault,
    error: type[Exception],
    exit_code: int,
    loopback_exchange: LoopbackExchange,
    connect: Connect,
) -> None:
    adapter = connect(loopback_exchange)
    loopback_exchange.inject(fault, path=PRICE)

    with pytest.raises(error) as caught:
        await adapter.get_symbol_ticker(BTC)

    assert len(loopback_exchange.requests_to(PRICE)) == 1
    assert getattr(caught.value, "exit_code", None) == exit_code
    assert len(str(caught.value)) < 300  # a short prefix of the body at most


async def test_a_429_waits_out_retry_after_before_the_retry(
    loopback_exchange: LoopbackExchange, connect: Connect
) -> None:
    adapter = connect(loopback_exchange)
    loopback_exchange.inject(Fault.rate_limited(retry_after=1), path=PRICE)
    started = time.monotonic()

    await adapter.get_symbol_ticker(BTC)

    first, second = loopback_exchange.requests_to(PRICE)
    assert first.status == 429
    assert second.status == 200
    assert second.received_ms - first.received_ms >= 1_000
    assert time.monotonic() - started >= 1.0


async def test_a_ban_stops_all_sending_until_it_ends(
    loopback_exchange: LoopbackExchange, connect: Connect
) -> None:
    adapter = connect(loopback_exchange)
    loopback_exchange.inject(Fault.banned(retry_after=120, persist=True), path=PRICE)

    with pytest.raises(IPBannedError) as first:
        await adapter.get_symbol_ticker(BTC)
    sent = len(loopback_exchange.requests)
    with pytest.raises(IPBannedError) as second:
        await adapter.get_server_time()

    assert len(loopback_exchange.requests) == sent  # nothing was sent during the ban
    assert first.value.banned_until_ms == second.value.banned_until_ms
    assert abs(first.value.banned_until_ms - (loopback_exchange.now_ms() + 120_000)) < 5_000
    assert first.value.exit_code == 5
    assert adapter.exchange_status().banned_until_ms == first.value.banned_until_ms
    assert loopback_exchange.count_418 == 1
