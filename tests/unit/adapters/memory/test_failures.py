"""Scripted failures, latency, bans and call counters of the fake exchange."""

from __future__ import annotations

import pytest

from adapters.clock import FakeClock
from adapters.memory import FakeExchange
from domain import (
    DEFAULT_SYMBOLS,
    ExchangeUnavailableError,
    Interval,
    IPBannedError,
    NetworkError,
    RateLimitError,
    Symbol,
)

BTC = Symbol("BTCUSDT")


class RecordingSleep:
    """Stands in for ``asyncio.sleep``: remembers how long each call asked to wait, waits for nothing."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


async def test_the_next_call_raises_the_scripted_error_once(fake: FakeExchange) -> None:
    error = NetworkError("connection reset", endpoint="/api/v3/time")
    fake.script.fail_next(error)

    with pytest.raises(NetworkError) as raised:
        await fake.get_server_time()

    assert raised.value is error
    assert (await fake.get_server_time()).server_time_ms > 0
    assert fake.script.pending == 0


async def test_a_scripted_error_can_repeat(fake: FakeExchange) -> None:
    fake.script.fail_next(RateLimitError("slow down", retry_after=1.0), times=2)

    for _ in range(2):
        with pytest.raises(RateLimitError):
            await fake.get_symbol_ticker(BTC)
    assert (await fake.get_symbol_ticker(BTC)).price > 0


async def test_an_error_scripted_for_one_method_leaves_the_others_alone(fake: FakeExchange) -> None:
    fake.script.fail_next(NetworkError("reset"), method="get_kline_data")

    await fake.get_server_time()
    await fake.get_symbol_tickers(DEFAULT_SYMBOLS)
    assert fake.script.pending == 1
    with pytest.raises(NetworkError):
        await fake.get_kline_data(BTC, Interval.MINUTE_1, limit=5)
    assert len(await fake.get_kline_data(BTC, Interval.MINUTE_1, limit=5)) == 5


async def test_scripted_errors_come_in_the_order_they_were_scripted(fake: FakeExchange) -> None:
    first, second = NetworkError("first"), ExchangeUnavailableError("second")
    fake.script.fail_next(first)
    fake.script.fail_next(second)

    raised = []
    for _ in range(2):
        with pytest.raises((NetworkError, ExchangeUnavailableError)) as info:
            await fake.get_server_time()
        raised.append(info.value)

    assert raised == [first, second]


@pytest.mark.parametrize(
    ("options", "message"),
    [({"method": "get_prices"}, "no method 'get_prices'"), ({"times": 0}, "at least 1")],
)
def test_a_mistyped_script_is_refused(fake: FakeExchange, options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fake.script.fail_next(NetworkError("x"), **options)  # type: ignore[arg-type]


async def test_every_call_waits_the_constructor_latency_plus_the_scripted_one(clock: FakeClock) -> None:
    sleep = RecordingSleep()
    fake = FakeExchange(clock=clock, latency_s=0.5, sleep=sleep)

    await fake.get_server_time()
    fake.script.latency(0.25)
    await fake.get_book_ticker(BTC)
    fake.script.latency(0)
    await fake.get_server_time()

    assert sleep.waits == [0.5, 0.75, 0.5]


async def test_without_latency_a_call_does_not_sleep(clock: FakeClock) -> None:
    sleep = RecordingSleep()
    fake = FakeExchange(clock=clock, sleep=sleep)

    await fake.get_server_time()

    assert sleep.waits == []


async def test_latency_is_awaited_with_asyncio_sleep_by_default(fake: FakeExchange) -> None:
    fake.script.latency(0.001)

    assert (await fake.get_symbol_ticker(BTC)).price > 0


def test_negative_latency_is_refused(fake: FakeExchange, clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="negative"):
        fake.script.latency(-0.1)
    with pytest.raises(ValueError, match="negative"):
        FakeExchange(clock=clock, latency_s=-1)


async def test_a_ban_refuses_every_call_until_the_clock_reaches_its_end(
    fake: FakeExchange, clock: FakeClock
) -> None:
    until = clock.now_ms() + 60_000
    fake.script.ban(until)

    with pytest.raises(IPBannedError) as raised:
        await fake.get_kline_data(BTC, Interval.MINUTE_1)
    clock.advance(59_999)
    with pytest.raises(IPBannedError):
        await fake.get_account_info()
    clock.advance(1)

    assert (await fake.get_server_time()).server_time_ms == until
    ban = raised.value
    assert ban.banned_until_ms == until
    assert ban.retry_after == 60.0
    assert (ban.code, ban.http_status, ban.endpoint) == (-1003, 418, "/api/v3/klines")
    assert not ban.retryable


async def test_a_banned_call_is_refused_without_waiting(clock: FakeClock) -> None:
    sleep = RecordingSleep()
    fake = FakeExchange(clock=clock, latency_s=0.2, sleep=sleep)
    fake.script.ban(clock.now_ms() + 1_000)

    with pytest.raises(IPBannedError):
        await fake.get_server_time()

    assert sleep.waits == []


async def _outcomes(fake: FakeExchange, calls: int) -> list[bool]:
    """For each call, whether it failed with ExchangeUnavailableError."""
    failed = []
    for _ in range(calls):
        try:
            await fake.get_server_time()
        except ExchangeUnavailableError:
            failed.append(True)
        else:
            failed.append(False)
    return failed


async def test_a_failure_ratio_fails_exactly_that_fraction_evenly(fake: FakeExchange) -> None:
    fake.script.fail_ratio(0.25)

    failed = await _outcomes(fake, 100)

    assert sum(failed) == 25
    assert [i for i, f in enumerate(failed[:12]) if f] == [3, 7, 11]


async def test_a_failure_ratio_gives_the_same_pattern_every_time(clock: FakeClock) -> None:
    patterns = []
    for _ in range(2):
        fake = FakeExchange(clock=clock)
        fake.script.fail_ratio(0.3)
        patterns.append(await _outcomes(fake, 50))

    assert patterns[0] == patterns[1]
    assert sum(patterns[0]) == 15


@pytest.mark.parametrize(("ratio", "failures"), [(0.0, 0), (1.0, 20)])
async def test_failure_ratios_at_the_bounds(fake: FakeExchange, ratio: float, failures: int) -> None:
    fake.script.fail_ratio(ratio)

    assert sum(await _outcomes(fake, 20)) == failures


@pytest.mark.parametrize("ratio", [-0.1, 1.5])
def test_a_failure_ratio_outside_0_to_1_is_refused(fake: FakeExchange, ratio: float) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        fake.script.fail_ratio(ratio)


async def test_clear_forgets_every_scripted_failure(fake: FakeExchange, clock: FakeClock) -> None:
    fake.script.fail_next(NetworkError("x"), times=3)
    fake.script.ban(clock.now_ms() + 10_000)
    fake.script.fail_ratio(1.0)
    fake.script.latency(5.0)

    fake.script.clear()

    assert fake.script.pending == 0
    assert await _outcomes(fake, 5) == [False] * 5


async def test_calls_are_counted_per_method_failed_ones_included(fake: FakeExchange) -> None:
    fake.script.fail_next(NetworkError("x"), method="get_symbol_ticker")

    await fake.get_symbol_tickers(DEFAULT_SYMBOLS)
    with pytest.raises(NetworkError):
        await fake.get_symbol_ticker(BTC)
    await fake.get_symbol_ticker(BTC)

    assert fake.calls == {"get_symbol_tickers": 1, "get_symbol_ticker": 2}
