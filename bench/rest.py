"""REST benchmark: client CPU per call, and the weight limiter under a binding limit, on the loopback
exchange.

``python -m bench rest`` (or ``make bench``, which runs every benchmark). One exchange process serves every
client in the same run:

1. **CPU per call.** Sequential calls, client CPU only (the exchange runs in its own process): a five-symbol
   price request, a 1000-candle kline page, a signed account request (HMAC) and server time, through raw
   ``httpx`` + ``json.loads`` on three transports, raw ``aiohttp`` + ``json.loads``, ``BinanceRestAdapter``
   (with the no-op tracer, and with the OpenTelemetry SDK recording spans and metrics to memory), and, when
   the ``bench`` extra is installed, python-binance, ccxt and the official SDK (``binance-sdk-spot``).
2. **Limiter.** A second exchange limits request weight to 1200 per 10 seconds; several concurrent callers
   run through two whole windows; the exchange's own log gives the weight it admitted in each window, and
   its 429 count must stay zero.

Comparison clients that are not installed are skipped with a note; ``--quick`` checks that every case runs.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import inspect
import json
import secrets
import sys
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import httpx
import yarl

from adapters.binance import BinanceRestAdapter, BinanceSettings, BinanceTelemetry, new_http_client
from bench._support import (
    Call,
    Case,
    LoopbackServer,
    Stats,
    bench_parser,
    machine_info,
    measure,
    render_table,
    write_json,
)
from domain import Interval, KlinePage, Symbol

__all__ = ["main"]

SYMBOLS = ("BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "XRPUSDT")
KLINE_SYMBOL = "BTCUSDT"
KLINE_START_MS = 1_704_067_200_000  # 2024-01-01T00:00Z: a page of 1000 closed candles, cached by the exchange
KLINE_LIMIT = 1000
RECV_WINDOW = "5000"

OPERATIONS: dict[str, str] = {
    "price": "price, 5 symbols",
    "klines": "klines, 1000",
    "account": "account (HMAC)",
    "time": "server time",
}
#: What a correct answer holds, checked once per case outside the timed region.
EXPECTED_SIZE = {"price": len(SYMBOLS), "klines": KLINE_LIMIT}

_PRICE_QUERY = "symbols=" + urllib.parse.quote(json.dumps(list(SYMBOLS), separators=(",", ":")), safe="")
_KLINE_QUERY = f"symbol={KLINE_SYMBOL}&interval=1m&startTime={KLINE_START_MS}&limit={KLINE_LIMIT}"


@dataclass(frozen=True)
class Key:
    """An HMAC key the exchange is started with (random per run, never printed)."""

    api_key: str
    secret: str

    @classmethod
    def generate(cls) -> Key:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        return cls(*("".join(secrets.choice(alphabet) for _ in range(64)) for _ in range(2)))

    def signed_query(self, params: str) -> str:
        signature = hmac.new(self.secret.encode(), params.encode(), hashlib.sha256).hexdigest()
        return f"{params}&signature={signature}"


@dataclass
class Subject:
    """A client under test: its calls per operation, the subject its ratio is taken against, its cleanup."""

    name: str
    transport: str
    baseline: str | None
    calls: dict[str, Call]
    close: Callable[[], Awaitable[None]]
    note: str = ""
    before_round: Callable[[], None] | None = None
    extras: dict[str, Any] = field(default_factory=dict)


def _account_query() -> str:
    return f"omitZeroBalances=false&recvWindow={RECV_WINDOW}&timestamp={int(time.time() * 1000)}"


# ---------------------------------------------------------------------------------------------- raw clients


def raw_httpx(name: str, transport_name: str, client: httpx.AsyncClient, base: str, key: Key) -> Subject:
    """The least a client can do: prebuilt URLs, one HMAC for the signed call, ``json.loads`` on the body."""
    price_url = f"{base}/api/v3/ticker/price?{_PRICE_QUERY}"
    kline_url = f"{base}/api/v3/klines?{_KLINE_QUERY}"
    time_url = f"{base}/api/v3/time"
    headers = {"X-MBX-APIKEY": key.api_key}

    async def get(url: str) -> Any:
        return json.loads((await client.get(url)).content)

    async def account() -> Any:
        url = f"{base}/api/v3/account?{key.signed_query(_account_query())}"
        return json.loads((await client.get(url, headers=headers)).content)

    return Subject(
        name,
        transport_name,
        None,
        {
            "price": lambda: get(price_url),
            "klines": lambda: get(kline_url),
            "account": account,
            "time": lambda: get(time_url),
        },
        client.aclose,
    )


def raw_aiohttp(base: str, key: Key) -> Subject:
    """aiohttp alone, URLs passed as already encoded: the floor of what Python's HTTP clients cost here."""
    session = aiohttp.ClientSession()
    headers = {"X-MBX-APIKEY": key.api_key}

    async def get(url: str, headers: Mapping[str, str] | None = None) -> Any:
        async with session.get(yarl.URL(url, encoded=True), headers=headers) as response:
            return json.loads(await response.read())

    price_url = f"{base}/api/v3/ticker/price?{_PRICE_QUERY}"
    kline_url = f"{base}/api/v3/klines?{_KLINE_QUERY}"
    time_url = f"{base}/api/v3/time"
    return Subject(
        "raw aiohttp + json.loads",
        "aiohttp",
        None,
        {
            "price": lambda: get(price_url),
            "klines": lambda: get(kline_url),
            "account": lambda: get(f"{base}/api/v3/account?{key.signed_query(_account_query())}", headers),
            "time": lambda: get(time_url),
        },
        session.close,
    )


