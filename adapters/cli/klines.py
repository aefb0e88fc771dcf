"""The ``klines`` command: candles of a range, printed or written to CSV or Parquet."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from adapters.cli._output import console, decimal_text, emit_json, iso
from adapters.cli._runtime import command
from application.frames import klines_to_frame
from domain import Interval, InvalidInputError, Kline, Symbol

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["klines", "parse_moment"]

_SHOWN_ROWS = 20
_OUTPUT_SUFFIXES = (".csv", ".parquet")


def parse_moment(text: str, name: str) -> datetime | int:
    """``2026-01-01``, ``2026-01-01T12:30``, ``2026-01-01T12:30:00Z`` (no zone means UTC) or epoch ms."""
    stripped = text.strip()
    if stripped.isdigit():
        return int(stripped)
    try:
        moment = datetime.fromisoformat(stripped)
    except ValueError:
        msg = f"{name} {text!r} is not a date; use e.g. 2026-01-01, 2026-01-01T12:30Z or epoch milliseconds"
        raise InvalidInputError(msg) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _write(frame: pd.DataFrame, out: Path) -> None:
    suffix = out.suffix.lower()
    try:
        if suffix == ".csv":
            frame.to_csv(out)
        else:
            frame.to_parquet(out)
    except OSError as exc:
        msg = f"cannot write {out}: {exc.strerror or exc}"
        raise InvalidInputError(msg) from None


def _table(candles: list[Kline], title: str) -> Table:
    table = Table("open time", "open", "high", "low", "close", "volume", "trades", title=title)
    half = _SHOWN_ROWS // 2
    shown = candles if len(candles) <= _SHOWN_ROWS else candles[:half] + candles[-half:]
    for position, k in enumerate(shown):
        if len(candles) > _SHOWN_ROWS and position == half:
            table.add_row(f"... {len(candles) - _SHOWN_ROWS} more", "", "", "", "", "", "")
        table.add_row(
            iso(k.open_time_ms),
            decimal_text(k.open),
            decimal_text(k.high),
            decimal_text(k.low),
            decimal_text(k.close),
            decimal_text(k.volume),
            str(k.trade_count),
        )
    return table


SymbolArgument = Annotated[str, typer.Argument(help="Trading pair, e.g. BTCUSDT.", show_default=False)]
IntervalOption = Annotated[str, typer.Option("--interval", "-i", help="Candle length: 1s 1m ... 1d 1w 1M.")]
DaysOption = Annotated[float | None, typer.Option(help="Candles of the last N days (instead of --start).")]
StartOption = Annotated[str | None, typer.Option(help="First open time: ISO date/time (UTC) or epoch ms.")]
EndOption = Annotated[str | None, typer.Option(help="Last open time (default: now).")]
OutOption = Annotated[Path | None, typer.Option(help="Write the candles to FILE.csv or FILE.parquet.")]
IncludeOpenOption = Annotated[bool, typer.Option(help="Keep the newest candle although it is still open.")]


def klines(
    ctx: typer.Context,
    symbol: SymbolArgument,
    interval: IntervalOption = "1m",
    days: DaysOption = None,
    start: StartOption = None,
    end: EndOption = None,
    out: OutOption = None,
    include_open: IncludeOpenOption = False,
) -> None:
    """Print (or write) the candles of SYMBOL for --days N, or from --start to --end."""
    with command(ctx) as state:
        sym, ivl = Symbol(symbol), Interval.parse(interval)
        first = parse_moment(start, "--start") if start is not None else None
        last = parse_moment(end, "--end") if end is not None else None
        if out is not None and out.suffix.lower() not in _OUTPUT_SUFFIXES:
            msg = f"--out {out} must end in .csv or .parquet"
            raise InvalidInputError(msg)
        candles = state.run(
            lambda c: c.market_data_service().fetch_historical_klines(
                sym, ivl, first, last, days=days, include_open=include_open
            )
        )
        if out is not None:
            _write(klines_to_frame(candles, sym, ivl), out)
        if state.json:
            document: dict[str, object] = {"symbol": sym, "interval": ivl, "count": len(candles)}
            document["out"] = str(out) if out is not None else None
            document["klines"] = candles
            emit_json(document)
        elif out is not None:
            console().print(f"wrote {len(candles)} {ivl.value} candles of {sym} to {out}")
        else:
            console().print(_table(candles, f"{sym} {ivl.value}: {len(candles)} candles"))
