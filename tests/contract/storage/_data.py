"""Valid market data for the storage tests, with decimals of awkward scales to prove exact storage."""

from __future__ import annotations

from decimal import Decimal

from domain import AccountInfo, Balance, CommissionRates, Interval, Kline, PriceQuote, Symbol, Ticker24h

#: 2026-01-01T00:00:00Z, the tests' "now" (exchange time).
NOW_MS = 1_767_225_600_000
BTC = Symbol("BTCUSDT")
ETH = Symbol("ETHUSDT")
M1 = Interval.MINUTE_1
#: A minute open well before NOW_MS.
T0 = M1.open_time_ms(NOW_MS - 86_400_000)


def candle(
    open_time_ms: int,
    *,
    symbol: Symbol = BTC,
    interval: Interval = M1,
    close: Decimal = Decimal("42000.01000000"),
    volume: Decimal = Decimal("0.00012300"),
) -> Kline:
    return Kline(
        symbol=symbol,
        interval=interval,
        open_time_ms=open_time_ms,
        open=close - Decimal("0.5"),
        high=close + Decimal("1.00000001"),
        low=close - Decimal("2"),
        close=close,
        volume=volume,
        close_time_ms=interval.close_time_ms(open_time_ms),
        quote_volume=(volume * close).quantize(Decimal("0.00000001")),
        trade_count=17,
        taker_buy_base_volume=volume / 2,
        taker_buy_quote_volume=Decimal("123456789012345678901234.5"),
    )


def candles(count: int, start_ms: int = T0, **fields: object) -> list[Kline]:
    """``count`` consecutive candles of one series from ``start_ms``."""
    interval = fields.get("interval", M1)
    assert isinstance(interval, Interval)
    out, cursor = [], start_ms
    for _ in range(count):
        out.append(candle(cursor, **fields))  # type: ignore[arg-type]
        cursor = interval.next_open_ms(cursor)
    return out


def minutes(*indexes: int) -> list[Kline]:
    """Candles at the given minute offsets from ``T0``."""
    return [candle(T0 + i * 60_000) for i in indexes]


def with_close(kline: Kline, close: Decimal) -> Kline:
    """The same key with other values (a later, corrected version of the candle)."""
    return candle(kline.open_time_ms, symbol=kline.symbol, interval=kline.interval, close=close)


def quote(symbol: Symbol, as_of_ms: int, price: str) -> PriceQuote:
    return PriceQuote(symbol, Decimal(price), as_of_ms)


def ticker(symbol: Symbol, close_time_ms: int, last: str = "42000.10") -> Ticker24h:
    last_price = Decimal(last)
    return Ticker24h(
        symbol=symbol,
        price_change=Decimal("-12.50000000"),
        price_change_percent=Decimal("-0.030"),
        weighted_avg_price=Decimal("41990.12345678"),
        prev_close_price=Decimal("42012.60"),
        last_price=last_price,
        last_qty=Decimal("0.00100000"),
        bid_price=last_price - Decimal("0.01"),
        bid_qty=Decimal("1.5"),
        ask_price=last_price,
        ask_qty=Decimal("2.25"),
        open_price=Decimal("42012.60"),
        high_price=last_price + 100,
        low_price=last_price - 100,
        volume=Decimal("12345.67800000"),
        quote_volume=Decimal("518000000.12345678"),
        open_time_ms=close_time_ms - 86_400_000,
        close_time_ms=close_time_ms,
        first_trade_id=1,
        last_trade_id=2**40,
        trade_count=2**40,
    )


def account(update_time_ms: int, *, uid: int | None = 424242, usdt: str = "1000.00000000") -> AccountInfo:
    return AccountInfo(
        account_type="SPOT",
        can_trade=True,
        can_withdraw=False,
        can_deposit=True,
        permissions=("SPOT", "TRD_GRP_005"),
        commission_rates=CommissionRates(
            Decimal("0.00100000"), Decimal("0.001"), Decimal(0), Decimal("0E-8")
        ),
        update_time_ms=update_time_ms,
        balances=(
            Balance("USDT", Decimal(usdt), Decimal("0.00000000")),
            Balance("BTC", Decimal("0.00000001"), Decimal("0.5")),
            Balance("这是测试币", Decimal("7"), Decimal("0")),
        ),
        uid=uid,
    )
