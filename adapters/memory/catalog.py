"""The fake exchange's symbol catalogue: realistic assets, filters, listing times and market character.

Figures are plausible, not quotes: a symbol's ``price`` is the level its simulated walk wanders around,
``daily_volatility`` the standard deviation of one day's log return, ``daily_volume`` the average base-asset
volume per day and ``trade_qty`` the average size of one trade.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import attrs

from domain import (
    LotSize,
    NotionalFilter,
    PriceFilter,
    RateLimit,
    Symbol,
    SymbolRules,
    SymbolStatus,
)

__all__ = ["RATE_LIMITS", "SymbolSpec", "default_catalog"]

RATE_LIMITS: tuple[RateLimit, ...] = (
    RateLimit("REQUEST_WEIGHT", "MINUTE", 1, 6000),
    RateLimit("ORDERS", "SECOND", 10, 50),
    RateLimit("ORDERS", "DAY", 1, 160_000),
    RateLimit("RAW_REQUESTS", "MINUTE", 5, 300_000),
)

_ORDER_TYPES = (
    "LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT",
)
# Binance lists these too; the domain keeps only their names.
_OTHER_FILTERS = ("ICEBERG_PARTS", "TRAILING_DELTA", "PERCENT_PRICE_BY_SIDE", "MAX_NUM_ORDERS",
                  "MAX_NUM_ALGO_ORDERS")
_MAX_PRICE_CAP = Decimal(1_000_000)


@attrs.frozen
class SymbolSpec:
    """Everything the fake knows about one symbol: its rules and how its simulated market behaves."""

    symbol: Symbol
    base_asset: str
    quote_asset: str
    listed_ms: int
    price: Decimal
    tick_size: Decimal
    step_size: Decimal
    max_qty: Decimal
    min_notional: Decimal
    daily_volatility: float
    daily_volume: Decimal
    trade_qty: Decimal
    status: str = SymbolStatus.TRADING
    halted_ms: int | None = None
    margin: bool = False

    @property
    def has_market_data(self) -> bool:
        """BREAK is planned downtime: Binance publishes no market data for the symbol."""
        return self.status != SymbolStatus.BREAK

    def rules(self) -> SymbolRules:
        """The symbol's entry in exchange info, with the filters Binance sends for a spot pair."""
        max_price = min(_MAX_PRICE_CAP, Decimal(10) ** (self.price.adjusted() + 3))
        return SymbolRules(
            symbol=self.symbol,
            status=self.status,
            base_asset=self.base_asset,
            quote_asset=self.quote_asset,
            order_types=_ORDER_TYPES,
            permission_sets=(("SPOT", "MARGIN"),) if self.margin else (("SPOT",),),
            price_filter=PriceFilter(min_price=self.tick_size, max_price=max_price, tick_size=self.tick_size),
            lot_size=LotSize(min_qty=self.step_size, max_qty=self.max_qty, step_size=self.step_size),
            # As on Binance: market orders have no step and a maximum near a recent average volume.
            market_lot_size=LotSize(
                min_qty=Decimal(0),
                max_qty=(self.daily_volume / 100).quantize(self.step_size),
                step_size=Decimal(0),
            ),
            notional=NotionalFilter(
                min_notional=self.min_notional,
                max_notional=Decimal(9_000_000),
                apply_min_to_market=True,
                apply_max_to_market=False,
                avg_price_mins=5,
            ),
            other_filter_types=_OTHER_FILTERS,
        )


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()) * 1000


