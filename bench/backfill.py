"""Backfill benchmark: one symbol-year of 1m candles from the loopback exchange into SQLite.

``python -m bench backfill [--rounds 3] [--json PATH]`` (``make bench`` runs it with the others).

1. **The year.** BTCUSDT 1m for 2024 (527,040 candles, 528 pages) through ``BackfillService`` (eight
   requests in flight), the Binance adapter and a fresh SQLite file opened as the ``backfill`` command opens
   it (writing on the event loop's thread), in a child process of its own, so that its figures are its own:
   wall time, CPU time (``time.process_time`` of the client: every thread of it; the exchange is another
   process, started with the year's candles rendered in advance), and peak memory (``ru_maxrss``, after
   set-up and at the end). The same is run for January alone (44,640 candles): memory that is flat in the
   number of candles grows no more for the year than for the month. The year is run again with the store's
   default writer thread, as the other commands open it, for comparison.
2. **Its parts alone.** The store, timing ``save_klines`` only, into fresh files: the year's 528 pages as
   the adapter makes them (``KlinePage``s, fetched one at a time outside the timing), and the year read
   back from the first run's file as lists of 1,000 ``Kline`` objects. The adapter: the same
   528 pages fetched and parsed, eight in flight, and dropped. What the year costs beyond the sum of the two
   is the backfill's own work.
3. **A binding weight limit.** An exchange allowing 200 weight per 10 s (a page weighs 2, so 100 pages per
   window, far fewer than the backfill would send); the backfill runs through several whole windows, and the
   exchange's own request log gives the weight it admitted in each: the share of the budget used, and the
   number of 429 answers (it must be zero).

The figures are medians of ``--rounds`` runs (min and max beside them).
"""

from __future__ import annotations

import asyncio
import gc
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench._support import LoopbackServer, bench_parser, machine_info, render_table, summarize, write_json

__all__ = ["main"]

SYMBOL = "BTCUSDT"
YEAR_START_MS = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp() * 1000)
YEAR_END_MS = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp() * 1000)
MONTH_END_MS = int(datetime(2024, 2, 1, tzinfo=UTC).timestamp() * 1000)
YEAR_CANDLES = 527_040
BUDGET_LIMIT, BUDGET_WINDOW_MS = 200, 10_000
BUDGET_WINDOWS = 3  # whole windows measured; the run spans these plus a partial one at each end
TARGETS = {"wall_s": 6.0, "candles_per_cpu_s": 200_000, "budget_share": 0.99}


# ---------------------------------------------------------------------------------------------- child side


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


async def _backfill(
    base_url: str, db: Path, since_ms: int, until_ms: int, concurrency: int, writes: str
) -> dict[str, Any]:
    from adapters.binance import BinanceRestAdapter, BinanceSettings, new_http_client
    from adapters.clock import SystemClock
    from adapters.sqlite import SqliteMarketDataStore
    from application.backfill import BackfillService

    http = new_http_client()
    adapter = BinanceRestAdapter(http, BinanceSettings.from_mapping({"base_url": base_url}))
    store = await SqliteMarketDataStore.open(db, write_on_loop=writes == "loop")
    service = BackfillService(adapter, store, SystemClock(), concurrency=concurrency)
    await adapter.get_server_time()  # the connection pool and the clock offset, outside the timed run
    gc.collect()
    rss_setup = _maxrss_mb()
    wall, cpu = time.perf_counter(), time.process_time()
    report = await service.run([SYMBOL], ["1m"], since_ms, until_ms)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    rss_peak = _maxrss_mb()
    await store.aclose()
    await adapter.aclose()
    (series,) = report.series
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "rss_setup_mb": rss_setup,
        "rss_peak_mb": rss_peak,
        "stored": series.stored,
        "requests": series.requests,
        "complete": report.complete,
        "gaps": len(series.gaps),
    }


