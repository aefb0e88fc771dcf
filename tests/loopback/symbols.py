"""The loopback exchange's symbol catalogue and its exchangeInfo rendering (section 6 of the facts)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

TRADING, HALT, BREAK = "TRADING", "HALT", "BREAK"
SYMBOL_STATUSES = (TRADING, HALT, BREAK)
UNICODE_SYMBOL = "这是测试币456"


def utc_ms(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    return int(datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp()) * 1000


def d8(value: str | Decimal) -> str:
    """A Binance decimal string with 8 decimals."""
    return f"{Decimal(value):.8f}"


def _decimals(step: str) -> int:
    exponent = Decimal(step).normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


def number_format(decimals: int) -> str:
    """A %-format that rounds to `decimals` and pads to Binance's 8 decimals in one step."""
    if decimals == 0:
        return "%.0f.00000000"
    return f"%.{decimals}f" + "0" * (8 - decimals)


@dataclass(frozen=True, slots=True)
class SymbolSpec:
    """One symbol: its listing, price scale, precision and the parameters of its deterministic market."""

    symbol: str
    base: str
    quote: str
    price: float
    tick: str
    step: str
    listed_ms: int
    status: str = TRADING
    margin: bool = False
    daily_sigma: float = 0.035
    daily_quote_volume: float = 50_000_000.0
    daily_trades: int = 400_000
    break_since_ms: int | None = None
    tick_decimals: int = field(init=False)
    step_decimals: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tick_decimals", _decimals(self.tick))
        object.__setattr__(self, "step_decimals", _decimals(self.step))

    @property
    def tick_value(self) -> float:
        return float(self.tick)

    @property
    def step_value(self) -> float:
        return float(self.step)

    @property
    def daily_volume(self) -> float:
        return self.daily_quote_volume / self.price

    @property
    def data_until_ms(self) -> int | None:
        """End of market data (exclusive) for a symbol in BREAK; None while data flows."""
        return self.break_since_ms if self.status == BREAK else None

    def permission_sets(self) -> list[list[str]]:
        return [["SPOT", "MARGIN"]] if self.margin else [["SPOT"]]


def _spec(
    symbol: str, base: str, quote: str, price: float, tick: str, step: str, listed: int, **extra: Any
) -> SymbolSpec:
    return SymbolSpec(symbol, base, quote, price, tick, step, listed, **extra)


