"""Domain objects to SQLite rows and back: decimals as exact TEXT, times as INTEGER milliseconds.

The kline converters are the hot path of a backfill, so they unpack with one ``attrgetter`` call and build
plain tuples for ``executemany``; everything else favours clarity.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from domain import AccountInfo, Balance, CommissionRates, Interval, Kline, PriceQuote, Symbol, Ticker24h

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
    "quote_row",
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
    rows: list[tuple[Any, ...]] = []
    append = rows.append
    for kline in klines:
        ot, ct, o, h, lo, c, v, qv, n, tb, tq, ig = _KLINE_FIELDS(kline)
        append((series_id, ot, ct, str(o), str(h), str(lo), str(c), str(v), str(qv), n, str(tb), str(tq), ig))
    return rows


def klines_from_rows(symbol: Symbol, interval: Interval, rows: Iterable[Sequence[Any]]) -> list[Kline]:
    dec = Decimal
    return [
        Kline(
            symbol,
            interval,
            ot,
            dec(o),
            dec(h),
            dec(lo),
            dec(c),
            dec(v),
            ct,
            dec(qv),
            n,
            dec(tb),
            dec(tq),
            ig,
        )
        for ot, o, h, lo, c, v, ct, qv, n, tb, tq, ig in rows
    ]


TICKER_COLUMNS = (
    "symbol, close_time_ms, open_time_ms, price_change, price_change_percent, weighted_avg_price, "
    "prev_close_price, last_price, last_qty, bid_price, bid_qty, ask_price, ask_qty, open_price, high_price, "
    "low_price, volume, quote_volume, first_trade_id, last_trade_id, trade_count"
)

_TICKER_DECIMALS = (
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
)


def ticker_row(ticker: Ticker24h) -> tuple[Any, ...]:
    decimals = tuple(str(getattr(ticker, name)) for name in _TICKER_DECIMALS)
    return (
        ticker.symbol.value,
        ticker.close_time_ms,
        ticker.open_time_ms,
        *decimals,
        ticker.first_trade_id,
        ticker.last_trade_id,
        ticker.trade_count,
    )


def ticker_from_row(row: Sequence[Any]) -> Ticker24h:
    symbol, close_ms, open_ms, *rest = row
    decimals = {name: Decimal(text) for name, text in zip(_TICKER_DECIMALS, rest, strict=False)}
    first_id, last_id, count = rest[len(_TICKER_DECIMALS) :]
    return Ticker24h(
        symbol=Symbol(symbol),
        open_time_ms=open_ms,
        close_time_ms=close_ms,
        first_trade_id=first_id,
        last_trade_id=last_id,
        trade_count=count,
        **decimals,
    )


def quote_row(quote: PriceQuote) -> tuple[Any, ...]:
    return (quote.symbol.value, quote.as_of_ms, str(quote.price))


def account_row(info: AccountInfo) -> tuple[Any, ...]:
    rates = info.commission_rates
    return (
        NO_UID if info.uid is None else info.uid,
        info.update_time_ms,
        info.account_type,
        int(info.can_trade),
        int(info.can_withdraw),
        int(info.can_deposit),
        json.dumps(list(info.permissions)),
        str(rates.maker),
        str(rates.taker),
        str(rates.buyer),
        str(rates.seller),
    )


def balance_rows(info: AccountInfo) -> list[tuple[Any, ...]]:
    uid = NO_UID if info.uid is None else info.uid
    return [
        (uid, info.update_time_ms, position, b.asset, str(b.free), str(b.locked))
        for position, b in enumerate(info.balances)
    ]


def account_from_rows(row: Sequence[Any], balances: Iterable[Sequence[Any]]) -> AccountInfo:
    """``row`` as ``account_row`` writes it; ``balances`` as (asset, free, locked) in position order."""
    uid, update_ms, account_type, trade, withdraw, deposit, permissions, maker, taker, buyer, seller = row
    return AccountInfo(
        account_type=account_type,
        can_trade=bool(trade),
        can_withdraw=bool(withdraw),
        can_deposit=bool(deposit),
        permissions=tuple(json.loads(permissions)),
        commission_rates=CommissionRates(Decimal(maker), Decimal(taker), Decimal(buyer), Decimal(seller)),
        update_time_ms=update_ms,
        balances=tuple(Balance(asset, Decimal(free), Decimal(locked)) for asset, free, locked in balances),
        uid=None if uid == NO_UID else uid,
    )
