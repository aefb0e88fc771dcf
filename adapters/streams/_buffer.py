"""The bounded buffer between the connections and the one consumer of events.

Policy when the consumer falls behind (more than ``capacity`` events waiting):

- *latest-wins* events (book tickers, tickers, open-candle updates) are coalesced: each stream keeps one
  waiting slot, and a newer update replaces the one in it (the replaced one is counted as shed); they
  never hold up the reader;
- *lossless* events (trades, closed candles, connection events) are always queued; once more than
  ``capacity`` of them wait, the reader waits for ``room`` before reading more, so the socket, not memory,
  absorbs the backlog (and the exchange may drop a connection that stays stuck for a minute).

So the buffer holds at most ``capacity`` events, plus one slot per latest-wins stream, plus one event per
connection for the message read when the limit was reached.
"""

from __future__ import annotations

import asyncio
from collections import Counter, deque
from typing import Any

from domain import StreamEvent

__all__ = ["EventBuffer"]


class _Pending:
    """A queued latest-wins event that a newer update of its stream may still replace."""

    __slots__ = ("event", "key", "kind")

    def __init__(self, event: Any, key: str, kind: str) -> None:
        self.event = event
        self.key = key
        self.kind = kind


class EventBuffer:
    """A FIFO of events for one consumer, an async iterator; see the module docstring for the policy."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            msg = f"the buffer must hold at least one event, not {capacity}"
            raise ValueError(msg)
        self.capacity = capacity
        self.shed: Counter[str] = Counter()
        self.delivered = 0
        self._queue: deque[Any] = deque()
        self._pending: dict[str, _Pending] = {}
        self._slots = 0  # latest-wins slots in the queue, replaceable or not
        self._getter: asyncio.Future[None] | None = None
        self._room: asyncio.Future[None] | None = None
        self._closed = False
        self._error: BaseException | None = None

    def __len__(self) -> int:
        return len(self._queue)

    @property
    def over(self) -> bool:
        """More than ``capacity`` events wait besides the latest-wins slots: readers should await ``room``."""
        return len(self._queue) - self._slots > self.capacity

    def put(self, event: StreamEvent, key: str | None = None) -> None:
        """Queue a lossless event. ``key``: its stream, so a later latest-wins update queues behind it
        (the stream's waiting slot, ahead of this event, can no longer be replaced)."""
        if key is not None and self._pending:
            self._pending.pop(key, None)
        self._queue.append(event)
        self._wake()

    def put_latest(self, event: StreamEvent, key: str, kind: str) -> None:
        """Queue a latest-wins update of stream ``key``; coalesced with a waiting one when over capacity."""
        queue = self._queue
        if len(queue) - self._slots < self.capacity:
            queue.append(event)
        else:
            waiting = self._pending.get(key)
            if waiting is not None:
                waiting.event = event
                self.shed[kind] += 1
                return
            pending = _Pending(event, key, kind)
            self._pending[key] = pending
            self._slots += 1
            queue.append(pending)
        self._wake()

    def _wake(self) -> None:
        getter = self._getter
        if getter is not None:
            self._getter = None
            if not getter.done():
                getter.set_result(None)

    async def room(self) -> None:
        """Return once no more than ``capacity`` events wait (or the buffer is closed)."""
        while self.over and not self._closed:
            if self._room is None or self._room.done():
                self._room = asyncio.get_running_loop().create_future()
            await asyncio.shield(self._room)

    def close(self, error: BaseException | None = None) -> None:
        """No more events: the iterator yields what waits, then raises ``error`` or stops."""
        self._closed = True
        self._error = self._error or error
        self._wake()
        if self._room is not None and not self._room.done():
            self._room.set_result(None)

    def __aiter__(self) -> EventBuffer:
        return self

    async def __anext__(self) -> StreamEvent:
        queue = self._queue
        while not queue:
            if self._closed:
                if self._error is not None:
                    raise self._error
                raise StopAsyncIteration
            self._getter = asyncio.get_running_loop().create_future()
            await self._getter
        item = queue.popleft()
        if item.__class__ is _Pending:
            self._slots -= 1
            if self._pending.get(item.key) is item:
                del self._pending[item.key]
            item = item.event
        self.delivered += 1
        room = self._room
        if room is not None and not room.done() and not self.over:
            room.set_result(None)
        event: StreamEvent = item
        return event