# ---------------------------------------------------------------------------------------------- the adapter


def _settings(base: str, key: Key) -> BinanceSettings:
    return BinanceSettings.from_mapping({"base_url": base, "api_key": key.api_key, "api_secret": key.secret})


DEFAULT_ADAPTER = "BinanceRestAdapter (gateway aiohttp transport, default)"


def gateway_adapter(
    name: str,
    transport_name: str,
    baseline: str,
    http: httpx.AsyncClient,
    base: str,
    key: Key,
    *,
    sdk_telemetry: bool = False,
) -> Subject:
    """``BinanceRestAdapter`` as the container builds it, on ``http``; optionally with the OTel SDK."""
    telemetry = BinanceTelemetry()
    before_round: Callable[[], None] | None = None
    shutdown: Callable[[], None] = lambda: None  # noqa: E731 - replaced when the SDK is configured
    note = "no-op tracer and meter (no SDK configured)"
    if sdk_telemetry:
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        exporter = InMemorySpanExporter()
        tracer_provider = TracerProvider()
        tracer_provider.add_span_processor(BatchSpanProcessor(exporter))
        meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
        telemetry = BinanceTelemetry(tracer_provider=tracer_provider, meter_provider=meter_provider)
        before_round = exporter.clear

        def shutdown() -> None:
            tracer_provider.shutdown()
            meter_provider.shutdown()

        note = "OTel SDK: BatchSpanProcessor to an in-memory exporter, metrics to an in-memory reader"
    adapter = BinanceRestAdapter(http, _settings(base, key), telemetry=telemetry)
    symbols = [Symbol(value) for value in SYMBOLS]
    kline_symbol = Symbol(KLINE_SYMBOL)

    async def close() -> None:
        await adapter.aclose()
        shutdown()

    async def klines_ohlcv() -> None:
        """The page, then what ccxt's page holds, as exact decimals: open, high, low, close and volume."""
        page = await adapter.get_kline_data(
            kline_symbol, Interval.MINUTE_1, start_ms=KLINE_START_MS, limit=KLINE_LIMIT
        )
        if isinstance(page, KlinePage):
            for field_name in ("open", "high", "low", "close", "volume"):
                page.decimals(field_name)

    async def klines_read() -> None:
        """The page, then every candle of it made: eight ``Decimal``s and a ``Kline`` each."""
        page = await adapter.get_kline_data(
            kline_symbol, Interval.MINUTE_1, start_ms=KLINE_START_MS, limit=KLINE_LIMIT
        )
        list(page)

    return Subject(
        name,
        transport_name,
        baseline,
        {
            "price": lambda: adapter.get_symbol_tickers(symbols),
            "klines": lambda: adapter.get_kline_data(
                kline_symbol, Interval.MINUTE_1, start_ms=KLINE_START_MS, limit=KLINE_LIMIT
            ),
            "account": adapter.get_account_info,
            "time": adapter.get_server_time,
        },
        close,
        note=note,
        before_round=before_round,
        extras={"adapter": adapter, "klines_ohlcv": klines_ohlcv, "klines_read": klines_read},
    )


