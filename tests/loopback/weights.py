"""Request weight: each endpoint's weight (section 5) and the per-IP fixed-window limiter with 429 -> 418."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

from tests.loopback.errors import BANNED, TOO_MUCH_WEIGHT
from tests.loopback.params import Params

_UNIT_MS = {"SECOND": 1_000, "MINUTE": 60_000, "HOUR": 3_600_000, "DAY": 86_400_000}
_LETTERS = {"S": "SECOND", "M": "MINUTE", "H": "HOUR", "D": "DAY"}
_SPEC = re.compile(r"^(\d+)\s*([a-zA-Z]+)$")


@dataclass(frozen=True, slots=True)
class RateLimit:
    """One REQUEST_WEIGHT window, e.g. 6000 per 1 MINUTE."""

    limit: int
    interval_num: int = 1
    interval: str = "MINUTE"

    def __post_init__(self) -> None:
        if self.interval not in _UNIT_MS or self.interval_num < 1 or self.limit < 1:
            raise ValueError(f"bad rate limit: {self.limit} per {self.interval_num} {self.interval}")

    @classmethod
    def parse(cls, limit: int, window: str) -> RateLimit:
        """`window` like `1m`, `10s`, `1h`, `1d`, `10 SECOND` or `1MINUTE` (m is minutes, never months)."""
        match = _SPEC.match(window.strip())
        if match is None:
            raise ValueError(f"bad window {window!r}; use e.g. 1m, 10s, 1h, 1d")
        unit = match.group(2).upper()
        unit = _LETTERS.get(unit, unit)
        return cls(limit, int(match.group(1)), unit)

    @property
    def window_ms(self) -> int:
        return self.interval_num * _UNIT_MS[self.interval]

    @property
    def header(self) -> str:
        return f"X-MBX-USED-WEIGHT-{self.interval_num}{self.interval[0]}"

    def as_json(self) -> dict[str, object]:
        return {
            "rateLimitType": "REQUEST_WEIGHT",
            "interval": self.interval,
            "intervalNum": self.interval_num,
            "limit": self.limit,
        }


# ----------------------------------------------------------------------------------------------- weights

WeightRule = Callable[[Params], int]


def _by_symbols(single: int, all_symbols: int, bands: tuple[tuple[int, int], ...]) -> WeightRule:
    def weight(params: Params) -> int:
        if params.peek("symbol") is not None:
            return single
        count = params.symbols_count_hint()
        if count is None:
            return all_symbols
        for upto, band_weight in bands:
            if count <= upto:
                return band_weight
        return all_symbols

    return weight


def _depth(params: Params) -> int:
    raw = params.peek("limit")
    limit = int(raw) if raw is not None and raw.isascii() and raw.isdigit() else 100
    if limit <= 100:
        return 5
    if limit <= 500:
        return 25
    if limit <= 1000:
        return 50
    return 250


def _fixed(weight: int) -> WeightRule:
    return lambda _params: weight


WEIGHTS: dict[str, WeightRule] = {
    "/api/v3/ping": _fixed(1),
    "/api/v3/time": _fixed(1),
    "/api/v3/exchangeInfo": _fixed(20),
    "/api/v3/ticker/price": _by_symbols(2, 4, ((10**9, 4),)),
    "/api/v3/ticker/bookTicker": _by_symbols(2, 4, ((10**9, 4),)),
    "/api/v3/ticker/24hr": _by_symbols(2, 80, ((20, 2), (100, 40))),
    "/api/v3/avgPrice": _fixed(2),
    "/api/v3/klines": _fixed(2),
    "/api/v3/uiKlines": _fixed(2),
    "/api/v3/depth": _depth,
    "/api/v3/account": _fixed(20),
    "/api/v3/account/commission": _fixed(20),
}
UNKNOWN_PATH_WEIGHT = 1


def weight_of(path: str, params: Params) -> int:
    rule = WEIGHTS.get(path)
    return UNKNOWN_PATH_WEIGHT if rule is None else rule(params)


# ----------------------------------------------------------------------------------------------- limiter


@dataclass(frozen=True, slots=True)
class Refusal:
    """A 429 (over the limit) or a 418 (banned), with what the response must say."""

    status: int
    retry_after_s: int
    msg: str


class WeightLimiter:
    """Fixed buckets per window (a 1-minute window resets on the minute), shared by every client.

    A request that would cross a limit gets 429 and is not charged. After `ban_after_429s` refusals in the
    same bucket, the next over-limit request bans the client: 418 until the ban ends, the ban doubling for
    each repeat up to `ban_max_ms`.
    """

    def __init__(
        self,
        limits: tuple[RateLimit, ...],
        *,
        ban_after_429s: int = 2,
        ban_ms: int = 120_000,
        ban_max_ms: int = 3 * 86_400_000,
    ) -> None:
        if not limits:
            raise ValueError("at least one REQUEST_WEIGHT limit is needed")
        self.limits = limits
        self.ban_after_429s = ban_after_429s
        self.ban_ms = ban_ms
        self.ban_max_ms = ban_max_ms
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._bucket = [-1] * len(self.limits)
            self._used = [0] * len(self.limits)
            self._strikes = [0] * len(self.limits)
            self.banned_until_ms = 0
            self.bans = 0

    def _roll(self, now: int) -> None:
        for i, rate in enumerate(self.limits):
            bucket = now // rate.window_ms
            if bucket != self._bucket[i]:
                self._bucket[i] = bucket
                self._used[i] = 0
                self._strikes[i] = 0

    def used(self, now: int) -> list[tuple[str, int]]:
        with self._lock:
            self._roll(now)
            return [(rate.header, used) for rate, used in zip(self.limits, self._used, strict=True)]

    def ban(self, now: int, duration_ms: int) -> None:
        with self._lock:
            self.banned_until_ms = max(self.banned_until_ms, now + duration_ms)

    def admit(self, now: int, weight: int) -> Refusal | None:
        with self._lock:
            self._roll(now)
            if now < self.banned_until_ms:
                return self._banned(now)
            for i, rate in enumerate(self.limits):
                if self._used[i] + weight > rate.limit:
                    if self._strikes[i] >= self.ban_after_429s:
                        duration = min(self.ban_max_ms, self.ban_ms * 2**self.bans)
                        self.bans += 1
                        self.banned_until_ms = now + duration
                        return self._banned(now)
                    self._strikes[i] += 1
                    bucket_end = (self._bucket[i] + 1) * rate.window_ms
                    msg = TOO_MUCH_WEIGHT.format(
                        limit=rate.limit, num=rate.interval_num, interval=rate.interval
                    )
                    return Refusal(429, _ceil_seconds(bucket_end - now), msg)
            for i in range(len(self.limits)):
                self._used[i] += weight
            return None

    def _banned(self, now: int) -> Refusal:
        return Refusal(
            418, _ceil_seconds(self.banned_until_ms - now), BANNED.format(until=self.banned_until_ms)
        )


def _ceil_seconds(ms: int) -> int:
    return max(1, -(-ms // 1000))
