"""Continuous collection: keep the prices and candles of many pairs current in the store.

``Collector`` is the ``FeedSink`` of a ``MarketFeed`` (by default the ``RestPoller``): it stores whatever
arrives, keeps ``CollectorStats`` (and feeds the ``DataQualityMetrics`` hook when given), and repairs gaps.
On start it asks for the exchange's rules (which checks the symbols and tells the adapter the weight
limits), plans the cadence from the budget (``application.cadence``), and resumes each series after the
newest candle already stored within ``lookback_ms``, so a restart continues where the last run stopped.
Candles missed while the collector was stopped or disconnected are fetched by the next poll (one page) or,
when more are missing, by a backfill of the range (``BackfillService.backfill_series``).

Stopping: ``stop()`` (the command line calls it on SIGINT and SIGTERM) ends the feed after the requests
under way; cancelling the task works too. Either way, data that has arrived is stored before ``run``
returns or re-raises.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable, Iterable, Mapping, Sequence

import attrs
from opentelemetry import trace

from application._cancel import finish_even_if_cancelled
from application.backfill import BackfillService
from application.cadence import Cadence, WeightBudget, plan_cadence
from application.clock_sync import measure_clock_offset
from application.collector_stats import CollectorStats, SeriesStats
from application.data_quality import DataQualityMetrics
from application.feed import FeedSink, MarketFeed
from application.rest_poller import RestPoller, Sleep
from domain import (
    DEFAULT_SYMBOLS,
    STORAGE_POLICY,
    GatewayError,
    Interval,
    InvalidInputError,
    Kline,
    PriceQuote,
    SaveResult,
    Symbol,
    parse_symbols,
)
from domain.validators import Reason, check_quote
from ports import MAX_KLINE_LIMIT, Clock, MarketDataPort, MarketDataStore

__all__ = ["Collector", "FeedFactory"]

#: Builds the feed once the cadence and the exchange-time function are known.
FeedFactory = Callable[[Cadence, Callable[[], int]], MarketFeed]

_WEEK_MS = 7 * 86_400_000


@attrs.define
class _SeriesState:
    next_open_ms: int
    #: Exchange time of the first failed poll since the last good one (or of the start, when behind).
    failed_since_ms: int | None = None


def _last_closed_open(interval: Interval, now_ms: int) -> int:
    """The open time of the newest candle that is closed at ``now_ms``."""
    return interval.open_time_ms(interval.open_time_ms(now_ms) - 1)


class Collector(FeedSink):
    """Collects ``symbols`` x ``intervals`` into ``store`` until stopped; see the module docstring."""

    def __init__(  # noqa: PLR0913 - the knobs of a long-running job, all but three with defaults
        self,
        market: MarketDataPort,
        store: MarketDataStore,
        clock: Clock,
        symbols: Iterable[str | Symbol] = DEFAULT_SYMBOLS,
        intervals: Iterable[str | Interval] = (Interval.MINUTE_1,),
        *,
        quality: DataQualityMetrics | None = None,
        backfill: BackfillService | None = None,
        feed: FeedFactory | None = None,
        budget_share: float = 0.5,
        price_every_ms: int = 1_000,
        lookback_ms: int = _WEEK_MS,
        sleep: Sleep = asyncio.sleep,
        tracer_provider: trace.TracerProvider | None = None,
    ) -> None:
        self._symbols = parse_symbols(symbols)
        self._intervals = tuple(dict.fromkeys(Interval.parse(i) for i in intervals))
        if not self._symbols or not self._intervals:
            msg = "give at least one symbol and one interval to collect"
            raise InvalidInputError(msg)
        self._market = market
        self._store = store
        self._clock = clock
        self._quality = quality
        self._backfill = backfill or BackfillService(market, store, clock, tracer_provider=tracer_provider)
        self._tracer = trace.get_tracer(__name__, tracer_provider=tracer_provider)
        self._feed_factory = feed or self._rest_poller
        self._share = budget_share
        self._price_every_ms = price_every_ms
        self._lookback_ms = lookback_ms
        self._sleep = sleep
        self._offset_ms = 0
        self._state: dict[tuple[Symbol, Interval], _SeriesState] = {}
        self._stop: asyncio.Event | None = None
        self._stop_requested = False
        self.stats = CollectorStats(self._symbols, self._intervals)
        self.cadence: Cadence | None = None

    # ------------------------------------------------------------------------------------------ running

    def stop(self) -> None:
        """Ask the run to end after the requests under way (safe to call from a signal handler)."""
        self._stop_requested = True
        if self._stop is not None:
            self._stop.set()

    async def run(self, *, duration_s: float | None = None) -> CollectorStats:
        """Collect until ``stop()``, cancellation or ``duration_s`` seconds (of the event loop's clock)."""
        self._stop = asyncio.Event()
        if self._stop_requested:
            self._stop.set()
        with self._tracer.start_as_current_span("Collector.run") as span:
            span.set_attributes(
                {"symbols.count": len(self._symbols), "kline.intervals": [i.value for i in self._intervals]}
            )
            info = await self._market.get_exchange_info(self._symbols)
            offset = await measure_clock_offset(self._market, self._clock)
            self._offset_ms = round(offset.offset_ms)
            now = self.now_ms()
            self.stats.started_ms = now
            counts = collections.Counter({interval: len(self._symbols) for interval in self._intervals})
            self.cadence = plan_cadence(
                WeightBudget.from_rate_limits(info.rate_limits),
                counts,
                share=self._share,
                price_every_ms=self._price_every_ms,
            )
            span.set_attribute("collect.weight_per_s", self.cadence.weight_per_s)
            for symbol in self._symbols:
                for interval in self._intervals:
                    self._state[(symbol, interval)] = await self._resume_point(symbol, interval, now)
            timer = (
                asyncio.get_running_loop().call_later(duration_s, self._stop.set)
                if duration_s is not None
                else None
            )
            try:
                await self._feed_factory(self.cadence, self.now_ms).run(self, self._stop)
            finally:
                if timer is not None:
                    timer.cancel()
            return self.stats

    def now_ms(self) -> int:
        """The exchange's time, from the local clock and the offset measured at the start."""
        return self._clock.now_ms() + self._offset_ms

    def _rest_poller(self, cadence: Cadence, now_ms: Callable[[], int]) -> MarketFeed:
        return RestPoller(self._market, self._symbols, self._intervals, cadence, now_ms, sleep=self._sleep)

    async def _resume_point(self, symbol: Symbol, interval: Interval, now_ms: int) -> _SeriesState:
        coverage = await self._store.kline_coverage(symbol, interval, now_ms - self._lookback_ms, now_ms)
        if coverage.last_open_ms is None:
            # Nothing recent: start with the newest page (older history is the backfill command's job).
            start = interval.open_time_ms(max(0, now_ms - (MAX_KLINE_LIMIT - 1) * interval.duration_ms))
            return _SeriesState(start)
        stats = self.stats.series[(symbol, interval)]
        stats.newest_candle_ms = interval.close_time_ms(coverage.last_open_ms)
        state = _SeriesState(interval.next_open_ms(coverage.last_open_ms))
        if state.next_open_ms <= _last_closed_open(interval, now_ms):
            state.failed_since_ms = now_ms  # stopped for a while: what closed meanwhile is a gap
        return state

    # ------------------------------------------------------------------------------------------ the sink

    def resume_from(self, symbol: Symbol, interval: Interval) -> int:
        return self._state[(symbol, interval)].next_open_ms

    async def on_prices(self, quotes: Sequence[PriceQuote], *, now_ms: int) -> None:
        self.stats.price_polls += 1
        await finish_even_if_cancelled(
            self._store.save_price_ticks(quotes, now_ms=now_ms),
            lambda _result: self._count_prices(quotes, now_ms),
        )

    def _count_prices(self, quotes: Sequence[PriceQuote], now_ms: int) -> None:
        valid: list[PriceQuote] = []
        for quote in quotes:
            stats = self.stats.symbols.get(quote.symbol)
            if stats is None:
                continue
            problems = check_quote(quote, now_ms, STORAGE_POLICY)
            if problems:
                stats.count_rejected({problems[0].reason: 1})
                self._record_rejected({problems[0].reason: 1}, "price")
                continue
            valid.append(quote)
            stats.prices_stored += 1
            stats.newest_price_ms = max(stats.newest_price_ms or quote.as_of_ms, quote.as_of_ms)
        if self._quality is not None:
            self._quality.observe_prices(valid)

    async def on_klines(
        self,
        symbol: Symbol,
        interval: Interval,
        klines: Sequence[Kline],
        *,
        now_ms: int,
        since_ms: int | None,
    ) -> None:
        state, stats = self._state[(symbol, interval)], self.stats.series[(symbol, interval)]
        stats.polls += 1
        newest_closed = _last_closed_open(interval, now_ms)
        gap_end = self._gap_end(state, interval, newest_closed)
        if gap_end is not None:
            stats.gaps_found += 1
        if since_ms is None and klines and klines[0].open_time_ms > state.next_open_ms:
            # A live candle past the next one expected: the ones between were missed.
            await self._repair(symbol, interval, state, stats, klines[0].open_time_ms - 1, now_ms)
        await self._save(state, stats, klines, now_ms)
        if since_ms is not None and len(klines) >= MAX_KLINE_LIMIT and state.next_open_ms <= newest_closed:
            # A full page that did not reach the present: more than one page was missed.
            await self._repair(symbol, interval, state, stats, newest_closed, now_ms)
        if gap_end is not None and state.next_open_ms > gap_end:
            stats.gaps_repaired += 1
        state.failed_since_ms = None

    def on_failure(
        self, error: GatewayError, symbol: Symbol | None = None, interval: Interval | None = None
    ) -> None:
        self.stats.last_error = f"{type(error).__name__}: {error}"
        if symbol is None or interval is None:
            self.stats.price_failures += 1
            return
        key = (symbol, interval)
        self.stats.series[key].failures += 1
        self.stats.series[key].last_error = self.stats.last_error
        state = self._state[key]
        if state.failed_since_ms is None:
            state.failed_since_ms = self.now_ms()

    # ------------------------------------------------------------------------------------------ helpers

    @staticmethod
    def _gap_end(state: _SeriesState, interval: Interval, newest_closed: int) -> int | None:
        """The last open time of the gap now being caught up, if the series missed candles: those that
        closed before the first failed poll (or the start) and are still not stored."""
        if state.failed_since_ms is None:
            return None
        end = min(_last_closed_open(interval, state.failed_since_ms), newest_closed)
        return end if state.next_open_ms <= end else None

    async def _save(
        self, state: _SeriesState, stats: SeriesStats, klines: Sequence[Kline], now_ms: int
    ) -> None:
        closed = [k for k in klines if k.close_time_ms < now_ms]

        def stored(result: SaveResult) -> None:
            # Runs once the write has succeeded, even if the feed cancelled this call meanwhile.
            stats.candles_stored += result.stored
            stats.count_rejected(result.rejected_by_reason)
            self._record_rejected(result.rejected_by_reason, "kline")
            if closed:
                interval = closed[-1].interval
                state.next_open_ms = max(state.next_open_ms, interval.next_open_ms(closed[-1].open_time_ms))
            if closed and result.stored + result.updated + result.duplicates:
                newest = closed[-1].close_time_ms
                stats.newest_candle_ms = max(stats.newest_candle_ms or newest, newest)
                if self._quality is not None:
                    self._quality.observe_klines(closed)

        await finish_even_if_cancelled(self._store.save_klines(klines, now_ms=now_ms), stored)

    async def _repair(
        self,
        symbol: Symbol,
        interval: Interval,
        state: _SeriesState,
        stats: SeriesStats,
        end_ms: int,
        now_ms: int,
    ) -> None:
        report = await self._backfill.backfill_series(
            symbol, interval, state.next_open_ms, end_ms, now_ms=now_ms
        )
        stats.candles_stored += report.stored
        stats.candles_repaired += report.stored
        stats.count_rejected(report.rejected_by_reason)
        self._record_rejected(report.rejected_by_reason, "kline")
        unresolved = report.unresolved
        if unresolved:  # the next poll starts there, and a full page brings the repair back
            state.next_open_ms = unresolved[0].start_ms
            stats.last_error = unresolved[0].error
        else:
            state.next_open_ms = max(state.next_open_ms, interval.next_open_ms(report.end_ms))
            stats.newest_candle_ms = max(stats.newest_candle_ms or 0, interval.close_time_ms(report.end_ms))

    def _record_rejected(self, counts: Mapping[Reason, int], kind: str) -> None:
        if self._quality is not None and counts:
            self._quality.record_rejected(counts, kind=kind)
