"""Stream benchmark: one loopback connection carrying ``bookTicker`` for 20 symbols.

``python -m bench streams`` (``make bench`` runs every benchmark). A server process
(``bench._stream_server``) writes Binance-shaped combined-stream frames; this process consumes them with:

- ``BinanceStreamAdapter``: typed ``BookTickerEvent`` objects from ``events()`` (decimals parsed, duplicates
  filtered, buffered), the figure that matters;
- bare ``aiohttp`` and bare ``websockets`` clients, reading frames only and reading frames decoded to dicts
  with ``orjson``: what the WebSocket library alone costs;
- an ``asyncio.Protocol`` that parses the frames itself and decodes them with ``orjson`` in
  ``data_received``, with no WebSocket library and no task to wake: the floor this machine allows;
- python-binance and the official SDK (binance-sdk-spot), when the ``bench`` extra is installed (skipped with
  a note otherwise).

Two measurements, each in rounds interleaved across clients (each round starting one client later):

1. **Throughput.** The server floods ``--events`` frames as fast as the socket takes them. From the first
   event to the last: events per second delivered to the consumer, and this process's CPU per event.
2. **Latency at a fixed rate.** The server sends ``--rate`` frames a second (5,000 by default) for
   ``--seconds``, ``--latency-rounds`` times per client. Each frame goes out in its own write, the server
   sleeping (not spinning) until it is due; its update id is ``time.monotonic_ns()`` read just before the
   write (a system-wide clock), and the consumer subtracts it from its own reading when the event reaches it
   (for the adapter: when ``events()`` yields the typed event). Per run, after dropping the first tenth as
   warm-up: p50, p99 and the worst, the client's CPU per event, and the garbage collections in the run; then
   the median run, the spread of p99 over runs, and p99 over all runs' events together.

Every client is treated alike: set-up is collected and frozen (``gc.freeze``) before it connects, and what it
built before its first event is frozen at that event, so no client's collections walk another's objects.
"""

from __future__ import annotations

import asyncio
import gc
import importlib.util
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson
import websockets

from adapters.clock import SystemClock
from adapters.streams import BinanceStreamAdapter, StreamSettings
from bench._support import REPO_ROOT, bench_parser, machine_info, render_table, write_json
from domain import BookTickerEvent, StreamTopic, Symbol

SYMBOLS = tuple(
    Symbol(name)
    for name in (
        "BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "XRPUSDT", "ADAUSDT", "DOGEUSDT", "TRXUSDT", "DOTUSDT",
        "LINKUSDT", "LTCUSDT", "AVAXUSDT", "ATOMUSDT", "UNIUSDT", "XLMUSDT", "ETCUSDT", "FILUSDT", "APTUSDT",
        "NEARUSDT", "ARBUSDT",
    )
)  # fmt: skip
STREAMS = [f"{symbol.stream_name}@bookTicker" for symbol in SYMBOLS]
WARMUP_SHARE = 0.1
_GIVE_UP_S = 60.0


@dataclass
class Outcome:
    """One run of one client: events after the first, the wall and CPU time between first and last event,
    and the latencies (ns) of every event when asked for."""

    events: int
    wall_s: float
    cpu_s: float
    latencies_ns: list[int] = field(default_factory=list)
    shed: int = 0
    collections: tuple[int, int, int] = (0, 0, 0)


class Meter:
    """Counts events and times them from the first to the last; records latencies when asked."""

    def __init__(self, *, latency: bool, expected: int) -> None:
        self.latency = latency
        self.expected = expected
        self.events = 0
        self.latencies: list[int] = []
        self.collections = [0, 0, 0]  # garbage collections by generation, counted by ``_run``
        self._wall0 = self._cpu0 = self._wall1 = self._cpu1 = 0.0
        self._gc0: tuple[int, ...] = (0, 0, 0)
        self._gc1: tuple[int, ...] = (0, 0, 0)

    def first(self) -> None:
        # The client's own set-up (session, connection, adapter) is done: out of the collector's sight too.
        gc.freeze()
        self._gc0 = tuple(self.collections)
        self._wall0, self._cpu0 = time.perf_counter(), time.process_time()

    def last(self) -> None:
        self._wall1, self._cpu1 = time.perf_counter(), time.process_time()
        self._gc1 = tuple(self.collections)

    def outcome(self, shed: int = 0) -> Outcome:
        wall, cpu = self._wall1 - self._wall0, self._cpu1 - self._cpu0
        gen0, gen1, gen2 = (after - before for before, after in zip(self._gc0, self._gc1, strict=True))
        return Outcome(self.events, wall, cpu, self.latencies, shed, (gen0, gen1, gen2))


