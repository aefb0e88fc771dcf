"""Market data use cases: current prices, 24h statistics, book tickers and paged, validated history."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, TypeVar

from opentelemetry import trace

from application._time_range import Moment, resolve_range
from application.clock_sync import ClockOffset, measure_clock_offset
from application.frames import klines_to_frame
from application.stored_frames import StoredKlines, StoreSource
from application.validation import KlineRanges, raise_if_invalid, validate_market_data
from domain import (
    Balance,
    BookTicker,
    ConfigurationError,
    ExchangeInfo,
    Interval,
    InvalidInputError,
    Kline,
    KlinePage,
    PriceQuote,
    Symbol,
    Ticker24h,
    parse_symbols,
)
from domain.validators import (
    DEFAULT_POLICY,
    Reason,
    ValidationPolicy,
    ValidationReport,
    Violation,
    check_book_ticker,
    check_kline,
    check_kline_series,
    check_quote,
    check_ticker,
    label_violations,
)
from ports import MAX_KLINE_LIMIT, Clock, MarketDataPort

if TYPE_CHECKING:
    import pandas as pd  # the frames are made by application.frames, which loads pandas on first use

__all__ = ["MarketDataService"]

SymbolsArg = Iterable[str | Symbol]
_Item = TypeVar("_Item", PriceQuote, Ticker24h, BookTicker)


class MarketDataService:
    """Validated market data from a ``MarketDataPort``.

    Every method raises what the port raises (see ``ports.market_data``), ``InvalidInputError`` for
    arguments it refuses before calling the port, and ``DataValidationError`` (listing the violations)
    when the exchange's answer breaks a domain rule. ``clock`` decides "now" for time checks; ``policy``
    holds the tolerances. Spans are named ``MarketDataService.<method>``; ``tracer_provider`` defaults to
    the global one.
    """

    def __init__(
        self,
        market: MarketDataPort,
        clock: Clock,
        policy: ValidationPolicy = DEFAULT_POLICY,
        *,
        tracer_provider: trace.TracerProvider | None = None,
        store: StoreSource | None = None,
    ) -> None:
        self._market = market
        self._clock = clock
        self._policy = policy
        self._stored = StoredKlines(store) if store is not None else None
        self._tracer = trace.get_tracer(__name__, tracer_provider=tracer_provider)

    async def measure_clock_offset(self) -> ClockOffset:
        """Server time and the RTT-compensated offset of the local clock from it."""
        with self._tracer.start_as_current_span("MarketDataService.measure_clock_offset"):
            return await measure_clock_offset(self._market, self._clock)

    async def fetch_exchange_info(self, symbols: SymbolsArg | None = None) -> ExchangeInfo:
        """Rate limits and the trading rules of ``symbols`` (``None``: every listed symbol)."""
        wanted = None if symbols is None else parse_symbols(symbols)
        with self._tracer.start_as_current_span("MarketDataService.fetch_exchange_info"):
            return await self._market.get_exchange_info(wanted)

    async def fetch_quotes(self, symbols: SymbolsArg) -> list[PriceQuote]:
        """The latest price of each symbol, in one port call, in request order."""
        return await self._fetch_checked(
            "fetch_quotes", symbols, self._market.get_symbol_tickers, check_quote, "price", "quote", "prices"
        )

    async def fetch_current_prices(self, symbols: SymbolsArg) -> dict[str, Decimal]:
        """``{"BTCUSDT": Decimal(...), ...}`` for many symbols with one port call."""
        return {str(quote.symbol): quote.price for quote in await self.fetch_quotes(symbols)}

    async def fetch_tickers_24h(self, symbols: SymbolsArg) -> list[Ticker24h]:
        """Rolling 24-hour statistics of each symbol, validated, in request order."""
        return await self._fetch_checked(
            "fetch_tickers_24h",
            symbols,
            self._market.get_tickers_24h,
            check_ticker,
            "24h ticker",
            "ticker24h",
            "24h tickers",
        )

    async def fetch_book_tickers(self, symbols: SymbolsArg) -> list[BookTicker]:
        """Best bid and ask of each symbol, validated, in request order."""
        return await self._fetch_checked(
            "fetch_book_tickers",
            symbols,
            self._market.get_book_tickers,
            check_book_ticker,
            "book ticker",
            "book",
            "book tickers",
        )

    async def _fetch_checked(
        self,
        method: str,
        symbols: SymbolsArg,
        fetch: Callable[[Sequence[Symbol]], Awaitable[list[_Item]]],
        check: Callable[[_Item, int, ValidationPolicy], list[Violation]],
        kind: str,
        label: str,
        plural: str,
    ) -> list[_Item]:
        """One port call for many symbols, answers in request order, every item validated."""
        wanted = _non_empty(symbols)
        with self._tracer.start_as_current_span(f"MarketDataService.{method}") as span:
            span.set_attribute("symbols.count", len(wanted))
            items = _in_request_order(wanted, await fetch(wanted), kind)
            now_ms = self._clock.now_ms()
            problems = [
                problem
                for item in items
                for problem in label_violations(f"{item.symbol} {label}", check(item, now_ms, self._policy))
            ]
            raise_if_invalid(plural, problems)
            return items

    async def fetch_recent_klines(
        self, symbol: str | Symbol, interval: str | Interval, count: int
    ) -> Sequence[Kline]:
        """The newest ``count`` candles (1 to ``MAX_KLINE_LIMIT``); the last one is usually still open."""
        sym, ivl = _symbol(symbol), Interval.parse(interval)
        if not 1 <= count <= MAX_KLINE_LIMIT:
            msg = f"the number of candles must be 1 to {MAX_KLINE_LIMIT}, not {count}"
            raise InvalidInputError(msg)
        with self._tracer.start_as_current_span("MarketDataService.fetch_recent_klines"):
            klines = await self._market.get_kline_data(sym, ivl, limit=count)
            raise_if_invalid(f"{sym} {ivl.value} klines", self._kline_problems(klines, sym, ivl, None, None))
            return klines

    async def iter_kline_pages(
        self, symbol: Symbol, interval: Interval, start_ms: int, end_ms: int
    ) -> AsyncIterator[Sequence[Kline]]:
        """Candles opening in ``[start_ms, end_ms]``, ``MAX_KLINE_LIMIT`` per port call, oldest first.

        Each page is validated before it is yielded (``DataValidationError`` otherwise), and the next page
        starts just after the last candle of the previous one, so pages never overlap. Paging stops at
        ``end_ms``, on an empty page, or on a short page (the exchange has nothing more in the range).
        """
        cursor = start_ms
        while cursor <= end_ms:
            with self._tracer.start_as_current_span("MarketDataService.iter_kline_pages") as span:
                span.set_attribute("kline.start_ms", cursor)
                page = await self._market.get_kline_data(
                    symbol, interval, start_ms=cursor, end_ms=end_ms, limit=MAX_KLINE_LIMIT
                )
                span.set_attribute("kline.count", len(page))
            if not page:
                return
            problems = self._kline_problems(page, symbol, interval, cursor, end_ms)
            raise_if_invalid(f"{symbol} {interval.value} klines from {cursor}", problems)
            yield page
            if len(page) < MAX_KLINE_LIMIT:
                return
            cursor = interval.next_open_ms(page[-1].open_time_ms)

    async def fetch_historical_klines(
        self,
        symbol: str | Symbol,
        interval: str | Interval,
        start: Moment | None = None,
        end: Moment | None = None,
        *,
        days: float | None = None,
        include_open: bool = False,
    ) -> list[Kline]:
        """The candles of a range as a list; see ``fetch_historical_data`` for the arguments."""
        sym, ivl = _symbol(symbol), Interval.parse(interval)
        now_ms = self._clock.now_ms()
        span_range = resolve_range(start, end, days, now_ms=now_ms)
        with self._tracer.start_as_current_span("MarketDataService.fetch_historical_klines") as span:
            span.set_attributes({"symbol": str(sym), "kline.interval": ivl.value})
            klines: list[Kline] = []
            async for page in self.iter_kline_pages(sym, ivl, span_range.start_ms, span_range.end_ms):
                klines += page
            if not include_open:
                klines = [k for k in klines if k.is_closed(now_ms)]
            span.set_attribute("kline.count", len(klines))
            return klines

    async def fetch_historical_data(
        self,
        symbol: str | Symbol,
        interval: str | Interval,
        start: Moment | None = None,
        end: Moment | None = None,
        *,
        days: float | None = None,
        include_open: bool = False,
        as_float: bool = False,
    ) -> pd.DataFrame:
        """Candles of ``symbol`` as a DataFrame (columns and dtypes: ``application.frames``).

        Give ``start`` (and optionally ``end``, default now) as datetimes (naive means UTC) or epoch
        milliseconds, or ``days`` back from now; anything else, or an impossible range, raises
        ``InvalidInputError``. The still-open newest candle is left out unless ``include_open``.
        """
        sym, ivl = _symbol(symbol), Interval.parse(interval)
        klines = await self.fetch_historical_klines(
            sym, ivl, start, end, days=days, include_open=include_open
        )
        return klines_to_frame(klines, sym, ivl, as_float=as_float)

    async def load_klines_frame(
        self,
        symbol: str | Symbol,
        interval: str | Interval,
        start: Moment | None = None,
        end: Moment | None = None,
        *,
        as_float: bool = False,
    ) -> pd.DataFrame:
        """Stored candles of ``symbol`` opening from ``start`` to ``end`` (inclusive, open ends when
        ``None``) as a DataFrame like ``fetch_historical_data``'s, read from the store in chunks; nothing is
        fetched from the exchange. Raises ``ConfigurationError`` when the service was built without a store.
        """
        if self._stored is None:
            msg = "this MarketDataService has no store; build it with store=... (the container does)"
            raise ConfigurationError(msg)
        sym, ivl = _symbol(symbol), Interval.parse(interval)
        with self._tracer.start_as_current_span("MarketDataService.load_klines_frame") as span:
            span.set_attributes({"symbol": str(sym), "kline.interval": ivl.value})
            frame = await self._stored.frame(sym, ivl, start, end, as_float=as_float)
            span.set_attribute("kline.count", len(frame))
            return frame

    def validate_market_data(
        self,
        *,
        quotes: Iterable[PriceQuote] = (),
        tickers: Iterable[Ticker24h] = (),
        book_tickers: Iterable[BookTicker] = (),
        klines: Iterable[Kline] = (),
        balances: Iterable[Balance] = (),
        exchange_info: ExchangeInfo | None = None,
        kline_ranges: KlineRanges | None = None,
    ) -> ValidationReport:
        """Every violation in the given data (see ``application.validation.validate_market_data``)."""
        return validate_market_data(
            now_ms=self._clock.now_ms(),
            policy=self._policy,
            quotes=quotes,
            tickers=tickers,
            book_tickers=book_tickers,
            klines=klines,
            balances=balances,
            exchange_info=exchange_info,
            kline_ranges=kline_ranges,
        )

    def _kline_problems(
        self,
        klines: Sequence[Kline],
        symbol: Symbol,
        interval: Interval,
        start_ms: int | None,
        end_ms: int | None,
    ) -> list[tuple[str, Violation]]:
        now_ms = self._clock.now_ms()
        # A page proved valid as it was built needs only the range and the future bound, at its ends; any
        # doubt and it is checked in full below, which says exactly what is wrong.
        if (
            isinstance(klines, KlinePage)
            and klines.is_series(symbol, interval)
            and klines.open_times_within(start_ms, end_ms)
            and klines.open_times_within(None, now_ms + self._policy.max_future_ms)
        ):
            return []
        problems: list[tuple[str, Violation]] = []
        for kline in klines:
            label = f"{symbol} {interval.value} kline {kline.open_time_ms}"
            problems += label_violations(label, check_kline(kline, now_ms, self._policy))
            outside = (start_ms is not None and kline.open_time_ms < start_ms) or (
                end_ms is not None and kline.open_time_ms > end_ms
            )
            if outside:
                problems.append(
                    (label, Violation("open_time", Reason.WRONG_SERIES, "opens outside the requested range"))
                )
        series = check_kline_series(klines, interval, symbol=symbol)
        problems += label_violations(f"{symbol} {interval.value} series", series.violations)
        return problems


def _symbol(value: str | Symbol) -> Symbol:
    return value if isinstance(value, Symbol) else Symbol(value)


def _non_empty(symbols: SymbolsArg) -> tuple[Symbol, ...]:
    wanted = parse_symbols(symbols)
    if not wanted:
        msg = "give at least one symbol"
        raise InvalidInputError(msg)
    return wanted


def _in_request_order(wanted: Sequence[Symbol], items: Sequence[_Item], what: str) -> list[_Item]:
    """The items for ``wanted`` in that order; a symbol the exchange left out is a validation failure."""
    by_symbol = {item.symbol: item for item in items}
    missing = [symbol for symbol in wanted if symbol not in by_symbol]
    problems = [
        (f"{symbol} {what}", Violation("symbol", Reason.UNKNOWN_SYMBOL, "missing from the answer"))
        for symbol in missing
    ]
    raise_if_invalid(f"{what}s", problems)
    return [by_symbol[symbol] for symbol in wanted]