async def _fetch_alone(base_url: str, since_ms: int, until_ms: int, concurrency: int) -> dict[str, Any]:
    """The adapter alone: the same pages, ``concurrency`` in flight, fetched and parsed, then dropped."""
    from adapters.binance import BinanceRestAdapter, BinanceSettings, new_http_client
    from domain import Interval, Symbol

    http = new_http_client()
    adapter = BinanceRestAdapter(http, BinanceSettings.from_mapping({"base_url": base_url}))
    symbol, interval = Symbol(SYMBOL), Interval.MINUTE_1
    await adapter.get_exchange_info([symbol])
    starts = iter(range(since_ms, until_ms, 1000 * 60_000))
    fetched = 0

    async def worker() -> None:
        nonlocal fetched
        for start in starts:
            end = min(start + 999 * 60_000, until_ms - 1)
            page = await adapter.get_kline_data(symbol, interval, start, end, limit=1000)
            fetched += len(page)  # after the await: the other workers add to it meanwhile

    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    await adapter.aclose()
    return {"fetched": fetched, "wall_s": wall, "cpu_s": cpu}


async def _store_alone(source: Path, db: Path, base_url: str) -> dict[str, Any]:
    """The store alone, timing ``save_klines`` only: the year's pages as the adapter makes them (fetched one
    at a time, untimed), then the year read back from ``source`` as lists of ``Kline`` into another file."""
    from adapters.binance import BinanceRestAdapter, BinanceSettings, new_http_client
    from adapters.sqlite import SqliteMarketDataStore
    from domain import Interval, Kline, Symbol

    symbol, interval = Symbol(SYMBOL), Interval.MINUTE_1
    now_ms = YEAR_END_MS + 60_000
    figures: dict[str, Any] = {}

    async def timed(store: SqliteMarketDataStore, page: Sequence[Kline], key: str) -> None:
        gc.collect(0)
        started_wall, started_cpu = time.perf_counter(), time.process_time()
        result = await store.save_klines(page, now_ms=now_ms)
        figures[f"{key}wall_s"] = figures.get(f"{key}wall_s", 0.0) + time.perf_counter() - started_wall
        figures[f"{key}cpu_s"] = figures.get(f"{key}cpu_s", 0.0) + time.process_time() - started_cpu
        figures[f"{key}stored"] = figures.get(f"{key}stored", 0) + result.stored

    adapter = BinanceRestAdapter(new_http_client(), BinanceSettings.from_mapping({"base_url": base_url}))
    async with await SqliteMarketDataStore.open(
        db.with_suffix(".pages.sqlite3"), write_on_loop=True
    ) as store:
        for start in range(YEAR_START_MS, YEAR_END_MS, 1000 * 60_000):
            end = min(start + 999 * 60_000, YEAR_END_MS - 1)
            page = await adapter.get_kline_data(symbol, interval, start, end, limit=1000)
            await timed(store, page, "pages_")
    await adapter.aclose()
    async with (
        await SqliteMarketDataStore.open(source) as reader,
        await SqliteMarketDataStore.open(db, write_on_loop=True) as store,
    ):
        async for klines in reader.iter_klines(symbol, interval, chunk_size=1000):
            await timed(store, klines, "")
    return figures


def _child(argv: Sequence[str]) -> int:
    kind, *args = argv
    if kind == "backfill":
        base_url, db, since, until, concurrency, writes = args
        result = asyncio.run(_backfill(base_url, Path(db), int(since), int(until), int(concurrency), writes))
    elif kind == "fetch":
        base_url, since, until, concurrency = args
        result = asyncio.run(_fetch_alone(base_url, int(since), int(until), int(concurrency)))
    else:
        source, db, base_url = args
        result = asyncio.run(_store_alone(Path(source), Path(db), base_url))
    print(json.dumps(result))
    return 0


# ---------------------------------------------------------------------------------------------- parent side


