"""`LoopbackExchange`: the test exchange's state, its test-facing API, and its two ways of running.

async with LoopbackExchange(weight_limit=100, weight_interval="10s") as ex:   # in the test's event loop
    ...
with LoopbackExchange() as ex:                                              # own loop, background thread
    ...
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Mapping
from typing import Any, Self

from aiohttp import web

from tests.loopback.app import RouteModule, create_app
from tests.loopback.clock import ServerClock, TimeSource
from tests.loopback.faults import Fault, FaultPlan
from tests.loopback.market import Market
from tests.loopback.recorder import RecordedRequest, RequestLog
from tests.loopback.signing import (
    AsymmetricKey,
    HmacKey,
    KeyStore,
    generate_api_key,
    generate_ed25519,
    generate_rsa,
)
from tests.loopback.symbols import DEFAULT_SYMBOLS, SymbolCatalogue, SymbolSpec, d8
from tests.loopback.weights import RateLimit, WeightLimiter

# Published beside REQUEST_WEIGHT in exchangeInfo (documented values; not enforced here).
_OTHER_LIMITS = [
    {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 50},
    {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 160000},
    {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 300000},
]
DEFAULT_BALANCES: tuple[tuple[str, str, str], ...] = (
    ("BTC", "1.00000000", "0.00000000"),
    ("ETH", "10.00000000", "0.50000000"),
    ("BNB", "5.00000000", "0.00000000"),
    ("USDT", "10000.00000000", "25.00000000"),
    ("LTC", "0.00000000", "0.00000000"),
    ("XRP", "0.00000000", "0.00000000"),
    ("EUR", "0.00000000", "0.00000000"),
    ("这是测试币", "0.00000000", "0.00000000"),
    ("456", "120.00000000", "0.00000000"),
)


class LoopbackExchange:
    """A Binance Spot REST look-alike on 127.0.0.1 with scripted faults, weight limits and a request log."""

    def __init__(
        self,
        *,
        seed: int = 0,
        weight_limit: int = 6000,
        weight_interval: str = "1m",
        extra_weight_limits: tuple[tuple[int, str], ...] = (),
        ban_after_429s: int = 2,
        ban_seconds: float = 120.0,
        time_source: TimeSource | None = None,
        clock_skew_ms: int = 0,
        record_requests: bool = True,
        max_recorded: int = 100_000,
        hang_seconds: float = 60.0,
        symbols: tuple[SymbolSpec, ...] = DEFAULT_SYMBOLS,
        row_cache_bytes: int = 256 << 20,
        route_modules: tuple[RouteModule, ...] = (),
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.clock = ServerClock(time_source, clock_skew_ms)
        self.catalogue = SymbolCatalogue(symbols)
        self.market = Market(self.catalogue, seed, row_cache_bytes)
        limits = (
            RateLimit.parse(weight_limit, weight_interval),
            *(RateLimit.parse(limit, window) for limit, window in extra_weight_limits),
        )
        self.limiter = WeightLimiter(limits, ban_after_429s=ban_after_429s, ban_ms=int(ban_seconds * 1000))
        self.rate_limits_json = json.dumps(
            [rate.as_json() for rate in limits] + _OTHER_LIMITS, separators=(",", ":")
        ).encode()
        self.keys = KeyStore()
        self.faults = FaultPlan()
        self.log = RequestLog(max_recorded, record_requests)
        self.hang_seconds = hang_seconds
        self.route_modules = route_modules
        self.host = host
        self.port = port
        self._balances: dict[str, tuple[tuple[str, str, str], ...]] = {}
        self._key_added_ms: dict[str, int] = {}
        self._hangs: set[asyncio.Event] = set()
        self._runner: web.AppRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._thread_stop: asyncio.Event | None = None

    # ---------------------------------------------------------------- addresses

    @property
    def base_url(self) -> str:
        if self._runner is None:
            raise RuntimeError("the loopback exchange is not running")
        return f"http://{self.host}:{self.port}"

    # ---------------------------------------------------------------- keys and accounts

    def add_hmac_key(self, api_key: str | None = None, secret: str | None = None) -> HmacKey:
        """Accept an HMAC key (generated when not given); returns the credentials to sign with."""
        key = HmacKey(api_key or generate_api_key(), secret or generate_api_key())
        self.add_key(key.api_key, secret=key.secret)
        return key

    def add_ed25519_key(self, api_key: str | None = None) -> AsymmetricKey:
        """Generate an Ed25519 key pair and accept its public half; returns both halves."""
        pair = generate_ed25519(api_key)
        self.add_key(pair.api_key, public_key_pem=pair.public_key_pem)
        return pair

    def add_rsa_key(self, api_key: str | None = None, key_size: int = 2048) -> AsymmetricKey:
        pair = generate_rsa(api_key, key_size)
        self.add_key(pair.api_key, public_key_pem=pair.public_key_pem)
        return pair

    def add_key(
        self, api_key: str, *, secret: str | None = None, public_key_pem: bytes | str | None = None
    ) -> str:
        """Accept `api_key` with an HMAC `secret` or an Ed25519/RSA `public_key_pem`; returns the key type."""
        if (secret is None) == (public_key_pem is None):
            raise ValueError("give exactly one of secret (HMAC) or public_key_pem (Ed25519/RSA)")
        if secret is not None:
            self.keys.add_hmac(api_key, secret)
            kind = "HMAC"
        else:
            assert public_key_pem is not None
            kind = self.keys.add_public_key(api_key, public_key_pem)
        self._key_added_ms.setdefault(api_key, self.now_ms())
        return kind

    def remove_key(self, api_key: str) -> None:
        self.keys.remove(api_key)

    def set_balances(self, api_key: str, balances: Mapping[str, tuple[str, str]]) -> None:
        """The account's balances as {asset: (free, locked)}, decimal strings."""
        self._balances[api_key] = tuple(
            (asset, d8(free), d8(locked)) for asset, (free, locked) in balances.items()
        )

    def account_snapshot(
        self, api_key: str, *, omit_zero_balances: bool = False, time_mult: int = 1
    ) -> dict[str, Any]:
        balances = self._balances.get(api_key, DEFAULT_BALANCES)
        rows = [
            {"asset": asset, "free": free, "locked": locked}
            for asset, free, locked in balances
            if not omit_zero_balances or float(free) != 0 or float(locked) != 0
        ]
        return {
            "makerCommission": 10,
            "takerCommission": 10,
            "buyerCommission": 0,
            "sellerCommission": 0,
            "commissionRates": {
                "maker": "0.00100000",
                "taker": "0.00100000",
                "buyer": "0.00000000",
                "seller": "0.00000000",
            },
            "canTrade": True,
            "canWithdraw": False,
            "canDeposit": False,
            "brokered": False,
            "requireSelfTradePrevention": False,
            "preventSor": False,
            "updateTime": self._key_added_ms.get(api_key, 0) * time_mult,
            "accountType": "SPOT",
            "balances": rows,
            "permissions": ["SPOT"],
            "uid": int(api_key[:12], 36) % 10**10,
        }

    # ---------------------------------------------------------------- faults and clock

    def inject(self, fault: Fault, *, times: int = 1, path: str | None = None) -> None:
        """The next `times` requests (to `path`, exact or `prefix*`) suffer `fault`, in FIFO order."""
        self.faults.inject(fault, times=times, path=path)

    def set_failure_rate(
        self, rate: float, fault: Fault | None = None, *, seed: int = 0, path: str | None = None
    ) -> None:
        """Fail a deterministic pseudo-random share `rate` of requests with `fault` (default HTTP 500)."""
        self.faults.set_failure_rate(rate, fault, seed=seed, path=path)

    def set_latency(self, seconds: float, *, path: str | None = None) -> None:
        """Delay every matching request by `seconds` before it is handled (0 removes it)."""
        self.faults.set_latency(seconds, path=path)

    def clear_faults(self) -> None:
        self.faults.clear()

    def set_clock_skew(self, skew_ms: int) -> None:
        """Server time = time source + `skew_ms`; takes effect on the next request."""
        self.clock.skew_ms = skew_ms

    @property
    def clock_skew_ms(self) -> int:
        return self.clock.skew_ms

    def now_ms(self) -> int:
        return self.clock.now_ms()

    def ban(self, seconds: float) -> None:
        """Ban the client for real: every request gets 418 until the ban ends."""
        self.limiter.ban(self.now_ms(), int(seconds * 1000))

    def reset_limits(self) -> None:
        """Forget used weight, refusals and bans."""
        self.limiter.reset()

    async def hang(self, seconds: float | None) -> bool:
        """Hold a request; True when released early (the server stopping or `release_hangs`)."""
        event = asyncio.Event()
        self._hangs.add(event)
        try:
            await asyncio.wait_for(event.wait(), seconds if seconds is not None else self.hang_seconds)
        except TimeoutError:
            return False
        finally:
            self._hangs.discard(event)
        return True

    def release_hangs(self) -> None:
        """End every request currently held by a `hang` fault (its connection is closed)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        for event in list(self._hangs):
            loop.call_soon_threadsafe(event.set)

    # ---------------------------------------------------------------- observation

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far (unless recording is off), oldest first."""
        return self.log.snapshot()

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [entry for entry in self.log.snapshot() if entry.path == path]

    def kline_series(
        self, symbol: str, interval: str, *, start_ms: int, end_ms: int, now_ms: int | None = None
    ) -> list[list[Any]]:
        """The exchange's own candles with open times in [start_ms, end_ms] (as of `now_ms`, default now),
        parsed from JSON: the reference to check a backfill against, candle by candle."""
        now = self.now_ms() if now_ms is None else now_ms
        return self.market.series(symbol, interval, start=start_ms, end=end_ms, now=now)

    def clear_requests(self) -> None:
        self.log.clear()

    @property
    def count_429(self) -> int:
        return self.log.status_counts[429]

    @property
    def count_418(self) -> int:
        return self.log.status_counts[418]

    def used_weight(self) -> dict[str, int]:
        """Current usage per window, keyed by header name (e.g. X-MBX-USED-WEIGHT-1M)."""
        return dict(self.limiter.used(self.now_ms()))

    def stats(self) -> dict[str, Any]:
        return {
            "requests": self.log.total,
            "status_counts": {str(k): v for k, v in sorted(self.log.status_counts.items())},
            "count_429": self.count_429,
            "count_418": self.count_418,
            "faults_injected": self.faults.injected,
            "faults_pending": self.faults.pending,
            "used_weight": self.used_weight(),
            "banned_until_ms": self.limiter.banned_until_ms,
            "clock_skew_ms": self.clock_skew_ms,
            "server_time": self.now_ms(),
        }

    # ---------------------------------------------------------------- lifecycle: in-loop

    async def start(self) -> Self:
        if self._runner is not None:
            raise RuntimeError("already running")
        runner = web.AppRunner(
            create_app(self, self.route_modules), access_log=None, handle_signals=False, shutdown_timeout=0.5
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self._runner = runner
        self._loop = asyncio.get_running_loop()
        address = runner.addresses[0]
        self.port = int(address[1])
        return self

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is None:
            return
        for event in list(self._hangs):
            event.set()
        await runner.cleanup()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ---------------------------------------------------------------- lifecycle: thread

    def start_in_thread(self, timeout: float = 10.0) -> Self:
        """Serve from a background thread with its own event loop (for synchronous tests and CLI runners)."""
        if self._thread is not None:
            raise RuntimeError("already running")
        ready = threading.Event()
        failure: list[BaseException] = []

        async def serve() -> None:
            self._thread_stop = asyncio.Event()
            try:
                await self.start()
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                return
            ready.set()
            try:
                await self._thread_stop.wait()
            finally:
                await self.stop()

        self._thread = threading.Thread(
            target=asyncio.run, args=(serve(),), name="loopback-exchange", daemon=True
        )
        self._thread.start()
        if not ready.wait(timeout):
            raise RuntimeError("the loopback exchange did not start in time")
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]
        return self

    def stop_thread(self, timeout: float = 10.0) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        loop, stop = self._loop, self._thread_stop
        if loop is not None and stop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stop.set)
        thread.join(timeout)

    def __enter__(self) -> Self:
        return self.start_in_thread()

    def __exit__(self, *exc_info: object) -> None:
        self.stop_thread()


ExchangeFactory = Callable[..., LoopbackExchange]