Consume = Callable[[str, Meter], Awaitable[int]]


async def gateway(url: str, meter: Meter) -> int:
    settings = StreamSettings(url=url, reconnect_base_s=5.0, reconnect_max_s=5.0, silence_timeout_s=60.0)
    adapter = BinanceStreamAdapter(settings, SystemClock())
    await adapter.subscribe(StreamTopic.book_tickers(SYMBOLS))
    latency, latencies, now, last = meter.latency, meter.latencies, time.monotonic_ns, meter.expected - 1
    count = -1
    try:
        async for event in adapter.events():
            if event.__class__ is BookTickerEvent:
                if latency:
                    latencies.append(now() - event.update_id)
                count += 1
                if not count:
                    meter.first()
                elif count == last:
                    break
    finally:
        meter.last()
        meter.events = count
    shed = sum(adapter.stats().shed.values())
    await adapter.close()
    return shed


def _url(base: str) -> str:
    return f"{base}/stream?streams={'/'.join(STREAMS)}"


async def bare_aiohttp(url: str, meter: Meter, *, decode: bool) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(_url(url), decode_text=False, compress=0, max_msg_size=0) as ws,
    ):
        receive, loads = ws.receive, orjson.loads
        latency, latencies, now, last = meter.latency, meter.latencies, time.monotonic_ns, meter.expected - 1
        count = -1
        try:
            while count < last:
                message = await receive()
                if decode:
                    data = loads(message.data)["data"]
                    if latency:
                        latencies.append(now() - data["u"])
                count += 1
                if not count:
                    meter.first()
        finally:
            meter.last()
            meter.events = count
    return 0


async def bare_websockets(url: str, meter: Meter, *, decode: bool) -> int:
    async with websockets.connect(_url(url), compression=None, max_size=None) as ws:
        recv, loads = ws.recv, orjson.loads
        latency, latencies, now, last = meter.latency, meter.latencies, time.monotonic_ns, meter.expected - 1
        count = -1
        try:
            while count < last:
                frame = await recv(decode=False)
                if decode:
                    data = loads(frame)["data"]
                    if latency:
                        latencies.append(now() - data["u"])
                count += 1
                if not count:
                    meter.first()
        finally:
            meter.last()
            meter.events = count
    return 0


class _RawReader(asyncio.Protocol):
    """A WebSocket reader with no WebSocket library: the upgrade request by hand, then unmasked server frames
    parsed straight out of ``data_received``, each decoded with orjson and handed to the consumer there, with
    no task to wake. Only what the bench server sends is understood (text frames under 64 KiB, close)."""

    def __init__(self, path: str, host: str, meter: Meter) -> None:
        self.request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
        self.meter = meter
        self.count = -1
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._buffer = b""
        self._upgraded = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer + data if self._buffer else data
        if not self._upgraded:
            head, found, buffer = buffer.partition(b"\r\n\r\n")
            if not found:
                self._buffer = head
                return
            self._upgraded = True
        meter, loads, now, last = self.meter, orjson.loads, time.monotonic_ns, self.meter.expected - 1
        offset, size = 0, len(buffer)
        while size - offset >= 2:  # the shortest frame header
            length, start = buffer[offset + 1] & 0x7F, offset + 2
            if length == 126:  # a 16-bit length follows
                if size - offset < 4:
                    break
                length, start = int.from_bytes(buffer[offset + 2 : offset + 4], "big"), offset + 4
            if start + length > size:
                break
            if buffer[offset] & 0x0F == 1 and not self.done.done():
                data_u = loads(buffer[start : start + length])["data"]["u"]
                if meter.latency:
                    meter.latencies.append(now() - data_u)
                self.count += 1
                if not self.count:
                    meter.first()
                elif self.count == last:
                    meter.last()
                    self.done.set_result(None)
            offset = start + length
        self._buffer = buffer[offset:]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


