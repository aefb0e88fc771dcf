"""Data-quality figures of the running process: freshness per symbol, rejected rows, stream state.

``DataQualityMetrics`` is told what arrived (prices, candles), what was rejected and how the streams are
doing, and publishes it through the OpenTelemetry metrics API:

=================================  =========  =======  =====================================================
metric                             type       unit     attributes
=================================  =========  =======  =====================================================
binance_gateway.data.price_age     gauge      s        ``symbol``
binance_gateway.data.candle_age    gauge      s        ``symbol``, ``interval``
binance_gateway.data.rejected      counter    {row}    ``reason`` (``domain.validators.Reason``), ``kind``
binance_gateway.stream.connected   gauge      1        ``stream``: 1 connected, 0 otherwise
=================================  =========  =======  =====================================================

It is also a ``FreshnessSource`` and a ``StreamStatusSource`` for the health monitor. ``ObservedMarketData``
wraps a ``MarketDataPort`` and tells it about every price, book ticker, 24h ticker and candle that passes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from opentelemetry import metrics

from domain import (
    BookTicker,
    ConnectionState,
    DataFreshness,
    ExchangeInfo,
    Interval,
    Kline,
    PriceQuote,
    ServerTime,
    StreamConnection,
    Symbol,
    Ticker24h,
)
from domain.validators import Reason
from ports import Clock, FreshnessSource, MarketDataPort, StreamStatusSource

__all__ = ["METER_NAME", "DataQualityMetrics", "ObservedMarketData"]

METER_NAME = "binance_gateway.application"


class DataQualityMetrics(FreshnessSource, StreamStatusSource):
    """Tracks the newest price and closed candle per symbol, counts rejected rows, holds stream states."""

    def __init__(self, clock: Clock, meter_provider: metrics.MeterProvider | None = None) -> None:
        self._clock = clock
        self._prices: dict[Symbol, int] = {}
        self._candles: dict[tuple[Symbol, Interval], int] = {}
        self._streams: dict[str, StreamConnection] = {}
        meter = metrics.get_meter(METER_NAME, meter_provider=meter_provider)
        meter.create_observable_gauge(
            "binance_gateway.data.price_age",
            callbacks=[self._observe_price_age],
            unit="s",
            description="Age of the newest price seen for a symbol",
        )
        meter.create_observable_gauge(
            "binance_gateway.data.candle_age",
            callbacks=[self._observe_candle_age],
            unit="s",
            description="Age of the newest closed candle of a symbol and interval, from its close time",
        )
        meter.create_observable_gauge(
            "binance_gateway.stream.connected",
            callbacks=[self._observe_streams],
            unit="1",
            description="1 while a stream connection is connected, else 0",
        )
        self._rejected = meter.create_counter(
            "binance_gateway.data.rejected",
            unit="{row}",
            description="Rows that failed validation and were not stored, by reason",
        )

    # --------------------------------------------------------------------------------------- recording

    def observe_prices(self, quotes: Iterable[PriceQuote | BookTicker]) -> None:
        """Note the time of each quote; older quotes than the newest one seen change nothing."""
        for quote in quotes:
            self.observe_price_time(quote.symbol, quote.as_of_ms)

    def observe_price_time(self, symbol: Symbol, as_of_ms: int) -> None:
        """Note that the price of ``symbol`` was current at ``as_of_ms``."""
        if as_of_ms > self._prices.get(symbol, -1):
            self._prices[symbol] = as_of_ms

    def observe_klines(self, klines: Iterable[Kline]) -> None:
        """Note the close time of each closed candle; a candle still open is not yet data to age."""
        now_ms = self._clock.now_ms()
        for kline in klines:
            key = (kline.symbol, kline.interval)
            if kline.is_closed(now_ms) and kline.close_time_ms > self._candles.get(key, -1):
                self._candles[key] = kline.close_time_ms

    def record_rejected(self, counts: Mapping[Reason, int], *, kind: str) -> None:
        """Count rejected rows of ``kind`` (``kline``, ``price``, ...) by reason."""
        for reason, count in counts.items():
            if count:
                self._rejected.add(count, {"reason": reason.value, "kind": kind})

    def set_stream_state(self, name: str, state: ConnectionState, detail: str = "") -> None:
        """Record the state of stream connection ``name`` (the hook the stream adapter's owner calls)."""
        self._streams[name] = StreamConnection(name, state, detail)

    # --------------------------------------------------------------------------------------- reading

    async def data_freshness(self, symbols: Sequence[Symbol] | None = None) -> list[DataFreshness]:
        wanted = set(symbols) if symbols is not None else set(self._prices) | {s for s, _ in self._candles}
        result = []
        for symbol in sorted(wanted):
            candle_times = [ms for (s, _), ms in self._candles.items() if s == symbol]
            price_ms = self._prices.get(symbol)
            if price_ms is None and not candle_times:
                continue
            result.append(DataFreshness(symbol, price_ms, max(candle_times, default=None)))
        return result

    def stream_connections(self) -> Sequence[StreamConnection]:
        return tuple(self._streams.values())

    # --------------------------------------------------------------------------------------- callbacks

    def _age_s(self, newest_ms: int) -> float:
        return max(0.0, (self._clock.now_ms() - newest_ms) / 1000)

    def _observe_price_age(self, _options: metrics.CallbackOptions) -> Iterable[metrics.Observation]:
        return [metrics.Observation(self._age_s(ms), {"symbol": str(s)}) for s, ms in self._prices.items()]

    def _observe_candle_age(self, _options: metrics.CallbackOptions) -> Iterable[metrics.Observation]:
        return [
            metrics.Observation(self._age_s(ms), {"symbol": str(symbol), "interval": interval.value})
            for (symbol, interval), ms in self._candles.items()
        ]

    def _observe_streams(self, _options: metrics.CallbackOptions) -> Iterable[metrics.Observation]:
        return [
            metrics.Observation(int(conn.state is ConnectionState.CONNECTED), {"stream": name})
            for name, conn in self._streams.items()
        ]


class ObservedMarketData(MarketDataPort):
    """A ``MarketDataPort`` that reports every price and candle it returns to ``DataQualityMetrics``."""

    def __init__(self, market: MarketDataPort, quality: DataQualityMetrics) -> None:
        self._market = market
        self._quality = quality

    async def get_server_time(self) -> ServerTime:
        return await self._market.get_server_time()

    async def get_exchange_info(self, symbols: Sequence[Symbol] | None = None) -> ExchangeInfo:
        return await self._market.get_exchange_info(symbols)

    async def get_symbol_ticker(self, symbol: Symbol) -> PriceQuote:
        quote = await self._market.get_symbol_ticker(symbol)
        self._quality.observe_prices([quote])
        return quote

    async def get_symbol_tickers(self, symbols: Sequence[Symbol] | None = None) -> list[PriceQuote]:
        quotes = await self._market.get_symbol_tickers(symbols)
        self._quality.observe_prices(quotes)
        return quotes

    async def get_ticker_24h(self, symbol: Symbol) -> Ticker24h:
        ticker = await self._market.get_ticker_24h(symbol)
        self._quality.observe_price_time(ticker.symbol, ticker.close_time_ms)
        return ticker

    async def get_tickers_24h(self, symbols: Sequence[Symbol] | None = None) -> list[Ticker24h]:
        tickers = await self._market.get_tickers_24h(symbols)
        for ticker in tickers:
            self._quality.observe_price_time(ticker.symbol, ticker.close_time_ms)
        return tickers

    async def get_book_ticker(self, symbol: Symbol) -> BookTicker:
        book = await self._market.get_book_ticker(symbol)
        self._quality.observe_prices([book])
        return book

    async def get_book_tickers(self, symbols: Sequence[Symbol] | None = None) -> list[BookTicker]:
        books = await self._market.get_book_tickers(symbols)
        self._quality.observe_prices(books)
        return books

    async def get_kline_data(
        self,
        symbol: Symbol,
        interval: Interval,
        start_ms: int | None = None,
        end_ms: int | None = None,
        limit: int = 500,
    ) -> Sequence[Kline]:
        klines = await self._market.get_kline_data(symbol, interval, start_ms, end_ms, limit)
        self._quality.observe_klines(klines)
        return klines