def _run_child(*args: str) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench", "backfill", "--child", *args]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=900)  # noqa: S603
    if done.returncode != 0:
        msg = f"the benchmark child failed ({done.returncode}): {done.stderr[-2000:]}"
        raise RuntimeError(msg)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _year_and_store(rounds: int, folder: Path, log: Callable[[str], None]) -> dict[str, Any]:
    year: list[dict[str, Any]] = []
    year_thread: list[dict[str, Any]] = []
    month: list[dict[str, Any]] = []
    store: list[dict[str, Any]] = []
    fetch: list[dict[str, Any]] = []
    with LoopbackServer("--no-record", "--prewarm", SYMBOL, "2024-01-01", "2025-01-01") as server:
        for number in range(1, rounds + 1):
            db = folder / f"year-{number}.sqlite3"
            year.append(
                _run_child(
                    "backfill", server.base_url, str(db), str(YEAR_START_MS), str(YEAR_END_MS), "8", "loop"
                )
            )
            log(f"year {number}/{rounds}: {year[-1]}")
            thread_db = folder / f"thread-{number}.sqlite3"
            year_thread.append(
                _run_child(
                    "backfill",
                    server.base_url,
                    str(thread_db),
                    str(YEAR_START_MS),
                    str(YEAR_END_MS),
                    "8",
                    "thread",
                )
            )
            log(f"year, writer thread {number}/{rounds}: {year_thread[-1]}")
            month_db = folder / f"month-{number}.sqlite3"
            month.append(
                _run_child(
                    "backfill",
                    server.base_url,
                    str(month_db),
                    str(YEAR_START_MS),
                    str(MONTH_END_MS),
                    "8",
                    "loop",
                )
            )
            log(f"month {number}/{rounds}: {month[-1]}")
            store.append(
                _run_child("store", str(db), str(folder / f"store-{number}.sqlite3"), server.base_url)
            )
            log(f"store {number}/{rounds}: {store[-1]}")
            fetch.append(_run_child("fetch", server.base_url, str(YEAR_START_MS), str(YEAR_END_MS), "8"))
            log(f"fetch {number}/{rounds}: {fetch[-1]}")
            for path in folder.glob(f"*-{number}.sqlite3*"):
                path.unlink()
    return {"year": year, "year_thread": year_thread, "month": month, "store": store, "fetch": fetch}


def _budget(folder: Path, log: Callable[[str], None]) -> dict[str, Any]:
    pages = (BUDGET_WINDOWS + 1) * BUDGET_LIMIT // 2 + 50  # more than the whole windows can admit
    until = YEAR_START_MS + pages * 1000 * 60_000
    limit = ("--weight-limit", str(BUDGET_LIMIT), "--weight-interval", f"{BUDGET_WINDOW_MS // 1000}s")
    with LoopbackServer(*limit, "--prewarm", SYMBOL, "2024-01-01", "2024-12-01") as server:
        run = _run_child(
            "backfill",
            server.base_url,
            str(folder / "budget.sqlite3"),
            str(YEAR_START_MS),
            str(until),
            "8",
            "loop",
        )
        state = server.state()
        entries = server.requests()
    used: dict[int, int] = {}
    for entry in entries:
        window = int(entry["received_ms"]) // BUDGET_WINDOW_MS
        used[window] = used.get(window, 0) + int(entry["weight"])
    first, last = min(used), max(used)
    whole = list(range(first + 1, last))  # the first and last windows are only partly covered by the run
    shares = [used[window] / BUDGET_LIMIT for window in whole]
    log(f"budget: {run}, weight per whole window {[used[w] for w in whole]}")
    return {
        "run": run,
        "limit": BUDGET_LIMIT,
        "window_ms": BUDGET_WINDOW_MS,
        "weight_per_whole_window": [used[w] for w in whole],
        "share_per_whole_window": shares,
        "count_429": state["count_429"],
        "count_418": state["count_418"],
        "requests": len(entries),
    }


def _fmt(values: Sequence[float], unit: str, digits: int = 2) -> str:
    stats = summarize(values)
    return f"{stats.median:,.{digits}f} {unit} ({stats.min:,.{digits}f}-{stats.max:,.{digits}f})"