async def bare_protocol(url: str, meter: Meter) -> int:
    host, _, port = url.removeprefix("ws://").partition(":")
    target = _url(url)
    path = target[target.index("/", len("ws://")) :]
    loop = asyncio.get_running_loop()
    transport, reader = await loop.create_connection(lambda: _RawReader(path, host, meter), host, int(port))
    try:
        await reader.done
    finally:
        if reader.count < meter.expected - 1:
            meter.last()
        meter.events = reader.count
        transport.close()
    return 0


async def python_binance(url: str, meter: Meter) -> int:
    from binance import AsyncClient, BinanceSocketManager

    client = AsyncClient()
    manager = BinanceSocketManager(client, max_queue_size=10**7)  # its default of 100 drops a flood
    manager.STREAM_URL = f"{url}/"
    latency, latencies, now, last = meter.latency, meter.latencies, time.monotonic_ns, meter.expected - 1
    count = -1
    try:
        async with manager.multiplex_socket(STREAMS) as socket:
            try:
                while count < last:
                    message = await socket.recv()
                    if latency:
                        latencies.append(now() - message["data"]["u"])
                    count += 1
                    if not count:
                        meter.first()
            finally:
                meter.last()  # before closing: python-binance takes its time over that
                meter.events = count
    finally:
        await client.close_connection()
    return 0


async def official_sdk(url: str, meter: Meter) -> int:
    from binance_common.configuration import ConfigurationWebSocketStreams
    from binance_sdk_spot.websocket_streams.models import BookTickerResponse
    from binance_sdk_spot.websocket_streams.websocket_streams import SpotWebSocketStreams

    latency, latencies, now, last = meter.latency, meter.latencies, time.monotonic_ns, meter.expected - 1
    done = asyncio.get_running_loop().create_future()
    count = -1

    def on_message(event: Any) -> None:  # the SDK calls it with each payload, validated by pydantic
        nonlocal count
        if latency:
            latencies.append(now() - event.u)
        count += 1
        if not count:
            meter.first()
        elif count == last:
            meter.last()
            done.set_result(None)

    # Typed as Any: the SDK is an optional extra, so its types are there in one environment and not another.
    client: Any = SpotWebSocketStreams(ConfigurationWebSocketStreams(stream_url=url))
    try:
        await client.create_connection()
        await client.subscribe(STREAMS, response_model=BookTickerResponse)
        for stream in STREAMS:
            client.on("message", on_message, stream)
        await done
    finally:
        if count < last:
            meter.last()
        meter.events = count
        await client.close_connection(close_session=True)
    return 0


def _subjects() -> tuple[dict[str, Consume], list[str]]:
    subjects: dict[str, Consume] = {
        "BinanceStreamAdapter (typed events)": gateway,
        "asyncio protocol + orjson (no WebSocket library)": bare_protocol,
        "aiohttp + orjson (dicts)": lambda url, meter: bare_aiohttp(url, meter, decode=True),
        "websockets + orjson (dicts)": lambda url, meter: bare_websockets(url, meter, decode=True),
        "aiohttp (frames only)": lambda url, meter: bare_aiohttp(url, meter, decode=False),
        "websockets (frames only)": lambda url, meter: bare_websockets(url, meter, decode=False),
    }
    skipped = []
    if importlib.util.find_spec("binance") is None:
        skipped.append(
            "python-binance is not installed in .venv (make bench installs requirements-bench.lock)"
        )
    else:
        subjects["python-binance 1.x (dicts)"] = python_binance
    if importlib.util.find_spec("binance_sdk_spot") is None:
        skipped.append(
            "the official SDK (binance-sdk-spot) is not installed in .venv (make bench installs it)"
        )
    else:
        subjects["official SDK binance-sdk-spot (pydantic models)"] = official_sdk
    return subjects, skipped


# ---------------------------------------------------------------------------------------------- running


