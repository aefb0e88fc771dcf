"""The weight limiter on a fake clock: window arithmetic, header reconciliation, requests in flight,
429 pauses, 418 bans, and a simulated exchange that must never see a window overrun."""

from __future__ import annotations

import asyncio
import heapq
import random
from collections import Counter
from collections.abc import Awaitable

import pytest

from adapters.binance.limiter import WeightLimiter
from domain import IPBannedError, RateLimit
from tests.unit.adapters.binance.conftest import START_MS, FakeTime

PER_MINUTE = RateLimit("REQUEST_WEIGHT", "MINUTE", 1, 10)
PER_10S = RateLimit("REQUEST_WEIGHT", "SECOND", 10, 200)
MARGIN_MS = 25.0


def limiter(time: FakeTime, *limits: RateLimit) -> WeightLimiter:
    return WeightLimiter(
        now_ms=time.wall_ms, sleep=time.sleep, limits=limits or (PER_MINUTE,), margin_ms=lambda: MARGIN_MS
    )


async def send(limit: WeightLimiter, weight: int, headers: dict[str, str] | None = None) -> float:
    permit = await limit.acquire(weight)
    limit.release(permit, headers=headers)
    return permit.waited_s


async def test_requests_that_fit_go_at_once() -> None:
    time = FakeTime()
    limit = limiter(time)

    waits = [await send(limit, 4), await send(limit, 4), await send(limit, 2)]

    assert waits == [0.0, 0.0, 0.0]
    assert time.slept == []
    assert [u.used for u in limit.usage()] == [10]


async def test_a_request_that_would_cross_the_limit_waits_for_the_next_window() -> None:
    time = FakeTime(START_MS + 20_000)  # 20 s into a minute
    limit = limiter(time)
    await send(limit, 4)
    await send(limit, 4)

    waited = await send(limit, 4)

    assert time.now_ms == START_MS + 60_000 + MARGIN_MS  # the next minute, plus the clock margin
    assert waited == pytest.approx(40.025)
    assert [u.used for u in limit.usage()] == [4]


async def test_the_used_weight_header_raises_the_count_to_what_the_server_says() -> None:
    time = FakeTime()
    limit = limiter(time)
    await send(limit, 1, {"X-MBX-USED-WEIGHT-1M": "9"})  # another process on this IP used 8

    waited = await send(limit, 2)

    assert waited > 0
    assert limit.last_headers == {"1M": 9}


async def test_a_header_lower_than_the_local_count_does_not_lower_it() -> None:
    time = FakeTime()
    limit = limiter(time)
    await send(limit, 6)

    await send(limit, 2, {"x-mbx-used-weight-1m": "2"})

    assert limit.busiest().used == 8  # type: ignore[union-attr]


async def test_the_header_interval_is_read_from_its_name() -> None:
    time = FakeTime()
    limit = limiter(time, PER_10S, RateLimit("REQUEST_WEIGHT", "MINUTE", 1, 6000))

    await send(limit, 2, {"X-MBX-USED-WEIGHT-10S": "150", "X-MBX-USED-WEIGHT-1M": "900", "X-Other": "1"})

    usage = {u.interval: u.used for u in limit.usage()}
    assert usage == {"10S": 150, "1M": 900}


async def test_weight_in_flight_counts_before_any_answer() -> None:
    time = FakeTime()
    limit = limiter(time)
    first = await limit.acquire(4)
    second = await limit.acquire(4)

    third = asyncio.ensure_future(limit.acquire(4))
    for _ in range(10):
        await asyncio.sleep(0)

    assert not third.done()  # 8 of 10 in flight: no window has room until they are answered
    limit.release(first)
    limit.release(second)
    permit = await asyncio.wait_for(third, timeout=5)
    assert permit.waited_s > 0