# ---------------------------------------------------------------------------------------------- other clients


def python_binance(base: str, key: Key, baseline: str) -> Subject | str:
    """python-binance's ``AsyncClient`` (aiohttp, raw dicts), its ``API_URL`` pointed at the exchange."""
    try:
        from binance import AsyncClient
    except ImportError:
        return "python-binance is not installed (make bench installs the bench extra)"
    client = AsyncClient(key.api_key, key.secret)
    client.API_URL = f"{base}/api"  # the attribute its constructor derives from tld/base_endpoint
    symbols = json.dumps(list(SYMBOLS), separators=(",", ":"))
    return Subject(
        "python-binance AsyncClient",
        "aiohttp",
        baseline,
        {
            "price": lambda: client.get_symbol_ticker(symbols=symbols),
            "klines": lambda: client.get_klines(
                symbol=KLINE_SYMBOL, interval="1m", startTime=KLINE_START_MS, limit=KLINE_LIMIT
            ),
            "account": client.get_account,
            "time": client.get_server_time,
        },
        client.close_connection,
        note="raw dicts and string lists; API_URL overridden",
    )


async def ccxt_binance(base: str, key: Key, baseline: str) -> Subject | str:
    """ccxt's async ``binance``, its spot URLs pointed at the exchange and its rate limiter off."""
    try:
        import ccxt.async_support as ccxt_async
    except ImportError:
        return "ccxt is not installed (make bench installs the bench extra)"
    exchange = ccxt_async.binance(
        {
            "apiKey": key.api_key,
            "secret": key.secret,
            "enableRateLimit": False,  # its sleep-based throttle would dominate; the client's CPU is measured
            "options": {
                "fetchMarkets": {"types": ["spot"]},
                "fetchMargins": False,
                "fetchCurrencies": False,
                "recvWindow": int(RECV_WINDOW),
            },
        }
    )
    api = exchange.urls["api"]
    for name in ("public", "private"):
        api[name] = f"{base}/api/v3"
    api["v1"] = f"{base}/api/v1"
    await exchange.load_markets()
    unified = [exchange.markets_by_id[symbol][0]["symbol"] for symbol in SYMBOLS]
    ids = json.dumps(list(SYMBOLS), separators=(",", ":"))
    kline_symbol = exchange.markets_by_id[KLINE_SYMBOL][0]["symbol"]
    return Subject(
        "ccxt binance (async)",
        "aiohttp",
        baseline,
        {
            # fetch_last_prices asks for every symbol; passing `symbols` through keeps the request alike
            "price": lambda: exchange.fetch_last_prices(unified, {"symbols": ids}),
            "klines": lambda: exchange.fetch_ohlcv(kline_symbol, "1m", KLINE_START_MS, KLINE_LIMIT),
            "account": exchange.fetch_balance,
            "time": exchange.fetch_time,
        },
        exchange.close,
        note="floats; enableRateLimit=False; price via fetch_last_prices with symbols passed through",
        extras={"fetch_tickers": lambda: exchange.fetch_tickers(unified)},
    )


def official_sdk(base: str, key: Key, baseline: str) -> Subject | str:
    """The official ``binance-sdk-spot`` (synchronous ``requests``, pydantic models via ``.data()``)."""
    try:
        from binance_common.configuration import ConfigurationRestAPI
        from binance_sdk_spot.rest_api.models import KlinesIntervalEnum
        from binance_sdk_spot.spot import Spot
    except ImportError:
        return "binance-sdk-spot is not installed (make bench installs the bench extra)"
    config = ConfigurationRestAPI(api_key=key.api_key, api_secret=key.secret, base_path=base, timeout=10_000)
    rest = Spot(config_rest_api=config).rest_api
    symbols = list(SYMBOLS)
    minute = KlinesIntervalEnum("1m")

    async def close() -> None:
        return None

    return Subject(
        "official SDK (binance-sdk-spot)",
        "requests",
        baseline,
        {
            "price": lambda: rest.ticker_price(symbols=symbols).data(),
            "klines": lambda: rest.klines(
                symbol=KLINE_SYMBOL, interval=minute, start_time=KLINE_START_MS, limit=KLINE_LIMIT
            ).data(),
            "account": lambda: rest.get_account().data(),
            "time": lambda: rest.time().data(),
        },
        close,
        note="synchronous (requests); .data() builds its pydantic models",
    )


