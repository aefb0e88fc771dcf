"""Domain objects to PostgreSQL rows and back; psycopg moves ``Decimal`` to and from ``NUMERIC`` itself."""

from __future__ import annotations

import json
import operator
from collections.abc import Iterable, Sequence
from typing import Any

from domain import AccountInfo, Balance, CommissionRates, Interval, Kline, Symbol, Ticker24h

__all__ = [
    "KLINE_COLUMNS",
    "KLINE_SELECT",
    "NO_UID",
    "TICKER_COLUMNS",
    "account_from_rows",
    "account_row",
    "balance_rows",
    "kline_rows",
    "klines_from_rows",
    "ticker_from_row",
    "ticker_row",
]

#: Stored in place of a missing uid, because a key column cannot be NULL.
NO_UID = -1

KLINE_COLUMNS = (
    "series_id, open_time_ms, close_time_ms, open, high, low, close, volume, quote_volume, trade_count, "
    "taker_buy_base_volume, taker_buy_quote_volume, ignore"
)
#: The columns in the order of ``Kline``'s fields after symbol and interval.
KLINE_SELECT = (
    "open_time_ms, open, high, low, close, volume, close_time_ms, quote_volume, trade_count, "
    "taker_buy_base_volume, taker_buy_quote_volume, ignore"
)

_KLINE_FIELDS = operator.attrgetter(
    "open_time_ms",
    "close_time_ms",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "quote_volume",
    "trade_count",
    "taker_buy_base_volume",
    "taker_buy_quote_volume",
    "ignore",
)


def kline_rows(series_id: int, klines: Iterable[Kline]) -> list[tuple[Any, ...]]:
    return [(series_id, *_KLINE_FIELDS(kline)) for kline in klines]


def klines_from_rows(symbol: Symbol, interval: Interval, rows: Iterable[Sequence[Any]]) -> list[Kline]:
    return [Kline(symbol, interval, *row) for row in rows]


TICKER_COLUMNS = (
    "symbol, close_time_ms, open_time_ms, price_change, price_change_percent, weighted_avg_price, "
    "prev_close_price, last_price, last_qty, bid_price, bid_qty, ask_price, ask_qty, open_price, high_price, "
    "low_price, volume, quote_volume, first_trade_id, last_trade_id, trade_count"
)
_TICKER_FIELDS = tuple(name.strip() for name in TICKER_COLUMNS.split(","))


def ticker_row(ticker: Ticker24h) -> tuple[Any, ...]:
    return (ticker.symbol.value, *(getattr(ticker, name) for name in _TICKER_FIELDS[1:]))


def ticker_from_row(row: Sequence[Any]) -> Ticker24h:
    values = dict(zip(_TICKER_FIELDS, row, strict=True))
    values["symbol"] = Symbol(values["symbol"])
    return Ticker24h(**values)


def account_row(info: AccountInfo) -> tuple[Any, ...]:
    rates = info.commission_rates
    return (
        NO_UID if info.uid is None else info.uid,
        info.update_time_ms,
        info.account_type,
        info.can_trade,
        info.can_withdraw,
        info.can_deposit,
        json.dumps(list(info.permissions)),
        rates.maker,
        rates.taker,
        rates.buyer,
        rates.seller,
    )


def balance_rows(info: AccountInfo) -> list[tuple[Any, ...]]:
    uid = NO_UID if info.uid is None else info.uid
    return [
        (uid, info.update_time_ms, position, b.asset, b.free, b.locked)
        for position, b in enumerate(info.balances)
    ]


def account_from_rows(row: Sequence[Any], balances: Iterable[Sequence[Any]]) -> AccountInfo:
    """``row`` as ``account_row`` writes it; ``balances`` as (asset, free, locked) in position order."""
    uid, update_ms, account_type, trade, withdraw, deposit, permissions, maker, taker, buyer, seller = row
    return AccountInfo(
        account_type=account_type,
        can_trade=trade,
        can_withdraw=withdraw,
        can_deposit=deposit,
        permissions=tuple(json.loads(permissions)),
        commission_rates=CommissionRates(maker, taker, buyer, seller),
        update_time_ms=update_ms,
        balances=tuple(Balance(asset, free, locked) for asset, free, locked in balances),
        uid=None if uid == NO_UID else uid,
    )
