"""The request-weight limiter, shared by every concurrent call of the process.

Binance counts weight per IP in fixed windows aligned to its own clock (1 MINUTE resets on each minute,
10 SECOND at :00, :10, ..., 1 DAY at 00:00 UTC). The limiter keeps one bucket per known limit
(``REQUEST_WEIGHT`` and ``RAW_REQUESTS`` from ``exchangeInfo.rateLimits``; 6000 weight per minute until they
are known) and, per bucket and window:

- ``local_used``: the weight of this process's answered requests that may count in the window;
- ``header_used``: the largest ``X-MBX-USED-WEIGHT-<n><unit>`` (the IP's whole usage) in the answer to a
  request sent in the window, which the server has therefore counted in it;
- the weight of requests in flight (sent, not answered), which counts against every window.

Near a boundary the server may count a request on either side of it, so answers that came back within the
clock margin of a new window, and answers to requests sent before it, are counted in it as well: an estimate
that never falls below the server's count. The header then takes back what the server did not count there.
The server counts requests one after another, so a header of ``H`` covers every request it counted before;
a request it counted after that one reached it after that one was sent. So once the answer to a request sent
in the window reports ``H``, the window holds at most ``H`` plus the answers that came back since that request
was sent and that no header of the window covers (requests sent in an earlier window, answers without the
header), whichever side of the boundary the server put them on. The count is the smaller of that and
``local_used``, but never below ``header_used`` nor below the weight of the answered requests this process
sent in the window (a header never takes back a request that certainly counts). That count plus what is in
flight never falls below what the server has counted, so a request is
sent only when that plus its own weight fits under the limit; otherwise it waits, in arrival order, for the
window to roll over or for an answer that frees room. A caller may pass those ahead of it only while each of
them waits for a window to roll over anyway, and only if it still leaves them room in the window they wait
for: a light request uses the end of a window that a heavy one cannot, and never delays it. Windows roll a
margin after their server-time boundary (the uncertainty of the server-clock estimate), and answers that may
have landed in the new window are carried into it. On 429 every caller waits out ``Retry-After``; during a
418 ban every call raises ``IPBannedError`` at once and nothing is sent. Time and sleep are injected, so tests
run on a fake clock.
"""

from __future__ import annotations

import asyncio
import collections
import math
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Protocol

import attrs

from domain.errors import IPBannedError
from domain.exchange import RateLimit
from domain.market import ms_to_datetime

__all__ = ["DEFAULT_LIMITS", "Permit", "ServerClock", "WeightLimiter", "WeightUsage"]

NowMs = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

DEFAULT_LIMITS = (RateLimit("REQUEST_WEIGHT", "MINUTE", 1, 6000),)
_WEIGHT = "REQUEST_WEIGHT"
_RAW = "RAW_REQUESTS"
_HEADER = re.compile(r"^x-mbx-used-weight-(\d+)([smhd])$", re.IGNORECASE)
_DEFAULT_MARGIN_MS = 25.0
# Before the first clock sample the estimate is the local clock: assume an NTP-disciplined host.
_UNSYNCED_MARGIN_MS = 250.0
_MARGIN_SHARE = 0.1  # a margin never exceeds a tenth of its window
_HEADER_NAMES_KEPT = 64  # header names whose meaning is remembered (a server sends a dozen or so)
_UNCOVERED_KEPT = 64  # answers a header has not covered, kept one by one per window; older ones are merged

BucketKey = tuple[str, int]  # (rate-limit type, window length in ms)


class ServerClock(Protocol):
    """What the limiter needs of the clock synchroniser: server time, and how far off it may be."""

    def server_now_ms(self) -> float: ...

    @property
    def uncertainty_ms(self) -> float | None: ...


