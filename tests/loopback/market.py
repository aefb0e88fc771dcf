"""Deterministic market data: the same seed always gives the same prices, candles, tickers and books.

Each symbol's log-price is a mean-reverting daily random walk, refined lazily by Brownian bridges from days to
hours, hours to minutes and minutes to seconds. Every block is generated from its own seed, so any past window
can be produced in O(window) without storing history; a 1000-candle page costs a few milliseconds, and
rendered one-minute hours are cached.
Consecutive candles share their boundary price (close == next open) at every interval.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import random
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, TypeVar

from tests.loopback.intervals import DAY, HOUR, MINUTE, SECOND, Interval
from tests.loopback.symbols import BREAK, SymbolCatalogue, SymbolSpec, number_format

_MASK = (1 << 64) - 1
_SQRT12 = math.sqrt(12.0)
_MEAN_REVERSION = 0.02  # keeps a decade-long walk within a sensible band around the base price
_BLOCK_CACHE = 20_000
_T = TypeVar("_T")


def _mix64(x: int) -> int:
    """SplitMix64's finaliser: a cheap, well-spread hash of a 64-bit integer."""
    x &= _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def _seed_key(seed: int, name: str) -> int:
    return int.from_bytes(hashlib.blake2b(f"{seed}:{name}".encode(), digest_size=8).digest(), "big")


def _bridge(rng: random.Random, a: float, b: float, steps: int, sigma: float) -> list[float]:
    """A random walk from a to b in `steps` steps (a Brownian bridge with uniform increments)."""
    scale = sigma * _SQRT12
    rnd = rng.random
    acc = 0.0
    walk = [0.0]
    for _ in range(steps):
        acc += (rnd() - 0.5) * scale
        walk.append(acc)
    slope = (b - a - acc) / steps
    return [a + w + slope * i for i, w in enumerate(walk)]


def _evict(cache: dict[int, _T]) -> None:
    if len(cache) > _BLOCK_CACHE:
        # A test thread may read series while the server thread serves; a lost race skips one eviction.
        with contextlib.suppress(KeyError, RuntimeError, StopIteration):
            del cache[next(iter(cache))]


