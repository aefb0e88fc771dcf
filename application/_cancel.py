"""Finishing a store write that has started, even when the task that asked for it is cancelled."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

__all__ = ["finish_even_if_cancelled"]

_T = TypeVar("_T")


async def finish_even_if_cancelled(work: Awaitable[_T]) -> _T:
    """Await ``work``; if the caller is cancelled meanwhile, let ``work`` finish first, then re-raise.

    Used for writes of data already fetched, so that stopping (Ctrl-C, SIGTERM, a cancelled task) never
    throws away what arrived. A second cancellation while waiting gives up on the wait, not on the write.
    """
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])
        raise
