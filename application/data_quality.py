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

It is also a ``FreshnessSource`` and a ``StreamStatusSource`` for the health monitor.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from opentelemetry import metrics

from domain import ConnectionState, DataFreshness, Interval, Kline, PriceQuote, StreamConnection, Symbol
from domain.validators import Reason
from ports import Clock, FreshnessSource, StreamStatusSource

__all__ = ["METER_NAME", "DataQualityMetrics"]

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

    def observe_prices(self, quotes: Iterable[PriceQuote]) -> None:
        """Note the time of each quote; older quotes than the newest one seen change nothing."""
        for quote in quotes:
            if quote.as_of_ms > self._prices.get(quote.symbol, -1):
                self._prices[quote.symbol] = quote.as_of_ms

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