class PricePath:
    """The price of one symbol at any whole second."""

    def __init__(self, key: int, spec: SymbolSpec) -> None:
        self.key = key
        self._day0 = spec.listed_ms // DAY
        self._mu = math.log(spec.price)
        self._sigma = spec.daily_sigma
        self._s_hour = spec.daily_sigma / math.sqrt(24)
        self._s_min = spec.daily_sigma / math.sqrt(24 * 60)
        self._s_sec = spec.daily_sigma / math.sqrt(24 * 3600)
        self._days = [self._mu]
        self._walk = random.Random(key)
        self._hours: dict[int, list[float]] = {}
        self._minutes: dict[int, tuple[list[float], list[float], list[float]]] = {}
        self._seconds: dict[int, list[float]] = {}
        self._lock = threading.Lock()

    def _rng(self, level: int, index: int) -> random.Random:
        return random.Random(_mix64(self.key ^ _mix64((level << 56) ^ (index & 0xFFFFFFFFFFFFFF))))

    def day_log(self, day: int) -> float:
        i = day - self._day0
        if i <= 0:
            return self._days[0]
        days = self._days
        if i >= len(days):
            with self._lock:
                x = days[-1]
                while len(days) <= i:
                    x += _MEAN_REVERSION * (self._mu - x) + self._walk.gauss(0.0, self._sigma)
                    days.append(x)
        return days[i]

    def hour_logs(self, day: int) -> list[float]:
        block = self._hours.get(day)
        if block is None:
            block = _bridge(self._rng(1, day), self.day_log(day), self.day_log(day + 1), 24, self._s_hour)
            self._hours[day] = block
            _evict(self._hours)
        return block

    def minute_block(self, hour: int) -> tuple[list[float], list[float], list[float]]:
        """(61 log-prices, 61 prices, 240 uniforms for the hour's 60 one-minute candles)."""
        block = self._minutes.get(hour)
        if block is None:
            day, h = divmod(hour, 24)
            hours = self.hour_logs(day)
            rng = self._rng(2, hour)
            logs = _bridge(rng, hours[h], hours[h + 1], 60, self._s_min)
            rnd = rng.random
            block = (logs, [math.exp(x) for x in logs], [rnd() for _ in range(240)])
            self._minutes[hour] = block
            _evict(self._minutes)
        return block

    def second_prices(self, minute: int) -> list[float]:
        block = self._seconds.get(minute)
        if block is None:
            hour, m = divmod(minute, 60)
            logs = self.minute_block(hour)[0]
            block = [
                math.exp(x) for x in _bridge(self._rng(3, minute), logs[m], logs[m + 1], 60, self._s_sec)
            ]
            self._seconds[minute] = block
            _evict(self._seconds)
        return block

    def price_at(self, t: int) -> float:
        t -= t % SECOND
        if t % MINUTE:
            minute, rest = divmod(t, MINUTE)
            return self.second_prices(minute)[rest // SECOND]
        if t % HOUR:
            hour, rest = divmod(t, HOUR)
            return self.minute_block(hour)[1][rest // MINUTE]
        if t % DAY:
            day, rest = divmod(t, DAY)
            return math.exp(self.hour_logs(day)[rest // HOUR])
        return math.exp(self.day_log(t // DAY))


def _inner_step(duration: int) -> int:
    """Step of the anchors inside a candle that its high and low must cover (0: none; cheap levels only)."""
    if duration >= 2 * DAY:
        return DAY
    if duration > HOUR:
        return HOUR
    return 0


def _inner_log_range(path: PricePath, t0: int, end: int, step: int) -> tuple[float, float] | None:
    """(max, min) of the log-price anchors at multiples of `step` strictly inside (t0, end)."""
    t = t0 + step - t0 % step
    if t >= end:
        return None
    if step == DAY:
        logs = [path.day_log(d) for d in range(t // DAY, (end - 1) // DAY + 1)]
        return max(logs), min(logs)
    hi, lo = -math.inf, math.inf
    while t < end:
        day = t // DAY
        first = (t - day * DAY) // HOUR
        stop = min(24, -(-(end - day * DAY) // HOUR))
        segment = path.hour_logs(day)[first:stop]
        hi, lo = max(hi, *segment), min(lo, *segment)
        t = (day + 1) * DAY
    return hi, lo


class _HourRows:
    """Rendered rows of closed one-minute candles, one joined string per hour, bounded in bytes (LRU).

    Closed candles never change, so a year's backfill re-run (or a prewarmed range) costs only slicing.
    """

    def __init__(self, max_bytes: int) -> None:
        self._max = max_bytes
        self._size = 0
        self._blocks: OrderedDict[tuple[str, int], tuple[str, list[int]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, int]) -> tuple[str, list[int]] | None:
        with self._lock:
            block = self._blocks.get(key)
            if block is not None:
                self._blocks.move_to_end(key)
            return block

    def put(self, key: tuple[str, int], block: tuple[str, list[int]]) -> None:
        size = len(block[0])
        if size > self._max:
            return
        with self._lock:
            if key in self._blocks:
                return
            self._blocks[key] = block
            self._size += size
            while self._size > self._max:
                _, (old, _) = self._blocks.popitem(last=False)
                self._size -= len(old)


class _SymbolMarket:
    """Formatting and derived figures for one symbol."""

    def __init__(self, spec: SymbolSpec, key: int) -> None:
        self.spec = spec
        self.path = PricePath(key, spec)
        self.key = key
        self.pf = number_format(spec.tick_decimals)
        self.qf = number_format(spec.step_decimals)
        pf, qf = self.pf, self.qf
        self.row = f'[%d,"{pf}","{pf}","{pf}","{pf}","{qf}",%d,"%.8f",%d,"{qf}","%.8f","0"]'
        self.tick = spec.tick_value
        self.step = spec.step_value
        self.daily_volume = spec.daily_volume
        self.trades_per_unit = spec.daily_trades / spec.daily_volume

    def effective_now(self, now: int) -> int:
        until = self.spec.data_until_ms
        return now if until is None else min(now, until)

    def trade_id(self, t: int) -> int:
        return max(0, (t - self.spec.listed_ms)) * self.spec.daily_trades // DAY + 1


class Market:
    """All symbols' deterministic data for one seed."""

    def __init__(self, catalogue: SymbolCatalogue, seed: int = 0, row_cache_bytes: int = 256 << 20) -> None:
        self.catalogue = catalogue
        self.seed = seed
        self._symbols: dict[str, _SymbolMarket] = {}
        self._hour_rows = _HourRows(row_cache_bytes)
        self._lock = threading.Lock()

    def _of(self, spec: SymbolSpec) -> _SymbolMarket:
        market = self._symbols.get(spec.symbol)
        if market is None:
            with self._lock:
                market = self._symbols.get(spec.symbol)
                if market is None:
                    market = _SymbolMarket(spec, _seed_key(self.seed, spec.symbol))
                    self._symbols[spec.symbol] = market
        return market

    def spec(self, symbol: str) -> SymbolSpec:
        return self.catalogue.by_name[symbol]

    def price_at(self, symbol: str, t: int) -> float:
        """The raw (unrounded) price of `symbol` at epoch ms `t` (floored to the second)."""
        return self._of(self.spec(symbol)).path.price_at(t)

    # ---------------------------------------------------------------- klines

    def kline_open_times(
        self,
        spec: SymbolSpec,
        interval: Interval,
        *,
        start: int | None,
        end: int | None,
        limit: int,
        now: int,
        offset_ms: int = 0,
    ) -> Sequence[int]:
        data_now = self._of(spec).effective_now(now)
        first_open = interval.floor(spec.listed_ms, offset_ms)
        last_open = interval.floor(data_now - 1 if data_now < now else data_now, offset_ms)
        return interval.open_times(
            first_open=first_open, last_open=last_open, start=start, end=end, limit=limit, offset_ms=offset_ms
        )

    def klines_body(
        self,
        spec: SymbolSpec,
        interval: Interval,
        opens: Sequence[int],
        *,
        now: int,
        offset_ms: int = 0,
        time_mult: int = 1,
    ) -> bytes:
        if not opens:
            return b"[]"
        sm = self._of(spec)
        data_now = sm.effective_now(now)
        if interval.name == "1m" and isinstance(opens, range) and time_mult == 1:
            text = self._text_1m(sm, opens, data_now)
        else:
            text = ",".join(self._row(sm, interval, t0, data_now, offset_ms, time_mult) for t0 in opens)
        return ("[" + text + "]").encode()

    def prewarm(self, symbol: str, start: int, end: int, *, now: int) -> int:
        """Render the closed 1m candles of [start, end) ahead of a benchmark; returns the hours rendered."""
        sm = self._of(self.spec(symbol))
        data_now = sm.effective_now(now)
        hours = 0
        for hour in range(start // HOUR, -(-end // HOUR)):
            if (hour + 1) * HOUR <= data_now:
                self._hour_block(sm, hour)
                hours += 1
        return hours

    def series(self, symbol: str, interval: str, *, start: int, end: int, now: int) -> list[list[Any]]:
        """Every candle served with an open time in [start, end], across as many pages as that takes."""
        spec, ivl = self.spec(symbol), Interval(interval)
        out: list[list[Any]] = []
        cursor = start
        while True:
            opens = self.kline_open_times(spec, ivl, start=cursor, end=end, limit=1000, now=now)
            if not opens:
                return out
            out.extend(json.loads(self.klines_body(spec, ivl, opens, now=now)))
            cursor = ivl.next_open(opens[-1])

    def _text_1m(self, sm: _SymbolMarket, opens: range, now: int) -> str:
        """Rows for a run of one-minute candles, cut from cached hour blocks where the hour has closed."""
        parts: list[str] = []
        t, stop = opens.start, opens.stop
        while t < stop:
            hour = t // HOUR
            hour_end = (hour + 1) * HOUR
            upto = min(stop, hour_end)
            if hour_end <= now:
                text, offsets = self._hour_block(sm, hour)
                a, b = (t - hour * HOUR) // MINUTE, -(-(upto - hour * HOUR) // MINUTE)
                parts.append(text[offsets[a] : offsets[b] - 1])
            else:
                parts.append(",".join(self._rows_1m(sm, range(t, upto, MINUTE), now)))
            t = upto
        return ",".join(parts)

    def _hour_block(self, sm: _SymbolMarket, hour: int) -> tuple[str, list[int]]:
        key = (sm.spec.symbol, hour)
        block = self._hour_rows.get(key)
        if block is None:
            rows = self._rows_1m(sm, range(hour * HOUR, (hour + 1) * HOUR, MINUTE), (hour + 1) * HOUR)
            offsets = [0]
            for row in rows:
                offsets.append(offsets[-1] + len(row) + 1)
            block = (",".join(rows), offsets)
            self._hour_rows.put(key, block)
        return block

    def klines(
        self,
        symbol: str,
        interval: str,
        *,
        now: int,
        start: int | None = None,
        end: int | None = None,
        limit: int = 500,
    ) -> list[list[object]]:
        """The candles the klines endpoint would return, parsed: the reference series for tests."""
        spec, ivl = self.spec(symbol), Interval(interval)
        opens = self.kline_open_times(spec, ivl, start=start, end=end, limit=limit, now=now)
        parsed: list[list[object]] = json.loads(self.klines_body(spec, ivl, opens, now=now))
        return parsed

    def _rows_1m(self, sm: _SymbolMarket, opens: range, now: int, mult: int = 1) -> list[str]:
        """The hot path (backfills page through 1m candles): one block lookup per hour, no hashing."""
        rows: list[str] = []
        append = rows.append
        row, path = sm.row, sm.path
        vol_base = sm.daily_volume / 1440
        tpu = sm.trades_per_unit
        step = sm.step
        exc = 0.5 * sm.spec.daily_sigma / math.sqrt(1440)
        t, stop = opens.start, opens.stop
        while t < stop:
            base = t - t % HOUR
            _, prices, u = path.minute_block(base // HOUR)
            for m in range((t - base) // MINUTE, min(60, -(-(stop - base) // MINUTE))):
                t0 = base + m * MINUTE
                if t0 + MINUTE > now:
                    append(self._row(sm, Interval("1m"), t0, now, 0, mult))
                    continue
                o, c = prices[m], prices[m + 1]
                j = 4 * m
                h = (o if o > c else c) * (1.0 + exc * u[j])
                lo = (o if o < c else c) * (1.0 - exc * u[j + 1])
                vol = vol_base * (0.4 + 1.2 * u[j + 2]) + step  # never below one step
                taker = vol * (0.3 + 0.4 * u[j + 3])
                vwap = (o + h + lo + c) * 0.25
                trades = int(vol * tpu) or 1
                append(
                    row
                    % (
                        t0 * mult,
                        o,
                        h,
                        lo,
                        c,
                        vol,
                        (t0 + 59_999) * mult,
                        vol * vwap,
                        trades,
                        taker,
                        taker * vwap,
                    )
                )
            t = base + HOUR
        return rows

    def _row(
        self, sm: _SymbolMarket, interval: Interval, t0: int, now: int, offset_ms: int, mult: int
    ) -> str:
        path = sm.path
        t1 = interval.next_open(t0, offset_ms)
        duration = t1 - t0
        closed = t1 <= now
        end = t1 if closed else now
        o = path.price_at(t0)
        c = path.price_at(end)
        hi, lo = max(o, c), min(o, c)
        step = _inner_step(duration)
        if step:
            inner = _inner_log_range(path, t0, end, step)
            if inner is not None:
                hi, lo = max(hi, math.exp(inner[0])), min(lo, math.exp(inner[1]))
        r = _mix64(sm.key ^ _mix64(t0 ^ (duration << 20)))
        u1, u2 = (r & 0xFFFF) / 65536.0, ((r >> 16) & 0xFFFF) / 65536.0
        u3, u4 = ((r >> 32) & 0xFFFF) / 65536.0, ((r >> 48) & 0xFFFF) / 65536.0
        frac = 1.0 if closed else max(0.0, (now - t0) / duration)
        sig = 0.5 * sm.spec.daily_sigma * math.sqrt(duration / DAY)
        h = hi * (1.0 + sig * u1 * frac)
        low = lo * (1.0 - sig * u2 * frac)
        vol = max(sm.step, sm.daily_volume * duration / DAY * (0.4 + 1.2 * u3) * frac)
        taker = vol * (0.3 + 0.4 * u4)
        vwap = (o + h + low + c) * 0.25
        trades = max(1, int(vol * sm.trades_per_unit))
        return sm.row % (
            t0 * mult,
            o,
            h,
            low,
            c,
            vol,
            (t1 - 1) * mult,
            vol * vwap,
            trades,
            taker,
            taker * vwap,
        )

    # ---------------------------------------------------------------- tickers

    def _uniforms(self, sm: _SymbolMarket, salt: int, t: int) -> tuple[float, float, float, float]:
        r = _mix64(sm.key ^ _mix64((salt << 52) ^ t))
        return (
            (r & 0xFFFF) / 65536.0,
            ((r >> 16) & 0xFFFF) / 65536.0,
            ((r >> 32) & 0xFFFF) / 65536.0,
            ((r >> 48) & 0xFFFF) / 65536.0,
        )

    def last_price(self, spec: SymbolSpec, now: int) -> float:
        sm = self._of(spec)
        return sm.path.price_at(sm.effective_now(now))

    def price_text(self, spec: SymbolSpec, now: int) -> str:
        sm = self._of(spec)
        return sm.pf % sm.path.price_at(sm.effective_now(now))

    def book_top(self, spec: SymbolSpec, now: int) -> tuple[float, float, float, float]:
        """(bid price, bid qty, ask price, ask qty): one tick of spread around the last price."""
        sm = self._of(spec)
        t = sm.effective_now(now)
        bid_ticks = max(1, math.floor(sm.path.price_at(t) / sm.tick))
        u1, u2, _, _ = self._uniforms(sm, 1, t // SECOND)
        unit = max(sm.step, sm.daily_volume / 200_000)
        return (bid_ticks * sm.tick, unit * (1 + 40 * u1), (bid_ticks + 1) * sm.tick, unit * (1 + 40 * u2))

    def book_ticker(self, spec: SymbolSpec, now: int) -> dict[str, str]:
        sm = self._of(spec)
        bid, bid_qty, ask, ask_qty = self.book_top(spec, now)
        return {
            "symbol": spec.symbol,
            "bidPrice": sm.pf % bid,
            "bidQty": sm.qf % bid_qty,
            "askPrice": sm.pf % ask,
            "askQty": sm.qf % ask_qty,
        }

    def ticker_24h(
        self, spec: SymbolSpec, now: int, *, full: bool = True, time_mult: int = 1
    ) -> dict[str, object]:
        """A rolling 24-hour window ending now (frozen at the break for a symbol in BREAK)."""
        sm = self._of(spec)
        path, pf = sm.path, sm.pf
        close_time = sm.effective_now(now)
        open_time = close_time - DAY
        first = max(open_time, spec.listed_ms)
        o, last = path.price_at(first), path.price_at(close_time)
        hi, lo = max(o, last), min(o, last)
        t = first + HOUR - first % HOUR
        while t < close_time:
            p = path.price_at(t)
            hi, lo = max(hi, p), min(lo, p)
            t += HOUR
        u1, u2, u3, u4 = self._uniforms(sm, 2, close_time // MINUTE)
        sig = 0.3 * spec.daily_sigma
        hi, lo = hi * (1 + sig * u1), lo * (1 - sig * u2)
        traded = spec.status != BREAK or now < (spec.break_since_ms or now)
        volume = sm.daily_volume * (0.7 + 0.6 * u3) * min(1.0, (close_time - first) / DAY) if traded else 0.0
        vwap = (o + hi + lo + last) / 4
        first_id, last_id = (sm.trade_id(first), sm.trade_id(close_time)) if traded else (-1, -1)
        count = last_id - first_id + 1 if traded else 0
        out: dict[str, object] = {"symbol": spec.symbol}
        change_ticks = round(last / sm.tick) - round(o / sm.tick)
        bid, bid_qty, ask, ask_qty = self.book_top(spec, now)
        if full:
            out.update(
                {
                    "priceChange": pf % (change_ticks * sm.tick),
                    "priceChangePercent": f"{100 * (last - o) / o:.3f}",
                    "weightedAvgPrice": pf % vwap,
                    "prevClosePrice": pf % path.price_at(max(spec.listed_ms, first - SECOND)),
                    "lastPrice": pf % last,
                    "lastQty": sm.qf % max(sm.step, sm.daily_volume / 500_000 * (1 + 20 * u4)),
                    "bidPrice": pf % bid,
                    "bidQty": sm.qf % bid_qty,
                    "askPrice": pf % ask,
                    "askQty": sm.qf % ask_qty,
                }
            )
        out.update(
            {
                "openPrice": pf % o,
                "highPrice": pf % hi,
                "lowPrice": pf % lo,
            }
        )
        if not full:
            out["lastPrice"] = pf % last
        out.update(
            {
                "volume": sm.qf % volume,
                "quoteVolume": "%.8f" % (volume * vwap),
                "openTime": open_time * time_mult,
                "closeTime": close_time * time_mult,
                "firstId": first_id,
                "lastId": last_id,
                "count": count,
            }
        )
        return out

    def avg_price(self, spec: SymbolSpec, now: int, *, time_mult: int = 1) -> dict[str, object]:
        sm = self._of(spec)
        t = sm.effective_now(now)
        points = [sm.path.price_at(t - k * MINUTE) for k in range(5)]
        close_time = t - int(self._uniforms(sm, 3, t // SECOND)[0] * 500)
        return {"mins": 5, "price": "%.8f" % (sum(points) / len(points)), "closeTime": close_time * time_mult}

    def depth(self, spec: SymbolSpec, now: int, limit: int) -> dict[str, object]:
        """`limit` levels a side, one tick apart from the book top outwards (fewer bids near a zero price)."""
        sm = self._of(spec)
        bid = self.book_top(spec, now)[0]
        t = sm.effective_now(now)
        pf, qf, tick = sm.pf, sm.qf, sm.tick
        bid_ticks = round(bid / tick)
        unit = max(sm.step, sm.daily_volume / 100_000)
        salt = _mix64(sm.key ^ (t // SECOND))
        bids = []
        for i in range(min(limit, bid_ticks)):
            u = (_mix64(salt ^ i) & 0xFFFF) / 65536.0
            bids.append([pf % ((bid_ticks - i) * tick), qf % (unit * (0.05 + 20 * u))])
        ask_ticks = bid_ticks + 1
        asks = []
        for i in range(limit):
            u = (_mix64(salt ^ (i + 1 << 20)) & 0xFFFF) / 65536.0
            asks.append([pf % ((ask_ticks + i) * tick), qf % (unit * (0.05 + 20 * u))])
        last_update_id = 1_000_000_000 + (t - spec.listed_ms) // 10
        return {"lastUpdateId": last_update_id, "bids": bids, "asks": asks}
