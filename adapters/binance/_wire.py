"""Binance's REST shapes for the storage converter: camelCase names, filters by ``filterType``, MINI tickers.

``make_wire_converter`` copies the storage converter (so the strict scalar rules stay the same) and registers
a hook per shape. ``WIRE_NAMES`` is the one table of field -> key renames; the error messages use it too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import attrs
from cattrs import Converter
from cattrs.errors import (
    AttributeValidationNote,
    ClassValidationError,
    IterableValidationError,
    IterableValidationNote,
)
from cattrs.gen import make_dict_structure_fn, override

from adapters.binance._converters import Rejected, kind, require_mapping, structure_str
from domain import (
    AccountInfo,
    Balance,
    CommissionRates,
    ExchangeInfo,
    LotSize,
    NotionalFilter,
    PriceFilter,
    RateLimit,
    ServerTime,
    Symbol,
    SymbolRules,
    Ticker24h,
)

__all__ = ["WIRE_NAMES", "BookTickerWire", "PriceWire", "make_wire_converter"]

# The field -> key renames of every wire shape. A domain field always has the same wire name, so one table
# serves both the converter and the error messages (which quote wire names, not Python names).
WIRE_NAMES: dict[str, str] = {
    "server_time_ms": "serverTime",
    "rate_limit_type": "rateLimitType",
    "interval_num": "intervalNum",
    "min_price": "minPrice",
    "max_price": "maxPrice",
    "tick_size": "tickSize",
    "min_qty": "minQty",
    "max_qty": "maxQty",
    "step_size": "stepSize",
    "min_notional": "minNotional",
    "max_notional": "maxNotional",
    "apply_min_to_market": "applyMinToMarket",
    "apply_max_to_market": "applyMaxToMarket",
    "apply_to_market": "applyToMarket",
    "avg_price_mins": "avgPriceMins",
    "base_asset": "baseAsset",
    "quote_asset": "quoteAsset",
    "base_asset_precision": "baseAssetPrecision",
    "quote_asset_precision": "quoteAssetPrecision",
    "order_types": "orderTypes",
    "permission_sets": "permissionSets",
    "is_spot_trading_allowed": "isSpotTradingAllowed",
    "rate_limits": "rateLimits",
    "price_change": "priceChange",
    "price_change_percent": "priceChangePercent",
    "weighted_avg_price": "weightedAvgPrice",
    "prev_close_price": "prevClosePrice",
    "last_price": "lastPrice",
    "last_qty": "lastQty",
    "bid_price": "bidPrice",
    "bid_qty": "bidQty",
    "ask_price": "askPrice",
    "ask_qty": "askQty",
    "open_price": "openPrice",
    "high_price": "highPrice",
    "low_price": "lowPrice",
    "quote_volume": "quoteVolume",
    "open_time_ms": "openTime",
    "close_time_ms": "closeTime",
    "first_trade_id": "firstId",
    "last_trade_id": "lastId",
    "trade_count": "count",
    "account_type": "accountType",
    "can_trade": "canTrade",
    "can_withdraw": "canWithdraw",
    "can_deposit": "canDeposit",
    "commission_rates": "commissionRates",
    "update_time_ms": "updateTime",
}


@attrs.frozen
class _MinNotional:
    """MIN_NOTIONAL, which NOTIONAL replaced: a minimum only, ``applyToMarket`` for ``applyMinToMarket``."""

    min_notional: Decimal
    apply_to_market: bool = True
    avg_price_mins: int | None = None

    def to_domain(self) -> NotionalFilter:
        return NotionalFilter(self.min_notional, None, self.apply_to_market, False, self.avg_price_mins)


# Filters that land in typed fields of SymbolRules; every other filterType is kept by name only.
_TYPED_FILTERS: dict[str, tuple[str, type]] = {
    "PRICE_FILTER": ("price_filter", PriceFilter),
    "LOT_SIZE": ("lot_size", LotSize),
    "MARKET_LOT_SIZE": ("market_lot_size", LotSize),
    "NOTIONAL": ("notional", NotionalFilter),
    "MIN_NOTIONAL": ("notional", _MinNotional),
}
# Filters are handed to the generated SymbolRules hook already structured, under these private keys.
_FILTER_KEY = "_parsed_{}"


def _renamed(cl: type, converter: Converter, **extra: Any) -> Callable[[Any, Any], Any]:
    """cattrs' generated hook for ``cl`` with the wire names, refusing anything but an object up front."""
    overrides = {
        a.name: override(rename=WIRE_NAMES[a.name]) for a in attrs.fields(cl) if a.name in WIRE_NAMES
    }
    overrides.update(extra)
    generated: Callable[[Mapping[str, Any], Any], Any] = make_dict_structure_fn(
        cl,
        converter,
        **overrides,  # type: ignore[arg-type]
    )

    def structure(value: Any, _: Any) -> Any:
        return generated(require_mapping(value), cl)

    return structure


