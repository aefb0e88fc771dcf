"""Binance REST bodies -> domain objects, and domain objects <-> JSON-able values.

All knowledge of Binance's JSON lives here and in ``_wire`` and ``_klines``: camelCase names, decimal
strings, filters keyed by ``filterType``, kline arrays, legacy fallbacks. The ``parse_*`` functions take a
decoded body (``loads`` decodes bytes) and either return domain objects or raise ``MalformedResponseError``,
whose message lists what is wrong, where (``$.symbols[0].filters[2].tickSize``), and the first few
characters of the body.

What is refused, because it would corrupt data: a missing required field; a number that is not a decimal
string (a JSON float has lost digits already) or is NaN/Infinity; a boolean, text or float where an integer
belongs; text or a number where an array or object belongs. What is tolerated: unknown keys, unknown values of
open sets (symbol status, permissions, account type, filter types, rate limit types, which are kept as text),
extra items at the end of a kline array, and these older shapes:

- ``quotePrecision`` stands in for a missing ``quoteAssetPrecision`` (it is the legacy duplicate);
- a per-symbol ``permissions`` list without ``permissionSets`` becomes one OR-set;
- ``MIN_NOTIONAL`` fills ``SymbolRules.notional`` when there is no ``NOTIONAL`` filter;
- a kline array of 11 items (no trailing "ignore") gets ``ignore="0"``.

``converter``, ``unstructure`` and ``structure`` are the storage / JSON-output side: snake_case field
names, decimals as exact strings (``"0.01000000"`` stays that), symbols and intervals as their text, tuples
as lists. ``structure(unstructure(x), type(x)) == x`` for every domain model.
"""

from __future__ import annotations

import gc
import json
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeVar

import orjson

from adapters.binance._converters import describe, make_storage_converter, to_decimal
from adapters.binance._klines import build_klines, check_rows
from adapters.binance._wire import WIRE_NAMES, BookTickerWire, PriceWire, make_wire_converter
from adapters.binance.errors import malformed_body
from adapters.binance.secrets import REDACTED, redact
from domain import (
    AccountInfo,
    Balance,
    BookTicker,
    DataValidationError,
    ExchangeInfo,
    Interval,
    Kline,
    MalformedResponseError,
    PriceQuote,
    ServerTime,
    Symbol,
    Ticker24h,
)

__all__ = [
    "converter",
    "loads",
    "parse_account_info",
    "parse_book_ticker",
    "parse_book_tickers",
    "parse_error_body",
    "parse_exchange_info",
    "parse_klines",
    "parse_price_quote",
    "parse_price_quotes",
    "parse_server_time",
    "parse_ticker_24h",
    "parse_tickers_24h",
    "structure",
    "unstructure",
]

T = TypeVar("T")

#: Domain object <-> JSON-able value (storage, ``--json`` output). Not for Binance bodies.
converter = make_storage_converter()
_wire = make_wire_converter(converter)

_EXCERPT_CHARS = 60
_MAX_PROBLEMS = 5
# A body holds no credential, but a long token is not worth quoting either: it could be one.
_LONG_TOKEN = re.compile(r"[A-Za-z0-9+/=_-]{32,}")


def _excerpt(body: str) -> str:
    """The first characters of a body, anything credential-like redacted first."""
    text = _LONG_TOKEN.sub(REDACTED, redact(body))
    return text if len(text) <= _EXCERPT_CHARS else text[:_EXCERPT_CHARS] + "..."


def _encoded_prefix(raw: Any) -> str:
    """The start of ``raw`` re-encoded as compact JSON, without encoding all of a large body."""
    text = ""
    for chunk in json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).iterencode(raw):
        text += chunk
        if len(text) > 2 * _EXCERPT_CHARS:
            break
    return text


def _malformed(endpoint: str, problems: list[str], raw: Any) -> MalformedResponseError:
    shown = "; ".join(problems[:_MAX_PROBLEMS])
    if len(problems) > _MAX_PROBLEMS:
        shown += f"; and {len(problems) - _MAX_PROBLEMS} more"
    message = f"unexpected response body: {shown}; body: {_excerpt(_encoded_prefix(raw))}"
    return MalformedResponseError(message, endpoint=endpoint)


def _parse(raw: Any, cl: Any, endpoint: str) -> Any:
    try:
        return _wire.structure(raw, cl)
    except Exception as exc:  # cattrs raises exception groups of any of its hooks' errors
        raise _malformed(endpoint, describe(exc, WIRE_NAMES), raw) from exc


def loads(body: bytes | str, endpoint: str) -> Any:
    """Decode a JSON body (orjson: about half the time of ``json``, and it refuses NaN and Infinity).

    A non-JSON, empty or truncated body is a ``MalformedResponseError`` quoting a short, scrubbed prefix.
    """
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        data = body.encode("utf-8", "replace") if isinstance(body, str) else body
        raise malformed_body(endpoint, data, "the body is not JSON") from exc