DEFAULT_SYMBOLS: tuple[SymbolSpec, ...] = (
    _spec(
        "BTCUSDT",
        "BTC",
        "USDT",
        60_000.0,
        "0.01",
        "0.00001",
        utc_ms(2017, 8, 17, 4),
        margin=True,
        daily_sigma=0.03,
        daily_quote_volume=1.5e9,
        daily_trades=3_000_000,
    ),
    _spec(
        "ETHUSDT",
        "ETH",
        "USDT",
        3_000.0,
        "0.01",
        "0.0001",
        utc_ms(2017, 8, 17, 4),
        margin=True,
        daily_quote_volume=8e8,
        daily_trades=2_000_000,
    ),
    _spec(
        "BNBUSDT",
        "BNB",
        "USDT",
        550.0,
        "0.01",
        "0.001",
        utc_ms(2017, 11, 6, 3, 30),
        margin=True,
        daily_quote_volume=1.5e8,
        daily_trades=500_000,
    ),
    _spec(
        "SOLUSDT",
        "SOL",
        "USDT",
        150.0,
        "0.01",
        "0.001",
        utc_ms(2020, 8, 11, 6),
        margin=True,
        daily_sigma=0.045,
        daily_quote_volume=4e8,
        daily_trades=1_000_000,
    ),
    _spec(
        "XRPUSDT",
        "XRP",
        "USDT",
        0.6,
        "0.0001",
        "0.1",
        utc_ms(2018, 5, 4, 8),
        margin=True,
        daily_sigma=0.04,
        daily_quote_volume=2e8,
        daily_trades=600_000,
    ),
    _spec("ADAUSDT", "ADA", "USDT", 0.45, "0.0001", "0.1", utc_ms(2018, 4, 17, 4)),
    _spec("DOGEUSDT", "DOGE", "USDT", 0.12, "0.00001", "1", utc_ms(2019, 7, 5, 12), daily_sigma=0.05),
    _spec("TRXUSDT", "TRX", "USDT", 0.12, "0.0001", "0.1", utc_ms(2018, 6, 11, 8)),
    _spec("DOTUSDT", "DOT", "USDT", 7.0, "0.001", "0.01", utc_ms(2020, 8, 18, 23)),
    _spec("LTCUSDT", "LTC", "USDT", 80.0, "0.01", "0.001", utc_ms(2017, 12, 13, 3)),
    _spec("LINKUSDT", "LINK", "USDT", 15.0, "0.01", "0.01", utc_ms(2019, 1, 16, 10)),
    _spec("AVAXUSDT", "AVAX", "USDT", 30.0, "0.01", "0.01", utc_ms(2020, 9, 22, 6)),
    _spec("ATOMUSDT", "ATOM", "USDT", 8.0, "0.001", "0.01", utc_ms(2019, 4, 29, 4)),
    _spec("XLMUSDT", "XLM", "USDT", 0.1, "0.0001", "0.1", utc_ms(2018, 5, 31, 4)),
    _spec("ETCUSDT", "ETC", "USDT", 25.0, "0.01", "0.01", utc_ms(2018, 6, 12, 2)),
    _spec("BCHUSDT", "BCH", "USDT", 400.0, "0.1", "0.001", utc_ms(2019, 11, 28, 10)),
    _spec("UNIUSDT", "UNI", "USDT", 8.0, "0.001", "0.01", utc_ms(2020, 9, 17, 3)),
    _spec("FILUSDT", "FIL", "USDT", 5.0, "0.001", "0.01", utc_ms(2020, 10, 15, 10)),
    _spec("NEARUSDT", "NEAR", "USDT", 5.0, "0.001", "0.1", utc_ms(2020, 10, 14, 10)),
    _spec("APTUSDT", "APT", "USDT", 9.0, "0.001", "0.01", utc_ms(2022, 10, 19, 0)),
    _spec("ARBUSDT", "ARB", "USDT", 1.0, "0.0001", "0.1", utc_ms(2023, 3, 23, 13)),
    _spec("OPUSDT", "OP", "USDT", 2.0, "0.001", "0.01", utc_ms(2022, 6, 1, 8)),
    _spec("PEPEUSDT", "PEPE", "USDT", 0.00001, "0.00000001", "1", utc_ms(2023, 5, 5, 14), daily_sigma=0.06),
    _spec(
        "ETHBTC",
        "ETH",
        "BTC",
        0.05,
        "0.00001",
        "0.0001",
        utc_ms(2017, 7, 14, 4),
        daily_sigma=0.02,
        daily_quote_volume=2_000.0,
        daily_trades=150_000,
    ),
    _spec(
        "BNBBTC",
        "BNB",
        "BTC",
        0.009,
        "0.000001",
        "0.001",
        utc_ms(2017, 7, 14, 4),
        daily_sigma=0.02,
        daily_quote_volume=300.0,
        daily_trades=60_000,
    ),
    _spec(
        "SOLBTC",
        "SOL",
        "BTC",
        0.0025,
        "0.0000001",
        "0.001",
        utc_ms(2020, 8, 11, 6),
        daily_sigma=0.03,
        daily_quote_volume=500.0,
        daily_trades=80_000,
    ),
    _spec(
        "BTCEUR",
        "BTC",
        "EUR",
        55_000.0,
        "0.01",
        "0.00001",
        utc_ms(2020, 1, 3, 8),
        daily_sigma=0.03,
        daily_quote_volume=6e7,
        daily_trades=150_000,
    ),
    _spec(
        UNICODE_SYMBOL,
        "这是测试币",
        "456",
        25.0,
        "0.001",
        "0.01",
        utc_ms(2025, 12, 2, 8),
        daily_quote_volume=1e6,
        daily_trades=20_000,
    ),
    _spec(
        "LUNAUSDT",
        "LUNA",
        "USDT",
        0.5,
        "0.0001",
        "0.01",
        utc_ms(2022, 5, 31, 8),
        status=HALT,
        daily_sigma=0.06,
        daily_quote_volume=5e6,
        daily_trades=40_000,
    ),
    _spec(
        "FTTUSDT",
        "FTT",
        "USDT",
        1.5,
        "0.001",
        "0.01",
        utc_ms(2019, 7, 30, 4),
        status=BREAK,
        break_since_ms=utc_ms(2022, 11, 14),
    ),
)


