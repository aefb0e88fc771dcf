"""The Binance adapter replays every recorded endpoint and error case, and no cassette holds a secret."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from adapters.clock import FakeClock
from domain import (
    AccountInfo,
    BinanceAPIError,
    BookTicker,
    ExchangeInfo,
    Interval,
    IPBannedError,
    Kline,
    PriceQuote,
    RateLimitError,
    ServerTime,
    Ticker24h,
)
from domain.validators import ValidationPolicy, check_kline_series, check_quote, check_ticker
from tests.cassettes import CASSETTES, build_adapter, cassette, find_secrets, read_manifest
from tests.integration.record_cassettes import BNB, BTC, CASES, ETH, Case, run_case

ANY_AGE = ValidationPolicy(max_future_ms=1_000, max_age_ms=None)


def _time(result: Any, now_ms: int) -> None:
    assert isinstance(result, ServerTime)
    assert abs(result.server_time_ms - now_ms) < 60_000


def _exchange_info(result: Any, _now_ms: int) -> None:
    assert isinstance(result, ExchangeInfo)
    assert {rules.symbol for rules in result.symbols} == {BTC, ETH}
    assert result.request_weight_limits


def _one_price(result: Any, now_ms: int) -> None:
    assert isinstance(result, PriceQuote)
    assert result.symbol == BTC
    assert check_quote(result, now_ms, ANY_AGE) == []
    assert result.as_of_ms == now_ms


def _many_prices(result: Any, now_ms: int) -> None:
    assert [quote.symbol for quote in result] == [ETH, BTC, BNB]
    assert all(check_quote(quote, now_ms, ANY_AGE) == [] for quote in result)


def _one_ticker(result: Any, now_ms: int) -> None:
    assert isinstance(result, Ticker24h)
    assert result.symbol == BTC
    assert check_ticker(result, now_ms, ANY_AGE) == []


def _many_tickers(result: Any, now_ms: int) -> None:
    assert len(result) == 5
    assert all(isinstance(t, Ticker24h) and check_ticker(t, now_ms, ANY_AGE) == [] for t in result)


def _one_book(result: Any, now_ms: int) -> None:
    assert isinstance(result, BookTicker)
    assert (result.symbol, result.as_of_ms) == (BTC, now_ms)
    assert 0 < result.bid_price <= result.ask_price


def _many_books(result: Any, _now_ms: int) -> None:
    assert [book.symbol for book in result] == [BTC, ETH]


def _klines(result: Any, _now_ms: int) -> None:
    assert len(result) == 5
    assert all(isinstance(k, Kline) and k.symbol == BTC for k in result)
    assert check_kline_series(result, Interval.MINUTE_1, symbol=BTC).ok


def _account(result: Any, _now_ms: int) -> None:
    assert isinstance(result, AccountInfo)
    assert result.balances
    assert result.non_zero_balances() == result.balances  # omitZeroBalances=true was sent and honoured


def _error(code: int, status: int) -> Callable[[Any, int], None]:
    def check(result: Any, _now_ms: int) -> None:
        assert isinstance(result, BinanceAPIError)
        assert (result.code, result.http_status) == (code, status)
        assert result.endpoint is not None
        assert "?" not in result.endpoint

    return check


def _rate_limited(result: Any, now_ms: int) -> None:
    _error(-1003, 429)(result, now_ms)
    assert isinstance(result, RateLimitError)
    assert result.retry_after == 7


def _banned(result: Any, now_ms: int) -> None:
    _error(-1003, 418)(result, now_ms)
    assert isinstance(result, IPBannedError)
    assert result.banned_until_ms == now_ms + 600_000


CHECKS: dict[str, Callable[[Any, int], None]] = {
    "time": _time,
    "exchange_info": _exchange_info,
    "ticker_price_one": _one_price,
    "ticker_price_many": _many_prices,
    "ticker_24hr_one": _one_ticker,
    "ticker_24hr_many": _many_tickers,
    "book_ticker_one": _one_book,
    "book_ticker_many": _many_books,
    "klines": _klines,
    "account": _account,
    "error_invalid_symbol": _error(-1121, 400),
    "error_bad_interval": _error(-1120, 400),
    "error_bad_signature": _error(-1022, 400),
    "error_rate_limited": _rate_limited,
    "error_banned": _banned,
    "error_unavailable": _error(-1001, 503),
}


def _files() -> list[Path]:
    return sorted(path for path in CASSETTES.iterdir() if path.is_file())


def test_every_case_has_a_check_and_a_recorded_cassette() -> None:
    assert set(CHECKS) == {case.name for case in CASES}
    recorded = {path.stem for path in CASSETTES.glob("*.yaml")}
    assert recorded == {case.name for case in CASES} | {"contract"}
    assert set(read_manifest()) == recorded


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
async def test_the_adapter_replays_the_cassette(case: Case) -> None:
    now_ms = read_manifest()[case.name]["recorded_at_ms"]
    clock = FakeClock(now_ms)
    adapter = build_adapter(clock=clock)
    try:
        with cassette(case.name) as tape:
            result = await run_case(case, adapter)
            assert tape.all_played  # every recorded request was sent again, nothing else was
    finally:
        await adapter.aclose()

    CHECKS[case.name](result, now_ms)


async def test_a_signed_request_matches_with_another_key_and_another_time() -> None:
    # Signature, timestamp and key are filtered out of the cassette and out of the live request alike.
    clock = FakeClock(read_manifest()["account"]["recorded_at_ms"] + 3_600_000)
    adapter = build_adapter(clock=clock, api_key="OTHERKEY" * 8, api_secret="OTHERSECRET" * 5)
    try:
        with cassette("account") as tape:
            account = await adapter.get_account_info(omit_zero_balances=True)
            assert tape.all_played
    finally:
        await adapter.aclose()

    assert account.balances


async def test_a_request_that_is_not_in_the_cassette_is_refused_not_sent() -> None:
    adapter = build_adapter(clock=FakeClock(read_manifest()["time"]["recorded_at_ms"]))
    try:
        with cassette("time"), pytest.raises(Exception, match=r"[Cc]assette"):
            await adapter.get_kline_data(BTC, Interval.MINUTE_1, limit=5)
    finally:
        await adapter.aclose()


@pytest.mark.parametrize("path", _files(), ids=[path.name for path in _files()])
def test_no_cassette_file_holds_a_secret(path: Path) -> None:
    assert find_secrets(path.read_text(encoding="utf-8")) == []


# Planted secrets are put together at run time, so that no tracked file holds a string shaped like a real one.
_PEM_LINE = "-----{} PRIVATE KEY-----"


@pytest.mark.parametrize(
    "planted",
    [
        "uri: http://127.0.0.1:1/api/v3/account?timestamp=1&signature="
        + hashlib.sha256(b"planted").hexdigest(),
        "signature=%2Bq2xYzE%3D",
        "timestamp=1768480496789",
        "X-MBX-APIKEY:\n      - vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
        _PEM_LINE.format("BEGIN") + "\nMC4CAQAwBQYDK2VwBCIEI\n" + _PEM_LINE.format("END"),
        "RECORDINGSECRETcassettesOnlyNotARealSecret98765432109876543210987",
    ],
)
def test_the_scan_finds_planted_secrets(planted: str) -> None:
    assert find_secrets(f"interactions:\n- request:\n    {planted}\n") != []