def parse_server_time(raw: Any) -> ServerTime:
    """``GET /api/v3/time``."""
    result: ServerTime = _parse(raw, ServerTime, "/api/v3/time")
    return result


def parse_exchange_info(raw: Any) -> ExchangeInfo:
    """``GET /api/v3/exchangeInfo``: rate limits and each symbol's rules (see the module docstring)."""
    result: ExchangeInfo = _parse(raw, ExchangeInfo, "/api/v3/exchangeInfo")
    return result


# Symbol texts the converter has accepted in a price answer, by their exact text: a later answer naming them
# is read without it (``_quick_price_quotes``).
_CHECKED_SYMBOLS: dict[str, Symbol] = {}
_CHECKED_SYMBOLS_KEPT = 8192  # Binance lists a few thousand


def _finite_decimal(value: Any) -> Decimal | None:
    """``value`` as a decimal if it is text of a finite number (as the converter reads it), else None."""
    if type(value) is not str:
        return None
    try:
        number = to_decimal(value)
    except ArithmeticError:  # not a decimal number
        return None
    return number if number.is_finite() else None


def _quick_price_quotes(raw: Any, as_of_ms: int) -> list[PriceQuote] | None:
    """The usual price answer read directly: an array of objects whose ``symbol`` the converter accepted
    before and whose ``price`` is a finite decimal string; unknown keys ignored, as the converter does.
    ``None`` when anything else is found: the converter then reads it, or says exactly what is wrong."""
    if type(raw) is not list:
        return None
    checked = _CHECKED_SYMBOLS
    quotes = []
    for item in raw:
        if type(item) is not dict:
            return None
        text = item.get("symbol")
        symbol = checked.get(text) if type(text) is str else None
        price = _finite_decimal(item.get("price"))
        if symbol is None or price is None:
            return None
        quotes.append(PriceQuote(symbol, price, as_of_ms))
    return quotes


def _remember_symbols(raw: list[Any], wires: list[PriceWire]) -> None:
    """Keep the symbol texts of an answer the converter has just accepted, for ``_quick_price_quotes``."""
    checked = _CHECKED_SYMBOLS
    for item, wire in zip(raw, wires, strict=True):
        text = item["symbol"]
        if text not in checked and len(checked) < _CHECKED_SYMBOLS_KEPT:
            checked[text] = wire.symbol


def parse_price_quote(raw: Any, as_of_ms: int) -> PriceQuote:
    """``GET /api/v3/ticker/price?symbol=``: one object. The body has no time; ``as_of_ms`` supplies it."""
    wire: PriceWire = _parse(raw, PriceWire, "/api/v3/ticker/price")
    return PriceQuote(wire.symbol, wire.price, as_of_ms)


def parse_price_quotes(raw: Any, as_of_ms: int) -> list[PriceQuote]:
    """``GET /api/v3/ticker/price`` with ``symbols`` or none: an array, in the exchange's order."""
    quotes = _quick_price_quotes(raw, as_of_ms)
    if quotes is not None:
        return quotes
    wires: list[PriceWire] = _parse(raw, list[PriceWire], "/api/v3/ticker/price")
    _remember_symbols(raw, wires)
    return [PriceQuote(w.symbol, w.price, as_of_ms) for w in wires]


def parse_ticker_24h(raw: Any) -> Ticker24h:
    """``GET /api/v3/ticker/24hr?symbol=``, type FULL or MINI.

    A MINI ticker (none of priceChange, priceChangePercent, weightedAvgPrice, prevClosePrice, lastQty,
    bidPrice, bidQty, askPrice, askQty present) is completed so that it fits ``Ticker24h``:
    ``price_change = last - open``; ``price_change_percent`` that change over open, in percent, to 3 places;
    ``weighted_avg_price = quoteVolume / volume`` to 8 places (0 without volume); ``prev_close_price``,
    ``last_qty`` and the bid and ask fields, which a MINI ticker does not carry, are 0, Binance's own "none".
    A body with only some of those fields is a FULL ticker with fields missing, and is refused.
    """
    result: Ticker24h = _parse(raw, Ticker24h, "/api/v3/ticker/24hr")
    return result


def parse_tickers_24h(raw: Any) -> list[Ticker24h]:
    """``GET /api/v3/ticker/24hr`` with ``symbols`` or none: an array of FULL or MINI tickers."""
    result: list[Ticker24h] = _parse(raw, list[Ticker24h], "/api/v3/ticker/24hr")
    return result


def parse_book_ticker(raw: Any, as_of_ms: int) -> BookTicker:
    """``GET /api/v3/ticker/bookTicker?symbol=``. REST sends neither a time nor an update id."""
    wire: BookTickerWire = _parse(raw, BookTickerWire, "/api/v3/ticker/bookTicker")
    return BookTicker(wire.symbol, wire.bid_price, wire.bid_qty, wire.ask_price, wire.ask_qty, as_of_ms)


