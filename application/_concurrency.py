"""Run several port calls at once and fail like a single call would."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

__all__ = ["task_group"]


def _first_leaf(group: BaseExceptionGroup[BaseException]) -> BaseException:
    first = group.exceptions[0]
    return _first_leaf(first) if isinstance(first, BaseExceptionGroup) else first


@asynccontextmanager
async def task_group() -> AsyncIterator[asyncio.TaskGroup]:
    """An ``asyncio.TaskGroup`` that re-raises the first failure itself instead of an exception group.

    When one call fails the others are cancelled (the ``TaskGroup`` guarantee); callers and the command
    line then see one ``GatewayError`` with its exit status, not an ``ExceptionGroup`` wrapping it.
    """
    try:
        async with asyncio.TaskGroup() as group:
            yield group
    except BaseExceptionGroup as failures:
        raise _first_leaf(failures) from failures
