"""The simulated market of one symbol: a seeded price walk and a cumulative volume, pure functions of time.

- Price: ``price(t) = level * exp(walk(t))``, where ``walk`` is a multi-scale random walk (``Octaves``) from
  one second to about six months; rounded to whole ticks.
- Volume: ``volume(t)`` is the base volume traded since listing, strictly increasing (a steady rate plus
  bounded noise whose slope never exceeds the rate). Trade ids count trades the same way:
  ``volume(t) / trade size``.
- A candle ``[a, b)`` opens at ``price(a)``, closes at ``price(b)`` (at ``price(now)`` while still open),
  trades ``volume(b) - volume(a)``, and reaches a high and low drawn from a hash of its interval and open
  time.

So every window is reproducible, closed candles never change, opens and closes and volumes agree across
intervals (a 1h candle has the volume of its sixty 1m candles), and the current price is the close of every
open candle. Highs and lows of different intervals are drawn independently: they bound their own candle only.
Trading stops at listing and halt times: before ``listed_ms`` and after ``halted_ms`` nothing moves.
"""

from __future__ import annotations

import math
from decimal import Decimal

import attrs
import numpy as np
from numpy.typing import NDArray

from adapters.memory._noise import Octaves, key_of, mix, mix_scalar, unit
from adapters.memory.catalog import SymbolSpec
from domain import Interval

__all__ = ["RawCandles", "SymbolMarket"]

_DAY_MS = 86_400_000
_SPACINGS_MS = tuple(1000 * 16**k for k in range(8))  # 1 s ... 8.5 years
_WALK_CAP_MS = 1000 * 16**6  # layers above ~6 months stop growing: prices stay near their level
# Scales the layer amplitudes so that the standard deviation of a day's log return is about daily_volatility
# (measured over the default catalogue; piecewise-linear layers lose some variance between knots).
_WALK_GAIN = 1.6
# The volume rate swings by up to +-30% on each of three time scales (seconds, hours, weeks), +-90% in all,
# so the cumulative volume always grows.
_VOLUME_SPACINGS_MS = (16_000, 4_096_000, 1_048_576_000)
_VOLUME_SWING = 0.3
_HIGH_LOW_GAIN = 0.8
_MAX_RATE_PER_MS = 100.0  # volume quanta per ms; keeps cumulative volumes exact in a float64
_INTERVALS = tuple(Interval)