async def test_a_lighter_request_passes_a_head_that_waits_for_the_next_window_anyway() -> None:
    time = FakeTime(START_MS + 20_000)  # 20 s into a minute
    limit = limiter(time)
    await send(limit, 8)
    order: list[tuple[str, float]] = []

    async def call(name: str, weight: int) -> None:
        permit = await limit.acquire(weight)
        order.append((name, time.now_ms))
        limit.release(permit)

    start = time.now_ms
    heavy = asyncio.ensure_future(call("heavy", 5))  # 8 + 5 > 10: must wait for the next window
    light = asyncio.ensure_future(call("light", 1))  # fits now, and leaves the heavy one its room
    await asyncio.gather(heavy, light)  # (the fake clock jumps as soon as the heavy one sleeps)

    # The light one used the budget left; the heavy one went exactly when the window rolled over.
    assert order == [("light", start), ("heavy", START_MS + 60_000 + MARGIN_MS)]


async def test_callers_keep_their_order_when_passing_would_take_room_the_head_needs() -> None:
    time = FakeTime(START_MS + 20_000)  # 20 s into a minute
    hourly = RateLimit("REQUEST_WEIGHT", "HOUR", 1, 13)  # does not roll over with the minute
    limit = limiter(time, PER_MINUTE, hourly)
    await send(limit, 8)
    order: list[tuple[str, float]] = []

    async def call(name: str, weight: int) -> None:
        permit = await limit.acquire(weight)
        order.append((name, time.now_ms))
        limit.release(permit)

    heavy = asyncio.ensure_future(call("heavy", 5))  # waits for the minute; the hour has 5 left for it
    await asyncio.sleep(0)
    light = asyncio.ensure_future(call("light", 1))  # would fit now, but would leave the hour 4
    await asyncio.sleep(0)
    await asyncio.sleep(0)

    assert order == []
    await heavy
    assert order == [("heavy", START_MS + 60_000 + MARGIN_MS)]
    light.cancel()  # the hour is full until it rolls over


async def test_callers_that_cannot_pass_are_served_in_arrival_order() -> None:
    time = FakeTime()
    limit = limiter(time)
    await send(limit, 8)
    order: list[str] = []

    async def call(name: str, weight: int) -> None:
        permit = await limit.acquire(weight)
        order.append(name)
        limit.release(permit)

    first = asyncio.ensure_future(call("first", 5))
    await asyncio.sleep(0)
    await asyncio.gather(first, call("second", 3))  # 8 + 3 > 10: it waits for the next window too

    assert order == ["first", "second"]