# ---------------------------------------------------------------------------------------------- CPU benchmark


def _size(result: object) -> int | None:
    for candidate in (result, getattr(result, "root", None), getattr(result, "actual_instance", None)):
        if isinstance(candidate, list | dict):
            return len(candidate)
    return None


async def _check(subject: Subject) -> None:
    """One untimed call per operation: a client that gets errors back must not be timed as if it worked."""
    for operation, call in subject.calls.items():
        result = call()
        if inspect.isawaitable(result):
            result = await result
        expected = EXPECTED_SIZE.get(operation)
        size = _size(result)
        if expected is not None and size is not None and size < expected:
            msg = f"{subject.name} {operation}: {size} items, expected {expected}: {str(result)[:200]}"
            raise RuntimeError(msg)
        if result is None or (isinstance(result, dict) and "code" in result and "msg" in result):
            msg = f"{subject.name} {operation} failed: {str(result)[:200]}"
            raise RuntimeError(msg)


async def build_subjects(base: str, key: Key) -> tuple[list[Subject], list[str]]:
    raw_core = "raw httpx (httpcore) + json.loads"
    raw_gateway = "raw httpx (gateway aiohttp transport) + json.loads"
    raw_hxa = "raw httpx (httpx-aiohttp) + json.loads"
    from httpx_aiohttp import AiohttpTransport as HttpxAiohttpTransport

    subjects = [
        raw_httpx(raw_core, "httpcore", httpx.AsyncClient(timeout=15.0), base, key),
        raw_httpx(
            raw_hxa,
            "httpx-aiohttp",
            httpx.AsyncClient(transport=HttpxAiohttpTransport(), timeout=15.0),
            base,
            key,
        ),
        raw_httpx(raw_gateway, "gateway-aiohttp", new_http_client(), base, key),
        raw_aiohttp(base, key),
        gateway_adapter(
            "BinanceRestAdapter (httpcore)",
            "httpcore",
            raw_core,
            new_http_client(transport=httpx.AsyncHTTPTransport()),
            base,
            key,
        ),
        gateway_adapter(
            DEFAULT_ADAPTER,
            "gateway-aiohttp",
            raw_gateway,
            new_http_client(),
            base,
            key,
        ),
        gateway_adapter(
            "BinanceRestAdapter + OTel SDK (default transport)",
            "gateway-aiohttp",
            raw_gateway,
            new_http_client(),
            base,
            key,
            sdk_telemetry=True,
        ),
    ]
    skipped: list[str] = []
    for made in (
        python_binance(base, key, raw_core),
        await ccxt_binance(base, key, raw_core),
        official_sdk(base, key, raw_core),
    ):
        if isinstance(made, str):
            skipped.append(made)
        else:
            subjects.append(made)
    for subject in subjects:
        adapter = subject.extras.get("adapter")
        if isinstance(adapter, BinanceRestAdapter):
            await adapter.get_exchange_info()  # adopt the exchange's limits, as the services do at start
        await _check(subject)
    return subjects, skipped


def _ms(stats: Stats) -> str:
    return f"{stats.median * 1000:.3f} ({stats.min * 1000:.3f}-{stats.max * 1000:.3f})"


def _chosen(subject: Subject, wanted: Sequence[str] | None) -> bool:
    """Whether ``--clients`` picks ``subject`` (a ratio needs its baseline picked too)."""
    if not wanted:
        return True
    return any(w.lower() in subject.name.lower() for w in wanted)


