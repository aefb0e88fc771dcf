"""Domain objects to table rows and back, the same columns in every SQL store.

Times are integer epoch milliseconds everywhere. Decimals and flags travel as each database wants them, as
a ``Codec`` says: SQLite stores a decimal as the exact text ``str(Decimal)`` writes and a flag as 0 or 1,
PostgreSQL's driver moves ``Decimal`` to and from ``NUMERIC`` and ``bool`` to ``BOOLEAN`` itself.
"""

from __future__ import annotations

import itertools
import json
import operator
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

import attrs

from domain import (
    AccountInfo,
    Balance,
    CommissionRates,
    DataKind,
    Interval,
    Kline,
    KlinePage,
    PriceQuote,
    RejectionCount,
    Symbol,
    Ticker24h,
)
from domain.storage import KLINE_FIELDS
from domain.validators import Reason

__all__ = [
    "KLINE_COLUMNS",
    "KLINE_SELECT",
    "KLINE_VALUES",
    "NO_UID",
    "QUOTE_COLUMNS",
    "REJECTION_COLUMNS",
    "TICKER_COLUMNS",
    "Codec",
    "Row",
    "account_row",
    "accounts_from_rows",
    "balance_rows",
    "by_series",
    "kline_values",
    "page_columns",
    "page_rows",
    "quote_row",
    "quotes_from_rows",
    "rejection_row",
    "rejections_from_rows",
    "ticker_row",
    "tickers_from_rows",
]

Row = Sequence[Any]

#: Stored in place of a missing uid, because a key column cannot be NULL.
NO_UID = -1


@attrs.frozen
class Codec:
    """How one database takes decimals and flags (``decimal_in``, ``flag_in``) and gives decimals back."""

    decimal_in: Callable[[Decimal], Any]
    decimal_out: Callable[[Any], Decimal]
    flag_in: Callable[[bool], Any]


# ---------------------------------------------------------------------------------------------- candles

#: A candle's stored fields: all of ``Kline``'s but the symbol and interval, which the series id stands for.
KLINE_VALUES = KLINE_FIELDS[2:]
#: The columns a candle is written to, in the order of ``kline_values`` after the series id.
KLINE_COLUMNS = ", ".join(("series_id", *KLINE_VALUES))
#: The columns read back, in the order ``Kline`` takes them after the symbol and interval.
KLINE_SELECT = ", ".join(KLINE_VALUES)
#: A candle's stored fields as a tuple, in ``KLINE_VALUES`` order.
kline_values = operator.attrgetter(*KLINE_VALUES)


def page_columns(series_id: int, page: KlinePage) -> tuple[Sequence[Any], ...]:
    """The columns of a page's rows, ``(series_id, *KLINE_VALUES)``: the decimals as the text ``str()`` writes
    for them (which SQLite stores and PostgreSQL's ``NUMERIC`` reads), no ``Kline`` made."""
    text = page.texts
    return (
        [series_id] * len(page),
        page.open_times_ms,
        text("open"),
        text("high"),
        text("low"),
        text("close"),
        text("volume"),
        page.close_times_ms,
        text("quote_volume"),
        page.trade_counts,
        text("taker_buy_base_volume"),
        text("taker_buy_quote_volume"),
        page.ignores,
    )


def page_rows(series_id: int, page: KlinePage) -> list[tuple[Any, ...]]:
    """The rows of a page, ``(series_id, *KLINE_VALUES)``, zipped from its columns (``page_columns``)."""
    return list(zip(*page_columns(series_id, page), strict=True))


def by_series(klines: Sequence[Kline]) -> list[tuple[tuple[Symbol, Interval], Sequence[Kline]]]:
    """Candles sorted by series (as ``validate_klines`` leaves them), grouped into one run per series."""
    if not klines:
        return []
    if isinstance(klines, KlinePage):  # one series; its candles are not made to look at two of them
        return [((klines.symbol, klines.interval), klines)]
    first, last = klines[0], klines[-1]
    if first.symbol == last.symbol and first.interval is last.interval:
        return [((first.symbol, first.interval), klines)]  # sorted by series, so all one series
    return [(key, list(group)) for key, group in itertools.groupby(klines, lambda k: (k.symbol, k.interval))]


# ---------------------------------------------------------------------------------------------- prices

QUOTE_COLUMNS = "symbol, as_of_ms, price"


def quote_row(quote: PriceQuote, codec: Codec) -> tuple[Any, ...]:
    return (quote.symbol.value, quote.as_of_ms, codec.decimal_in(quote.price))


def quotes_from_rows(symbol: Symbol, rows: Iterable[Row], codec: Codec) -> list[PriceQuote]:
    """``rows`` as (as_of_ms, price)."""
    decimal = codec.decimal_out
    return [PriceQuote(symbol, decimal(price), as_of_ms) for as_of_ms, price in rows]


# ------------------------------------------------------------------------------------- 24h statistics

