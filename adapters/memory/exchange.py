"""``FakeExchange``: an in-memory exchange implementing ``MarketDataPort`` and ``AccountPort`` with no I/O.

Behaviour follows Binance where a client can tell the difference:

- Kline windows use Binance's ``startTime``/``endTime``/``limit`` rules; the newest candle is still open.
- A symbol exists from its listing time on; before it, and for names the catalogue lacks, calls raise
  ``InvalidSymbolError`` (-1121) and exchange info leaves it out.
- A symbol in ``BREAK`` (planned downtime) has no market data: asking for it by name raises
  ``InvalidSymbolError`` and "all symbols" requests leave it out, while exchange info still lists it.
  A ``HALT`` symbol keeps its market data, frozen at the halt (no trades, flat candles).
- A repeated symbol raises ``InvalidRequestError`` (-1151); an empty list of symbols returns an empty list.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence

from adapters.memory import quotes
from adapters.memory._window import kline_open_times
from adapters.memory.account import DEFAULT_BALANCES, fake_account
from adapters.memory.catalog import RATE_LIMITS, SymbolSpec, default_catalog
from adapters.memory.failures import FailureScript, Sleep
from adapters.memory.market import SymbolMarket
from domain import (
    AccountInfo,
    Balance,
    BookTicker,
    ConfigurationError,
    ExchangeInfo,
    Interval,
    InvalidInputError,
    InvalidRequestError,
    InvalidSymbolError,
    Kline,
    PriceQuote,
    ServerTime,
    Symbol,
    SymbolRules,
    Ticker24h,
)
from ports import MAX_KLINE_LIMIT, AccountPort, Clock, MarketDataPort

__all__ = ["ENDPOINTS", "FakeExchange"]

#: The Binance endpoint each port method stands for; the fake names it in the errors it raises.
ENDPOINTS: dict[str, str] = {
    "get_server_time": "/api/v3/time",
    "get_exchange_info": "/api/v3/exchangeInfo",
    "get_symbol_ticker": "/api/v3/ticker/price",
    "get_symbol_tickers": "/api/v3/ticker/price",
    "get_ticker_24h": "/api/v3/ticker/24hr",
    "get_tickers_24h": "/api/v3/ticker/24hr",
    "get_book_ticker": "/api/v3/ticker/bookTicker",
    "get_book_tickers": "/api/v3/ticker/bookTicker",
    "get_kline_data": "/api/v3/klines",
    "get_account_info": "/api/v3/account",
}


class FakeExchange(MarketDataPort, AccountPort):
    """A deterministic exchange: the same ``seed`` and clock readings give the same answers.

    ``latency_s`` delays every call (awaited with ``sleep``); ``has_credentials=False`` makes
    ``get_account_info`` raise ``ConfigurationError`` as an adapter without keys would. Tests script
    failures through ``script`` and read how often each method was called in ``calls``.
    """

    def __init__(
        self,
        clock: Clock,
        seed: int = 7,
        *,
        latency_s: float = 0.0,
        has_credentials: bool = True,
        catalog: Sequence[SymbolSpec] | None = None,
        balances: Sequence[Balance] = DEFAULT_BALANCES,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._clock = clock
        self.seed = seed
        self._has_credentials = has_credentials
        self._specs = {spec.symbol: spec for spec in (default_catalog() if catalog is None else catalog)}
        self._balances = tuple(balances)
        self._markets: dict[Symbol, SymbolMarket] = {}
        self._rules: dict[Symbol, SymbolRules] = {}
        #: Calls per method name, failed ones included (e.g. ``calls["get_symbol_tickers"]``).
        self.calls: Counter[str] = Counter()
        self.script = FailureScript(clock, sleep, ENDPOINTS, base_latency_s=latency_s)

    def __repr__(self) -> str:
        return f"FakeExchange(seed={self.seed}, symbols={len(self._specs)})"

    @property
    def has_credentials(self) -> bool:
        return self._has_credentials

    async def aclose(self) -> None:
        """Nothing to release; present so the composition root can close every adapter alike."""

    # ------------------------------------------------------------------------------------------ market data

    async def get_server_time(self) -> ServerTime:
        return ServerTime(await self._enter("get_server_time"))

    async def get_exchange_info(self, symbols: Sequence[Symbol] | None = None) -> ExchangeInfo:
        now = await self._enter("get_exchange_info")
        if symbols is None:
            specs = [spec for spec in self._specs.values() if spec.listed_ms <= now]
        else:
            specs = self._resolve("get_exchange_info", symbols, now, market_data=False)
        return ExchangeInfo("UTC", now, RATE_LIMITS, tuple(self._rules_of(spec) for spec in specs))

    async def get_symbol_ticker(self, symbol: Symbol) -> PriceQuote:
        now = await self._enter("get_symbol_ticker")
        return quotes.price_quote(self._market("get_symbol_ticker", symbol, now), now)

    async def get_symbol_tickers(self, symbols: Sequence[Symbol] | None = None) -> list[PriceQuote]:
        now = await self._enter("get_symbol_tickers")
        return [quotes.price_quote(m, now) for m in self._markets_for("get_symbol_tickers", symbols, now)]

    async def get_ticker_24h(self, symbol: Symbol) -> Ticker24h:
        now = await self._enter("get_ticker_24h")
        return quotes.ticker_24h(self._market("get_ticker_24h", symbol, now), now)

    async def get_tickers_24h(self, symbols: Sequence[Symbol] | None = None) -> list[Ticker24h]:
        now = await self._enter("get_tickers_24h")
        return [quotes.ticker_24h(m, now) for m in self._markets_for("get_tickers_24h", symbols, now)]

    async def get_book_ticker(self, symbol: Symbol) -> BookTicker:
        now = await self._enter("get_book_ticker")
        return quotes.book_ticker(self._market("get_book_ticker", symbol, now), now)

    async def get_book_tickers(self, symbols: Sequence[Symbol] | None = None) -> list[BookTicker]:
        now = await self._enter("get_book_tickers")
        return [quotes.book_ticker(m, now) for m in self._markets_for("get_book_tickers", symbols, now)]

    async def get_kline_data(
        self,
        symbol: Symbol,
        interval: Interval,
        start_ms: int | None = None,
        end_ms: int | None = None,
        limit: int = 500,
    ) -> list[Kline]:
        now = await self._enter("get_kline_data")
        if isinstance(limit, bool) or not 1 <= limit <= MAX_KLINE_LIMIT:
            msg = f"limit must be between 1 and {MAX_KLINE_LIMIT}, not {limit!r}"
            raise InvalidInputError(msg)
        if start_ms is not None and end_ms is not None and start_ms > end_ms:
            msg = f"start time {start_ms} is after end time {end_ms}"
            raise InvalidInputError(msg)
        market = self._market("get_kline_data", symbol, now)
        first_open = interval.open_time_ms(market.spec.listed_ms)
        opens = kline_open_times(interval, first_open, interval.open_time_ms(now), start_ms, end_ms, limit)
        return quotes.klines(market, interval, opens, now)

    # ------------------------------------------------------------------------------------------ account

    async def get_account_info(self, *, omit_zero_balances: bool = False) -> AccountInfo:
        now = await self._enter("get_account_info", needs_credentials=True)
        return fake_account(now, omit_zero_balances=omit_zero_balances, balances=self._balances)

    # ------------------------------------------------------------------------------------------ internals

    async def _enter(self, method: str, *, needs_credentials: bool = False) -> int:
        """Count the call, apply the failure script, and return the time the exchange answers at."""
        self.calls[method] += 1
        if needs_credentials and not self._has_credentials:
            # Like an adapter without keys: refused before anything is sent, so no failure script applies.
            msg = "account information needs API credentials and none are configured"
            raise ConfigurationError(msg)
        await self.script.before_call(method, ENDPOINTS[method])
        return self._clock.now_ms()

    def _spec(self, method: str, symbol: Symbol, now_ms: int, *, market_data: bool) -> SymbolSpec:
        spec = self._specs.get(symbol)
        if spec is None or spec.listed_ms > now_ms or (market_data and not spec.has_market_data):
            msg = f"Invalid symbol {symbol}: the exchange does not list it"
            if spec is not None and spec.listed_ms <= now_ms:
                msg = f"Invalid symbol {symbol}: status {spec.status}, no market data"
            raise InvalidSymbolError(msg, code=-1121, http_status=400, endpoint=ENDPOINTS[method])
        return spec

    def _resolve(
        self, method: str, symbols: Sequence[Symbol], now_ms: int, *, market_data: bool
    ) -> list[SymbolSpec]:
        if len(set(symbols)) != len(symbols):
            msg = "Duplicate symbols in the request"
            raise InvalidRequestError(msg, code=-1151, http_status=400, endpoint=ENDPOINTS[method])
        return [self._spec(method, symbol, now_ms, market_data=market_data) for symbol in symbols]

    def _market(self, method: str, symbol: Symbol, now_ms: int) -> SymbolMarket:
        return self._market_of(self._spec(method, symbol, now_ms, market_data=True))

    def _markets_for(self, method: str, symbols: Sequence[Symbol] | None, now_ms: int) -> list[SymbolMarket]:
        if symbols is None:
            specs = [s for s in self._specs.values() if s.listed_ms <= now_ms and s.has_market_data]
        else:
            specs = self._resolve(method, symbols, now_ms, market_data=True)
        return [self._market_of(spec) for spec in specs]

    def _market_of(self, spec: SymbolSpec) -> SymbolMarket:
        market = self._markets.get(spec.symbol)
        if market is None:
            market = self._markets[spec.symbol] = SymbolMarket(spec, self.seed)
        return market

    def _rules_of(self, spec: SymbolSpec) -> SymbolRules:
        rules = self._rules.get(spec.symbol)
        if rules is None:
            rules = self._rules[spec.symbol] = spec.rules()
        return rules
