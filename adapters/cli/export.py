"""The ``export`` command: stored candles of one series to a CSV or Parquet file, read in chunks.

Nothing is fetched from the exchange: run ``backfill`` first. The file format is described in
``adapters.cli._export_files``; the message says how many candles were written and whether the stored range
has gaps.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from adapters.cli._export_files import EXPORT_SUFFIXES, write_klines
from adapters.cli._output import emit_json, iso
from adapters.cli._runtime import command
from adapters.cli.klines import parse_moment
from adapters.container import Container
from application._time_range import to_ms
from domain import Interval, InvalidInputError, KlineCoverage, StorageError, Symbol
from ports import DEFAULT_CHUNK_SIZE

__all__ = ["export"]

SymbolArgument = Annotated[str, typer.Argument(help="Trading pair, e.g. BTCUSDT.", show_default=False)]
IntervalOption = Annotated[str, typer.Option("--interval", "-i", help="Candle length: 1s 1m ... 1d 1w 1M.")]
StartOption = Annotated[str | None, typer.Option(help="First open time: ISO date/time (UTC) or epoch ms.")]
EndOption = Annotated[
    str | None, typer.Option(help="Last open time, inclusive (default: the newest stored).")
]
OutOption = Annotated[Path, typer.Option(help="FILE.csv or FILE.parquet.", show_default=False)]
ChunkOption = Annotated[int, typer.Option(min=1, help="Candles read and written at a time.")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON summary.")]


def export(
    ctx: typer.Context,
    symbol: SymbolArgument,
    out: OutOption,
    interval: IntervalOption = "1m",
    start: StartOption = None,
    end: EndOption = None,
    chunk_size: ChunkOption = DEFAULT_CHUNK_SIZE,
    json_output: JsonFlag = False,
) -> None:
    """Write the stored candles of SYMBOL from --start to --end to --out (CSV or Parquet)."""
    with command(ctx) as state:
        sym, ivl = Symbol(symbol), Interval.parse(interval)
        start_ms = to_ms(parse_moment(start, "--start"), "--start") if start is not None else None
        end_ms = to_ms(parse_moment(end, "--end"), "--end") if end is not None else None
        if start_ms is not None and end_ms is not None and start_ms > end_ms:
            msg = f"--start {iso(start_ms)} is after --end {iso(end_ms)}"
            raise InvalidInputError(msg)
        if out.suffix.lower() not in EXPORT_SUFFIXES:
            msg = f"--out {out} must end in .csv or .parquet"
            raise InvalidInputError(msg)

        async def work(container: Container) -> tuple[int, KlineCoverage, str]:
            store = await container.market_data_store()
            chunks = store.iter_klines(sym, ivl, start_ms, end_ms, chunk_size=chunk_size)
            try:
                written = await write_klines(chunks, out, sym, ivl)
            except OSError as exc:
                msg = f"cannot write {out}: {exc.strerror or exc}; choose another --out"
                raise StorageError(msg, location=str(out)) from None
            coverage = await store.kline_coverage(sym, ivl, start_ms, end_ms)
            return written, coverage, store.location

        written, coverage, location = state.run(work)
        gaps = [gap for gap in coverage.gaps if _inside(gap.start_ms, gap.end_ms, coverage)]
        if json_output or state.json:
            emit_json(
                {
                    "symbol": sym,
                    "interval": ivl,
                    "out": str(out),
                    "db": location,
                    "count": written,
                    "first_open_ms": coverage.first_open_ms,
                    "last_open_ms": coverage.last_open_ms,
                    "gaps": gaps,
                }
            )
            return
        _say(Console(highlight=False), sym, ivl, out, written, coverage, len(gaps), location)


def _inside(start_ms: int, end_ms: int, coverage: KlineCoverage) -> bool:
    """A gap between the first and the last stored candle (not the empty ends of the asked range)."""
    first, last = coverage.first_open_ms, coverage.last_open_ms
    return first is not None and last is not None and first < start_ms and end_ms < last


def _say(
    out: Console,
    sym: Symbol,
    ivl: Interval,
    path: Path,
    written: int,
    coverage: KlineCoverage,
    gaps: int,
    db: str,
) -> None:
    if not written:
        out.print(
            f"wrote 0 candles to {path}: no {sym} {ivl.value} candle is stored in {db} for that range; "
            "run backfill first"
        )
        return
    assert coverage.first_open_ms is not None  # noqa: S101 - candles were written, so some are stored
    assert coverage.last_open_ms is not None  # noqa: S101
    span = f"from {iso(coverage.first_open_ms)} to {iso(coverage.last_open_ms)}"
    holes = "no gap" if not gaps else f"{gaps} gaps inside (run backfill for the range to fill them)"
    out.print(f"wrote {written:,} {ivl.value} candles of {sym} {span} to {path}; {holes}")