def cpu_tables(
    subjects: Sequence[Subject], results: Mapping[tuple[str, str], Stats], operations: Sequence[str]
) -> tuple[str, str]:
    """The medians table (ms of CPU per call, min-max) and the ratios table (against each row's baseline)."""
    medians = render_table(
        ["client", *[OPERATIONS[op] for op in operations]],
        [
            [s.name, *[_ms(results[(s.name, op)]) if (s.name, op) in results else "-" for op in operations]]
            for s in subjects
        ],
    )
    ratio_rows = []
    for subject in subjects:
        if subject.baseline is None:
            continue
        cells = []
        for op in operations:
            mine, base = results.get((subject.name, op)), results.get((subject.baseline, op))
            if mine is None or base is None:
                cells.append("-")
                continue
            extra = (mine.median - base.median) * 1000
            cells.append(f"{mine.median / base.median:.2f}x ({extra:+.3f} ms)")
        ratio_rows.append([subject.name, subject.baseline, *cells])
    ratios = render_table(["client", "against", *[OPERATIONS[op] for op in operations]], ratio_rows)
    return medians, ratios


async def cpu_benchmark(options: Any, key: Key, log: Callable[[str], None]) -> dict[str, Any]:
    with LoopbackServer(
        "--weight-limit",
        "1000000000",
        "--no-record",
        "--hmac-key",
        f"{key.api_key}:{key.secret}",
        "--prewarm",
        KLINE_SYMBOL,
        "2024-01-01",
        "2024-01-02",
    ) as server:
        subjects, skipped = await build_subjects(server.base_url, key)
        try:
            timed = [s for s in subjects if _chosen(s, options.clients)]
            cases = [
                Case(subject.name, op, call, subject.before_round)
                for subject in timed
                for op, call in subject.calls.items()
                if options.operations is None or op in options.operations
            ]
            extra_cases = [
                Case(s.name, "fetch_tickers (24hr, 5 symbols)", s.extras["fetch_tickers"])
                for s in timed
                if "fetch_tickers" in s.extras and options.operations is None
            ]
            # The adapter's page makes decimals and candles only when they are read: its cost with all of
            # them made, for the default adapter (the one the klines column compares with the others).
            extra_cases += [
                Case(s.name, operation, s.extras[extra])
                for s in timed
                if s.name == DEFAULT_ADAPTER
                and (options.operations is None or "klines" in options.operations)
                for extra, operation in (
                    ("klines_ohlcv", "klines, 1000, open/high/low/close/volume read as Decimal columns"),
                    ("klines_read", "klines, 1000, every candle made (eight Decimals and a Kline each)"),
                )
            ]
            count = len(cases) + len(extra_cases)
            log(f"timing {count} cases: {options.rounds} rounds of {options.calls} calls")
            results = await measure(
                [*cases, *extra_cases],
                rounds=options.rounds,
                calls=options.calls,
                warmup=options.warmup,
                progress=log,
            )
            state = server.state()
        finally:
            for subject in subjects:
                await subject.close()
    medians, ratios = cpu_tables(timed, results, options.operations or list(OPERATIONS))
    extra = "\n".join(
        f"- {case.subject}, {case.operation}: {_ms(results[case.key])} ms" for case in extra_cases
    )
    return {
        "subjects": [
            {"name": s.name, "transport": s.transport, "baseline": s.baseline, "note": s.note} for s in timed
        ],
        "skipped": skipped,
        "results": [
            {"client": subject, "operation": op, "cpu_s_per_call": stats.to_dict()}
            for (subject, op), stats in results.items()
        ],
        "server": {"requests": state["requests"], "status_counts": state["status_counts"]},
        "tables": {"medians": medians, "ratios": ratios, "extra": extra},
    }


# ---------------------------------------------------------------------------------------------- limiter


@dataclass(frozen=True)
class LimiterScenario:
    name: str
    workers: int
    mix: tuple[str, ...]  # operations the workers cycle through
    # Start the workers this long before a window boundary, so that requests are on the wire as the first
    # measured window begins (the hard case); ``None``: at once, wherever that falls in a window.
    lead_ms: float | None = None


LIMIT, WINDOW_MS = 1200, 10_000
_MIXED = ("klines", "price", "time", "account", "klines")
SCENARIOS = (
    LimiterScenario("kline pages (weight 2), 8 in flight", 8, ("klines",)),
    LimiterScenario("kline pages, 8 in flight, started 0.3 s before a boundary", 8, ("klines",), 300.0),
    LimiterScenario("mixed weights 1/2/4/20, 8 in flight", 8, _MIXED),
    LimiterScenario("mixed weights, 8 in flight, started 0.3 s before a boundary", 8, _MIXED, 300.0),
)


