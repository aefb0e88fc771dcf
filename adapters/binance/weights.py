"""Request weights of the REST endpoints, and the cheapest way to ask for many symbols.

Weights from Binance's documentation (2026); the ``X-MBX-USED-WEIGHT-*`` header of every answer is the truth
the limiter reconciles with, these figures are what it reserves before sending.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import attrs

__all__ = [
    "ACCOUNT",
    "AVG_PRICE",
    "EXCHANGE_INFO",
    "KLINES",
    "MAX_BATCH",
    "PING",
    "TIME",
    "SymbolPlan",
    "book_ticker_weight",
    "depth_weight",
    "plan_symbols",
    "ticker_24hr_weight",
    "ticker_price_weight",
]

PING = 1
TIME = 1
EXCHANGE_INFO = 20
KLINES = 2
AVG_PRICE = 2
ACCOUNT = 20

_TICKER_24HR_TIERS = ((20, 2), (100, 40))  # up to n symbols -> weight; beyond the last tier 80
_TICKER_24HR_MAX = 80
_DEPTH_TIERS = ((100, 5), (500, 25), (1000, 50))
_DEPTH_MAX = 250
#: The most symbols one ``symbols=[..]`` call carries (the documented cap of ``GET /api/v3/ticker``).
MAX_BATCH = 100


def ticker_price_weight(count: int | None) -> int:
    """``GET /api/v3/ticker/price``: 2 for one ``symbol``; 4 for ``symbols`` (any count) or all (``None``)."""
    return 2 if count == 1 else 4


book_ticker_weight = ticker_price_weight
"""``GET /api/v3/ticker/bookTicker`` weighs like ``ticker/price``."""


def ticker_24hr_weight(count: int | None) -> int:
    """``GET /api/v3/ticker/24hr``: 1-20 symbols 2, 21-100 40, 101+ or all (``None``) 80."""
    if count is None:
        return _TICKER_24HR_MAX
    return next((weight for most, weight in _TICKER_24HR_TIERS if count <= most), _TICKER_24HR_MAX)


def depth_weight(limit: int) -> int:
    """``GET /api/v3/depth`` by ``limit``: 1-100 5, 101-500 25, 501-1000 50, 1001-5000 250."""
    return next((weight for most, weight in _DEPTH_TIERS if limit <= most), _DEPTH_MAX)


@attrs.frozen
class SymbolPlan:
    """How to fetch many symbols: ``single`` (one ``symbol=``), ``batches`` (one ``symbols=[..]`` call per
    batch) or ``all`` (no parameter, then keep the requested ones)."""

    form: Literal["single", "batches", "all"]
    batches: tuple[tuple[str, ...], ...]
    weight: int

    @property
    def calls(self) -> int:
        return 1 if self.form == "all" else len(self.batches)


def plan_symbols(
    symbols: Sequence[str],
    weight_of: Callable[[int | None], int],
    band_sizes: Sequence[int] = (),
    max_batch: int = MAX_BATCH,
) -> SymbolPlan:
    """The plan with the least total weight, then the fewest calls; ``all`` when nothing weighs less.

    ``band_sizes`` are batch sizes worth trying besides the largest batches (for ``ticker/24hr``, 20: five
    calls of 20 symbols weigh 10, one call of 100 weighs 40). No batch holds more than ``max_batch`` symbols,
    which keeps the query string short; beyond that, asking for every symbol is usually the cheapest.
    """
    count = len(symbols)
    if count == 1:
        return SymbolPlan("single", ((symbols[0],),), weight_of(1))
    candidates = []
    for size in {*band_sizes, max_batch}:
        size = min(size, max_batch, count)  # noqa: PLW2901 - clamp the candidate size
        batches = tuple(tuple(symbols[i : i + size]) for i in range(0, count, size))
        candidates.append(SymbolPlan("batches", batches, sum(weight_of(len(batch)) for batch in batches)))
    best = min(candidates, key=lambda plan: (plan.weight, plan.calls))
    everything = SymbolPlan("all", (), weight_of(None))
    if everything.weight < best.weight or (everything.weight == best.weight and best.calls > 1):
        return everything
    return best
