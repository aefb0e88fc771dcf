"""The adapter's port methods on a fake exchange: the requests they send, the cheapest multi-symbol form,
request order, argument checks, account signing, status figures and telemetry."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from decimal import Decimal

import httpx
import pytest

from adapters.binance import BinanceTelemetry
from adapters.telemetry.testing import InMemoryTelemetry, in_memory_telemetry
from domain import (
    ConfigurationError,
    Interval,
    InvalidInputError,
    InvalidSymbolError,
    MalformedResponseError,
    Symbol,
)
from tests.unit.adapters.binance.conftest import (
    HMAC_KEY,
    HMAC_SECRET,
    START_MS,
    AdapterFactory,
    FakeExchange,
    FakeTime,
    error,
    hmac_settings,
    ok,
)

BTC, ETH, BNB = Symbol("BTCUSDT"), Symbol("ETHUSDT"), Symbol("BNBUSDT")
KLINE = [START_MS, "64000.00", "64120.50", "63950.00", "64080.25", "12.345", START_MS + 59_999,
         "790123.45", 842, "6.100", "390555.12", "0"]  # fmt: skip
ACCOUNT = {
    "makerCommission": 10,
    "takerCommission": 10,
    "commissionRates": {"maker": "0.001", "taker": "0.001", "buyer": "0", "seller": "0"},
    "canTrade": True,
    "canWithdraw": False,
    "canDeposit": False,
    "updateTime": 1767225500000,
    "accountType": "SPOT",
    "balances": [{"asset": "BTC", "free": "1.5", "locked": "0.5"}],
    "permissions": ["SPOT"],
}
EXCHANGE_INFO = {
    "timezone": "UTC",
    "serverTime": START_MS,
    "rateLimits": [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "SECOND", "intervalNum": 10, "limit": 200},
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 50},
    ],
    "exchangeFilters": [],
    "symbols": [],
}


def ticker(symbol: str) -> dict[str, object]:
    return {
        "symbol": symbol, "priceChange": "1", "priceChangePercent": "0.1", "weightedAvgPrice": "10",
        "prevClosePrice": "9", "lastPrice": "10", "lastQty": "1", "bidPrice": "9.9", "bidQty": "1",
        "askPrice": "10.1", "askQty": "1", "openPrice": "9", "highPrice": "11", "lowPrice": "8",
        "volume": "100", "quoteVolume": "1000", "openTime": START_MS - 86_400_000, "closeTime": START_MS,
        "firstId": 1, "lastId": 2, "count": 2,
    }  # fmt: skip


def requested_symbols(request: httpx.Request) -> list[str]:
    value = request.url.params.get("symbols")
    return json.loads(value) if value else []


def answer_symbols(make: Callable[[str], object]) -> Callable[[httpx.Request], httpx.Response]:
    """A route answering ``symbols=[..]`` with one entry per requested symbol, in reverse order."""

    def route(request: httpx.Request) -> httpx.Response:
        if "symbol" in request.url.params:
            return ok(make(request.url.params["symbol"]))
        wanted = requested_symbols(request) or [f"S{i}USDT" for i in range(900)]
        return ok([make(s) for s in reversed(wanted)])

    return route


async def test_server_time_also_samples_the_clock_offset(
    make_adapter: AdapterFactory, exchange: FakeExchange
) -> None:
    adapter = make_adapter(exchange)
    exchange.server_time_ms = START_MS + 2_500

    server_time = await adapter.get_server_time()

    assert server_time.server_time_ms == START_MS + 2_500
    assert adapter.clock_offset_ms == pytest.approx(2_500)
    assert adapter.exchange_status().clock_offset_ms == pytest.approx(2_500)


async def test_exchange_info_teaches_the_limiter_the_live_limits(
    make_adapter: AdapterFactory, exchange: FakeExchange
) -> None:
    exchange.on("/api/v3/exchangeInfo", ok(EXCHANGE_INFO, headers={"X-MBX-USED-WEIGHT-10S": "20"}))
    adapter = make_adapter(exchange)

    info = await adapter.get_exchange_info([BTC, ETH])

    assert info.request_weight_limits[0].limit == 200
    status = adapter.exchange_status()
    assert (status.used_weight, status.weight_limit) == (20, 200)
    (request,) = exchange.to("/api/v3/exchangeInfo")
    assert requested_symbols(request) == ["BTCUSDT", "ETHUSDT"]


async def test_exchange_info_for_one_symbol_uses_the_symbol_parameter(
    make_adapter: AdapterFactory, exchange: FakeExchange
) -> None:
    exchange.on("/api/v3/exchangeInfo", ok(EXCHANGE_INFO))
    adapter = make_adapter(exchange)

    await adapter.get_exchange_info([BTC, BTC])
    await adapter.get_exchange_info()

    assert [r.url.query for r in exchange.to("/api/v3/exchangeInfo")] == [b"symbol=BTCUSDT", b""]
    with pytest.raises(InvalidInputError):
        await adapter.get_exchange_info([])


async def test_prices_of_many_symbols_are_one_call_in_request_order(
    make_adapter: AdapterFactory, exchange: FakeExchange
) -> None:
    exchange.on("/api/v3/ticker/price", answer_symbols(lambda s: {"symbol": s, "price": "1.5"}))
    adapter = make_adapter(exchange)

    quotes = await adapter.get_symbol_tickers([ETH, BTC, BNB, ETH])

    assert [q.symbol for q in quotes] == [ETH, BTC, BNB, ETH]
    assert all(q.price == Decimal("1.5") and q.as_of_ms == START_MS for q in quotes)
    (request,) = exchange.to("/api/v3/ticker/price")
    assert requested_symbols(request) == ["ETHUSDT", "BTCUSDT", "BNBUSDT"]  # a repeated symbol is asked once


async def test_a_repeated_request_sends_the_same_url_and_a_signed_one_a_fresh_signature(
    make_adapter: AdapterFactory, exchange: FakeExchange
) -> None:
    exchange.on("/api/v3/ticker/price", answer_symbols(lambda s: {"symbol": s, "price": "1.5"}))
    exchange.on("/api/v3/account", ok(ACCOUNT))
    time = FakeTime()
    adapter = make_adapter(exchange, hmac_settings(), time=time)

    for _ in range(2):
        await adapter.get_symbol_tickers([ETH, BTC])
        await adapter.get_symbol_tickers([BTC, ETH])  # another list: its own URL
        await adapter.get_symbol_ticker(BTC)
        await adapter.get_account_info()
        time.advance(5)

    prices = [str(r.url) for r in exchange.to("/api/v3/ticker/price")]
    assert prices[:3] == prices[3:]
    assert len(set(prices)) == 3
    first, second = (r.url.params for r in exchange.to("/api/v3/account"))
    assert int(second["timestamp"]) == int(first["timestamp"]) + 5
    assert second["signature"] != first["signature"]


async def test_no_symbols_sends_nothing_and_none_means_every_symbol(
    make_adapter: AdapterFactory, exchange: FakeExchange
) -> None:
    exchange.on("/api/v3/ticker/bookTicker", answer_symbols(
        lambda s: {"symbol": s, "bidPrice": "1", "bidQty": "2", "askPrice": "1.1", "askQty": "3"}
    ))  # fmt: skip
    adapter = make_adapter(exchange)

    assert await adapter.get_book_tickers([]) == []
    books = await adapter.get_book_tickers()

    assert len(books) == 900
    assert [r.url.query for r in exchange.requests] == [b""]


async def test_one_symbol_uses_the_single_symbol_form(
    make_adapter: AdapterFactory, exchange: FakeExchange
) -> None:
    exchange.on("/api/v3/ticker/24hr", answer_symbols(ticker))
    adapter = make_adapter(exchange)

    (only,) = await adapter.get_tickers_24h([BTC])
    single = await adapter.get_ticker_24h(ETH)

    assert (only.symbol, single.symbol) == (BTC, ETH)
    assert [r.url.query for r in exchange.requests] == [b"symbol=BTCUSDT", b"symbol=ETHUSDT"]


async def test_24hr_statistics_of_45_symbols_take_three_bands(
    make_adapter: AdapterFactory, exchange: FakeExchange
) -> None:
    exchange.on("/api/v3/ticker/24hr", answer_symbols(ticker))
    adapter = make_adapter(exchange)
    wanted = [Symbol(f"A{i:02d}USDT") for i in range(45)]

    tickers = await adapter.get_tickers_24h(wanted)

    assert [t.symbol for t in tickers] == wanted
    assert [len(requested_symbols(r)) for r in exchange.requests] == [20, 20, 5]  # weight 6, not 40


async def test_beyond_the_bands_every_symbol_is_fetched_and_the_wanted_kept(
    make_adapter: AdapterFactory, exchange: FakeExchange
) -> None:
    exchange.on("/api/v3/ticker/24hr", answer_symbols(ticker))
    adapter = make_adapter(exchange)
    wanted = [Symbol(f"S{i}USDT") for i in range(850, 0, -1)]  # 43 bands would weigh 86; everything weighs 80

    tickers = await adapter.get_tickers_24h(wanted)

    assert [t.symbol for t in tickers] == wanted
    assert [r.url.query for r in exchange.requests] == [b""]
    with pytest.raises(InvalidSymbolError, match="does not list NOPEUSDT"):
        await adapter.get_tickers_24h([*wanted, Symbol("NOPEUSDT")])


async def test_an_answer_missing_a_requested_symbol_is_malformed(
    make_adapter: AdapterFactory, exchange: FakeExchange
) -> None:
    exchange.on("/api/v3/ticker/price", ok([{"symbol": "BTCUSDT", "price": "1"}]))
    adapter = make_adapter(exchange)

    with pytest.raises(MalformedResponseError, match="no entry for ETHUSDT"):
        await adapter.get_symbol_tickers([BTC, ETH])


async def test_klines_send_symbol_interval_range_and_limit(
    make_adapter: AdapterFactory, exchange: FakeExchange
) -> None:
    exchange.on("/api/v3/klines", ok([KLINE]))
    adapter = make_adapter(exchange)

    (kline,) = await adapter.get_kline_data(BTC, Interval.MINUTE_1, START_MS, START_MS + 60_000, limit=1000)

    assert (kline.symbol, kline.interval, kline.close) == (BTC, Interval.MINUTE_1, Decimal("64080.25"))
    assert exchange.requests[0].url.query == (
        b"symbol=BTCUSDT&interval=1m&startTime=1767225600000&endTime=1767225660000&limit=1000"
    )


@pytest.mark.parametrize(
    ("start", "end", "limit"),
    [(None, None, 0), (None, None, 1001), (None, None, True), (START_MS + 1, START_MS, 10), (-1, None, 10)],
)
async def test_bad_kline_arguments_are_refused_before_sending(
    start: int | None, end: int | None, limit: int, make_adapter: AdapterFactory, exchange: FakeExchange
) -> None:
    adapter = make_adapter(exchange)

    with pytest.raises(InvalidInputError) as caught:
        await adapter.get_kline_data(BTC, Interval.HOUR_1, start, end, limit=limit)

    assert caught.value.exit_code == 2
    assert exchange.requests == []


async def test_an_unknown_interval_from_the_exchange_is_an_interval_error(
    make_adapter: AdapterFactory, exchange: FakeExchange
) -> None:
    exchange.on("/api/v3/klines", error(400, -1120, "Invalid interval."))
    adapter = make_adapter(exchange)

    with pytest.raises(Exception, match="does not know the interval") as caught:
        await adapter.get_kline_data(BTC, Interval.SECOND_1)

    assert type(caught.value).__name__ == "InvalidIntervalError"


async def test_the_account_is_a_signed_call(make_adapter: AdapterFactory, exchange: FakeExchange) -> None:
    exchange.on("/api/v3/account", ok(ACCOUNT))
    adapter = make_adapter(exchange, hmac_settings(recv_window_ms="4500.5"))

    info = await adapter.get_account_info(omit_zero_balances=True)

    assert adapter.has_credentials
    assert info.balance("BTC") is not None
    (request,) = exchange.to("/api/v3/account")
    assert request.url.params["omitZeroBalances"] == "true"
    assert request.url.params["recvWindow"] == "4500.5"
    assert request.headers["X-MBX-APIKEY"] == HMAC_KEY
    assert "X-MBX-APIKEY" not in exchange.to("/api/v3/time")[0].headers  # public calls carry no key


async def test_without_credentials_the_account_call_sends_nothing(
    make_adapter: AdapterFactory, exchange: FakeExchange
) -> None:
    adapter = make_adapter(exchange)

    with pytest.raises(ConfigurationError, match="no credentials are configured"):
        await adapter.get_account_info()

    assert not adapter.has_credentials
    assert exchange.requests == []


async def test_status_counts_attempts_and_failures(
    make_adapter: AdapterFactory, exchange: FakeExchange
) -> None:
    exchange.on("/api/v3/ticker/price", [error(500, -1001), ok({"symbol": "BTCUSDT", "price": "1"})])
    adapter = make_adapter(exchange)

    await adapter.get_symbol_ticker(BTC)

    status = adapter.exchange_status()
    assert (status.requests, status.errors, status.error_rate) == (2, 1, 0.5)
    assert status.banned_until_ms is None
    assert (status.used_weight, status.weight_limit) == (4, 6000)


async def test_aclose_closes_the_http_client(make_adapter: AdapterFactory, exchange: FakeExchange) -> None:
    adapter = make_adapter(exchange)

    await adapter.aclose()

    assert make_adapter.clients[0].is_closed


@pytest.fixture
def telemetry() -> Iterator[InMemoryTelemetry]:
    handle = in_memory_telemetry()
    yield handle
    handle.shutdown()


async def test_spans_and_metrics_name_calls_and_paths_never_queries_or_keys(
    telemetry: InMemoryTelemetry, make_adapter: AdapterFactory, exchange: FakeExchange
) -> None:
    exchange.on("/api/v3/klines", [error(503, -1001), ok([KLINE], used=12)])
    exchange.on("/api/v3/account", error(401, -2015, "Invalid API-key, IP, or permissions for action."))
    binance = BinanceTelemetry(
        tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider
    )
    adapter = make_adapter(exchange, hmac_settings(), telemetry=binance, time=FakeTime())

    await adapter.get_kline_data(BTC, Interval.MINUTE_1, limit=1)
    with pytest.raises(Exception, match="rejected the API key"):
        await adapter.get_account_info()

    (logical,) = telemetry.spans_named("MarketDataPort.get_kline_data")
    attempts = telemetry.spans_named("HTTP GET /api/v3/klines")
    assert [s.attributes["http.response.status_code"] for s in attempts if s.attributes] == [503, 200]
    assert all(s.parent is not None and s.parent.span_id == logical.context.span_id for s in attempts)
    last = attempts[-1].attributes or {}
    assert last["url.path"] == "/api/v3/klines"
    assert last["http.request.resend_count"] == 1
    assert last["binance.request.weight"] == 2
    assert last["binance.weight.used"] == 12
    (account,) = telemetry.spans_named("AccountPort.get_account_info")
    assert (account.attributes or {})["error.type"] == "AuthenticationError"

    every_value = [str(v) for s in telemetry.spans() for v in (s.attributes or {}).values()]
    every_value += [str(v) for p in telemetry.metric_points() for v in p.attributes.values()]
    assert not [v for v in every_value if "?" in v or "=" in v or HMAC_KEY in v or HMAC_SECRET in v]

    requests = {
        (p.attributes["endpoint"], p.attributes["outcome"]): p.value
        for p in telemetry.points_of("binance.requests")
    }
    assert requests[("/api/v3/klines", "error")] == 1
    assert requests[("/api/v3/klines", "success")] == 1
    errors = {
        (p.attributes["endpoint"], p.attributes["error.type"]) for p in telemetry.points_of("binance.errors")
    }
    assert errors >= {
        ("/api/v3/klines", "ExchangeUnavailableError"),
        ("/api/v3/account", "AuthenticationError"),
    }
    assert [p.value for p in telemetry.points_of("binance.retries")] == [1]
    assert telemetry.points_of("binance.request.duration")
    used = {p.attributes["interval"]: p.value for p in telemetry.points_of("binance.weight.used")}
    assert used == {"1M": 2 + 2 + 1 + 20}  # two kline attempts, the clock sync, the account attempt
    assert [p.value for p in telemetry.points_of("binance.ban.active")] == [0]
    assert telemetry.points_of("binance.clock.offset")