def parse_book_tickers(raw: Any, as_of_ms: int) -> list[BookTicker]:
    """``GET /api/v3/ticker/bookTicker`` with ``symbols`` or none: an array."""
    wires: list[BookTickerWire] = _parse(raw, list[BookTickerWire], "/api/v3/ticker/bookTicker")
    return [BookTicker(w.symbol, w.bid_price, w.bid_qty, w.ask_price, w.ask_qty, as_of_ms) for w in wires]


def parse_klines(raw: Any, symbol: Symbol, interval: Interval) -> Sequence[Kline]:
    """``GET /api/v3/klines`` or ``uiKlines``: arrays of 12 items, oldest first, of ``symbol``, ``interval``.

    Any bad item refuses the whole page: a page with a hole in it would be stored as a gap.
    """
    klines = build_klines(raw, symbol, interval) if isinstance(raw, list) else None
    if klines is not None:
        return klines
    klines, problems = check_rows(raw, symbol, interval)
    if problems:
        raise _malformed("/api/v3/klines", problems, raw)
    return klines


def read_klines(body: bytes, endpoint: str, symbol: Symbol, interval: Interval) -> Sequence[Kline]:
    """A kline answer's body decoded and checked (``parse_klines``) with the cyclic garbage collector paused.

    Decoding a page of 1,000 candles makes 1,000 lists, and every 700 new container objects start a
    collection, which then walks the page being decoded and moves it to an older generation, to be walked
    again there. The lists hold only text and numbers and are gone when the page is built, so they can be in
    no cycle (over a year's backfill the collections cost 0.5 s of CPU: docs/benchmarks.md). The collector is
    paused only if it is running, and runs again afterwards; a cycle made meanwhile, anywhere, is collected
    then.
    """
    running = gc.isenabled()
    if running:
        gc.disable()
    try:
        return parse_klines(loads(body, endpoint), symbol, interval)
    finally:
        if running:
            gc.enable()


def _quick_balances(raw: Any) -> tuple[Balance, ...] | None:
    """The usual ``balances`` read directly: objects whose ``asset`` is text and whose ``free`` and
    ``locked`` are finite decimal strings, unknown keys ignored, as the converter does. ``None`` when anything
    else is found: the converter then reads them, or says exactly what is wrong."""
    if type(raw) is not list:
        return None
    balances = []
    for item in raw:
        if type(item) is not dict:
            return None
        asset = item.get("asset")
        free, locked = _finite_decimal(item.get("free")), _finite_decimal(item.get("locked"))
        if type(asset) is not str or free is None or locked is None:
            return None
        balances.append(Balance(asset, free, locked))
    return tuple(balances)


def parse_account_info(raw: Any) -> AccountInfo:
    """``GET /api/v3/account``; the legacy integer ``makerCommission`` and kin are ignored.

    The balances, most of the body, are read directly when they have the usual shape; the converter reads
    the rest. Anything unusual is left to the converter whole, so a refusal quotes the body as it came.
    """
    if type(raw) is dict:
        balances = _quick_balances(raw.get("balances"))
        if balances:
            try:
                rest: AccountInfo = _parse({**raw, "balances": []}, AccountInfo, "/api/v3/account")
            except MalformedResponseError:
                pass  # read again whole below, for the message
            else:  # built directly: attrs.evolve looks the fields up on every call
                return AccountInfo(
                    rest.account_type,
                    rest.can_trade,
                    rest.can_withdraw,
                    rest.can_deposit,
                    rest.permissions,
                    rest.commission_rates,
                    rest.update_time_ms,
                    balances,
                    rest.uid,
                )
    result: AccountInfo = _parse(raw, AccountInfo, "/api/v3/account")
    return result


def parse_error_body(raw: Any) -> tuple[int, str] | None:
    """``(code, msg)`` of a Binance error body ``{"code": -1121, "msg": "Invalid symbol."}``, else None.

    A body with an integer ``code`` and no text ``msg`` gives ``(code, "")``: the code alone says enough.
    """
    if not isinstance(raw, Mapping):
        return None
    code, msg = raw.get("code"), raw.get("msg", "")
    if not isinstance(code, int) or isinstance(code, bool):
        return None
    return code, msg if isinstance(msg, str) else ""


def unstructure(obj: Any) -> Any:
    """A domain object (or a list of them) as JSON-able values: dicts, lists, text, ints, bools and None."""
    return converter.unstructure(obj)


def structure(data: Any, cl: type[T]) -> T:
    """The inverse of ``unstructure``; data that does not fit raises ``DataValidationError`` saying where."""
    try:
        return converter.structure(data, cl)
    except Exception as exc:  # cattrs raises exception groups of any of its hooks' errors
        problems = describe(exc, names={})
        name = getattr(cl, "__name__", str(cl))
        message = f"stored {name} is not valid: {'; '.join(problems[:_MAX_PROBLEMS])}"
        raise DataValidationError(message) from exc