def _noted(exc: Exception, note: str) -> Exception:
    exc.__notes__ = [*getattr(exc, "__notes__", []), note]
    return exc


def _structure_filters(converter: Converter, items: object) -> tuple[dict[str, object], tuple[str, ...]]:
    """``filters`` as {SymbolRules field: typed filter} and the other filter types, by name, in order.

    NOTIONAL replaced MIN_NOTIONAL; when a symbol lists both, NOTIONAL fills ``notional`` and MIN_NOTIONAL
    is kept by name only. A second filter of a typed kind is refused rather than one of them dropped.
    """
    if not isinstance(items, list):
        msg = f"expected an array, got {kind(items)}"
        raise Rejected(msg)
    typed: dict[str, object] = {}
    others: list[str] = []
    errors: list[Exception] = []
    for index, item in enumerate(items):
        try:
            entry = require_mapping(item)
            if "filterType" not in entry:
                msg = "a filter without a filterType"
                raise Rejected(msg)
            filter_type = structure_str(entry["filterType"])
            if filter_type not in _TYPED_FILTERS:
                others.append(filter_type)
            elif filter_type in typed:
                msg = f"a second {filter_type} filter"
                raise Rejected(msg)
            else:
                typed[filter_type] = converter.structure(item, _TYPED_FILTERS[filter_type][1])
        except Exception as exc:  # collected, then raised together, as cattrs does
            errors.append(_noted(exc, IterableValidationNote(f"filter {index}", index, dict)))
    if errors:
        raise IterableValidationError("While structuring filters", errors, list)
    if "NOTIONAL" in typed and "MIN_NOTIONAL" in typed:
        del typed["MIN_NOTIONAL"]
        others.append("MIN_NOTIONAL")
    fields = {
        _TYPED_FILTERS[t][0]: v.to_domain() if isinstance(v, _MinNotional) else v for t, v in typed.items()
    }
    return fields, tuple(others)


def _symbol_rules_hook(converter: Converter) -> Callable[[Any, Any], SymbolRules]:
    # The filters arrive at the generated hook already structured, under private keys, passed through as-is.
    keep = override(struct_hook=lambda value, _: value)
    filter_fields = {field for field, _ in _TYPED_FILTERS.values()} | {"other_filter_types"}
    generated = _renamed(
        SymbolRules,
        converter,
        **{name: attrs.evolve(keep, rename=_FILTER_KEY.format(name)) for name in filter_fields},
    )

    def structure(value: Any, _: Any) -> SymbolRules:
        data = dict(require_mapping(value))
        # quotePrecision is the legacy duplicate of quoteAssetPrecision; the flat per-symbol
        # `permissions` list predates permissionSets and means "any of these" (one OR-set).
        if "quoteAssetPrecision" not in data and "quotePrecision" in data:
            data["quoteAssetPrecision"] = data["quotePrecision"]
        if "permissionSets" not in data and data.get("permissions"):
            data["permissionSets"] = [data["permissions"]]
        errors: list[Exception] = []
        try:
            fields, others = _structure_filters(converter, data.get("filters", []))
        except Exception as exc:  # reported with the other fields' problems
            errors.append(_noted(exc, AttributeValidationNote("filters", "filters", list)))
        else:
            data.update({_FILTER_KEY.format(name): value for name, value in fields.items()})
            data[_FILTER_KEY.format("other_filter_types")] = others
        try:
            rules: SymbolRules = generated(data, SymbolRules)
        except ClassValidationError as exc:
            errors.extend(exc.exceptions)
        if errors:
            raise ClassValidationError("While structuring SymbolRules", errors, SymbolRules)
        return rules

    return structure