_TICKER_FIELDS = (
    "symbol",
    "close_time_ms",
    "open_time_ms",
    "price_change",
    "price_change_percent",
    "weighted_avg_price",
    "prev_close_price",
    "last_price",
    "last_qty",
    "bid_price",
    "bid_qty",
    "ask_price",
    "ask_qty",
    "open_price",
    "high_price",
    "low_price",
    "volume",
    "quote_volume",
    "first_trade_id",
    "last_trade_id",
    "trade_count",
)
TICKER_COLUMNS = ", ".join(_TICKER_FIELDS)
_TICKER_DECIMALS = _TICKER_FIELDS[3:-3]
_ticker_decimals = operator.attrgetter(*_TICKER_DECIMALS)


def ticker_row(ticker: Ticker24h, codec: Codec) -> tuple[Any, ...]:
    return (
        ticker.symbol.value,
        ticker.close_time_ms,
        ticker.open_time_ms,
        *map(codec.decimal_in, _ticker_decimals(ticker)),
        ticker.first_trade_id,
        ticker.last_trade_id,
        ticker.trade_count,
    )


def tickers_from_rows(rows: Iterable[Row], codec: Codec) -> list[Ticker24h]:
    """``rows`` as ``ticker_row`` writes them (``TICKER_COLUMNS``)."""
    tickers = []
    for symbol, close_ms, open_ms, *rest in rows:
        decimals = dict(zip(_TICKER_DECIMALS, map(codec.decimal_out, rest), strict=False))
        first_id, last_id, count = rest[len(_TICKER_DECIMALS) :]
        tickers.append(
            Ticker24h(
                symbol=Symbol(symbol),
                open_time_ms=open_ms,
                close_time_ms=close_ms,
                first_trade_id=first_id,
                last_trade_id=last_id,
                trade_count=count,
                **decimals,
            )
        )
    return tickers


# ---------------------------------------------------------------------------------------------- accounts


def account_row(info: AccountInfo, codec: Codec) -> tuple[Any, ...]:
    """The ``account_snapshots`` row, in table order; its first two values are the key (uid, update time)."""
    rates = info.commission_rates
    return (
        NO_UID if info.uid is None else info.uid,
        info.update_time_ms,
        info.account_type,
        codec.flag_in(info.can_trade),
        codec.flag_in(info.can_withdraw),
        codec.flag_in(info.can_deposit),
        json.dumps(list(info.permissions)),
        *map(codec.decimal_in, (rates.maker, rates.taker, rates.buyer, rates.seller)),
    )


def balance_rows(info: AccountInfo, codec: Codec) -> list[tuple[Any, ...]]:
    """The ``account_balances`` rows, in table order, numbered in the order the exchange listed them."""
    uid = NO_UID if info.uid is None else info.uid
    decimal = codec.decimal_in
    return [
        (uid, info.update_time_ms, position, b.asset, decimal(b.free), decimal(b.locked))
        for position, b in enumerate(info.balances)
    ]


def account_from_rows(row: Row, balances: Iterable[Row], codec: Codec) -> AccountInfo:
    """``row`` as ``account_row`` writes it; ``balances`` as (asset, free, locked) in position order."""
    uid, update_ms, account_type, trade, withdraw, deposit, permissions, *rates = row
    decimal = codec.decimal_out
    return AccountInfo(
        account_type=account_type,
        can_trade=bool(trade),
        can_withdraw=bool(withdraw),
        can_deposit=bool(deposit),
        permissions=tuple(json.loads(permissions)),
        commission_rates=CommissionRates(*map(decimal, rates)),
        update_time_ms=update_ms,
        balances=tuple(Balance(asset, decimal(free), decimal(locked)) for asset, free, locked in balances),
        uid=None if uid == NO_UID else uid,
    )


def accounts_from_rows(snapshots: Iterable[Row], balances: Iterable[Row], codec: Codec) -> list[AccountInfo]:
    """``snapshots`` as ``account_row`` writes them; ``balances`` as (update time, uid, asset, free, locked),
    ordered by update time, uid and position."""
    by_key = {
        key: [row[2:] for row in group] for key, group in itertools.groupby(balances, lambda r: (r[0], r[1]))
    }
    return [account_from_rows(row, by_key.get((row[1], row[0]), []), codec) for row in snapshots]


# ---------------------------------------------------------------------------------------------- rejections

REJECTION_COLUMNS = 'kind, symbol, "interval", reason, count, last_seen_ms, last_message'


def rejection_row(rejection: RejectionCount) -> tuple[Any, ...]:
    """In ``REJECTION_COLUMNS`` order; a symbol or interval that does not apply is stored as ''."""
    return (
        rejection.kind.value,
        rejection.symbol.value if rejection.symbol is not None else "",
        rejection.interval.value if rejection.interval is not None else "",
        rejection.reason.value,
        rejection.count,
        rejection.last_seen_ms,
        rejection.last_message,
    )


def rejections_from_rows(rows: Iterable[Row]) -> list[RejectionCount]:
    return [
        RejectionCount(
            DataKind(kind),
            Symbol(symbol) if symbol else None,
            Interval(interval) if interval else None,
            Reason(reason),
            int(count),
            int(seen),
            message,
        )
        for kind, symbol, interval, reason, count, seen, message in rows
    ]