# symbol, base, quote, listed (UTC), price, tick, step, max qty, min notional, daily vol, daily volume,
# trade qty
_ROWS: tuple[tuple[str, ...], ...] = (
    ("BTCUSDT", "BTC", "USDT", "2017-08-17T04:00", "64000", "0.01", "0.00001", "9000", "5", "0.025", "20000",
     "0.01"),
    ("ETHUSDT", "ETH", "USDT", "2017-08-17T04:00", "3100", "0.01", "0.0001", "9000", "5", "0.032", "300000",
     "0.15"),
    ("BNBUSDT", "BNB", "USDT", "2017-11-06T03:30", "580", "0.01", "0.001", "9000", "5", "0.028", "150000",
     "0.5"),
    ("SOLUSDT", "SOL", "USDT", "2020-08-11T06:00", "145", "0.01", "0.001", "9000", "5", "0.045", "2500000",
     "2"),
    ("XRPUSDT", "XRP", "USDT", "2018-05-04T08:00", "0.52", "0.0001", "0.1", "9222449", "5", "0.04",
     "300000000", "500"),
    ("ADAUSDT", "ADA", "USDT", "2018-04-17T04:00", "0.45", "0.0001", "0.1", "900000", "5", "0.042",
     "200000000", "400"),
    ("DOGEUSDT", "DOGE", "USDT", "2019-07-05T12:00", "0.12", "0.00001", "1", "9000000", "1", "0.05",
     "1000000000", "2000"),
    ("TRXUSDT", "TRX", "USDT", "2018-06-11T11:00", "0.12", "0.0001", "0.1", "9000000", "5", "0.03",
     "400000000", "1500"),
    ("DOTUSDT", "DOT", "USDT", "2020-08-18T23:00", "6.5", "0.001", "0.01", "90000", "5", "0.045", "5000000",
     "20"),
    ("LTCUSDT", "LTC", "USDT", "2017-12-13T03:00", "80", "0.01", "0.001", "90000", "5", "0.035", "500000",
     "2"),
    ("LINKUSDT", "LINK", "USDT", "2019-01-16T10:00", "14", "0.01", "0.01", "90000", "5", "0.045", "3000000",
     "10"),
    ("AVAXUSDT", "AVAX", "USDT", "2020-09-22T06:30", "30", "0.01", "0.01", "90000", "5", "0.05", "2000000",
     "5"),
    ("ATOMUSDT", "ATOM", "USDT", "2019-04-29T04:00", "7", "0.001", "0.01", "90000", "5", "0.045", "2000000",
     "10"),
    ("UNIUSDT", "UNI", "USDT", "2020-09-17T03:30", "8", "0.001", "0.01", "90000", "5", "0.05", "3000000",
     "10"),
    ("POLUSDT", "POL", "USDT", "2024-09-13T10:00", "0.4", "0.0001", "0.1", "9000000", "5", "0.05",
     "100000000", "500"),
    ("SHIBUSDT", "SHIB", "USDT", "2021-05-10T11:00", "0.000018", "0.00000001", "1", "92233720368", "5",
     "0.055", "5000000000000", "5000000"),
    ("PEPEUSDT", "PEPE", "USDT", "2023-05-05T14:00", "0.0000085", "0.00000001", "1", "92233720368", "1",
     "0.06", "10000000000000", "20000000"),
    ("ETHBTC", "ETH", "BTC", "2017-07-14T04:00", "0.0485", "0.00001", "0.0001", "100000", "0.0001", "0.02",
     "40000", "0.05"),
    ("BNBBTC", "BNB", "BTC", "2017-07-14T04:00", "0.0091", "0.000001", "0.001", "100000", "0.0001", "0.02",
     "20000", "0.2"),
    ("SOLBTC", "SOL", "BTC", "2020-08-11T06:00", "0.00226", "0.0000001", "0.001", "100000", "0.0001",
     "0.03", "200000", "2"),
    ("BTCFDUSD", "BTC", "FDUSD", "2023-08-16T08:00", "64010", "0.01", "0.00001", "9000", "5", "0.025",
     "15000", "0.005"),
    ("ETHFDUSD", "ETH", "FDUSD", "2023-08-16T08:00", "3101", "0.01", "0.0001", "9000", "5", "0.032",
     "150000", "0.1"),
    ("BTCEUR", "BTC", "EUR", "2020-01-03T08:00", "59000", "0.01", "0.00001", "9000", "5", "0.025", "500",
     "0.002"),
    ("USDCUSDT", "USDC", "USDT", "2018-12-15T04:00", "1.0001", "0.0001", "1", "9000000", "5", "0.0004",
     "500000000", "5000"),
    ("FDUSDUSDT", "FDUSD", "USDT", "2023-07-26T08:00", "0.9985", "0.0001", "1", "9000000", "5", "0.0006",
     "800000000", "8000"),
    ("这是测试币456", "这是测试币", "456", "2025-12-02T00:00", "4.56", "0.01", "0.01", "90000", "1", "0.05",
     "50000", "3"),
)

_HALTED = ("LUNAUSDT", "LUNA", "USDT", "2020-08-21T08:00", "0.52", "0.0001", "0.01", "9000000", "5", "0.09",
           "50000000", "100")
_HALTED_SINCE = "2022-05-12T09:00"
_BROKEN = ("BCCBTC", "BCC", "BTC", "2017-11-17T10:00", "0.11", "0.000001", "0.001", "90000000", "0.0001",
           "0.05", "10000", "1")
_MARGIN = frozenset({"BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "XRPUSDT", "ETHBTC", "BNBBTC", "LTCUSDT"})


def _spec(
    row: tuple[str, ...], status: str = SymbolStatus.TRADING, halted_ms: int | None = None
) -> SymbolSpec:
    symbol, base, quote, listed, price, tick, step, max_qty, min_notional, vol, volume, trade_qty = row
    return SymbolSpec(
        symbol=Symbol(symbol),
        base_asset=base,
        quote_asset=quote,
        listed_ms=_ms(listed),
        price=Decimal(price),
        tick_size=Decimal(tick),
        step_size=Decimal(step),
        max_qty=Decimal(max_qty),
        min_notional=Decimal(min_notional),
        daily_volatility=float(vol),
        daily_volume=Decimal(volume),
        trade_qty=Decimal(trade_qty),
        status=status,
        halted_ms=halted_ms,
        margin=symbol in _MARGIN,
    )


def default_catalog() -> tuple[SymbolSpec, ...]:
    """28 symbols, the five defaults first; LUNAUSDT is halted (HALT), BCCBTC in planned downtime (BREAK)."""
    return (
        *(_spec(row) for row in _ROWS[:-1]),
        _spec(_HALTED, SymbolStatus.HALT, _ms(_HALTED_SINCE)),
        _spec(_BROKEN, SymbolStatus.BREAK),
        _spec(_ROWS[-1]),
    )
