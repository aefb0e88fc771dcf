"""The clocks: the fake one moves only when told; the system one reads the host clock."""

from __future__ import annotations

import time

import pytest

from adapters.clock import FakeClock, SystemClock


def test_a_fake_clock_stands_still_until_advanced() -> None:
    clock = FakeClock(1_000)

    assert [clock.now_ms(), clock.now_ms()] == [1_000, 1_000]
    assert clock.monotonic() == 0.0


def test_advancing_a_fake_clock_moves_wall_and_monotonic_time_alike() -> None:
    clock = FakeClock(1_000)

    clock.advance(1_500)
    clock.advance(0)

    assert clock.now_ms() == 2_500
    assert clock.monotonic() == 1.5


def test_a_fake_clock_refuses_to_go_back() -> None:
    clock = FakeClock(1_000)

    with pytest.raises(ValueError, match="cannot go back"):
        clock.advance(-1)
    assert clock.now_ms() == 1_000


def test_the_system_clock_reads_epoch_milliseconds_of_the_host() -> None:
    clock = SystemClock()

    before = time.time_ns() // 1_000_000
    reading = clock.now_ms()
    after = time.time_ns() // 1_000_000

    assert isinstance(reading, int)
    assert before <= reading <= after


def test_the_system_monotonic_clock_never_goes_back() -> None:
    clock = SystemClock()

    readings = [clock.monotonic() for _ in range(100)]

    assert readings == sorted(readings)