@attrs.define
class _Bucket:
    limit: RateLimit
    window_ms: int
    window_id: int = -1
    local_used: int = 0  # answered requests that may count in the window (see the module docstring)
    certain: int = 0  # answered requests sent in the window: they count whatever a header says
    header_used: int = -1  # the largest header of an answer to a request sent in the window; -1: none yet
    header_mark: int = 0  # the answer count when that request was sent: later answers may be missing from it
    # (answer number, cost) of the window's answers that no header of the window covers, oldest first, and
    # the cost of those answered after the request that gave ``header_used`` was sent.
    uncovered: list[tuple[int, int]] = attrs.Factory(list)
    uncovered_since_header: int = 0
    used: int = 0  # the count the limit is checked against (kept up to date by every change above)
    # Constants of the limit, read on every call: worked out once.
    key: BucketKey = attrs.field(init=False)
    weighted: bool = attrs.field(init=False)
    suffix: str = attrs.field(init=False)
    capacity: int = attrs.field(init=False)
    cap: float = attrs.field(init=False)  # the largest clock margin for this window

    def __attrs_post_init__(self) -> None:
        self.key = (self.limit.rate_limit_type, self.window_ms)
        self.weighted = self.limit.rate_limit_type == _WEIGHT
        self.suffix = self.limit.header_suffix
        self.capacity = self.limit.limit
        self.cap = self.window_ms * _MARGIN_SHARE

    def cost(self, weight: int) -> int:
        return weight if self.weighted else 1

    def start(self, window_id: int, carried: int) -> None:
        """A new window, holding ``carried`` (answers that may have been counted in it)."""
        self.window_id = window_id
        self.local_used = self.used = carried
        self.certain = 0
        self.header_used = -1
        self.header_mark = 0
        self.uncovered = []
        self.uncovered_since_header = 0

    def answered(self, number: int, cost: int, in_window: bool, header: int | None, mark: int) -> None:
        """Answer ``number`` of a request of ``cost``, sent when ``mark`` answers had come back; ``header``
        is its used-weight header for this window (``None`` when the answer has none that counts here)."""
        self.local_used += cost
        if in_window:
            self.certain += cost
        if header is None:
            uncovered = self.uncovered
            uncovered.append((number, cost))
            if len(uncovered) > _UNCOVERED_KEPT:  # merge the oldest half: counted if any of them would be
                half = _UNCOVERED_KEPT // 2
                uncovered[:half] = [(uncovered[half - 1][0], sum(c for _n, c in uncovered[:half]))]
            self.uncovered_since_header += cost
        elif header > self.header_used:
            self.raise_header(header, mark)
        self.recount()

    def heard(self, header: int, mark: int) -> None:
        """A count the server reported for the window (or assumed, after a 429), outside an answer."""
        if header > self.header_used:
            self.raise_header(header, mark)
            self.recount()

    def raise_header(self, header: int, mark: int) -> None:
        self.header_used = header
        self.header_mark = mark
        self.uncovered_since_header = sum(c for n, c in self.uncovered if n >= mark)

    def recount(self) -> None:
        header = self.header_used
        if header < 0 or not self.weighted:
            self.used = self.local_used
            return
        covered = max(self.certain, header + self.uncovered_since_header)
        self.used = max(header, min(self.local_used, covered))


@attrs.define(eq=False)
class _Waiter:
    weight: int


@attrs.frozen
class Permit:
    """A reservation: hand it back to ``release`` with the answer's headers, whatever happened."""

    weight: int
    window_ids: tuple[tuple[BucketKey, int], ...]
    waited_s: float
    answers_before: int = 0  # answers that had come back when it was granted


@attrs.frozen
class WeightUsage:
    """Request weight used in the current window of one limit, e.g. ``1M``: 37 of 6000."""

    interval: str
    used: int
    limit: int

    @property
    def share(self) -> float:
        return self.used / self.limit if self.limit else 0.0