class StreamServer:
    """``bench._stream_server`` in a subprocess."""

    def __init__(self) -> None:
        self.url = ""
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> StreamServer:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "bench._stream_server"], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True
        )
        assert self._process.stdout is not None
        self.url = self._process.stdout.readline().strip()
        if not self.url.startswith("ws://"):
            self.__exit__()
            msg = f"the stream server did not start: {self.url!r}"
            raise RuntimeError(msg)
        return self

    def __exit__(self, *exc_info: object) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.terminate()
            process.wait(10)
            if process.stdout is not None:
                process.stdout.close()

    def plan(self, **query: object) -> None:
        text = "&".join(f"{key}={value}" for key, value in query.items())
        http = self.url.replace("ws://", "http://", 1)
        with urllib.request.urlopen(f"{http}/plan?{text}", timeout=10) as response:  # noqa: S310 - loopback
            response.read()


async def _run(server: StreamServer, consume: Consume, *, latency: bool, expected: int) -> Outcome:
    """One client's run; one that stops receiving (it lost frames) is cut off after ``_GIVE_UP_S``."""
    meter = Meter(latency=latency, expected=expected)
    # What set-up left behind moves out of the collector's sight, as in the REST benchmark, and so does what
    # the client builds before its first event (``Meter.first``): each client pays for its own garbage only.
    gc.collect()
    gc.freeze()
    collections = meter.collections

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections[info["generation"]] += 1

    gc.callbacks.append(count)
    try:
        shed = await asyncio.wait_for(consume(server.url, meter), _GIVE_UP_S)
    except TimeoutError:
        shed = 0
    finally:
        gc.callbacks.remove(count)
        gc.unfreeze()
    return meter.outcome(shed)


def _percentile(values: Sequence[int], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))] / 1e6


def _rotated(names: list[str], number: int) -> list[str]:
    """Round ``number``'s order: each round starts one client later, so that no client always runs first."""
    start = (number - 1) % len(names)
    return names[start:] + names[:start]