class WireCounter:
    """httpx event hooks that count requests sent and not yet answered (on the wire), and their peak."""

    def __init__(self) -> None:
        self.current = 0
        self.peak = 0
        self.changes: list[tuple[float, int]] = []  # (epoch ms, requests on the wire after the change)

    def reset(self) -> None:
        self.peak = self.current
        self.changes.clear()

    def _note(self, step: int) -> None:
        self.current += step
        self.peak = max(self.peak, self.current)
        self.changes.append((time.time() * 1000, self.current))

    async def sent(self, _request: httpx.Request) -> None:
        self._note(1)

    async def answered(self, _response: httpx.Response) -> None:
        self._note(-1)

    def on_wire_at(self, epoch_ms: float) -> int:
        """Requests on the wire at ``epoch_ms`` (sent, not yet answered)."""
        count = 0
        for at, current in self.changes:
            if at > epoch_ms:
                break
            count = current
        return count


async def _limiter_run(
    server: LoopbackServer, key: Key, scenario: LimiterScenario, windows: int
) -> dict[str, Any]:
    async with asyncio.timeout(windows * WINDOW_MS / 1000 + 40):
        wire = WireCounter()
        http = new_http_client()
        http.event_hooks = {"request": [wire.sent], "response": [wire.answered]}
        subject = gateway_adapter("adapter", "gateway-aiohttp", "", http, server.base_url, key)
        adapter: BinanceRestAdapter = subject.extras["adapter"]
        await adapter.get_exchange_info()
        await adapter.get_server_time()
        now = time.time() * 1000
        if scenario.lead_ms is not None:
            # Start lead_ms before the next boundary that leaves the set-up above time to settle.
            boundary = (int((now + scenario.lead_ms) // WINDOW_MS) + 1) * WINDOW_MS
            await asyncio.sleep((boundary - scenario.lead_ms - now) / 1000)
            now = time.time() * 1000
        server.control("requests/clear", {})
        before = server.state()
        first = int(now // WINDOW_MS) + 1
        end_ms = (first + windows) * WINDOW_MS
        wire.reset()

        async def worker(offset: int) -> None:
            step = offset
            while time.time() * 1000 < end_ms:
                result = subject.calls[scenario.mix[step % len(scenario.mix)]]()
                step += 1
                if inspect.isawaitable(result):
                    await result

        tasks = [asyncio.ensure_future(worker(n)) for n in range(scenario.workers)]
        await asyncio.sleep(max(0.0, end_ms / 1000 - time.time()))
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        failures = [t.exception() for t in tasks if not t.cancelled() and t.exception() is not None]
        after = server.state()
        entries = server.requests()
        await subject.close()
    used: dict[int, int] = {}
    for entry in entries:
        window = int(entry["received_ms"]) // WINDOW_MS
        used[window] = used.get(window, 0) + int(entry["weight"])
    covered = range(first, first + windows)
    shares = [used.get(window, 0) / LIMIT for window in covered]
    last = {
        window: max(
            (
                int(e["received_ms"]) - window * WINDOW_MS
                for e in entries
                if e["received_ms"] // WINDOW_MS == window
            ),
            default=0,
        )
        for window in covered
    }
    return {
        "scenario": scenario.name,
        "windows": windows,
        "used_per_window": [used.get(window, 0) for window in range(first, first + windows)],
        "share_per_window": shares,
        "count_429": after["count_429"] - before["count_429"],
        "count_418": after["count_418"] - before["count_418"],
        "peak_in_flight": wire.peak,
        # When the last request of a window was admitted, and how many were on the wire as it opened: a
        # window left short with an early last admission is the limiter idling with budget left, not a client
        # too slow to spend it.
        "on_wire_at_window_start": [wire.on_wire_at(window * WINDOW_MS) for window in covered],
        "last_admitted_s": [last[window] / 1000 for window in covered],
        "requests": len(entries),
        "failures": [repr(failure)[:200] for failure in failures],
    }


async def limiter_benchmark(key: Key, windows: int, log: Callable[[str], None]) -> dict[str, Any]:
    with LoopbackServer(
        "--weight-limit",
        str(LIMIT),
        "--weight-interval",
        "10s",
        "--hmac-key",
        f"{key.api_key}:{key.secret}",
        "--prewarm",
        KLINE_SYMBOL,
        "2024-01-01",
        "2024-01-02",
    ) as server:
        runs = []
        for scenario in SCENARIOS:
            log(f"limiter: {scenario.name}, {windows} windows of {WINDOW_MS // 1000} s")
            runs.append(await _limiter_run(server, key, scenario, windows))
    rows = [
        [
            run["scenario"],
            " / ".join(str(u) for u in run["used_per_window"]),
            " / ".join(f"{share:.1%}" for share in run["share_per_window"]),
            str(run["requests"]),
            str(run["peak_in_flight"]),
            " / ".join(str(n) for n in run["on_wire_at_window_start"]),
            " / ".join(f"{s:.2f} s" for s in run["last_admitted_s"]),
            str(run["count_429"]),
            str(run["count_418"]),
        ]
        for run in runs
    ]
    table = render_table(
        [
            "scenario",
            f"weight per window (limit {LIMIT})",
            "share of budget",
            "requests (whole run)",
            "peak on the wire",
            "on the wire at window start",
            "last request admitted",
            "429",
            "418",
        ],
        rows,
    )
    return {"limit": LIMIT, "window_ms": WINDOW_MS, "runs": runs, "table": table}


# ---------------------------------------------------------------------------------------------- entry point


def main(argv: Sequence[str] | None = None) -> int:
    parser = bench_parser("python -m bench rest", __doc__ or "", rounds=15, calls=100, warmup=50)
    parser.add_argument(
        "--clients",
        nargs="+",
        metavar="TEXT",
        help="time only the clients whose name contains one of these (e.g. 'raw httpx' adapter)",
    )
    parser.add_argument(
        "--operations", nargs="+", choices=list(OPERATIONS), help="time only these operations"
    )
    parser.add_argument("--skip-cpu", action="store_true", help="run only the limiter benchmark")
    parser.add_argument("--skip-limiter", action="store_true", help="run only the CPU benchmark")
    parser.add_argument(
        "--windows", type=int, default=2, help="whole limiter windows per scenario (default 2)"
    )
    options = parser.parse_args(argv)
    if options.quick:
        options.rounds, options.calls, options.warmup = 2, 3, 2

    def log(text: str) -> None:
        print(f"# {text}", file=sys.stderr, flush=True)

    key = Key.generate()
    machine = machine_info()
    log(f"machine: {machine}")
    report: dict[str, Any] = {
        "machine": machine,
        "options": {
            "rounds": options.rounds,
            "calls": options.calls,
            "warmup": options.warmup,
            "quick": options.quick,
        },
    }
    print(
        f"## REST ({machine['cpu']}, {machine['cores']} cores, Python {machine['python']}, "
        f"load {machine['load_average']})\n"
    )
    if not options.skip_cpu:
        cpu = asyncio.run(cpu_benchmark(options, key, log))
        report["cpu"] = cpu
        print(
            "Client CPU per call, ms: median (min-max) of "
            f"{options.rounds} rounds of {options.calls} sequential calls\n"
        )
        print(cpu["tables"]["medians"] + "\n")
        print(
            "Ratios of medians, and the difference in ms (the adapter against raw httpx on its own "
            "transport; the other clients against raw httpx on httpcore)\n"
        )
        print(cpu["tables"]["ratios"] + "\n")
        if cpu["tables"]["extra"]:
            print("Other calls:\n\n" + cpu["tables"]["extra"] + "\n")
        for note in cpu["skipped"]:
            print(f"- skipped: {note}")
    if not options.skip_limiter:
        limiter = asyncio.run(limiter_benchmark(key, options.windows, log))
        report["limiter"] = limiter
        print(
            f"Limiter: {LIMIT} weight per {WINDOW_MS // 1000} s on the exchange, "
            f"{options.windows} whole windows per scenario\n"
        )
        print(limiter["table"] + "\n")
        for run in limiter["runs"]:
            for failure in run["failures"]:
                print(f"- {run['scenario']}: a caller failed: {failure}")
    if options.json is not None:
        write_json(options.json, report)
        log(f"results written to {options.json}")
    return 0