@attrs.frozen
class PriceWire:
    """``ticker/price`` item: the domain's PriceQuote without the time the caller knows it by."""

    symbol: Symbol
    price: Decimal


@attrs.frozen
class BookTickerWire:
    """``ticker/bookTicker`` item: REST sends no update id and no time."""

    symbol: Symbol
    bid_price: Decimal
    bid_qty: Decimal
    ask_price: Decimal
    ask_qty: Decimal


@attrs.frozen
class _MiniTicker24h:
    """``ticker/24hr?type=MINI``: the twelve fields a MINI ticker keeps."""

    symbol: Symbol
    open_price: Decimal
    high_price: Decimal
    low_price: Decimal
    last_price: Decimal
    volume: Decimal
    quote_volume: Decimal
    open_time_ms: int
    close_time_ms: int
    first_trade_id: int
    last_trade_id: int
    trade_count: int

    def to_domain(self) -> Ticker24h:
        """A Ticker24h with the derivable fields computed and the others zero (see ``parse_ticker_24h``)."""
        change = self.last_price - self.open_price
        percent = (change * 100 / self.open_price).quantize(_PERCENT) if self.open_price else Decimal(0)
        vwap = (self.quote_volume / self.volume).quantize(_PRICE) if self.volume else Decimal(0)
        zero = Decimal(0)
        return Ticker24h(
            symbol=self.symbol,
            price_change=change,
            price_change_percent=percent,
            weighted_avg_price=vwap,
            prev_close_price=zero,
            last_price=self.last_price,
            last_qty=zero,
            bid_price=zero,
            bid_qty=zero,
            ask_price=zero,
            ask_qty=zero,
            open_price=self.open_price,
            high_price=self.high_price,
            low_price=self.low_price,
            volume=self.volume,
            quote_volume=self.quote_volume,
            open_time_ms=self.open_time_ms,
            close_time_ms=self.close_time_ms,
            first_trade_id=self.first_trade_id,
            last_trade_id=self.last_trade_id,
            trade_count=self.trade_count,
        )


_PERCENT = Decimal("0.001")
_PRICE = Decimal("0.00000001")
# Present in a FULL ticker, absent from a MINI one. None of them present means MINI; some means a broken FULL.
_FULL_ONLY_KEYS = (
    "priceChange",
    "priceChangePercent",
    "weightedAvgPrice",
    "prevClosePrice",
    "lastQty",
    "bidPrice",
    "bidQty",
    "askPrice",
    "askQty",
)


def _ticker_hook(converter: Converter) -> Callable[[Any, Any], Ticker24h]:
    full = _renamed(Ticker24h, converter)
    mini = converter.get_structure_hook(_MiniTicker24h)

    def structure(value: Any, _: Any) -> Ticker24h:
        if isinstance(value, Mapping) and not any(key in value for key in _FULL_ONLY_KEYS):
            return mini(value, _MiniTicker24h).to_domain()  # type: ignore[no-any-return]
        return full(value, Ticker24h)  # type: ignore[no-any-return]

    return structure


def make_wire_converter(storage: Converter) -> Converter:
    """The storage converter plus Binance's REST names and shapes.

    Order matters: a generated hook looks up the hooks of its fields' types when it is made.
    """
    converter = storage.copy()
    for cl in (
        ServerTime,
        RateLimit,
        PriceFilter,
        LotSize,
        NotionalFilter,
        _MinNotional,
        CommissionRates,
        Balance,
        AccountInfo,
        PriceWire,
        BookTickerWire,
        _MiniTicker24h,
    ):
        converter.register_structure_hook(cl, _renamed(cl, converter))
    converter.register_structure_hook(Ticker24h, _ticker_hook(converter))
    converter.register_structure_hook(SymbolRules, _symbol_rules_hook(converter))
    converter.register_structure_hook(ExchangeInfo, _renamed(ExchangeInfo, converter))
    return converter
