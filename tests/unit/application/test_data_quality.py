"""Freshness, rejected rows and stream state are published as metrics and read by the health monitor."""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest

from adapters.telemetry.testing import InMemoryTelemetry, in_memory_telemetry
from application.data_quality import METER_NAME, DataQualityMetrics
from domain import ConnectionState, DataFreshness, Interval, Kline, PriceQuote, StreamConnection, Symbol
from domain.validators import Reason

NOW_MS = 1_767_225_600_000
BTC, ETH = Symbol("BTCUSDT"), Symbol("ETHUSDT")


@attrs.define
class FixedClock:
    now: int = NOW_MS

    def now_ms(self) -> int:
        return self.now

    def monotonic(self) -> float:
        return self.now / 1000


def _kline(symbol: Symbol, open_ms: int) -> Kline:
    one = Decimal(1)
    return Kline(
        symbol, Interval.MINUTE_1, open_ms, one, one, one, one, one, open_ms + 59_999, one, 1, one, one
    )


@pytest.fixture
def telemetry() -> InMemoryTelemetry:
    return in_memory_telemetry()


@pytest.fixture
def quality(telemetry: InMemoryTelemetry) -> DataQualityMetrics:
    return DataQualityMetrics(FixedClock(), meter_provider=telemetry.meter_provider)


async def test_freshness_keeps_the_newest_price_and_closed_candle_per_symbol(
    quality: DataQualityMetrics,
) -> None:
    quality.observe_prices(
        [PriceQuote(BTC, Decimal(1), NOW_MS - 5000), PriceQuote(BTC, Decimal(1), NOW_MS - 9000)]
    )
    open_candle = _kline(BTC, NOW_MS - 30_000)
    quality.observe_klines([_kline(BTC, NOW_MS - 180_000), _kline(BTC, NOW_MS - 120_000), open_candle])

    assert await quality.data_freshness() == [DataFreshness(BTC, NOW_MS - 5000, NOW_MS - 60_001)]
    assert await quality.data_freshness([ETH]) == []


async def test_freshness_ages_are_observable_gauges_in_seconds(
    quality: DataQualityMetrics, telemetry: InMemoryTelemetry
) -> None:
    quality.observe_prices([PriceQuote(BTC, Decimal(1), NOW_MS - 5000)])
    quality.observe_klines([_kline(ETH, NOW_MS - 120_000)])

    price = telemetry.points_of("binance_gateway.data.price_age")
    candle = telemetry.points_of("binance_gateway.data.candle_age")

    assert [(p.attributes, p.value, p.unit, p.scope) for p in price] == [
        ({"symbol": "BTCUSDT"}, 5.0, "s", METER_NAME)
    ]
    assert [(p.attributes, p.value) for p in candle] == [({"symbol": "ETHUSDT", "interval": "1m"}, 60.001)]


def test_rejected_rows_are_counted_by_reason_and_kind(
    quality: DataQualityMetrics, telemetry: InMemoryTelemetry
) -> None:
    quality.record_rejected({Reason.OHLC_INCONSISTENT: 2, Reason.GAP: 0}, kind="kline")
    quality.record_rejected({Reason.OHLC_INCONSISTENT: 1, Reason.PRICE_NOT_POSITIVE: 4}, kind="kline")

    points = {p.attributes["reason"]: p for p in telemetry.points_of("binance_gateway.data.rejected")}

    assert {reason: p.value for reason, p in points.items()} == {
        "ohlc_inconsistent": 3,
        "price_not_positive": 4,
    }
    assert points["ohlc_inconsistent"].attributes == {"reason": "ohlc_inconsistent", "kind": "kline"}
    assert points["ohlc_inconsistent"].unit == "{row}"


def test_stream_state_is_a_gauge_and_a_status_source(
    quality: DataQualityMetrics, telemetry: InMemoryTelemetry
) -> None:
    quality.set_stream_state("ws-1", ConnectionState.CONNECTED)
    quality.set_stream_state("ws-2", ConnectionState.RECONNECTING, "attempt 2")

    gauge = {p.attributes["stream"]: p.value for p in telemetry.points_of("binance_gateway.stream.connected")}

    assert gauge == {"ws-1": 1, "ws-2": 0}
    assert quality.stream_connections() == (
        StreamConnection("ws-1", ConnectionState.CONNECTED),
        StreamConnection("ws-2", ConnectionState.RECONNECTING, "attempt 2"),
    )


async def test_observed_market_data_reports_every_price_and_closed_candle_that_passes() -> None:
    from adapters.clock import FakeClock
    from adapters.memory import FakeExchange
    from application.data_quality import ObservedMarketData

    clock = FakeClock(NOW_MS + 30_000)
    quality = DataQualityMetrics(clock)
    market = ObservedMarketData(FakeExchange(clock), quality)

    await market.get_server_time()
    await market.get_exchange_info([BTC])
    quotes = await market.get_symbol_tickers([BTC, ETH])
    await market.get_symbol_ticker(BTC)
    await market.get_book_ticker(Symbol("SOLUSDT"))
    await market.get_book_tickers([Symbol("SOLUSDT")])
    await market.get_ticker_24h(Symbol("XRPUSDT"))
    await market.get_tickers_24h([Symbol("XRPUSDT")])
    klines = await market.get_kline_data(BTC, Interval.MINUTE_1, limit=3)

    fresh = {f.symbol: f for f in await quality.data_freshness()}
    assert set(fresh) == {BTC, ETH, Symbol("SOLUSDT"), Symbol("XRPUSDT")}
    assert fresh[BTC].newest_price_ms == max(q.as_of_ms for q in quotes if q.symbol == BTC)
    closed = [k for k in klines if k.is_closed(clock.now_ms())]
    assert fresh[BTC].newest_candle_ms == closed[-1].close_time_ms
    assert fresh[Symbol("XRPUSDT")].newest_price_ms is not None
