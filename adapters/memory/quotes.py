"""Domain objects from the simulated market: klines, price quotes, book tickers and 24h statistics."""

from __future__ import annotations

from decimal import Decimal

from adapters.memory.market import SymbolMarket
from domain import BookTicker, Interval, Kline, PriceQuote, Ticker24h

__all__ = ["book_ticker", "klines", "price_quote", "ticker_24h"]

_DAY_MS = 86_400_000
_HOUR = Interval.HOUR_1
_HOUR_MS = 3_600_000
_PERCENT_PLACES = Decimal("0.001")


def klines(market: SymbolMarket, interval: Interval, open_times: list[int], now_ms: int) -> list[Kline]:
    """The candles opening at ``open_times`` (consecutive, oldest first); the newest may still be open."""
    raw = market.candles(interval, open_times, now_ms)
    tick, quantum, quote_unit = market.spec.tick_size, market.quantum, market.quote_unit
    symbol = market.spec.symbol
    # Built column by column: a 1000-candle page is on the hot path of every backfill.
    prices = [Decimal(p) * tick for p in raw.prices]
    highs = [Decimal(p) * tick for p in raw.highs]
    lows = [Decimal(p) * tick for p in raw.lows]
    volumes = [Decimal(v) * quantum for v in raw.volumes]
    takers = [Decimal(v) * quantum for v in raw.taker_volumes]
    quotes = [Decimal(v) * quote_unit for v in raw.quote_volumes]
    taker_quotes = [Decimal(v) * quote_unit for v in raw.taker_quote_volumes]
    if interval.is_calendar:
        close_times = [interval.close_time_ms(t) for t in open_times]
    else:
        length = interval.duration_ms - 1
        close_times = [t + length for t in open_times]
    return [
        Kline(symbol, interval, *candle)
        for candle in zip(
            open_times, prices[:-1], highs, lows, prices[1:], volumes, close_times, quotes, raw.trades,
            takers, taker_quotes, strict=True,
        )
    ]


def price_quote(market: SymbolMarket, now_ms: int) -> PriceQuote:
    """The last price: the close of every candle open at ``now_ms``."""
    (ticks,) = market.price_ticks([now_ms])
    return PriceQuote(market.spec.symbol, Decimal(ticks) * market.spec.tick_size, now_ms)


def _book(market: SymbolMarket, now_ms: int) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    (last,) = market.price_ticks([now_ms])
    below, above, bid_steps, ask_steps = market.book_offsets(now_ms)
    bid = max(1, last - below)
    tick, step = market.spec.tick_size, market.spec.step_size
    ask = last + above
    return Decimal(bid) * tick, Decimal(bid_steps) * step, Decimal(ask) * tick, Decimal(ask_steps) * step


def book_ticker(market: SymbolMarket, now_ms: int) -> BookTicker:
    """Best bid and ask around the last price (the last trade lies between them)."""
    bid, bid_qty, ask, ask_qty = _book(market, now_ms)
    return BookTicker(market.spec.symbol, bid, bid_qty, ask, ask_qty, now_ms)


def ticker_24h(market: SymbolMarket, now_ms: int) -> Ticker24h:
    """Rolling 24h statistics over ``[now - 24h, now]``, consistent with the klines of the same period.

    Open, last, volume, trade count and ids are exact. High and low cover the open, the last price and every
    whole 1h candle inside the window; the average price weighs each stretch between hour marks by its volume.
    """
    spec = market.spec
    start = max(now_ms - _DAY_MS, spec.listed_ms)
    hour_opens = [t for t in range(_HOUR.open_time_ms(start), now_ms, _HOUR_MS) if t >= start]
    bounds = [start, *(t for t in hour_opens if t > start), now_ms]
    prices = market.price_ticks(bounds)
    volumes, trade_ids = market.activity(bounds)
    whole_hours = [t for t in hour_opens if t + _HOUR_MS <= now_ms]
    hours = market.candles(_HOUR, whole_hours, now_ms)
    first, last = prices[0], prices[-1]
    high = max(first, last, *hours.highs)
    low = min(first, last, *hours.lows)
    volume = volumes[-1] - volumes[0]
    turnover = sum(
        (volumes[i + 1] - volumes[i]) * (prices[i] + prices[i + 1]) / 2 for i in range(len(bounds) - 1)
    )
    average = min(high, max(low, round(turnover / volume))) if volume else last
    count = trade_ids[-1] - trade_ids[0]
    tick, quantum = spec.tick_size, market.quantum
    open_price, last_price = Decimal(first) * tick, Decimal(last) * tick
    bid, bid_qty, ask, ask_qty = _book(market, now_ms)
    change = last_price - open_price
    quote_units = round(turnover * float(quantum * tick / market.quote_unit))
    return Ticker24h(
        symbol=spec.symbol,
        price_change=change,
        price_change_percent=(change * 100 / open_price).quantize(_PERCENT_PLACES),
        weighted_avg_price=Decimal(average) * tick,
        prev_close_price=open_price,
        last_price=last_price,
        last_qty=Decimal(1 + (market.book_offsets(now_ms)[2] % 97)) * spec.step_size,
        bid_price=bid,
        bid_qty=bid_qty,
        ask_price=ask,
        ask_qty=ask_qty,
        open_price=open_price,
        high_price=Decimal(high) * tick,
        low_price=Decimal(low) * tick,
        volume=Decimal(volume) * quantum,
        quote_volume=Decimal(quote_units) * market.quote_unit,
        open_time_ms=start,
        close_time_ms=now_ms,
        first_trade_id=trade_ids[0] if count else -1,
        last_trade_id=trade_ids[-1] - 1 if count else -1,
        trade_count=count,
    )
