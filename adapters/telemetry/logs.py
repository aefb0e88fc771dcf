"""Structured logging: JSON lines off a terminal, rich or plain text on one, trace ids on every record.

``configure_logging`` installs one handler on the root logger. Every record it handles first gets the
``trace_id`` and ``span_id`` of the span current when it was logged (empty outside a span), then passes the
``filters`` it was given, in order (the container adds the secret-scrubbing filter of the exchange adapter
there, so that scrubbing happens before any formatter sees the record).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import IO, Any, Literal

from opentelemetry import trace
from rich.console import Console
from rich.logging import RichHandler

__all__ = ["JsonLinesFormatter", "LogFormat", "TraceContextFilter", "configure_logging"]

LogFormat = Literal["json", "rich", "plain"]

_MARK = "_binance_gateway_handler"
# Attributes every LogRecord has; anything else on a record came from ``extra=`` and is emitted as a field.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
_IDS = frozenset({"trace_id", "span_id"})
_PLAIN = "%(asctime)s %(levelname)-8s %(name)s: %(message)s"
_CHATTY = ("httpx", "httpcore", "hpack", "urllib3")


class TraceContextFilter(logging.Filter):
    """Adds ``trace_id`` (32 hex digits) and ``span_id`` (16) of the current span, or empty strings."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = trace.get_current_span().get_span_context()
        record.trace_id = trace.format_trace_id(context.trace_id) if context.is_valid else ""
        record.span_id = trace.format_span_id(context.span_id) if context.is_valid else ""
        return True


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, trace and span ids, extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "trace_id": getattr(record, "trace_id", ""),
            "span_id": getattr(record, "span_id", ""),
        }
        document.update(
            (key, value)
            for key, value in vars(record).items()
            if key not in _STANDARD and key not in _IDS and not key.startswith("_")
        )
        # A filter may have scrubbed the cached ``exc_text``; formatting ``exc_info`` again would undo that.
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            document["exception"] = record.exc_text
        if record.stack_info:
            document["stack"] = self.formatStack(record.stack_info)
        return json.dumps(document, default=str, ensure_ascii=False)


class _TextFormatter(logging.Formatter):
    """The given format, followed by ``trace_id=... span_id=...`` when the record was logged in a span."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        trace_id = getattr(record, "trace_id", "")
        return f"{text} trace_id={trace_id} span_id={getattr(record, 'span_id', '')}" if trace_id else text


def _is_terminal(stream: IO[str]) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _handler(fmt: LogFormat, stream: IO[str]) -> logging.Handler:
    if fmt == "json":
        handler: logging.Handler = logging.StreamHandler(stream)
        handler.setFormatter(JsonLinesFormatter())
    elif fmt == "rich":
        console = Console(file=stream, stderr=stream is sys.stderr)
        handler = RichHandler(console=console, markup=False, rich_tracebacks=False, show_path=False)
        handler.setFormatter(_TextFormatter("%(message)s"))
    else:
        handler = logging.StreamHandler(stream)
        handler.setFormatter(_TextFormatter(_PLAIN))
    return handler


def configure_logging(
    level: int | str = logging.WARNING,
    *,
    stream: IO[str] | None = None,
    fmt: LogFormat | None = None,
    filters: Sequence[logging.Filter] = (),
) -> logging.Handler:
    """Route every log record through one handler on the root logger, replacing one installed before.

    ``fmt`` defaults to ``json`` when ``stream`` (standard error by default) is not a terminal and to
    ``rich`` when it is. ``filters`` run on the handler after the trace-context filter, in order; a filter
    that rewrites a record (scrubbing secrets) therefore acts before the record is formatted.
    HTTP client libraries are held at WARNING unless ``level`` is DEBUG.
    """
    out = stream if stream is not None else sys.stderr
    chosen: LogFormat = fmt or ("rich" if _is_terminal(out) else "json")
    handler = _handler(chosen, out)
    setattr(handler, _MARK, True)
    handler.addFilter(TraceContextFilter())
    for extra in filters:
        handler.addFilter(extra)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(level)
    numeric = root.getEffectiveLevel()
    for name in _CHATTY:
        logging.getLogger(name).setLevel(logging.NOTSET if numeric <= logging.DEBUG else logging.WARNING)
    return handler