async def test_mixed_weights_fill_every_window_and_the_heavy_ones_wait_for_one_roll_over_at_most() -> None:
    time = FakeTime(START_MS + 3_456)

    async def sleep_when_idle(seconds: float) -> None:
        for _ in range(50):  # time passes only once every other caller is waiting too
            await asyncio.sleep(0)
        await time.sleep(seconds)

    limit = WeightLimiter(
        now_ms=time.wall_ms, sleep=sleep_when_idle, limits=(PER_10S,), margin_ms=lambda: MARGIN_MS
    )
    server = SimulatedExchange(time)
    cycle = (2, 4, 1, 20, 2)  # klines, five prices, server time, account, klines
    heavy_admissions: list[tuple[float, float]] = []  # (asked at, admitted at)
    done = 0

    async def caller(offset: int) -> None:
        nonlocal done
        for i in range(60):
            weight = cycle[(offset + i) % len(cycle)]
            asked = time.now_ms
            permit = await limit.acquire(weight)
            if weight == 20:
                heavy_admissions.append((asked, time.now_ms))
            headers = server.handle(weight)
            await asyncio.sleep(0)  # others are reserved and sent while this one is in flight
            limit.release(permit, headers=headers)
        done += 1

    await asyncio.gather(*(caller(offset) for offset in range(8)))

    windows = [server.per_window[w] for w in sorted(server.per_window)]
    assert done == 8  # nobody starved
    assert max(windows) <= 200
    assert len(windows) > 3
    assert all(used >= 198 for used in windows[:-1])  # at least 99% of every full window
    for asked, admitted in heavy_admissions:
        roll_over = ((asked - MARGIN_MS) // 10_000 + 1) * 10_000 + MARGIN_MS
        assert admitted <= roll_over  # never held past the window it was waiting for


async def test_a_request_heavier_than_the_whole_limit_goes_alone_into_an_empty_window() -> None:
    time = FakeTime()
    limit = limiter(time)

    assert await send(limit, 80) == 0.0
    assert await send(limit, 1) > 0


async def test_a_429_makes_every_caller_wait_out_retry_after() -> None:
    time = FakeTime()
    limit = limiter(time, PER_10S)
    limit.on_rate_limited(3.0)

    waits = await asyncio.gather(send(limit, 1), send(limit, 1))

    assert time.now_ms == START_MS + 3000
    assert waits[0] == pytest.approx(3.0)


async def test_a_429_without_retry_after_fills_the_window() -> None:
    time = FakeTime(START_MS + 1000)
    limit = limiter(time, PER_10S)
    limit.on_rate_limited(None)

    await send(limit, 1)

    assert time.now_ms == START_MS + 10_000 + MARGIN_MS


async def test_during_a_ban_every_call_fails_at_once_and_nothing_waits() -> None:
    time = FakeTime()
    limit = limiter(time)
    limit.on_banned(START_MS + 120_000)

    with pytest.raises(IPBannedError) as caught:
        await limit.acquire(1, endpoint="/api/v3/time")

    assert caught.value.banned_until_ms == START_MS + 120_000
    assert caught.value.endpoint == "/api/v3/time"
    assert "2026-01-01 00:02:00 UTC" in str(caught.value)
    assert time.slept == []
    assert limit.banned_until_ms == START_MS + 120_000


async def test_a_ban_ends_on_time() -> None:
    time = FakeTime()
    limit = limiter(time)
    limit.on_banned(START_MS + 1000)
    time.advance(1000)

    assert await send(limit, 1) == 0.0
    assert limit.banned_until_ms is None


async def test_a_caller_waiting_for_room_fails_as_soon_as_a_ban_starts() -> None:
    time = FakeTime()
    limit = limiter(time)
    await send(limit, 10)

    async def ban_soon() -> None:
        await asyncio.sleep(0)
        limit.on_banned(START_MS + 3_600_000)

    results = await asyncio.gather(limit.acquire(5), ban_soon(), return_exceptions=True)

    assert isinstance(results[0], IPBannedError)


async def test_limits_from_exchange_info_replace_the_default_and_keep_the_count() -> None:
    time = FakeTime()
    limit = WeightLimiter(now_ms=time.wall_ms, sleep=time.sleep)
    await send(limit, 30)

    limit.set_limits(
        [
            RateLimit("REQUEST_WEIGHT", "MINUTE", 1, 1200),
            PER_10S,
            RateLimit("ORDERS", "SECOND", 10, 50),
            RateLimit("RAW_REQUESTS", "MINUTE", 5, 300000),
        ]
    )

    # The 30 were spent inside the current 10-second window too, so the newly learned limit counts them.
    assert {(u.interval, u.used, u.limit) for u in limit.usage()} == {("1M", 30, 1200), ("10S", 30, 200)}
    assert len(limit.limits) == 3  # ORDERS are not request weight


async def test_limits_without_a_request_weight_entry_are_ignored() -> None:
    time = FakeTime()
    limit = limiter(time)

    limit.set_limits([RateLimit("ORDERS", "SECOND", 10, 50)])

    assert limit.limits == (PER_MINUTE,)


async def test_an_answer_from_the_previous_window_counts_in_the_new_one_without_its_header() -> None:
    time = FakeTime(START_MS + 59_990)
    limit = limiter(time)
    permit = await limit.acquire(3)
    time.advance(100)  # the answer comes back in the next minute

    limit.release(permit, headers={"X-MBX-USED-WEIGHT-1M": "10"})

    assert limit.busiest().used == 3  # type: ignore[union-attr]


class SimulatedExchange:
    """Counts weight per fixed 10-second window of its own clock and answers with the usage header."""

    def __init__(self, time: FakeTime, window_ms: int = 10_000) -> None:
        self.time = time
        self.window_ms = window_ms
        self.per_window: Counter[int] = Counter()

    def handle(self, weight: int) -> dict[str, str]:
        window = int(self.time.now_ms // self.window_ms)
        self.per_window[window] += weight
        return {"X-MBX-USED-WEIGHT-10S": str(self.per_window[window])}


@pytest.mark.parametrize(("calls", "in_flight"), [(250, 1), (250, 16), (400, 64)])
async def test_many_concurrent_calls_use_the_whole_budget_and_never_cross_it(
    calls: int, in_flight: int
) -> None:
    time = FakeTime(START_MS + 3_456)
    limit = limiter(time, PER_10S)
    server = SimulatedExchange(time)
    gate = asyncio.Semaphore(in_flight)

    async def call() -> None:
        async with gate:
            permit = await limit.acquire(2)
            headers = server.handle(2)
            await asyncio.sleep(0)  # other calls are reserved and sent while this one is in flight
            limit.release(permit, headers=headers)

    await asyncio.gather(*(call() for _ in range(calls)))

    windows = [server.per_window[w] for w in sorted(server.per_window)]
    assert max(windows) <= 200
    assert sum(windows) == 2 * calls
    assert all(used == 200 for used in windows[:-1])  # every window but the last is used to the full


# ------------------------------------------------------------ reconciling a new window with the header


async def test_a_header_takes_back_an_answer_the_server_counted_in_the_old_window() -> None:
    time = FakeTime(START_MS + 9_990)  # 10 ms before a 10-second boundary
    limit = limiter(time, PER_10S)
    before = await limit.acquire(2)
    time.advance(20)
    limit.release(before)  # answered 10 ms after the boundary: the server may have counted it on either side
    time.advance(20)  # the window rolls over a margin after the boundary
    assert limit.busiest().used == 2  # type: ignore[union-attr]  # so it counts in the new window

    after = await limit.acquire(2)
    limit.release(after, headers={"X-MBX-USED-WEIGHT-10S": "2"})

    assert limit.busiest().used == 2  # type: ignore[union-attr]  # the server counted it in the old one


async def test_an_answer_that_came_back_after_the_header_request_was_sent_stays_counted() -> None:
    time = FakeTime(START_MS + 9_990)
    limit = limiter(time, PER_10S)
    old = await limit.acquire(2)  # sent in the old window
    time.advance(40)
    new = await limit.acquire(2)  # sent in the new one, while the old one is still on the wire

    limit.release(old, headers={"X-MBX-USED-WEIGHT-10S": "198"})  # the old window's count: not this one's
    limit.release(new, headers={"X-MBX-USED-WEIGHT-10S": "2"})

    # The old request reached the server before the new one was sent, or after: the header cannot say.
    assert limit.busiest().used == 4  # type: ignore[union-attr]

    later = await limit.acquire(2)  # sent once both were answered: its header covers them both
    limit.release(later, headers={"X-MBX-USED-WEIGHT-10S": "4"})

    assert limit.busiest().used == 4  # type: ignore[union-attr]  # so the old one was not counted here
    third = await limit.acquire(2)
    limit.release(third, headers={"X-MBX-USED-WEIGHT-10S": "6"})
    assert limit.busiest().used == 6  # type: ignore[union-attr]


async def test_a_header_never_takes_back_the_answers_to_requests_sent_in_the_window() -> None:
    time = FakeTime(START_MS + 1_000)
    limit = limiter(time, PER_10S)
    for _ in range(3):
        await send(limit, 4)  # answers without the header (a proxy dropped it, say)

    await send(limit, 2, {"X-MBX-USED-WEIGHT-10S": "2"})

    assert limit.busiest().used == 14  # type: ignore[union-attr]


async def test_answers_no_header_covers_are_merged_when_many_and_still_counted() -> None:
    time = FakeTime(START_MS + 59_990)
    limit = limiter(time, RateLimit("REQUEST_WEIGHT", "MINUTE", 1, 1000))
    old = [await limit.acquire(1) for _ in range(70)]  # sent in the old minute
    time.advance(40)
    new = await limit.acquire(1)
    for permit in old:
        limit.release(permit)  # all answered after the new request was sent: the server may count them

    limit.release(new, headers={"X-MBX-USED-WEIGHT-1M": "1"})

    assert limit.busiest().used == 71  # type: ignore[union-attr]
    await send(limit, 1, {"X-MBX-USED-WEIGHT-1M": "2"})  # sent after all of them were answered
    assert limit.busiest().used == 2  # type: ignore[union-attr]


async def test_a_header_after_a_429_without_retry_after_does_not_reopen_the_window() -> None:
    time = FakeTime(START_MS + 1_000)
    limit = limiter(time, PER_10S)
    permit = await limit.acquire(2)
    limit.on_rate_limited(None)

    limit.release(permit, headers={"X-MBX-USED-WEIGHT-10S": "2"})

    assert limit.busiest().used == 200  # type: ignore[union-attr]


class VirtualTime:
    """A clock that jumps to the next sleeper's wake-up once every task is blocked, so that many callers
    can sleep at once (``FakeTime`` adds up their sleeps); ``run`` drives it."""

    def __init__(self, start_ms: float) -> None:
        self.now_ms = float(start_ms)
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = 0

    def wall_ms(self) -> float:
        return self.now_ms

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._order += 1
        heapq.heappush(self._sleepers, (self.now_ms + seconds * 1000, self._order, future))
        await future

    async def run(self, main: Awaitable[None]) -> None:
        task = asyncio.ensure_future(main)
        while not task.done():
            for _ in range(30):  # let every task run until it blocks
                await asyncio.sleep(0)
            while self._sleepers and self._sleepers[0][2].cancelled():
                heapq.heappop(self._sleepers)
            if self._sleepers and not task.done():
                at, _order, future = heapq.heappop(self._sleepers)
                self.now_ms = max(self.now_ms, at)
                future.set_result(None)
        await task


class SlowExchange:
    """Counts weight per 10-second window of its own clock (``offset_ms`` off ours) when a request reaches
    it, half-way through its round trip, and answers with the usage header."""

    def __init__(self, time: VirtualTime, offset_ms: float, window_ms: int = 10_000) -> None:
        self.time = time
        self.offset_ms = offset_ms
        self.window_ms = window_ms
        self.per_window: Counter[int] = Counter()

    def handle(self, weight: int) -> dict[str, str]:
        window = int((self.time.now_ms + self.offset_ms) // self.window_ms)
        self.per_window[window] += weight
        return {"X-MBX-USED-WEIGHT-10S": str(self.per_window[window])}


@pytest.mark.parametrize("offset_ms", [-20.0, 0.0, 20.0])  # the server's clock, within the margin of ours
# Kline pages only fill every window to the last unit; with mixed weights a window may end with 1 left and
# no caller whose next request weighs 1.
@pytest.mark.parametrize(("cycle", "least"), [((2,), 200), ((2, 4, 1, 20, 2), 198)])
async def test_callers_running_across_boundaries_use_every_window_and_never_cross_it(
    offset_ms: float, cycle: tuple[int, ...], least: int
) -> None:
    # Eight callers without pause, round trips of 5-60 ms (answers come back out of order), starting
    # 150 ms before a boundary so that requests are on the wire as every window begins.
    time = VirtualTime(START_MS + 9_850)
    limit = WeightLimiter(
        now_ms=time.wall_ms, sleep=time.sleep, limits=(PER_10S,), margin_ms=lambda: MARGIN_MS
    )
    server = SlowExchange(time, offset_ms)
    rng = random.Random(f"{offset_ms}{cycle}")
    end_ms = START_MS + 40_000

    async def caller(offset: int) -> None:
        step = offset
        while time.now_ms < end_ms:
            weight = cycle[step % len(cycle)]
            step += 1
            permit = await limit.acquire(weight)
            round_trip = rng.uniform(5, 60)
            await time.sleep(round_trip / 2000)
            headers = server.handle(weight)
            await time.sleep(round_trip / 2000)
            limit.release(permit, headers=headers)

    async def callers() -> None:
        await asyncio.gather(*(caller(n) for n in range(8)))

    await time.run(callers())

    windows = server.per_window
    assert max(windows.values()) <= 200
    first = START_MS // 10_000 + 1  # the first whole window
    assert all(least <= windows[w] <= 200 for w in range(first, first + 3))
