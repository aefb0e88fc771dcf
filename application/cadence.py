"""How often continuous collection may ask for prices and candles, from the exchange's weight budget.

The budget is the tightest ``REQUEST_WEIGHT`` limit of ``exchangeInfo.rateLimits`` (6000 per minute on
Binance Spot). Collection plans to use at most ``share`` of it (half by default), leaving room for backfill
repairs and for other programs on the same IP, since Binance counts weight per IP.

The wish is one price request per ``price_every_ms`` for all symbols together, and one kline request per
series per candle (just after it closes; at most one a second for ``1s``). When that would cost more than
the allowed share, every period is stretched by the same factor: prices and candles then arrive less
often, and a kline request simply returns several candles (up to 1000), so nothing is lost.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import attrs

from domain import Interval, RateLimit

__all__ = ["Cadence", "RequestCosts", "WeightBudget", "plan_cadence"]

_DEFAULT_LIMIT = 6000
_MINUTE_MS = 60_000
_MIN_PERIOD_MS = 1_000


@attrs.frozen
class WeightBudget:
    """``limit`` request weight per ``window_ms``."""

    limit: int = _DEFAULT_LIMIT
    window_ms: int = _MINUTE_MS

    @property
    def per_second(self) -> float:
        return self.limit * 1000 / self.window_ms

    @classmethod
    def from_rate_limits(cls, limits: Iterable[RateLimit]) -> WeightBudget:
        """The tightest request-weight limit (by weight per second); Binance's default when none is given."""
        budgets = []
        for limit in limits:
            if limit.rate_limit_type != "REQUEST_WEIGHT" or limit.limit <= 0:
                continue
            try:
                budgets.append(cls(limit.limit, limit.window_ms))
            except KeyError:  # a window unit this client does not know
                continue
        return min(budgets, key=lambda b: b.per_second, default=cls())


@attrs.frozen
class RequestCosts:
    """Request weights: ``GET /api/v3/ticker/price`` with a list of symbols, and ``GET /api/v3/klines``."""

    prices: int = 4
    klines: int = 2


@attrs.frozen
class Cadence:
    """The planned periods: prices of all symbols every ``price_every_ms``, each series of an interval every
    ``kline_every_ms[interval]``; ``weight_per_s`` is what that costs and ``stretch`` the factor applied."""

    price_every_ms: int
    kline_every_ms: Mapping[Interval, int]
    weight_per_s: float
    stretch: float


def plan_cadence(
    budget: WeightBudget,
    series: Mapping[Interval, int],
    *,
    share: float = 0.5,
    price_every_ms: int = 1_000,
    costs: RequestCosts = RequestCosts(),
) -> Cadence:
    """Periods for price requests and for ``series[interval]`` kline series of each interval."""
    if not 0 < share <= 1:
        msg = f"the budget share must be above 0 and at most 1, not {share}"
        raise ValueError(msg)
    wished = {interval: max(_MIN_PERIOD_MS, interval.duration_ms) for interval in series}
    demand = costs.prices * 1000 / price_every_ms + sum(
        count * costs.klines * 1000 / wished[interval] for interval, count in series.items()
    )
    allowed = budget.per_second * share
    stretch = max(1.0, demand / allowed)
    prices = math.ceil(price_every_ms * stretch)
    klines = {interval: math.ceil(period * stretch) for interval, period in wished.items()}
    cost = costs.prices * 1000 / prices + sum(
        count * costs.klines * 1000 / klines[interval] for interval, count in series.items()
    )
    return Cadence(prices, klines, cost, stretch)
