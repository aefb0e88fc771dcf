"""Backfill: fetch the candles a store is missing for a range, concurrently, and report what is left.

The plan comes from the store (``missing_ranges``), so resuming is the default: a re-run after a crash or
Ctrl-C fetches only what is missing, and since saving is an idempotent upsert, nothing is ever stored twice.
Each missing range is cut into windows of one page (1000 candles); a bounded pool of workers fetches them
through the ``MarketDataPort`` (whose adapter keeps every request within the weight budget) and stores each
page as it arrives, in its own transaction, so memory stays flat however long the range. Only closed
candles are planned: the range ends before the candle that is open at the exchange's time.

A window that fails after the adapter's retries is tried once more after the others (``extra_passes``);
what still fails is reported, and the run goes on with the other windows. A ban or refused credentials stop
the whole run, an unknown symbol or interval its series; a storage failure is raised. The run ends with a
``BackfillReport``: see ``application.backfill_report`` for the kinds of gaps it lists.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

import attrs
from opentelemetry import trace

from application._cancel import finish_even_if_cancelled
from application._concurrency import task_group
from application._time_range import Moment, to_ms
from application._windows import Cause, Window, classify, holes, split_windows
from application.backfill_report import (
    DATA_INVALID_EXIT,
    BackfillProgress,
    BackfillReport,
    GapKind,
    SeriesReport,
)
from application.clock_sync import measure_clock_offset
from domain import (
    AccessDeniedError,
    AuthenticationError,
    ConfigurationError,
    DataKind,
    GatewayError,
    Interval,
    InvalidInputError,
    InvalidRequestError,
    IPBannedError,
    Kline,
    StorageError,
    Symbol,
    ms_to_datetime,
    parse_symbols,
)
from domain.validators import MissingRange, Reason
from ports import MAX_KLINE_LIMIT, Clock, MarketDataPort, MarketDataStore

__all__ = ["DEFAULT_CONCURRENCY", "BackfillService", "ProgressCallback"]

#: Requests in flight at once; the adapter's weight limiter still decides when each may be sent.
DEFAULT_CONCURRENCY = 8

ProgressCallback = Callable[[BackfillProgress], None]

# Errors after which no request of the run can succeed, and those that doom only one series.
_FATAL = (IPBannedError, AuthenticationError, AccessDeniedError, ConfigurationError)
_SERIES_FATAL = (InvalidRequestError,)


@attrs.define
class _Series:
    """The running state of one symbol and interval."""

    symbol: Symbol
    interval: Interval
    start_ms: int
    end_ms: int
    expected: int
    missing: list[MissingRange]
    planned: int
    requests: int = 0
    fetched: int = 0
    stored: int = 0
    updated: int = 0
    done: int = 0
    #: Candles of the plan the store now holds, by the save results (new, changed or already there).
    accounted: int = 0
    rejected: dict[Reason, int] = attrs.field(factory=dict)
    causes: list[Cause] = attrs.field(factory=list)
    aborted: GatewayError | None = None

    def progress(self, *, finished: bool = False, report: SeriesReport | None = None) -> BackfillProgress:
        gaps = report.gaps if report is not None else ()
        return BackfillProgress(
            self.symbol, self.interval, self.planned, self.done, self.stored, finished=finished, gaps=gaps
        )


def _failure(start_ms: int, end_ms: int, error: GatewayError) -> Cause:
    return Cause(start_ms, end_ms, GapKind.FAILED, str(error), type(error).__name__, error.exit_code)


def _iso(ms: int) -> str:
    return ms_to_datetime(ms).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class BackfillService:
    """Fills the store with the closed candles of a range; see the module docstring for the guarantees.

    Raises ``InvalidInputError`` for an impossible range, what ``get_exchange_info`` raises for an unknown
    symbol (before any candle is fetched), and the store's ``StorageError``. Every other failure of the
    exchange ends up in the report. Spans: ``BackfillService.run`` and ``BackfillService.window``.
    """

    def __init__(
        self,
        market: MarketDataPort,
        store: MarketDataStore,
        clock: Clock,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        extra_passes: int = 1,
        page_size: int = MAX_KLINE_LIMIT,
        tracer_provider: trace.TracerProvider | None = None,
    ) -> None:
        if concurrency < 1 or extra_passes < 0 or not 1 <= page_size <= MAX_KLINE_LIMIT:
            msg = f"bad backfill settings: concurrency {concurrency}, passes {extra_passes}, page {page_size}"
            raise ValueError(msg)
        self._market = market
        self._store = store
        self._clock = clock
        self._concurrency = concurrency
        self._extra_passes = extra_passes
        self._page = page_size
        self._tracer = trace.get_tracer(__name__, tracer_provider=tracer_provider)
        self._offset_ms = 0
        self._fatal: GatewayError | None = None

    # ------------------------------------------------------------------------------------------ entry points

    async def run(
        self,
        symbols: Iterable[str | Symbol],
        intervals: Iterable[str | Interval],
        since: Moment,
        until: Moment | None = None,
        *,
        on_progress: ProgressCallback | None = None,
    ) -> BackfillReport:
        """Backfill every symbol and interval for candles opening from ``since`` up to (not including)
        ``until`` (default: now), as datetimes (naive means UTC) or epoch milliseconds."""
        wanted = parse_symbols(symbols)
        ivls = tuple(dict.fromkeys(Interval.parse(i) for i in intervals))
        if not wanted or not ivls:
            msg = "give at least one symbol and one interval"
            raise InvalidInputError(msg)
        since_ms = to_ms(since, "since")
        until_ms = None if until is None else to_ms(until, "until")
        with self._tracer.start_as_current_span("BackfillService.run") as span:
            span.set_attributes(
                {
                    "symbols.count": len(wanted),
                    "kline.intervals": [i.value for i in ivls],
                    "since_ms": since_ms,
                }
            )
            # Unknown symbols fail here, before any candle; the adapter also learns the weight limits.
            await self._market.get_exchange_info(wanted)
            now_ms = await self._sync_clock()
            started_ms = now_ms
            _check_range(since_ms, until_ms, now_ms)
            last_ms = now_ms if until_ms is None else min(until_ms - 1, now_ms)
            series = [await self._plan(s, i, since_ms, last_ms, now_ms) for s in wanted for i in ivls]
            reports = await self._execute(series, on_progress)
            report = BackfillReport(tuple(reports), started_ms, self._now_ms())
            span.set_attributes({"kline.stored": report.stored, "backfill.complete": report.complete})
            return report

    async def backfill_series(
        self,
        symbol: Symbol,
        interval: Interval,
        start_ms: int,
        end_ms: int,
        *,
        now_ms: int | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> SeriesReport:
        """One series, candles opening in ``[start_ms, end_ms]`` (clamped to the closed ones): the repair
        path of continuous collection. ``now_ms`` is the exchange's time when the caller knows it."""
        if now_ms is None:
            now_ms = await self._sync_clock()
        else:
            self._offset_ms = now_ms - self._clock.now_ms()
        with self._tracer.start_as_current_span("BackfillService.run") as span:
            span.set_attributes({"symbol": str(symbol), "kline.intervals": [interval.value]})
            series = await self._plan(symbol, interval, start_ms, end_ms, now_ms)
            (report,) = await self._execute([series], on_progress)
            return report

    # ------------------------------------------------------------------------------------------ planning

    async def _sync_clock(self) -> int:
        offset = await measure_clock_offset(self._market, self._clock)
        self._offset_ms = round(offset.offset_ms)
        return self._now_ms()

    def _now_ms(self) -> int:
        """The exchange's time, from the local clock and the offset measured at the start."""
        return self._clock.now_ms() + self._offset_ms

    async def _plan(
        self, symbol: Symbol, interval: Interval, start_ms: int, end_ms: int, now_ms: int
    ) -> _Series:
        # The candle open at ``now_ms`` is not final: the range ends with the one before it.
        last = interval.open_time_ms(min(end_ms, interval.open_time_ms(now_ms) - 1))
        first = interval.open_time_ms(start_ms)
        if first < start_ms:
            first = interval.next_open_ms(first)
        expected = interval.count_between(first, last)
        missing = await self._store.missing_ranges(symbol, interval, first, last) if expected else []
        planned = sum(gap.count for gap in missing)
        return _Series(symbol, interval, first, last, expected, missing, planned)

    # ------------------------------------------------------------------------------------------ fetching

    async def _execute(
        self, series: Sequence[_Series], on_progress: ProgressCallback | None
    ) -> list[SeriesReport]:
        notify = on_progress or (lambda _event: None)
        self._fatal = None
        for item in series:
            notify(item.progress())
        work: Iterator[tuple[_Series, Window]] = itertools.chain.from_iterable(
            ((item, window) for window in split_windows(item.interval, item.missing, self._page))
            for item in series
        )
        for attempt in range(self._extra_passes + 1):
            final = attempt == self._extra_passes
            retry: list[tuple[_Series, Window]] = []
            await self._drain(work, retry, final=final, notify=notify)
            if not retry:
                break
            work = iter(retry)
        reports = []
        for item in series:
            report = await self._finish(item)
            notify(item.progress(finished=True, report=report))
            reports.append(report)
        return reports

    async def _drain(
        self,
        work: Iterator[tuple[_Series, Window]],
        retry: list[tuple[_Series, Window]],
        *,
        final: bool,
        notify: ProgressCallback,
    ) -> None:
        async def worker() -> None:
            # Every worker takes the next window from the one shared iterator (no await in between).
            for item, window in work:
                if await self._window(item, window, final=final):
                    notify(item.progress())
                else:
                    retry.append((item, window))

        async with task_group() as group:
            for _ in range(self._concurrency):
                group.create_task(worker())

    async def _window(self, item: _Series, window: Window, *, final: bool) -> bool:
        """Fetch and store one window; False when it failed and should be tried again later."""
        stop = self._fatal or item.aborted
        if stop is not None:
            item.causes.append(_failure(window.start_ms, window.end_ms, stop))
            item.done += window.count
            return True
        with self._tracer.start_as_current_span("BackfillService.window") as span:
            span.set_attributes(
                {
                    "symbol": str(item.symbol),
                    "kline.interval": item.interval.value,
                    "kline.start_ms": window.start_ms,
                    "kline.count": window.count,
                }
            )
            item.requests += 1
            try:
                page = await self._market.get_kline_data(
                    item.symbol,
                    item.interval,
                    start_ms=window.start_ms,
                    end_ms=window.end_ms,
                    limit=self._page,
                )
            except StorageError:
                raise
            except GatewayError as error:
                span.set_attribute("error.type", type(error).__name__)
                if isinstance(error, _FATAL):
                    self._fatal = self._fatal or error
                elif isinstance(error, _SERIES_FATAL):
                    item.aborted = item.aborted or error
                elif not final:
                    return False
                item.causes.append(_failure(window.start_ms, window.end_ms, error))
                item.done += window.count
                return True
            stored = await self._store_page(item, window, page)
            span.set_attribute("kline.stored", stored)
        return True

    async def _store_page(self, item: _Series, window: Window, page: Sequence[Kline]) -> int:
        item.fetched += len(page)
        page = await self._inside(item, window, page)
        # Shielded: a page that arrived is stored even when the run is cancelled (Ctrl-C) meanwhile.
        result = await finish_even_if_cancelled(self._store.save_klines(page, now_ms=self._now_ms()))
        item.stored += result.stored
        item.accounted += result.stored + result.updated + result.duplicates
        item.updated += result.updated
        for reason, count in result.rejected_by_reason.items():
            item.rejected[reason] = item.rejected.get(reason, 0) + count
        full = (
            len(page) == window.count
            and result.duplicates == 0
            and page
            and page[0].open_time_ms == window.start_ms
            and page[-1].open_time_ms == window.end_ms
        )
        bad = result.rejected + result.not_closed
        if not full or bad:
            returned = sorted({k.open_time_ms for k in page})
            if bad:
                await self._record_rejected(item, window, returned, result.rejected_by_reason)
            item.causes += [
                Cause(hole.start_ms, hole.end_ms, GapKind.EMPTY)
                for hole in holes(item.interval, window.start_ms, window.end_ms, returned)
            ]
        item.done += window.count
        return result.stored

    async def _inside(self, item: _Series, window: Window, page: Sequence[Kline]) -> Sequence[Kline]:
        """The page less candles of another series or outside the window (counted as rejected)."""
        if not page:
            return page
        first, last = page[0], page[-1]
        if (
            first.open_time_ms >= window.start_ms
            and last.open_time_ms <= window.end_ms
            and first.symbol == item.symbol == last.symbol
            and first.interval is item.interval is last.interval
        ):
            return page
        kept = [
            k
            for k in page
            if window.start_ms <= k.open_time_ms <= window.end_ms
            and k.symbol == item.symbol
            and k.interval is item.interval
        ]
        if len(kept) < len(page):
            count = len(page) - len(kept)
            item.rejected[Reason.WRONG_SERIES] = item.rejected.get(Reason.WRONG_SERIES, 0) + count
            await self._store.record_rejections(
                DataKind.KLINE,
                {Reason.WRONG_SERIES: count},
                now_ms=self._now_ms(),
                symbol=item.symbol,
                interval=item.interval,
                message=f"{count} candles outside the window from {_iso(window.start_ms)} asked for",
            )
        return kept

    async def _record_rejected(
        self, item: _Series, window: Window, returned: list[int], reasons: Mapping[Reason, int]
    ) -> None:
        stored = {
            k.open_time_ms
            for k in await self._store.load_klines(item.symbol, item.interval, window.start_ms, window.end_ms)
        }
        text = ", ".join(f"{reason.value} {count}" for reason, count in reasons.items())
        message = f"the exchange's candles failed validation ({text or 'still open'})"
        run: list[int] = []
        for open_ms in [*[t for t in returned if t not in stored], None]:
            if open_ms is not None and (not run or item.interval.next_open_ms(run[-1]) == open_ms):
                run.append(open_ms)
                continue
            if run:
                item.causes.append(
                    Cause(
                        run[0], run[-1], GapKind.REJECTED, message, "DataValidationError", DATA_INVALID_EXIT
                    )
                )
            run = [open_ms] if open_ms is not None else []

    # ------------------------------------------------------------------------------------------ reporting

    async def _finish(self, item: _Series) -> SeriesReport:
        gaps = []
        # Nothing to ask the store when every window came back whole and was stored (the common case, and
        # the check would scan the whole range); otherwise the store says what is still missing.
        if item.planned and (item.causes or item.accounted != item.planned):
            remaining = await self._store.missing_ranges(
                item.symbol, item.interval, item.start_ms, item.end_ms
            )
            gaps = classify(item.interval, remaining, sorted(item.causes, key=lambda c: c.start_ms))
        return SeriesReport(
            symbol=item.symbol,
            interval=item.interval,
            start_ms=item.start_ms,
            end_ms=item.end_ms,
            expected=item.expected,
            already_stored=item.expected - item.planned,
            planned=item.planned,
            requests=item.requests,
            fetched=item.fetched,
            stored=item.stored,
            updated=item.updated,
            rejected_by_reason=item.rejected,
            gaps=tuple(gaps),
        )


def _check_range(since_ms: int, until_ms: int | None, now_ms: int) -> None:
    if since_ms < 0:
        msg = "the range starts before 1970-01-01; give a later --since"
        raise InvalidInputError(msg)
    if since_ms > now_ms:
        msg = f"since {_iso(since_ms)} is in the future (the exchange's time is {_iso(now_ms)})"
        raise InvalidInputError(msg)
    if until_ms is not None and until_ms <= since_ms:
        msg = f"until {_iso(until_ms)} is not after since {_iso(since_ms)}; give a later --until"
        raise InvalidInputError(msg)
