"""The cattrs converters behind ``adapters.binance.parsing``.

``storage`` turns domain objects into JSON-able values (decimals as strings, symbols and intervals as their
text, snake_case names) and back. ``wire`` is a copy of it that also knows Binance's REST shapes: camelCase
names, filters keyed by ``filterType``, legacy fallbacks. Both are strict about types, because cattrs' own
defaults would silently turn ``123`` into ``"123"``, ``"false"`` into ``True`` or ``"BTC"`` into a tuple of
letters; unknown keys and unknown enum-like text (statuses, permissions, filter types) are kept, not refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal, InvalidOperation
from typing import Any, get_args, get_origin

import attrs
from cattrs import Converter, transform_error
from cattrs.cols import homogenous_tuple_structure_factory, list_structure_factory
from cattrs.errors import (
    AttributeValidationNote,
    ClassValidationError,
    IterableValidationError,
    IterableValidationNote,
)
from cattrs.gen import make_dict_structure_fn, override
from cattrs.v import format_exception

from domain import (
    AccountInfo,
    Balance,
    CommissionRates,
    ExchangeInfo,
    Interval,
    InvalidInputError,
    LotSize,
    NotionalFilter,
    PriceFilter,
    RateLimit,
    ServerTime,
    Symbol,
    SymbolRules,
    Ticker24h,
)

__all__ = [
    "WIRE_NAMES",
    "BookTickerWire",
    "PriceWire",
    "Rejected",
    "describe",
    "kind",
    "make_storage_converter",
    "make_wire_converter",
    "to_decimal",
]

# Decimal(text) is exact; create_decimal under a context this wide is too, and it does not depend on the
# calling thread's context (whose traps a caller may have changed) and skips its look-up, which is faster.
_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[InvalidOperation])
to_decimal: Callable[[str], Decimal] = _EXACT.create_decimal


class Rejected(ValueError):  # noqa: N818 - reads as "value rejected" in the messages it carries
    """A value that would corrupt data; its message is shown to the user as it is."""


_KINDS = {
    bool: "a boolean",
    int: "an integer",
    float: "a number with a fraction",
    str: "text",
    list: "an array",
    dict: "an object",
    type(None): "null",
}


def kind(value: object) -> str:
    """The JSON kind of a decoded value, for messages (never the value itself, which may be long)."""
    return _KINDS.get(type(value), type(value).__name__)


def _short(text: str, limit: int = 24) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _structure_decimal(value: object, _: object = None) -> Decimal:
    if isinstance(value, str):
        try:
            number = to_decimal(value)
        except InvalidOperation:
            msg = f"{_short(value)} is not a decimal number"
            raise Rejected(msg) from None
    elif isinstance(value, Decimal):
        number = value
    elif isinstance(value, int) and not isinstance(value, bool):
        number = Decimal(value)
    else:
        # A JSON float has already been through binary floating point: its digits may be wrong.
        msg = f"expected a decimal string, got {kind(value)}"
        raise Rejected(msg)
    if not number.is_finite():
        msg = f"{_short(str(value))} is not a finite number"
        raise Rejected(msg)
    return number


def _structure_int(value: object, _: object = None) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    msg = f"expected an integer, got {kind(value)}"
    raise Rejected(msg)


def _structure_bool(value: object, _: object = None) -> bool:
    if isinstance(value, bool):
        return value
    msg = f"expected true or false, got {kind(value)}"
    raise Rejected(msg)


def _structure_str(value: object, _: object = None) -> str:
    if isinstance(value, str):
        return value
    msg = f"expected text, got {kind(value)}"
    raise Rejected(msg)


def _structure_symbol(value: object, _: object = None) -> Symbol:
    try:
        return Symbol(_structure_str(value))
    except InvalidInputError as exc:
        raise Rejected(str(exc)) from None


def _structure_interval(value: object, _: object = None) -> Interval:
    try:
        return Interval.parse(_structure_str(value))
    except InvalidInputError as exc:
        raise Rejected(str(exc)) from None


def _is_sequence(type_: Any) -> bool:
    args = get_args(type_)
    return get_origin(type_) is list or (get_origin(type_) is tuple and args[1:] == (Ellipsis,))


def _sequence_factory(type_: Any, converter: Converter) -> Callable[[Any, Any], Any]:
    """cattrs' list/tuple hooks, refusing text and objects (which they would iterate over)."""
    inner = (list_structure_factory if get_origin(type_) is list else homogenous_tuple_structure_factory)(
        type_, converter
    )

    def structure(value: Any, cl: Any) -> Any:
        if not isinstance(value, list | tuple):
            msg = f"expected an array, got {kind(value)}"
            raise Rejected(msg)
        return inner(value, cl)

    return structure


def _require_mapping(value: object) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        msg = f"expected an object, got {kind(value)}"
        raise Rejected(msg)
    return value


def _attrs_factory(cl: type, converter: Converter) -> Callable[[Any, Any], Any]:
    generated: Callable[[Mapping[str, Any], Any], Any] = make_dict_structure_fn(cl, converter)

    def structure(value: Any, _: Any) -> Any:
        return generated(_require_mapping(value), cl)

    return structure


def make_storage_converter() -> Converter:
    """Domain object <-> JSON-able value, with snake_case names; decimals travel as exact strings."""
    converter = Converter(detailed_validation=True)
    for cl, hook in (
        (Decimal, _structure_decimal),
        (int, _structure_int),
        (bool, _structure_bool),
        (str, _structure_str),
        (Symbol, _structure_symbol),
        (Interval, _structure_interval),
    ):
        converter.register_structure_hook(cl, hook)
    converter.register_unstructure_hook(Decimal, str)
    converter.register_unstructure_hook(Symbol, str)
    converter.register_unstructure_hook(Interval, lambda interval: interval.value)
    converter.register_unstructure_hook_func(
        _is_sequence, lambda seq: [converter.unstructure(v) for v in seq]
    )
    converter.register_structure_hook_factory(_is_sequence, _sequence_factory)
    converter.register_structure_hook_factory(attrs.has, _attrs_factory)
    return converter


# --------------------------------------------------------------------------------------------------- wire

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
        return generated(_require_mapping(value), cl)

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
            entry = _require_mapping(item)
            if "filterType" not in entry:
                msg = "a filter without a filterType"
                raise Rejected(msg)
            filter_type = _structure_str(entry["filterType"])
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
        data = dict(_require_mapping(value))
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


# --------------------------------------------------------------------------------------------------- errors


def _format(exc: BaseException, type_: type | None) -> str:
    if isinstance(exc, Rejected):
        return str(exc)
    if isinstance(exc, KeyError):
        return "required field missing"
    return format_exception(exc, type_)


def describe(exc: BaseException, names: Mapping[str, str] = WIRE_NAMES) -> list[str]:
    """One ``<what> @ <where>`` line per problem, fields named by ``names`` (``$.symbols[0].baseAsset``)."""
    lines = []
    for line in transform_error(exc, "$", _format):
        what, _, where = line.rpartition(" @ ")
        where = _PATH_NAME.sub(lambda m: "." + names.get(m.group(1), m.group(1)), where)
        lines.append(f"{what} @ {where}")
    return lines


_PATH_NAME = re.compile(r"\.(\w+)")
