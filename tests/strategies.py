"""Hypothesis strategies that build valid domain objects from the attrs classes.

Every strategy here produces data that passes the domain validators; tests corrupt one field at a time to
check that each corruption is reported with the right reason.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import strategies as st

from domain import (
    AccountInfo,
    Balance,
    BookTicker,
    CommissionRates,
    ExchangeInfo,
    Interval,
    Kline,
    LotSize,
    NotionalFilter,
    PriceFilter,
    PriceQuote,
    RateLimit,
    ServerTime,
    Symbol,
    SymbolRules,
    Ticker24h,
)

__all__ = [
    "NOW_MS",
    "account_infos",
    "balances",
    "book_tickers",
    "commission_rates",
    "exact_decimals",
    "exchange_infos",
    "intervals",
    "kline_series",
    "klines",
    "lot_sizes",
    "notional_filters",
    "price_filters",
    "price_quotes",
    "prices",
    "quantities",
    "rate_limits",
    "server_times",
    "symbol_rules",
    "symbols",
    "tickers_24h",
]

#: A fixed "now" (2026-01-01T00:00:00Z) so that generated data is reproducible and never in the future.
NOW_MS = 1_767_225_600_000

_ASCII_SYMBOL = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=20)
_UNICODE_SYMBOL = st.text(alphabet="这是测试币币安ÄÖÜ0123456789ABC", min_size=1, max_size=20)

symbols = st.one_of(_ASCII_SYMBOL, _UNICODE_SYMBOL).map(Symbol)
intervals = st.sampled_from(list(Interval))

#: Positive prices with up to 8 decimals, as Binance sends them.
prices = st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal("10000000"), places=8)
#: Non-negative quantities with up to 8 decimals.
quantities = st.decimals(min_value=Decimal(0), max_value=Decimal("100000000"), places=8)

_times = st.integers(min_value=1_483_228_800_000, max_value=NOW_MS)

server_times = _times.map(ServerTime)


@st.composite
def price_quotes(draw: st.DrawFn, now_ms: int = NOW_MS) -> PriceQuote:
    return PriceQuote(draw(symbols), draw(prices), draw(st.integers(now_ms - 60_000, now_ms)))


@st.composite
def book_tickers(draw: st.DrawFn, now_ms: int = NOW_MS) -> BookTicker:
    bid = draw(prices)
    ask = bid + draw(st.decimals(min_value=Decimal(0), max_value=Decimal(100), places=8))
    return BookTicker(
        symbol=draw(symbols),
        bid_price=bid,
        bid_qty=draw(quantities),
        ask_price=ask,
        ask_qty=draw(quantities),
        as_of_ms=draw(st.integers(now_ms - 60_000, now_ms)),
        update_id=draw(st.none() | st.integers(0, 2**62)),
    )


def _ohlc(draw: st.DrawFn) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    values = sorted(draw(st.lists(prices, min_size=4, max_size=4)))
    low, high = values[0], values[3]
    open_, close = draw(st.permutations([values[1], values[2]]))
    return open_, high, low, close


@st.composite
def klines(
    draw: st.DrawFn,
    symbol: Symbol | None = None,
    interval: Interval | None = None,
    open_time_ms: int | None = None,
    now_ms: int = NOW_MS,
) -> Kline:
    interval = interval if interval is not None else draw(intervals)
    if open_time_ms is None:
        open_time_ms = interval.open_time_ms(draw(st.integers(1_483_228_800_000, now_ms - 40 * 86_400_000)))
    open_, high, low, close = _ohlc(draw)
    volume = draw(quantities)
    taker = draw(st.decimals(min_value=Decimal(0), max_value=volume, places=8))
    return Kline(
        symbol=symbol if symbol is not None else draw(symbols),
        interval=interval,
        open_time_ms=open_time_ms,
        open=open_,
        high=high,
        low=low,
        close=close,
        volume=volume,
        close_time_ms=interval.close_time_ms(open_time_ms),
        quote_volume=draw(quantities),
        trade_count=draw(st.integers(0, 10**7)),
        taker_buy_base_volume=taker,
        taker_buy_quote_volume=draw(quantities),
    )


@st.composite
def kline_series(draw: st.DrawFn, min_size: int = 0, max_size: int = 50) -> tuple[Interval, list[Kline]]:
    """A gap-free, sorted series of one symbol and interval."""
    interval = draw(intervals)
    symbol = draw(symbols)
    size = draw(st.integers(min_size, max_size))
    cursor = interval.open_time_ms(draw(st.integers(1_483_228_800_000, NOW_MS - 60 * 86_400_000)))
    series = []
    for _ in range(size):
        series.append(draw(klines(symbol=symbol, interval=interval, open_time_ms=cursor)))
        cursor = interval.next_open_ms(cursor)
    return interval, series


@st.composite
def tickers_24h(draw: st.DrawFn, now_ms: int = NOW_MS) -> Ticker24h:
    open_, high, low, last = _ohlc(draw)
    close_time = draw(st.integers(now_ms - 60_000, now_ms))
    first_id = draw(st.integers(0, 2**40))
    return Ticker24h(
        symbol=draw(symbols),
        price_change=last - open_,
        price_change_percent=((last - open_) / open_ * 100).quantize(Decimal("0.001")),
        weighted_avg_price=draw(prices),
        prev_close_price=draw(prices),
        last_price=last,
        last_qty=draw(quantities),
        bid_price=draw(prices),
        bid_qty=draw(quantities),
        ask_price=draw(prices),
        ask_qty=draw(quantities),
        open_price=open_,
        high_price=high,
        low_price=low,
        volume=draw(quantities),
        quote_volume=draw(quantities),
        open_time_ms=close_time - 86_400_000,
        close_time_ms=close_time,
        first_trade_id=first_id,
        last_trade_id=first_id + draw(st.integers(0, 10**6)),
        trade_count=draw(st.integers(0, 10**6)),
    )


balances = st.builds(
    Balance,
    asset=st.sampled_from(["BTC", "USDT", "ETH", "BNB", "测试币"]),
    free=quantities,
    locked=quantities,
)

_rates = st.decimals(min_value=Decimal(0), max_value=Decimal("0.01"), places=8)


@st.composite
def account_infos(draw: st.DrawFn) -> AccountInfo:
    return AccountInfo(
        account_type=draw(st.sampled_from(["SPOT", "UNKNOWN", "MARGIN"])),
        can_trade=draw(st.booleans()),
        can_withdraw=draw(st.booleans()),
        can_deposit=draw(st.booleans()),
        permissions=tuple(draw(st.lists(st.sampled_from(["SPOT", "MARGIN", "TRD_GRP_004"]), unique=True))),
        commission_rates=CommissionRates(draw(_rates), draw(_rates), draw(_rates), draw(_rates)),
        update_time_ms=draw(_times),
        balances=tuple(draw(st.lists(balances, max_size=8, unique_by=lambda b: b.asset))),
        uid=draw(st.none() | st.integers(1, 2**40)),
    )


_steps = st.sampled_from([Decimal("0.00000001"), Decimal("0.00001"), Decimal("0.01"), Decimal(1)])


@st.composite
def symbol_rules(draw: st.DrawFn, symbol: Symbol | None = None) -> SymbolRules:
    tick, step = draw(_steps), draw(_steps)
    return SymbolRules(
        symbol=symbol if symbol is not None else draw(symbols),
        status=draw(
            st.sampled_from(["TRADING", "HALT", "BREAK", "END_OF_DAY", "CANCEL_ONLY", "SOMETHING_NEW"])
        ),
        base_asset=draw(st.sampled_from(["BTC", "ETH", "测试"])),
        quote_asset=draw(st.sampled_from(["USDT", "BTC"])),
        base_asset_precision=8,
        quote_asset_precision=8,
        order_types=("LIMIT", "MARKET"),
        permission_sets=(("SPOT",),),
        is_spot_trading_allowed=draw(st.booleans()),
        price_filter=PriceFilter(tick, Decimal(1_000_000), tick),
        lot_size=LotSize(step, Decimal(9000), step),
        market_lot_size=draw(st.none() | st.just(LotSize(Decimal(0), Decimal(100), step))),
        notional=draw(st.none() | st.just(NotionalFilter(Decimal(5), Decimal(9_000_000), True, False, 5))),
        other_filter_types=tuple(
            draw(st.lists(st.sampled_from(["ICEBERG_PARTS", "NEW_FILTER"]), unique=True))
        ),
    )


@st.composite
def exchange_infos(draw: st.DrawFn) -> ExchangeInfo:
    listed = draw(st.lists(symbols, min_size=1, max_size=6, unique=True))
    return ExchangeInfo(
        timezone="UTC",
        server_time_ms=draw(_times),
        rate_limits=(
            RateLimit("REQUEST_WEIGHT", "MINUTE", 1, draw(st.integers(1, 10_000))),
            RateLimit("RAW_REQUESTS", "MINUTE", 5, 300_000),
        ),
        symbols=tuple(draw(symbol_rules(symbol=s)) for s in listed),
    )


#: Any finite decimal, in any notation Decimal keeps: ``-0``, ``1E+3``, ``0E-8``, 28 significant digits.
exact_decimals = st.decimals(allow_nan=False, allow_infinity=False)

commission_rates = st.builds(CommissionRates, _rates, _rates, _rates, _rates)

rate_limits = st.builds(
    RateLimit,
    rate_limit_type=st.sampled_from(["REQUEST_WEIGHT", "ORDERS", "RAW_REQUESTS", "CONNECTIONS", "NEW_KIND"]),
    interval=st.sampled_from(["SECOND", "MINUTE", "HOUR", "DAY"]),
    interval_num=st.integers(1, 100),
    limit=st.integers(1, 10**6),
)

price_filters = st.builds(PriceFilter, prices, prices, _steps)
lot_sizes = st.builds(LotSize, quantities, quantities, _steps | st.just(Decimal(0)))
notional_filters = st.builds(
    NotionalFilter,
    min_notional=quantities,
    max_notional=st.none() | quantities,
    apply_min_to_market=st.booleans(),
    apply_max_to_market=st.booleans(),
    avg_price_mins=st.none() | st.integers(0, 60),
)