def _power_of_ten_at_least(value: float) -> Decimal:
    return Decimal(10) ** math.ceil(math.log10(value))


def _filters(spec: SymbolSpec) -> list[dict[str, object]]:
    max_price = _power_of_ten_at_least(spec.price * 1000)
    max_qty = Decimal(9) * Decimal(10) ** min(7, math.floor(math.log10(1e9 / spec.price)))
    min_notional = {"BTC": "0.0001", "456": "1"}.get(spec.quote, "5")
    return [
        {
            "filterType": "PRICE_FILTER",
            "minPrice": d8(spec.tick),
            "maxPrice": d8(max_price),
            "tickSize": d8(spec.tick),
        },
        {"filterType": "LOT_SIZE", "minQty": d8(spec.step), "maxQty": d8(max_qty), "stepSize": d8(spec.step)},
        {"filterType": "ICEBERG_PARTS", "limit": 10},
        {
            "filterType": "MARKET_LOT_SIZE",
            "minQty": d8("0"),
            "maxQty": d8(max_qty / 100),
            "stepSize": d8("0"),
        },
        {
            "filterType": "TRAILING_DELTA",
            "minTrailingAboveDelta": 10,
            "maxTrailingAboveDelta": 2000,
            "minTrailingBelowDelta": 10,
            "maxTrailingBelowDelta": 2000,
        },
        {
            "filterType": "PERCENT_PRICE_BY_SIDE",
            "bidMultiplierUp": "5",
            "bidMultiplierDown": "0.2",
            "askMultiplierUp": "5",
            "askMultiplierDown": "0.2",
            "avgPriceMins": 5,
        },
        {
            "filterType": "NOTIONAL",
            "minNotional": d8(min_notional),
            "applyMinToMarket": True,
            "maxNotional": d8("9000000"),
            "applyMaxToMarket": False,
            "avgPriceMins": 5,
        },
        {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
        {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": 5},
        {"filterType": "MAX_NUM_ORDER_AMENDS", "maxNumOrderAmends": 10},
    ]


def symbol_object(spec: SymbolSpec, *, show_permission_sets: bool = True) -> dict[str, object]:
    return {
        "symbol": spec.symbol,
        "status": spec.status,
        "baseAsset": spec.base,
        "baseAssetPrecision": 8,
        "quoteAsset": spec.quote,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": [
            "LIMIT",
            "LIMIT_MAKER",
            "MARKET",
            "STOP_LOSS",
            "STOP_LOSS_LIMIT",
            "TAKE_PROFIT",
            "TAKE_PROFIT_LIMIT",
        ],
        "icebergAllowed": True,
        "ocoAllowed": True,
        "otoAllowed": True,
        "opoAllowed": True,
        "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": True,
        "cancelReplaceAllowed": True,
        "amendAllowed": True,
        "pegInstructionsAllowed": True,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": spec.margin,
        "filters": _filters(spec),
        "permissions": [],
        "permissionSets": spec.permission_sets() if show_permission_sets else [],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": [
            "NONE",
            "EXPIRE_TAKER",
            "EXPIRE_MAKER",
            "EXPIRE_BOTH",
            "DECREMENT",
        ],
    }


class SymbolCatalogue:
    """Symbols by name plus their exchangeInfo JSON, rendered once."""

    def __init__(self, specs: tuple[SymbolSpec, ...] = DEFAULT_SYMBOLS) -> None:
        self.specs = specs
        self.by_name = {spec.symbol: spec for spec in specs}
        if len(self.by_name) != len(specs):
            raise ValueError("symbol names must be unique")
        self._json = {
            show: {
                spec.symbol: json.dumps(
                    symbol_object(spec, show_permission_sets=show), separators=(",", ":"), ensure_ascii=False
                )
                for spec in specs
            }
            for show in (True, False)
        }
        self._all_json = {show: ",".join(by_name.values()) for show, by_name in self._json.items()}

    def symbols_json(self, names: list[str] | None, *, show_permission_sets: bool = True) -> str:
        """The comma-joined symbol objects (all symbols when `names` is None)."""
        if names is None:
            return self._all_json[show_permission_sets]
        table = self._json[show_permission_sets]
        return ",".join(table[name] for name in names)