def _latency_summary(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """Per run: p50, p99 and the worst, after dropping the first tenth; then the median run and the spread."""
    runs: list[dict[str, Any]] = []
    pooled: list[int] = []
    for outcome in outcomes:
        values = outcome.latencies_ns[int(len(outcome.latencies_ns) * WARMUP_SHARE) :]
        pooled.extend(values)
        runs.append(
            {
                "p50_ms": _percentile(values, 0.5),
                "p99_ms": _percentile(values, 0.99),
                "max_ms": max(values) / 1e6,
                "events": len(values),
                "cpu_us_per_event": outcome.cpu_s / max(1, outcome.events) * 1e6,
                "collections": list(outcome.collections),
            }
        )
    p99s = [run["p99_ms"] for run in runs]
    return {
        "latency_p50_ms": statistics.median(run["p50_ms"] for run in runs),
        "latency_p99_ms": statistics.median(p99s),
        "latency_p99_min_ms": min(p99s),
        "latency_p99_max_ms": max(p99s),
        "latency_p99_pooled_ms": _percentile(pooled, 0.99),
        "latency_max_ms": max(run["max_ms"] for run in runs),
        "latency_cpu_us_per_event": statistics.median(run["cpu_us_per_event"] for run in runs),
        "latency_events": sum(run["events"] for run in runs),
        "latency_collections": [sum(run["collections"][g] for run in runs) for g in range(3)],
        "latency_runs": runs,
    }


async def benchmark(options: Any, log: Callable[[str], None]) -> dict[str, Any]:
    subjects, skipped = _subjects()
    throughput: dict[str, list[Outcome]] = {name: [] for name in subjects}
    latency: dict[str, list[Outcome]] = {name: [] for name in subjects if "frames only" not in name}
    with StreamServer() as server:
        for number in range(1, options.rounds + 1):
            for name in _rotated(list(subjects), number):
                server.plan(mode="flood", count=options.events)
                outcome = await _run(server, subjects[name], latency=False, expected=options.events)
                throughput[name].append(outcome)
            log(f"throughput round {number}/{options.rounds} done")
        count = int(options.rate * options.seconds)
        for number in range(1, options.latency_rounds + 1):
            for name in _rotated(list(latency), number):
                server.plan(mode="rate", rate=options.rate, count=count)
                latency[name].append(await _run(server, subjects[name], latency=True, expected=count))
            log(f"latency round {number}/{options.latency_rounds} done (load {os.getloadavg()[0]:.2f})")
    rows: list[list[str]] = []
    results: dict[str, dict[str, Any]] = {}
    for name, outcomes in throughput.items():
        results[name] = {}
        if not outcomes:
            continue
        rate = statistics.median(o.events / o.wall_s for o in outcomes)
        cpu_us = statistics.median(o.cpu_s / o.events * 1e6 for o in outcomes)
        delivered = min(o.events + 1 for o in outcomes)
        results[name] = {
            "events_per_s": rate,
            "cpu_us_per_event": cpu_us,
            "delivered_min": delivered,
            "shed_max": max(o.shed for o in outcomes),
            "collections": [sum(o.collections[g] for o in outcomes) for g in range(3)],
        }
        rows.append(
            [
                name,
                f"{rate:,.0f}",
                f"{cpu_us:.2f}",
                f"{1e6 / cpu_us:,.0f}",
                f"{delivered:,} of {options.events:,}",
            ]
        )
    latency_rows = []
    for name, outcomes in latency.items():
        if not outcomes:
            continue
        summary = _latency_summary(outcomes)
        results[name].update(summary)
        latency_rows.append(
            [
                name,
                f"{summary['latency_p50_ms']:.3f}",
                f"{summary['latency_p99_ms']:.3f}",
                f"{summary['latency_p99_min_ms']:.3f} to {summary['latency_p99_max_ms']:.3f}",
                f"{summary['latency_p99_pooled_ms']:.3f}",
                f"{summary['latency_max_ms']:.3f}",
                f"{summary['latency_cpu_us_per_event']:.1f}",
                "/".join(str(n) for n in summary["latency_collections"]),
            ]
        )
    return {
        "results": results,
        "skipped": skipped,
        "load_average_after": [round(value, 2) for value in os.getloadavg()],
        "throughput_table": render_table(
            ["client", "events/s", "CPU µs/event", "events per CPU-second", "delivered (worst round)"], rows
        ),
        "latency_table": render_table(
            [
                "client", "p50 ms", "p99 ms", "p99 range over runs", "p99 of all events ms", "max ms",
                "CPU µs/event",
                "GC collections (gen 0/1/2)",
            ],
            latency_rows,
        ),
    }  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = bench_parser("python -m bench streams", __doc__ or "", rounds=5, calls=0, warmup=0)
    parser.add_argument("--events", type=int, default=300_000, help="frames per throughput round")
    parser.add_argument("--rate", type=float, default=5_000.0, help="frames a second for the latency run")
    parser.add_argument("--seconds", type=float, default=6.0, help="length of each latency run")
    parser.add_argument("--latency-rounds", type=int, default=5, help="latency runs per client")
    options = parser.parse_args(argv)
    if options.quick:
        options.rounds, options.events, options.seconds, options.latency_rounds = 1, 5_000, 0.5, 1

    def log(text: str) -> None:
        print(f"# {text}", file=sys.stderr, flush=True)

    machine = machine_info()
    log(f"machine: {machine}")
    report = asyncio.run(benchmark(options, log))
    report["machine"] = machine
    report["options"] = {
        key: getattr(options, key)
        for key in ("rounds", "events", "rate", "seconds", "latency_rounds", "quick")
    }
    print(
        f"## Streams ({machine['cpu']}, {machine['cores']} cores, Python {machine['python']}, "
        f"load {machine['load_average']} before, {report['load_average_after']} after)\n"
    )
    if options.rounds > 0:
        print(
            f"Throughput: one connection, bookTicker for {len(SYMBOLS)} symbols, {options.events:,} frames "
            f"as fast as the server writes them; median of {options.rounds} rounds\n"
        )
        print(report["throughput_table"] + "\n")
    if options.latency_rounds > 0:
        print(
            f"Latency from the server's write to the consumer at {options.rate:,.0f} events/s: "
            f"{options.latency_rounds} runs of {options.seconds:g} s per client, interleaved, the first "
            "tenth of each dropped; p50 and p99 are the median run's, with the spread of p99 over runs\n"
        )
        print(report["latency_table"] + "\n")
    for note in report["skipped"]:
        print(f"- skipped: {note}")
    if options.json is not None:
        write_json(options.json, report)
        log(f"results written to {options.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
