"""``BinanceRestAdapter``: the market-data, account and exchange-status ports over the Binance Spot REST API.

Multi-symbol calls take the cheapest form by request weight (``weights.plan_symbols``): one ``symbols=[..]``
call for prices and book tickers; for 24-hour statistics, bands of at most 20 symbols (2 weight each) where
that beats the 40/80 tiers; the no-parameter "all" form only when it weighs strictly less. Results come back
in request order. Every method is a span named after the port method (``MarketDataPort.get_kline_data``).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import httpx
from opentelemetry.util.types import AttributeValue

from adapters.binance import parsing, weights
from adapters.binance._calls import gather_all, kline_limit, kline_range, symbol_count, unique
from adapters.binance.client import BinanceHttpClient
from adapters.binance.clock import ClockSync
from adapters.binance.limiter import WeightLimiter
from adapters.binance.retry import RetryPolicy
from adapters.binance.secrets import install_log_redaction
from adapters.binance.settings import BinanceSettings
from adapters.binance.signing import symbols_param
from adapters.binance.telemetry import BinanceTelemetry, CurrentSpan
from domain import (
    AccountInfo,
    BookTicker,
    ExchangeInfo,
    ExchangeStatus,
    GatewayError,
    Interval,
    InvalidInputError,
    InvalidSymbolError,
    Kline,
    MalformedResponseError,
    PriceQuote,
    ServerTime,
    Symbol,
    Ticker24h,
)
from ports import AccountPort, ExchangeStatusPort, MarketDataPort

__all__ = ["BinanceRestAdapter"]

T = TypeVar("T")

_PRICE = "/api/v3/ticker/price"
_BOOK = "/api/v3/ticker/bookTicker"
_TICKER_24H = "/api/v3/ticker/24hr"
_TICKER_BAND = 20
_PLANS_KEPT = 512  # symbol lists whose plan is kept, per adapter
# A plan: the symbols without repeats, the form, then each request's parameters and weight.
_Plan = tuple[tuple[str, ...], str, tuple[tuple[tuple[tuple[str, str], ...], int], ...]]


class BinanceRestAdapter(MarketDataPort, AccountPort, ExchangeStatusPort):
    """Binance Spot REST. Collaborators left out are built from ``settings``; the container passes its own."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        settings: BinanceSettings,
        *,
        limiter: WeightLimiter | None = None,
        clock: ClockSync | None = None,
        retry: RetryPolicy | None = None,
        telemetry: BinanceTelemetry | None = None,
    ) -> None:
        self._settings = settings
        self._clock = clock or ClockSync(refresh_interval_s=settings.clock_refresh_seconds)
        self._limiter = limiter or WeightLimiter.synced_to(self._clock)
        self._telemetry = telemetry or BinanceTelemetry()
        self._telemetry.observe(self._limiter, self._clock, self._clock.server_now_ms)
        self._client = BinanceHttpClient(
            http,
            settings,
            limiter=self._limiter,
            clock=self._clock,
            retry=retry or RetryPolicy.from_settings(settings.max_retries, settings.retry_max_seconds),
            telemetry=self._telemetry,
        )
        self._plans: dict[tuple[str, tuple[str, ...]], _Plan] = {}
        credentials = settings.credentials
        install_log_redaction(credentials.secrets() if credentials is not None else ())

    # ------------------------------------------------------------------------------------------ helpers

    def _span(self, name: str, **attributes: AttributeValue) -> CurrentSpan:
        """The span of one port method; a ``GatewayError`` leaving it marks it as failed."""
        return CurrentSpan(self._telemetry.tracer, name, attributes=attributes, error_types=(GatewayError,))

    def _now_ms(self) -> int:
        return int(self._clock.server_now_ms())

    def _get(self, path: str, params: Sequence[tuple[str, str]] = (), *, weight: int) -> Awaitable[Any]:
        return self._client.get(path, params, weight=weight)  # no coroutine layer of its own

    def _plan(
        self,
        path: str,
        asked: tuple[str, ...],
        weight_of: Callable[[int | None], int],
        band_sizes: Sequence[int],
    ) -> _Plan:
        """The symbols of ``asked`` without repeats, the cheapest form for them and the requests it takes
        (parameters, weight), kept per path and symbol list: the plan depends on nothing else."""
        cached = self._plans.get((path, asked))
        if cached is not None:
            return cached
        symbols = tuple(unique(asked))
        plan = weights.plan_symbols(symbols, weight_of, band_sizes)
        requests: tuple[tuple[tuple[tuple[str, str], ...], int], ...]
        if plan.form == "single":
            requests = (((("symbol", symbols[0]),), weight_of(1)),)
        elif plan.form == "all":
            requests = (((), plan.weight),)
        else:
            requests = tuple(
                ((("symbols", symbols_param(batch)),), weight_of(len(batch))) for batch in plan.batches
            )
        planned = (symbols, plan.form, requests)
        if len(self._plans) < _PLANS_KEPT:
            self._plans[(path, asked)] = planned
        return planned

    async def _many(
        self,
        path: str,
        symbols: Sequence[Symbol] | None,
        weight_of: Callable[[int | None], int],
        parse_list: Callable[[Any], list[T]],
        parse_one: Callable[[Any], T],
        key: Callable[[T], str],
        band_sizes: Sequence[int] = (),
    ) -> list[T]:
        """``key`` gives an item's symbol text: results are matched by text (hashing a ``Symbol`` costs a
        Python call, a string's hash is kept)."""
        if symbols is None:
            return parse_list(await self._get(path, weight=weight_of(None)))
        if not symbols:
            return []
        asked = tuple([s.value for s in symbols])
        wanted, form, requests = self._plan(path, asked, weight_of, band_sizes)
        get = self._client.get
        if form == "single":
            params, weight = requests[0]
            items = [parse_one(await get(path, params, weight=weight))]
        elif len(requests) == 1:  # one request: no task needed
            params, weight = requests[0]
            items = parse_list(await get(path, params, weight=weight))
        else:
            pages = await gather_all(get(path, params, weight=weight) for params, weight in requests)
            items = [item for page in pages for item in parse_list(page)]
        found = {key(item): item for item in items}
        missing = [s for s in wanted if s not in found]
        if missing and form == "all":
            msg = f"the exchange does not list {missing[0]}"
            raise InvalidSymbolError(msg, code=-1121, endpoint=path)
        if missing:
            raise MalformedResponseError(f"the answer has no entry for {missing[0]}", endpoint=path)
        return [found[s] for s in asked]

    # ------------------------------------------------------------------------------------------ market data

    async def get_server_time(self) -> ServerTime:
        with self._span("MarketDataPort.get_server_time"):
            sent = self._clock.monotonic()
            raw = await self._get("/api/v3/time", weight=weights.TIME)
            received = self._clock.monotonic()
            server_time = parsing.parse_server_time(raw)
            self._clock.offer(
                sent_monotonic_s=sent,
                received_monotonic_s=received,
                server_time_ms=server_time.server_time_ms,
            )
            return server_time

    async def get_exchange_info(self, symbols: Sequence[Symbol] | None = None) -> ExchangeInfo:
        with self._span("MarketDataPort.get_exchange_info", **symbol_count(symbols)):
            params: list[tuple[str, str]] = []
            if symbols is not None:
                wanted = unique(symbols)
                if not wanted:
                    msg = "exchange information was asked for an empty list of symbols"
                    raise InvalidInputError(msg)
                params = (
                    [("symbol", wanted[0].value)]
                    if len(wanted) == 1
                    else [("symbols", symbols_param(s.value for s in wanted))]
                )
            info = parsing.parse_exchange_info(
                await self._get("/api/v3/exchangeInfo", params, weight=weights.EXCHANGE_INFO)
            )
            self._limiter.set_limits(info.rate_limits)
            return info

    async def get_symbol_ticker(self, symbol: Symbol) -> PriceQuote:
        with self._span("MarketDataPort.get_symbol_ticker", **{"binance.symbol": symbol.value}):
            params = (("symbol", symbol.value),)  # a tuple: the client keeps the URL it builds
            raw = await self._get(_PRICE, params, weight=weights.ticker_price_weight(1))
            return parsing.parse_price_quote(raw, self._now_ms())

    async def get_symbol_tickers(self, symbols: Sequence[Symbol] | None = None) -> list[PriceQuote]:
        with self._span("MarketDataPort.get_symbol_tickers", **symbol_count(symbols)):
            return await self._many(
                _PRICE,
                symbols,
                weights.ticker_price_weight,
                lambda raw: parsing.parse_price_quotes(raw, self._now_ms()),
                lambda raw: parsing.parse_price_quote(raw, self._now_ms()),
                lambda quote: quote.symbol.value,
            )

    async def get_ticker_24h(self, symbol: Symbol) -> Ticker24h:
        with self._span("MarketDataPort.get_ticker_24h", **{"binance.symbol": symbol.value}):
            params = (("symbol", symbol.value),)
            raw = await self._get(_TICKER_24H, params, weight=weights.ticker_24hr_weight(1))
            return parsing.parse_ticker_24h(raw)

    async def get_tickers_24h(self, symbols: Sequence[Symbol] | None = None) -> list[Ticker24h]:
        with self._span("MarketDataPort.get_tickers_24h", **symbol_count(symbols)):
            return await self._many(
                _TICKER_24H,
                symbols,
                weights.ticker_24hr_weight,
                parsing.parse_tickers_24h,
                parsing.parse_ticker_24h,
                lambda ticker: ticker.symbol.value,
                band_sizes=(_TICKER_BAND,),
            )

    async def get_book_ticker(self, symbol: Symbol) -> BookTicker:
        with self._span("MarketDataPort.get_book_ticker", **{"binance.symbol": symbol.value}):
            params = (("symbol", symbol.value),)
            raw = await self._get(_BOOK, params, weight=weights.book_ticker_weight(1))
            return parsing.parse_book_ticker(raw, self._now_ms())

    async def get_book_tickers(self, symbols: Sequence[Symbol] | None = None) -> list[BookTicker]:
        with self._span("MarketDataPort.get_book_tickers", **symbol_count(symbols)):
            return await self._many(
                _BOOK,
                symbols,
                weights.book_ticker_weight,
                lambda raw: parsing.parse_book_tickers(raw, self._now_ms()),
                lambda raw: parsing.parse_book_ticker(raw, self._now_ms()),
                lambda book: book.symbol.value,
            )

    async def get_kline_data(
        self,
        symbol: Symbol,
        interval: Interval,
        start_ms: int | None = None,
        end_ms: int | None = None,
        limit: int = 500,
    ) -> Sequence[Kline]:
        attributes: dict[str, AttributeValue] = {
            "binance.symbol": symbol.value,
            "binance.interval": interval.value,
            "binance.limit": limit,
        }
        with self._span("MarketDataPort.get_kline_data", **attributes):
            params = [("symbol", symbol.value), ("interval", interval.value), *kline_range(start_ms, end_ms)]
            params.append(("limit", str(kline_limit(limit))))
            read = functools.partial(parsing.read_klines, symbol=symbol, interval=interval)
            page: Sequence[Kline] = await self._client.get(
                "/api/v3/klines", params, weight=weights.KLINES, read=read
            )
            return page

    # ------------------------------------------------------------------------------------------ account

    @property
    def has_credentials(self) -> bool:
        return self._settings.can_sign

    async def get_account_info(self, *, omit_zero_balances: bool = False) -> AccountInfo:
        with self._span("AccountPort.get_account_info"):
            params = [("omitZeroBalances", "true" if omit_zero_balances else "false")]
            raw = await self._client.get("/api/v3/account", params, weight=weights.ACCOUNT, signed=True)
            return parsing.parse_account_info(raw)

    # ------------------------------------------------------------------------------------------ status

    @property
    def clock_offset_ms(self) -> float | None:
        """Server clock minus local clock (RTT-compensated), or ``None`` before the first time sample."""
        return self._clock.clock_offset_ms

    def exchange_status(self) -> ExchangeStatus:
        requests, errors, window_s = self._client.attempts()
        busiest = self._limiter.busiest()
        return ExchangeStatus(
            window_s=window_s,
            requests=requests,
            errors=errors,
            used_weight=busiest.used if busiest is not None else None,
            weight_limit=busiest.limit if busiest is not None else None,
            banned_until_ms=self._limiter.banned_until_ms,
            clock_offset_ms=self._clock.clock_offset_ms,
        )

    async def aclose(self) -> None:
        """Close the HTTP client (the container's resource shutdown does the same; both are safe)."""
        await self._client.http.aclose()
