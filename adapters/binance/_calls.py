"""Argument checks and small helpers of the adapter's port methods."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Hashable, Iterable, Sequence
from typing import TypeVar

from opentelemetry.util.types import AttributeValue

from domain import InvalidInputError, Symbol
from ports import MAX_KLINE_LIMIT

__all__ = ["gather_all", "kline_limit", "kline_range", "symbol_count", "unique"]

T = TypeVar("T")
H = TypeVar("H", bound=Hashable)


def unique(symbols: Iterable[H]) -> list[H]:
    """``symbols`` (or their texts) without repeats, in their first order (Binance answers -1151 to a
    repeated one)."""
    return list(dict.fromkeys(symbols))


def symbol_count(symbols: Sequence[Symbol] | None) -> dict[str, AttributeValue]:
    """Span attributes saying how many symbols a call asked for."""
    return {"binance.symbol_count": len(symbols)} if symbols is not None else {"binance.all_symbols": True}


def kline_limit(limit: int) -> int:
    """``limit`` when it is 1 to ``MAX_KLINE_LIMIT``; ``InvalidInputError`` before anything is sent."""
    if type(limit) is not int or not 1 <= limit <= MAX_KLINE_LIMIT:  # bool is not a limit either
        msg = f"limit must be a whole number from 1 to {MAX_KLINE_LIMIT}, not {limit!r}"
        raise InvalidInputError(msg)
    return limit


def kline_range(start_ms: int | None, end_ms: int | None) -> list[tuple[str, str]]:
    """``startTime``/``endTime`` parameters, after checking they are epoch ms and in order."""
    for name, value in (("start_ms", start_ms), ("end_ms", end_ms)):
        if value is not None and (type(value) is not int or value < 0):
            msg = f"{name} must be epoch milliseconds (a whole number, not negative), not {value!r}"
            raise InvalidInputError(msg)
    if start_ms is not None and end_ms is not None and start_ms > end_ms:
        msg = f"start_ms {start_ms} is after end_ms {end_ms}"
        raise InvalidInputError(msg)
    params = [("startTime", str(start_ms))] if start_ms is not None else []
    return params + ([("endTime", str(end_ms))] if end_ms is not None else [])


async def gather_all(calls: Iterable[Awaitable[T]]) -> list[T]:
    """Run ``calls`` concurrently; on the first failure cancel the rest and raise it."""
    pending = list(calls)
    if len(pending) == 1:
        return [await pending[0]]  # the usual case needs no task
    tasks = [asyncio.ensure_future(call) for call in pending]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        raise
