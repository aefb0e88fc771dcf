"""Finishing a store write that has started, even when the task that asked for it is cancelled."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

__all__ = ["finish_even_if_cancelled"]

_T = TypeVar("_T")


async def finish_even_if_cancelled(work: Awaitable[_T], on_done: Callable[[_T], None] | None = None) -> _T:
    """Await ``work``; if the caller is cancelled meanwhile, let ``work`` finish first, then re-raise.

    Used for writes of data already fetched, so that stopping (Ctrl-C, SIGTERM, a feed cancelling its
    consumer) never throws away what arrived. ``on_done`` receives the result once ``work`` has succeeded,
    whether or not the caller was cancelled meanwhile, so that what is counted is what was written. A second
    cancellation while waiting gives up on the wait, not on the write.
    """
    task = asyncio.ensure_future(work)
    try:
        result = await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])
        if on_done is not None and task.done() and not task.cancelled() and task.exception() is None:
            on_done(task.result())
        raise
    if on_done is not None:
        on_done(result)
    return result