def _decimals(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


@attrs.frozen
class RawCandles:
    """Candles as integers: prices in ticks, volumes in quanta, quote volumes in quote units."""

    open_times: list[int]
    prices: list[int]  # n + 1 boundary prices: candle i opens at prices[i] and closes at prices[i + 1]
    highs: list[int]
    lows: list[int]
    volumes: list[int]
    taker_volumes: list[int]
    trades: list[int]
    quote_volumes: list[int]
    taker_quote_volumes: list[int]


class SymbolMarket:
    """The deterministic market of ``spec.symbol`` for ``seed``."""

    def __init__(self, spec: SymbolSpec, seed: int) -> None:
        self.spec = spec
        name = spec.symbol.value
        self._sigma = spec.daily_volatility / math.sqrt(_DAY_MS)
        self._walk = Octaves(
            key_of(seed, name, "walk"),
            _SPACINGS_MS,
            tuple(_WALK_GAIN * self._sigma * math.sqrt(min(s, _WALK_CAP_MS)) for s in _SPACINGS_MS),
        )
        self._level_ticks = float(spec.price / spec.tick_size)
        steps_per_ms = float(spec.daily_volume / spec.step_size) / _DAY_MS
        exponent = max(0, math.ceil(math.log10(steps_per_ms / _MAX_RATE_PER_MS)))
        # Volumes count whole quanta of 10**exponent steps, written with the step's decimals (1000, not 1E+3).
        self.quantum = spec.step_size.scaleb(exponent).quantize(spec.step_size)
        self._rate = steps_per_ms / 10**exponent
        # A layer moves at most 2 * amplitude per spacing: amplitude = swing * rate * spacing / 2.
        self._volume_noise = Octaves(
            key_of(seed, name, "volume"),
            _VOLUME_SPACINGS_MS,
            tuple(_VOLUME_SWING * self._rate * s / 2 for s in _VOLUME_SPACINGS_MS),
        )
        self._trade_quanta = float(spec.trade_qty / self.quantum)
        self._candle_key = key_of(seed, name, "candle")
        self._book_key = key_of(seed, name, "book")
        self.quote_unit = Decimal(1).scaleb(-min(8, _decimals(spec.tick_size) + 2))
        self._quote_factor = float(self.quantum * spec.tick_size / self.quote_unit)
        self._noise_at_listing = float(self._volume_noise(np.array([spec.listed_ms], dtype=np.int64))[0])
        self._stop_ms = spec.halted_ms if spec.halted_ms is not None else np.iinfo(np.int64).max

    def _trading_time(self, times_ms: list[int]) -> NDArray[np.int64]:
        return np.clip(np.asarray(times_ms, dtype=np.int64), self.spec.listed_ms, self._stop_ms)

    def price_ticks(self, times_ms: list[int]) -> list[int]:
        """The price at each instant, in ticks (at least one tick)."""
        walk = self._walk(self._trading_time(times_ms)).tolist()
        level = self._level_ticks
        return [max(1, round(level * math.exp(w))) for w in walk]

    def _cumulative_volume(self, times_ms: list[int]) -> NDArray[np.float64]:
        """Volume traded since listing, in quanta (a float; strictly increasing while trading)."""
        trading = self._trading_time(times_ms)
        since = (trading - self.spec.listed_ms).astype(np.float64)
        noise = self._volume_noise(trading) - self._noise_at_listing
        volume: NDArray[np.float64] = self._rate * since + noise
        return volume

    def activity(self, times_ms: list[int]) -> tuple[list[int], list[int]]:
        """At each instant: whole volume quanta traded since listing, and the id of the next trade."""
        cumulative = self._cumulative_volume(times_ms)
        quanta: list[int] = np.floor(cumulative).astype(np.int64).tolist()
        trade_ids: list[int] = np.floor(cumulative / self._trade_quanta).astype(np.int64).tolist()
        return quanta, trade_ids

    def candles(self, interval: Interval, open_times: list[int], now_ms: int) -> RawCandles:
        """The candles opening at ``open_times`` (consecutive, oldest first) as seen at ``now_ms``."""
        if not open_times:
            return RawCandles([], [], [], [], [], [], [], [], [])
        last_close = min(interval.next_open_ms(open_times[-1]), now_ms)
        bounds = [*open_times, last_close]
        starts = self._trading_time(open_times)
        ends = self._trading_time(bounds[1:])
        prices = self.price_ticks(bounds)
        hashes = mix(np.asarray(open_times, dtype=np.int64).astype(np.uint64)
                     ^ np.uint64(mix_scalar(self._candle_key ^ _INTERVALS.index(interval))))
        # How far the price strayed from the open and close: grows like a random walk with the time traded.
        reach = self._sigma * _HIGH_LOW_GAIN * np.sqrt((ends - starts).astype(np.float64))
        boundary = np.asarray(prices, dtype=np.float64)
        top = np.maximum(boundary[:-1], boundary[1:])
        bottom = np.minimum(boundary[:-1], boundary[1:])
        highs = np.maximum(top, np.rint(top * (1 + reach * np.abs(unit(hashes)))))
        hashes = mix(hashes)
        lows = np.maximum(1, np.minimum(bottom, np.rint(bottom / (1 + reach * np.abs(unit(hashes))))))
        taker_share = 0.5 + 0.15 * unit(mix(hashes))
        cumulative = self._cumulative_volume(bounds)
        volumes = np.diff(np.floor(cumulative)).astype(np.int64)
        trades = np.diff(np.floor(cumulative / self._trade_quanta)).astype(np.int64)
        taker = np.floor(volumes * taker_share).astype(np.int64)
        typical = (boundary[:-1] + boundary[1:] + highs + lows) / 4
        quote = np.rint(volumes * typical * self._quote_factor).astype(np.int64)
        taker_quote = np.rint(taker * typical * self._quote_factor).astype(np.int64)
        return RawCandles(
            open_times=list(open_times),
            prices=prices,
            highs=highs.astype(np.int64).tolist(),
            lows=lows.astype(np.int64).tolist(),
            volumes=volumes.tolist(),
            taker_volumes=taker.tolist(),
            trades=trades.tolist(),
            quote_volumes=quote.tolist(),
            taker_quote_volumes=taker_quote.tolist(),
        )

    def book_offsets(self, now_ms: int) -> tuple[int, int, int, int]:
        """Ticks below and above the last price for the best bid and ask, and their sizes in steps."""
        value = mix_scalar(self._book_key ^ (now_ms // 1000))
        spread = 1 + value % 3
        below = (value >> 8) % (spread + 1)
        trade_steps = max(1, int(self.spec.trade_qty / self.spec.step_size))
        bid_steps = 1 + (value >> 16) % (4 * trade_steps)
        ask_steps = 1 + (value >> 40) % (4 * trade_steps)
        return below, spread - below, bid_steps, ask_steps
