"""The event buffer: bounded, latest-wins updates coalesced and counted, lossless events never dropped."""

from __future__ import annotations

import asyncio

import pytest

from adapters.streams._buffer import EventBuffer
from domain import DisconnectReason, StreamConnected, StreamDisconnected


def _event(n: int) -> StreamConnected:
    """A distinct event per number (the buffer does not look inside)."""
    return StreamConnected(f"e{n}", n, 0)


async def _drain(buffer: EventBuffer) -> list[object]:
    buffer.close()
    return [event async for event in buffer]


async def test_below_capacity_everything_is_kept_in_order() -> None:
    buffer = EventBuffer(capacity=10)
    for n in range(5):
        buffer.put_latest(_event(n), "book", "bookTicker")
    buffer.put(_event(5))

    assert await _drain(buffer) == [_event(n) for n in range(6)]
    assert buffer.shed == {}
    assert buffer.delivered == 6


async def test_at_capacity_a_stream_keeps_only_its_newest_waiting_update() -> None:
    buffer = EventBuffer(capacity=2)
    buffer.put(_event(0))
    buffer.put(_event(1))
    for n in range(2, 12):
        buffer.put_latest(_event(n), "a", "bookTicker")
    buffer.put_latest(_event(100), "b", "miniTicker")

    assert not buffer.over  # latest-wins updates never hold the reader back
    assert len(buffer) == 4  # the capacity, and one slot for each of the two streams
    assert await _drain(buffer) == [_event(0), _event(1), _event(11), _event(100)]
    assert buffer.shed == {"bookTicker": 9}


async def test_a_lossless_event_is_queued_behind_the_waiting_update_of_its_stream() -> None:
    buffer = EventBuffer(capacity=1)
    buffer.put(_event(0))
    buffer.put_latest(_event(1), "kline", "kline")  # waits in a slot
    buffer.put(_event(2), "kline")  # the candle closed: lossless, after the update
    buffer.put_latest(_event(3), "kline", "kline")  # a new slot, behind the closed candle

    assert await _drain(buffer) == [_event(0), _event(1), _event(2), _event(3)]
    assert buffer.shed == {}


async def test_over_capacity_a_reader_waits_for_room_until_the_consumer_takes_events() -> None:
    buffer = EventBuffer(capacity=2)
    for n in range(3):
        buffer.put(_event(n))
    assert buffer.over
    waiting = asyncio.ensure_future(buffer.room())
    await asyncio.sleep(0)
    assert not waiting.done()

    assert await anext(buffer) == _event(0)
    await asyncio.wait_for(waiting, 1)

    assert not buffer.over


async def test_closing_releases_a_waiting_reader_and_ends_iteration_after_the_backlog() -> None:
    buffer = EventBuffer(capacity=1)
    buffer.put(_event(0))
    buffer.put(_event(1))
    waiting = asyncio.ensure_future(buffer.room())
    await asyncio.sleep(0)

    buffer.close()
    await asyncio.wait_for(waiting, 1)

    assert [event async for event in buffer] == [_event(0), _event(1)]


async def test_a_consumer_waits_for_the_next_event() -> None:
    buffer = EventBuffer(capacity=4)
    getting = asyncio.ensure_future(anext(buffer))
    await asyncio.sleep(0)
    assert not getting.done()

    buffer.put(StreamDisconnected("s", 1, DisconnectReason.SILENCE))

    assert await asyncio.wait_for(getting, 1) == StreamDisconnected("s", 1, DisconnectReason.SILENCE)


async def test_an_error_is_raised_once_the_backlog_is_delivered() -> None:
    buffer = EventBuffer(capacity=4)
    buffer.put(_event(0))
    buffer.close(ValueError("refused"))

    assert await anext(buffer) == _event(0)
    with pytest.raises(ValueError, match="refused"):
        await anext(buffer)


def test_the_buffer_holds_at_least_one_event() -> None:
    with pytest.raises(ValueError, match="at least one"):
        EventBuffer(capacity=0)
