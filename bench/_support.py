"""What every benchmark shares: the loopback exchange in its own process, CPU timing, statistics, output.

The exchange runs as a subprocess (``python -m tests.loopback``), so its CPU is never counted as the client's.
A case's cost is ``time.process_time()`` (CPU of this process, all threads) over ``calls`` sequential calls,
divided by ``calls``; after a warm-up, ``rounds`` such measurements are taken, interleaved across cases so
that a drift of the machine touches every case alike, and reported as their median with min and max.
Nothing is pinned to a core, and the garbage collector stays on (a client pays for its garbage too); the
objects alive after set-up and warm-up are frozen (``gc.freeze``) so that the libraries of one client do not
make every other client's full collections slower.
"""

from __future__ import annotations

import argparse
import gc
import inspect
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Self

__all__ = [
    "REPO_ROOT",
    "Case",
    "LoopbackServer",
    "Stats",
    "bench_parser",
    "machine_info",
    "measure",
    "render_table",
    "summarize",
    "write_json",
]

REPO_ROOT = Path(__file__).resolve().parents[1]

#: A call under test: a coroutine function, or a plain function (a synchronous client).
Call = Callable[[], Awaitable[object] | object]


# ---------------------------------------------------------------------------------------------- statistics


@dataclass(frozen=True)
class Stats:
    """The median of several per-round figures, with the smallest and largest."""

    median: float
    min: float
    max: float
    rounds: int

    def scaled(self, factor: float) -> Stats:
        return Stats(self.median * factor, self.min * factor, self.max * factor, self.rounds)

    def to_dict(self) -> dict[str, float | int]:
        return {"median": self.median, "min": self.min, "max": self.max, "rounds": self.rounds}


def summarize(samples: Sequence[float]) -> Stats:
    """Median, min and max of ``samples`` (one figure per round)."""
    if not samples:
        msg = "no samples to summarize"
        raise ValueError(msg)
    return Stats(statistics.median(samples), min(samples), max(samples), len(samples))


# ---------------------------------------------------------------------------------------------- timing


@dataclass
class Case:
    """One thing to time: ``subject`` (a client) doing ``operation`` through ``call``.

    ``before_round`` runs outside the timed region before each round (e.g. to drop spans kept in memory).
    """

    subject: str
    operation: str
    call: Call
    before_round: Callable[[], None] | None = None
    samples: list[float] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str]:
        return (self.subject, self.operation)


async def _invoke(call: Call) -> None:
    result = call()
    if inspect.isawaitable(result):
        await result


async def _cpu_per_call(call: Call, calls: int) -> float:
    started = time.process_time()
    for _ in range(calls):
        result = call()
        if inspect.isawaitable(result):
            await result
    return (time.process_time() - started) / calls


async def measure(
    cases: Sequence[Case],
    *,
    rounds: int,
    calls: int,
    warmup: int,
    progress: Callable[[str], None] | None = None,
) -> dict[tuple[str, str], Stats]:
    """CPU seconds per call of every case: ``warmup`` untimed calls, then ``rounds`` rounds of ``calls``."""
    if rounds < 1 or calls < 1 or warmup < 0:
        msg = "rounds and calls must be at least 1, warmup at least 0"
        raise ValueError(msg)
    for case in cases:
        for _ in range(warmup):
            await _invoke(case.call)
    # What set-up left behind (every client, its imports, its caches) moves out of the collector's sight, so a
    # full collection costs a client the same whichever other clients this run happens to have loaded.
    gc.collect()
    gc.freeze()
    for number in range(1, rounds + 1):
        for case in cases:
            if case.before_round is not None:
                case.before_round()
            gc.collect()
            case.samples.append(await _cpu_per_call(case.call, calls))
        if progress is not None:
            progress(f"round {number}/{rounds} done")
    gc.unfreeze()
    return {case.key: summarize(case.samples) for case in cases}


# ---------------------------------------------------------------------------------------------- the exchange


class LoopbackServer:
    """The loopback test exchange in a subprocess: ``with LoopbackServer("--weight-limit", "1200") as ex``.

    Its standard error goes to a temporary file (shown if it fails to start), so a chatty server can never
    block on a full pipe. ``state()`` and ``requests()`` read its control endpoints.
    """

    def __init__(self, *args: str, seed: int = 7, startup_timeout: float = 60.0) -> None:
        self.args = ("--seed", str(seed), *args)
        self.startup_timeout = startup_timeout
        self.base_url = ""
        self._process: subprocess.Popen[str] | None = None
        self._stderr: IO[str] | None = None

    def start(self) -> Self:
        command = [sys.executable, "-m", "tests.loopback", "--port", "0", *self.args]
        self._stderr = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed in stop()
        self._process = subprocess.Popen(  # noqa: S603 - this interpreter, fixed module, our arguments
            command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=self._stderr, text=True
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline().strip()
        if not line.startswith("http://"):
            self._stderr.seek(0)
            detail = self._stderr.read()[-2000:]
            self.stop()
            msg = f"the loopback exchange did not start: {line!r}\n{detail}"
            raise RuntimeError(msg)
        self.base_url = line
        return self

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(10)
            if process.stdout is not None:
                process.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def control(self, name: str, body: Mapping[str, Any] | None = None) -> Any:
        """GET (no body) or POST a control endpoint of the exchange; the decoded JSON answer."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 - a loopback URL this process started
            f"{self.base_url}/__control/{name}", data=data, method="GET" if body is None else "POST"
        )
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return json.loads(response.read())

    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = self.control("state")
        return state

    def requests(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self.control("requests")
        return entries


# ---------------------------------------------------------------------------------------------- output


def render_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A markdown table; the first column is left-aligned, the others right-aligned."""
    body = [[str(cell) for cell in row] for row in rows]
    for row in body:
        if len(row) != len(headers):
            msg = f"a row has {len(row)} cells for {len(headers)} headers: {row}"
            raise ValueError(msg)
    aligns = [":---", *["---:"] * (len(headers) - 1)]
    lines = [headers, aligns, *body]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines)


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        return platform.processor() or "unknown"
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name":
            return value.strip()
    return platform.processor() or "unknown"


def machine_info() -> dict[str, Any]:
    """The machine a figure was measured on: CPU, cores, Python, OS and the load average."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "system": f"{platform.system()} {platform.release()}",
        "load_average": [round(value, 2) for value in load],
    }


def write_json(path: Path, payload: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def bench_parser(
    prog: str, description: str, *, rounds: int, calls: int, warmup: int
) -> argparse.ArgumentParser:
    """The options every benchmark takes: rounds, calls per round, warm-up calls, a JSON output file."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument(
        "--rounds", type=int, default=rounds, help=f"timed rounds per case (default {rounds})"
    )
    parser.add_argument("--calls", type=int, default=calls, help=f"calls per round (default {calls})")
    parser.add_argument("--warmup", type=int, default=warmup, help=f"untimed calls first (default {warmup})")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write the results here")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a few calls only: checks that every case runs, figures are noise",
    )
    return parser
