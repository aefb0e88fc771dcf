"""Turning results into output: one JSON document (decimals as strings, times as ISO-8601 UTC with ms) or
rich tables on a console created per command (so that it writes to the current ``sys.stdout``)."""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

import attrs
import typer
from rich.console import Console

from domain import Symbol, ms_to_datetime
from domain.validators import ValidationReport

__all__ = ["console", "decimal_text", "emit_json", "iso", "jsonable", "milliseconds"]

# Integer fields holding a moment (not a duration) in epoch ms; each also gets an ISO-8601 sibling.
_MOMENT_NAMES = frozenset({"as_of_ms", "taken_at_ms", "start_ms", "end_ms", "banned_until_ms"})


def _is_moment(name: str) -> bool:
    return name.endswith("time_ms") or name in _MOMENT_NAMES


def iso(value: int | datetime) -> str:
    """``2026-01-01T00:00:00.000Z``: ISO-8601, UTC, millisecond precision."""
    moment = ms_to_datetime(value) if isinstance(value, int) else value
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def decimal_text(value: Decimal) -> str:
    """Fixed-point text, never scientific notation (``0.00000001``, not ``1E-8``)."""
    return format(value, "f")


def milliseconds(value: float, *, signed: bool = False) -> str:
    """``+12.3 ms``; a value that rounds to zero prints as ``0.0`` (never ``-0.0``)."""
    rounded = round(value, 1) or 0.0
    return f"{rounded:+.1f} ms" if signed else f"{rounded:.1f} ms"


def _report(report: ValidationReport) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "checked": report.checked,
        "problems": [
            {"label": label, "field": v.field, "reason": v.reason.value, "message": v.message}
            for label, v in report.problems
        ],
        "gaps": [{"label": label, **jsonable(gap)} for label, gap in report.gaps],
    }


def jsonable(value: object) -> Any:  # noqa: PLR0911 - a recursive converter of any result
    """Plain JSON types for attrs results, decimals, symbols, enums, times and containers."""
    if isinstance(value, ValidationReport):
        return _report(value)
    if isinstance(value, Symbol):
        return str(value)
    if attrs.has(type(value)):
        out: dict[str, Any] = {}
        for field in attrs.fields(cast("type[attrs.AttrsInstance]", type(value))):
            if field.name.startswith("_"):
                continue
            item = getattr(value, field.name)
            if _is_moment(field.name) and isinstance(item, int):
                out[field.name.removesuffix("_ms")] = iso(item)
            out[field.name] = jsonable(item)
        return out
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, Mapping):
        return {str(jsonable(key)): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    return value


def emit_json(document: object) -> None:
    """Write exactly one JSON document to stdout."""
    typer.echo(json.dumps(jsonable(document), indent=2, ensure_ascii=False))


def console() -> Console:
    return Console(highlight=False)