class WeightLimiter:
    """Waits before a request would cross a weight limit; see the module docstring for the model."""

    def __init__(
        self,
        *,
        now_ms: NowMs,
        sleep: Sleep = asyncio.sleep,
        limits: Iterable[RateLimit] = DEFAULT_LIMITS,
        margin_ms: Callable[[], float] = lambda: _DEFAULT_MARGIN_MS,
    ) -> None:
        self._now = now_ms
        self._sleep = sleep
        self._margin = margin_ms
        self._buckets: dict[BucketKey, _Bucket] = {}
        self._changed = asyncio.Event()
        self._waiters: list[_Waiter] = []  # callers waiting for room, in arrival order
        self._header_names: dict[str, str | None] = {}
        self._next_roll_ms = -math.inf  # the earliest time a window rolls over, as of the last roll
        self._rolled_with = math.nan  # the clock margin that time was worked out with
        self._window_ids: tuple[tuple[BucketKey, int], ...] = ()  # each bucket's current window
        self._in_flight_weight = 0
        self._in_flight_requests = 0
        self._answers = 0  # answers handed back so far: each gets the next number
        self._recent: collections.deque[tuple[float, int]] = collections.deque()
        self._paused_until_ms = 0.0
        self._banned_until_ms = 0
        self.total_wait_s = 0.0
        self.last_headers: dict[str, int] = {}
        self.set_limits(limits)

    @classmethod
    def synced_to(
        cls, clock: ServerClock, *, sleep: Sleep = asyncio.sleep, limits: Iterable[RateLimit] = DEFAULT_LIMITS
    ) -> WeightLimiter:
        """Windows aligned on ``clock``'s server time, rolling over once its uncertainty has passed."""

        def margin() -> float:
            uncertainty = clock.uncertainty_ms
            if uncertainty is None:
                return _UNSYNCED_MARGIN_MS
            return max(_DEFAULT_MARGIN_MS, uncertainty + 5.0)

        return cls(now_ms=clock.server_now_ms, sleep=sleep, limits=limits, margin_ms=margin)

    # ------------------------------------------------------------------------------------------ limits

    def set_limits(self, limits: Iterable[RateLimit]) -> None:
        """Adopt the limits of ``exchangeInfo.rateLimits``; a window already tracked keeps its count."""
        fresh: dict[BucketKey, _Bucket] = {}
        for limit in limits:
            if limit.rate_limit_type not in {_WEIGHT, _RAW} or limit.limit <= 0:
                continue
            try:
                window_ms = limit.window_ms
            except KeyError:  # an interval unit this client does not know
                continue
            old = self._buckets.get((limit.rate_limit_type, window_ms))
            fresh[(limit.rate_limit_type, window_ms)] = (
                attrs.evolve(old, limit=limit) if old is not None else _Bucket(limit, window_ms)
            )
        if any(key[0] == _WEIGHT for key in fresh):
            self._buckets = fresh
            self._next_roll_ms = -math.inf  # work the windows out again at the next look
            self._window_ids = tuple((key, bucket.window_id) for key, bucket in fresh.items())
            self._notify()

    @property
    def limits(self) -> tuple[RateLimit, ...]:
        return tuple(bucket.limit for bucket in self._buckets.values())

    # ------------------------------------------------------------------------------------------ acquire

    async def acquire(self, weight: int, *, endpoint: str | None = None) -> Permit:
        """Reserve ``weight``, waiting until it fits; raises ``IPBannedError`` during a ban.

        Callers are served in arrival order, with one exception: while every caller ahead of this one is
        held by a full window (it cannot go before that window rolls over, whatever happens meanwhile), this
        one may go first if it fits now and still leaves each of them room in the window it waits for. So
        the remaining budget of a window is used by lighter requests, and no request ahead is ever delayed
        beyond the roll-over it was waiting for.
        """
        self._raise_if_banned(endpoint)
        started = self._now()
        if self._admissible_in_ms(started, weight, len(self._waiters)) <= 0:
            return self._reserve(weight, 0.0)  # it fits, and it delays no caller that is waiting
        waiter = _Waiter(weight)
        self._waiters.append(waiter)
        try:
            while True:
                self._raise_if_banned(endpoint)
                now = self._now()
                position = self._waiters.index(waiter)
                delay_ms = self._admissible_in_ms(now, weight, position)
                if delay_ms <= 0:
                    break
                if position == 0:
                    await self._wait(delay_ms / 1000)  # the head of the queue waits for time to pass
                    self._notify()  # time has passed: callers behind it look again
                else:
                    await self._wait(None)  # the others look again when something changes
            permit = self._reserve(weight, max(0.0, (now - started) / 1000))
        finally:
            self._waiters.remove(waiter)
            self._notify()
        self.total_wait_s += permit.waited_s
        return permit

    def _reserve(self, weight: int, waited_s: float) -> Permit:
        self._in_flight_weight += weight
        self._in_flight_requests += 1
        return Permit(weight, self._window_ids, waited_s, self._answers)

    def _raise_if_banned(self, endpoint: str | None) -> None:
        until = self._banned_until_ms
        if until and until > self._now():
            when = ms_to_datetime(until).strftime("%Y-%m-%d %H:%M:%S UTC")
            msg = f"the exchange has banned this IP until {when}; nothing is sent before then"
            raise IPBannedError(msg, banned_until_ms=until, http_status=None, endpoint=endpoint)

    def _admissible_in_ms(self, now: float, weight: int, position: int) -> float:
        """0 when a caller of ``weight`` with ``position`` callers ahead of it may go now; else how long
        to wait before looking again (for a caller behind others: any positive number)."""
        if self._paused_until_ms > now:
            return self._paused_until_ms - now
        margin = self._roll(now)
        own = self._blocked_for_ms(now, weight, margin)
        if own > 0 or position == 0:
            return own
        for waiter in self._waiters[:position]:
            ahead = self._blocked_for_ms(now, waiter.weight, margin)
            if ahead <= 0 or not self._leaves_room(now + ahead, waiter.weight, weight, margin):
                return 1.0
        return 0.0

    def _blocked_for_ms(self, now: float, weight: int, margin: float) -> float:
        """How long until ``weight`` may fit (0: it fits now); ``_roll`` has run at ``now``."""
        blocked = False
        delay = 1.0  # at least a millisecond when it does not fit
        for bucket in self._buckets.values():
            if not self._fits(bucket, weight):
                blocked = True
                delay = max(delay, (bucket.window_id + 1) * bucket.window_ms + min(margin, bucket.cap) - now)
        return delay if blocked else 0.0

    def _fits(self, bucket: _Bucket, weight: int) -> bool:
        in_flight = self._in_flight_weight if bucket.weighted else self._in_flight_requests
        estimate = bucket.used + in_flight
        # A request heavier than the whole limit could never fit; it goes alone into an empty window.
        return estimate + bucket.cost(weight) <= bucket.capacity or estimate == 0

    def _leaves_room(self, at: float, waiting: int, passing: int, margin: float) -> bool:
        """Whether ``waiting``, due to go at ``at``, still fits then if ``passing`` is sent now.

        A window that rolls over by ``at`` then holds at most what is in flight now (and ``passing``) plus
        the answers carried into it; a window that does not roll holds its current count as well.
        """
        for bucket in self._buckets.values():
            bucket_margin = min(margin, bucket.cap)
            next_start = (bucket.window_id + 1) * bucket.window_ms
            in_flight = self._in_flight_weight if bucket.weighted else self._in_flight_requests
            if next_start + bucket_margin <= at:
                carried = sum(bucket.cost(w) for t, w in self._recent if t >= next_start - bucket_margin)
                load = in_flight + carried
            else:
                load = bucket.used + in_flight
            if load + bucket.cost(passing) + bucket.cost(waiting) > bucket.capacity:
                return False
        return True

    def _roll(self, now: float) -> float:
        """Start the windows whose time has come; returns the clock margin it used (asked once)."""
        margin = self._margin()
        recent = self._recent
        while recent and recent[0][0] < now - 2 * margin - 1000:
            recent.popleft()
        if now < self._next_roll_ms and margin == self._rolled_with:
            return margin  # no window rolls over before the earliest roll-over worked out last time
        next_roll = math.inf
        for bucket in self._buckets.values():
            bucket_margin = min(margin, bucket.cap)
            window_id = int((now - bucket_margin) // bucket.window_ms)
            if window_id > bucket.window_id:
                start = window_id * bucket.window_ms
                # Answers this close to the boundary may have been counted in the new window.
                carried = [weight for at, weight in recent if at >= start - bucket_margin]
                bucket.start(window_id, sum(bucket.cost(weight) for weight in carried))
            next_roll = min(next_roll, (bucket.window_id + 1) * bucket.window_ms + bucket_margin)
        self._next_roll_ms = next_roll
        self._rolled_with = margin
        self._window_ids = tuple((key, bucket.window_id) for key, bucket in self._buckets.items())
        return margin

    async def _wait(self, seconds: float | None) -> None:
        watcher = asyncio.ensure_future(self._changed.wait())
        if seconds is None:
            try:
                await watcher
            finally:
                watcher.cancel()
            return
        sleeper = asyncio.ensure_future(self._sleep(seconds))
        try:
            await asyncio.wait((sleeper, watcher), return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            watcher.cancel()

    def _notify(self) -> None:
        if self._waiters:  # nobody else waits on the event
            self._changed.set()
            self._changed = asyncio.Event()

    # ------------------------------------------------------------------------------------------ release

    def release(self, permit: Permit, *, headers: Mapping[str, str] | None = None, sent: bool = True) -> None:
        """Hand back a permit. ``sent``: the request may have reached the server (count its weight)."""
        now = self._now()
        self._in_flight_weight -= permit.weight
        self._in_flight_requests -= 1
        self._roll(now)
        values = self._header_values(headers) if headers else None
        # Usually the request was sent in the windows that are still current (the very same tuple).
        windows = None if permit.window_ids is self._window_ids else dict(permit.window_ids)
        number = self._answers
        if sent:
            self._answers = number + 1
            self._recent.append((now, permit.weight))
        if sent or values:
            for bucket in self._buckets.values():
                in_window = windows is None or windows.get(bucket.key) == bucket.window_id
                # A request sent in an earlier window reports that window's count, or the new one's.
                header = values.get(bucket.suffix) if values and in_window and bucket.weighted else None
                if sent:
                    cost = bucket.cost(permit.weight)
                    bucket.answered(number, cost, in_window, header, permit.answers_before)
                elif header is not None:  # not sent, yet answered: the server's count all the same
                    bucket.heard(header, permit.answers_before)
        self._notify()

    def _header_suffix(self, name: str) -> str | None:
        """``1M`` for ``X-MBX-USED-WEIGHT-1M`` (any case), else ``None``; looked up by the exact name."""
        try:
            return self._header_names[name]
        except KeyError:
            pass
        match = _HEADER.match(name)
        suffix = f"{int(match.group(1))}{match.group(2).upper()}" if match is not None else None
        if len(self._header_names) < _HEADER_NAMES_KEPT:
            self._header_names[name] = suffix
        return suffix

    def _header_values(self, headers: Mapping[str, str]) -> dict[str, int]:
        """The used-weight headers among ``headers`` by interval (``{"1M": 37}``); ``last_headers`` too."""
        values: dict[str, int] = {}
        for name, value in headers.items():
            suffix = self._header_suffix(name)
            if suffix is None:
                continue
            try:
                used = int(value.strip())
            except ValueError:
                continue
            values[suffix] = used
        self.last_headers.update(values)
        return values

    def on_rate_limited(self, retry_after_s: float | None) -> None:
        """A 429: every caller waits ``retry_after_s``; without it, every weight window counts as full."""
        now = self._now()
        if retry_after_s is not None:
            self._paused_until_ms = max(self._paused_until_ms, now + retry_after_s * 1000)
        else:
            self._roll(now)
            for bucket in self._buckets.values():
                if bucket.weighted:
                    bucket.heard(bucket.capacity, self._answers)
        self._notify()

    def on_banned(self, banned_until_ms: int) -> None:
        """A 418: no request is sent before ``banned_until_ms``."""
        self._banned_until_ms = max(self._banned_until_ms, banned_until_ms)
        self._notify()

    # ------------------------------------------------------------------------------------------ figures

    @property
    def banned_until_ms(self) -> int | None:
        """The end of the current ban, or ``None`` when not banned."""
        until = self._banned_until_ms
        return until if until and until > self._now() else None

    def used_weight(self) -> int:
        """The highest request weight used in any current window (cheap: for a span attribute)."""
        return max((b.used for b in self._buckets.values() if b.limit.rate_limit_type == _WEIGHT), default=0)

    def usage(self) -> list[WeightUsage]:
        """Weight used in the current window of every request-weight limit (answered requests)."""
        self._roll(self._now())
        return [
            WeightUsage(bucket.limit.header_suffix, bucket.used, bucket.limit.limit)
            for bucket in self._buckets.values()
            if bucket.limit.rate_limit_type == _WEIGHT
        ]

    def busiest(self) -> WeightUsage | None:
        """The request-weight limit closest to being exhausted."""
        return max(self.usage(), key=lambda usage: usage.share, default=None)