def _tables(results: dict[str, Any]) -> str:
    year, month, store, fetch = results["year"], results["month"], results["store"], results["fetch"]
    year_thread = results["year_thread"]
    rows = [
        ["wall time, the year", _fmt([r["wall_s"] for r in year], "s"), f"<= {TARGETS['wall_s']:.0f} s"],
        ["CPU time, the year (client)", _fmt([r["cpu_s"] for r in year], "s"), ""],
        [
            "candles per CPU second (fetch, parse, validate, store)",
            _fmt([YEAR_CANDLES / r["cpu_s"] for r in year], "", 0),
            f">= {TARGETS['candles_per_cpu_s']:,}",
        ],
        ["candles per wall second", _fmt([YEAR_CANDLES / r["wall_s"] for r in year], "", 0), ""],
        ["wall time, the year, writer thread", _fmt([r["wall_s"] for r in year_thread], "s"), ""],
        [
            "candles per CPU second, writer thread",
            _fmt([YEAR_CANDLES / r["cpu_s"] for r in year_thread], "", 0),
            "",
        ],
        [
            "peak memory growth, the year",
            _fmt([r["rss_peak_mb"] - r["rss_setup_mb"] for r in year], "MB", 1),
            "flat",
        ],
        [
            "peak memory growth, January alone",
            _fmt([r["rss_peak_mb"] - r["rss_setup_mb"] for r in month], "MB", 1),
            "",
        ],
        ["peak memory (RSS), the year", _fmt([r["rss_peak_mb"] for r in year], "MB", 1), ""],
        [
            "store alone, the adapter's pages: candles per CPU second",
            _fmt([r["pages_stored"] / r["pages_cpu_s"] for r in store], "", 0),
            "",
        ],
        ["store alone, the adapter's pages: CPU time", _fmt([r["pages_cpu_s"] for r in store], "s"), ""],
        [
            "store alone, lists of Kline read back: candles per CPU second",
            _fmt([r["stored"] / r["cpu_s"] for r in store], "", 0),
            "",
        ],
        ["store alone, lists of Kline read back: CPU time", _fmt([r["cpu_s"] for r in store], "s"), ""],
        ["adapter alone (fetch and parse): CPU time", _fmt([r["cpu_s"] for r in fetch], "s"), ""],
        ["adapter alone (fetch and parse): wall time", _fmt([r["wall_s"] for r in fetch], "s"), ""],
    ]
    table = render_table(["figure", "median (min-max)", "target"], rows)
    checks = [
        f"stored {year[0]['stored']:,} candles in {year[0]['requests']} requests, complete: "
        f"{all(r['complete'] for r in year)}"
    ]
    budget = results.get("budget")
    if budget is not None:
        shares = " / ".join(f"{share:.1%}" for share in budget["share_per_whole_window"])
        budget_table = render_table(
            ["limit", "weight per whole window", "share of the budget", "429", "418"],
            [
                [
                    f"{budget['limit']} per {budget['window_ms'] // 1000} s",
                    " / ".join(str(w) for w in budget["weight_per_whole_window"]),
                    shares,
                    str(budget["count_429"]),
                    str(budget["count_418"]),
                ]
            ],
        )
        return f"{table}\n\n" + "\n".join(checks) + f"\n\nUnder a binding weight limit:\n\n{budget_table}"
    return f"{table}\n\n" + "\n".join(checks)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--child"]:
        return _child(args[1:])
    parser = bench_parser("python -m bench backfill", __doc__ or "", rounds=3, calls=1, warmup=0)
    parser.add_argument("--skip-budget", action="store_true", help="leave out the binding-limit run")
    options = parser.parse_args(args)
    rounds = 1 if options.quick else options.rounds

    def log(text: str) -> None:
        print(f"# {text}", file=sys.stderr, flush=True)

    machine = machine_info()
    log(f"machine: {machine}")
    with tempfile.TemporaryDirectory(prefix="bench-backfill-") as tmp:
        folder = Path(tmp)
        results = _year_and_store(rounds, folder, log)
        if not options.skip_budget:
            results["budget"] = _budget(folder, log)
    print(
        f"## Backfill ({machine['cpu']}, {machine['cores']} cores, Python {machine['python']}, "
        f"load {machine['load_average']})\n"
    )
    print(_tables(results) + "\n")
    if options.json is not None:
        write_json(options.json, {"machine": machine, "rounds": rounds, "targets": TARGETS, **results})
        log(f"results written to {options.json}")
    return 0
