"""The clock offset: RTT-compensated, anchored on the monotonic clock, never ahead of the server."""

from __future__ import annotations

import asyncio

import pytest

from adapters.binance import ClockSync
from tests.unit.adapters.binance.conftest import START_MS, FakeTime


def clock(time: FakeTime, refresh_s: float = 300.0) -> ClockSync:
    return ClockSync(refresh_interval_s=refresh_s, wall_ms=time.wall_ms, monotonic=time.monotonic)


def test_before_any_sample_the_local_clock_is_used() -> None:
    time = FakeTime()
    sync = clock(time)

    assert sync.clock_offset_ms is None
    assert sync.uncertainty_ms is None
    assert sync.timestamp_ms() == START_MS
    assert sync.needs_sync()


def test_the_offset_is_the_server_time_minus_the_local_midpoint() -> None:
    time = FakeTime()
    sync = clock(time)
    sent = time.monotonic()
    time.advance(40)  # the server answers 20 ms after the request left, 20 ms before it arrives

    sync.record(sent_monotonic_s=sent, received_monotonic_s=time.monotonic(), server_time_ms=START_MS + 5_020)

    assert sync.clock_offset_ms == pytest.approx(5_000)
    assert sync.uncertainty_ms == pytest.approx(20)
    assert sync.server_now_ms() == pytest.approx(START_MS + 5_040)


def test_timestamps_are_never_ahead_of_the_server() -> None:
    time = FakeTime()
    sync = clock(time)
    sent = time.monotonic()
    time.advance(300)

    sync.record(sent_monotonic_s=sent, received_monotonic_s=time.monotonic(), server_time_ms=START_MS - 2_000)

    # The server read its clock at some moment within the round trip: at the latest, it now shows
    # START_MS - 2000 + 300. The timestamp is the earliest it can show, so never ahead of it.
    assert sync.timestamp_ms() <= START_MS - 2_000 + 300
    assert sync.timestamp_ms() >= START_MS - 2_001  # and at most one round trip behind (floored)


def test_a_jump_of_the_local_wall_clock_does_not_move_server_time() -> None:
    time = FakeTime()
    sync = clock(time)
    sync.record(
        sent_monotonic_s=time.monotonic(), received_monotonic_s=time.monotonic(), server_time_ms=START_MS
    )
    wall = [START_MS + 3_600_000.0]  # the wall clock is set an hour forward; the monotonic clock is not
    jumped = ClockSync(wall_ms=lambda: wall[0], monotonic=time.monotonic)
    jumped.record(
        sent_monotonic_s=time.monotonic(), received_monotonic_s=time.monotonic(), server_time_ms=START_MS
    )

    time.advance(1_000)

    assert sync.server_now_ms() == jumped.server_now_ms() == START_MS + 1_000


def test_a_sample_goes_stale_after_the_refresh_interval() -> None:
    time = FakeTime()
    sync = clock(time, refresh_s=60)
    sync.record(
        sent_monotonic_s=time.monotonic(), received_monotonic_s=time.monotonic(), server_time_ms=START_MS
    )

    assert not sync.needs_sync()
    time.advance(60_000)
    assert sync.needs_sync()


async def test_sync_asks_the_server_once_for_concurrent_callers() -> None:
    time = FakeTime()
    sync = clock(time)
    calls = 0

    async def fetch() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        return START_MS + 1_500

    await asyncio.gather(sync.sync(fetch), sync.sync(fetch), sync.sync(fetch))

    assert calls == 1
    assert sync.syncs == 1
    assert sync.clock_offset_ms == pytest.approx(1_500)


async def test_a_forced_sync_replaces_a_fresh_sample() -> None:
    time = FakeTime()
    sync = clock(time)
    answers = iter([START_MS, START_MS + 7_000])

    async def fetch() -> int:
        return next(answers)

    await sync.sync(fetch)
    await sync.sync(fetch)  # still fresh: nothing asked
    assert sync.clock_offset_ms == pytest.approx(0)

    await sync.sync(fetch, force=True)
    assert sync.clock_offset_ms == pytest.approx(7_000)


def test_an_offered_sample_is_refused_when_much_less_precise_than_a_fresh_one() -> None:
    time = FakeTime()
    sync = clock(time)
    sent = time.monotonic()
    time.advance(10)
    sync.record(sent_monotonic_s=sent, received_monotonic_s=time.monotonic(), server_time_ms=START_MS)
    sent = time.monotonic()
    time.advance(2_000)  # a slow answer: the server time it carries is uncertain by a second

    assert not sync.offer(
        sent_monotonic_s=sent, received_monotonic_s=time.monotonic(), server_time_ms=START_MS
    )
    sent = time.monotonic()
    time.advance(12)
    assert sync.offer(
        sent_monotonic_s=sent, received_monotonic_s=time.monotonic(), server_time_ms=START_MS + 5
    )
