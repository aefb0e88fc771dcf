"""Exchange rules: rate limits, symbol status and the filters a client needs (``/api/v3/exchangeInfo``)."""

from __future__ import annotations

from decimal import Decimal

import attrs

from domain.errors import InvalidSymbolError
from domain.symbols import Symbol

__all__ = [
    "KNOWN_SYMBOL_STATUSES",
    "ExchangeInfo",
    "LotSize",
    "NotionalFilter",
    "PriceFilter",
    "RateLimit",
    "SymbolRules",
    "SymbolStatus",
]

_INTERVAL_MS = {"SECOND": 1000, "MINUTE": 60_000, "HOUR": 3_600_000, "DAY": 86_400_000}


class SymbolStatus:
    """Known symbol statuses. The set is open: an unknown status is kept as its text, never rejected."""

    TRADING = "TRADING"
    END_OF_DAY = "END_OF_DAY"
    HALT = "HALT"
    BREAK = "BREAK"
    CANCEL_ONLY = "CANCEL_ONLY"


KNOWN_SYMBOL_STATUSES = frozenset(
    {
        SymbolStatus.TRADING,
        SymbolStatus.END_OF_DAY,
        SymbolStatus.HALT,
        SymbolStatus.BREAK,
        SymbolStatus.CANCEL_ONLY,
    }
)


@attrs.frozen
class RateLimit:
    """One entry of ``rateLimits``: e.g. REQUEST_WEIGHT, 6000 per 1 MINUTE."""

    rate_limit_type: str
    interval: str
    interval_num: int
    limit: int

    @property
    def window_ms(self) -> int:
        """Length of the fixed window in milliseconds (``interval_num`` x ``interval``)."""
        return self.interval_num * _INTERVAL_MS[self.interval]

    @property
    def header_suffix(self) -> str:
        """The suffix of the matching usage header, e.g. ``1M`` in ``X-MBX-USED-WEIGHT-1M``."""
        return f"{self.interval_num}{self.interval[0]}"


@attrs.frozen
class PriceFilter:
    """PRICE_FILTER: a zero part is disabled."""

    min_price: Decimal
    max_price: Decimal
    tick_size: Decimal


@attrs.frozen
class LotSize:
    """LOT_SIZE or MARKET_LOT_SIZE: a zero step disables the step rule."""

    min_qty: Decimal
    max_qty: Decimal
    step_size: Decimal


@attrs.frozen
class NotionalFilter:
    """NOTIONAL (min and max) or the older MIN_NOTIONAL (min only), in quote asset."""

    min_notional: Decimal
    max_notional: Decimal | None = None
    apply_min_to_market: bool = True
    apply_max_to_market: bool = False
    avg_price_mins: int | None = None


@attrs.frozen
class SymbolRules:
    """Trading rules of one symbol. ``status`` is the exchange's text, known or not."""

    symbol: Symbol
    status: str
    base_asset: str
    quote_asset: str
    base_asset_precision: int = 8
    quote_asset_precision: int = 8
    order_types: tuple[str, ...] = ()
    permission_sets: tuple[tuple[str, ...], ...] = ()
    is_spot_trading_allowed: bool = True
    price_filter: PriceFilter | None = None
    lot_size: LotSize | None = None
    market_lot_size: LotSize | None = None
    notional: NotionalFilter | None = None
    other_filter_types: tuple[str, ...] = ()

    @property
    def is_trading(self) -> bool:
        return self.status == SymbolStatus.TRADING

    @property
    def has_known_status(self) -> bool:
        return self.status in KNOWN_SYMBOL_STATUSES


@attrs.frozen
class ExchangeInfo:
    """Exchange-wide rules and the rules of each listed symbol."""

    timezone: str
    server_time_ms: int
    rate_limits: tuple[RateLimit, ...]
    symbols: tuple[SymbolRules, ...]
    _by_symbol: dict[Symbol, SymbolRules] = attrs.field(
        init=False,
        repr=False,
        eq=False,
        hash=False,
        default=attrs.Factory(lambda self: {r.symbol: r for r in self.symbols}, takes_self=True),
    )

    def rules_for(self, symbol: Symbol) -> SymbolRules:
        """The rules of ``symbol``; raises ``InvalidSymbolError`` when the exchange does not list it."""
        try:
            return self._by_symbol[symbol]
        except KeyError:
            msg = f"symbol {symbol} is not listed by the exchange"
            raise InvalidSymbolError(msg, code=-1121) from None

    def find(self, symbol: Symbol) -> SymbolRules | None:
        return self._by_symbol.get(symbol)

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._by_symbol

    @property
    def request_weight_limits(self) -> tuple[RateLimit, ...]:
        return tuple(r for r in self.rate_limits if r.rate_limit_type == "REQUEST_WEIGHT")
