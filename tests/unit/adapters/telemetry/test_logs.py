"""Log records are JSON lines off a terminal, carry the current trace and span ids, and pass the filters."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest

from adapters.telemetry import configure_logging
from adapters.telemetry.testing import in_memory_telemetry


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class _RedactCanary(logging.Filter):
    """Stands in for the exchange adapter's secret filter: rewrites the record before it is formatted."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = str(record.msg).replace("CANARY-SECRET", "[redacted]")
        return True


@pytest.fixture(autouse=True)
def _restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_records_are_json_lines_when_the_stream_is_not_a_terminal() -> None:
    out = io.StringIO()
    configure_logging(logging.INFO, stream=out)

    logging.getLogger("binance_gateway.test").info("fetched %d prices", 5, extra={"symbols": 5})

    (line,) = _lines(out)
    assert line["message"] == "fetched 5 prices"
    assert line["level"] == "info"
    assert line["logger"] == "binance_gateway.test"
    assert line["symbols"] == 5
    assert line["trace_id"] == ""
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", str(line["time"]))


def test_every_record_carries_the_current_trace_and_span_ids() -> None:
    out = io.StringIO()
    configure_logging(logging.INFO, stream=out)
    tracer = in_memory_telemetry().tracer_provider.get_tracer("t")

    with tracer.start_as_current_span("MarketDataPort.get_server_time") as span:
        logging.getLogger("x").warning("slow answer")
    context = span.get_span_context()

    (line,) = _lines(out)
    assert line["trace_id"] == f"{context.trace_id:032x}"
    assert line["span_id"] == f"{context.span_id:016x}"


def test_given_filters_rewrite_the_record_before_it_is_formatted() -> None:
    out = io.StringIO()
    configure_logging(logging.DEBUG, stream=out, filters=[_RedactCanary()])

    logging.getLogger("x").debug("GET /api/v3/account key=CANARY-SECRET")

    assert "CANARY-SECRET" not in out.getvalue()
    assert _lines(out)[0]["message"] == "GET /api/v3/account key=[redacted]"


def test_exceptions_are_one_json_field_not_extra_lines() -> None:
    out = io.StringIO()
    configure_logging(stream=out)

    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("x").exception("failed")

    (line,) = _lines(out)
    assert "RuntimeError: boom" in str(line["exception"])


def test_an_exception_text_scrubbed_by_a_filter_stays_scrubbed() -> None:
    class ScrubExceptionText(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            if record.exc_info:
                text = logging.Formatter().formatException(record.exc_info)
                record.exc_text = text.replace("CANARY-SECRET", "[redacted]")
            return True

    out = io.StringIO()
    configure_logging(stream=out, filters=[ScrubExceptionText()])

    try:
        raise ValueError("bad key CANARY-SECRET")
    except ValueError:
        logging.getLogger("x").exception("failed")

    assert "CANARY-SECRET" not in out.getvalue()
    assert "ValueError: bad key [redacted]" in str(_lines(out)[0]["exception"])


def test_a_terminal_gets_human_text_with_the_trace_id() -> None:
    out = _Terminal()
    configure_logging(logging.INFO, stream=out)
    tracer = in_memory_telemetry().tracer_provider.get_tracer("t")

    with tracer.start_as_current_span("s") as span:
        logging.getLogger("x").info("hello there")

    # rich colours and wraps for the terminal's width; the words survive that, whitespace aside.
    text = re.sub(r"\x1b\[[0-9;]*m|\s", "", out.getvalue())
    assert "hellothere" in text
    assert f"trace_id={span.get_span_context().trace_id:032x}" in text
    assert not text.startswith("{")


def test_plain_text_can_be_chosen_explicitly() -> None:
    out = io.StringIO()
    configure_logging(logging.INFO, stream=out, fmt="plain")

    logging.getLogger("x.y").error("no route")

    assert re.search(r"ERROR +x\.y: no route$", out.getvalue().strip())


def test_configuring_again_replaces_the_handler_instead_of_doubling_lines() -> None:
    first, second = io.StringIO(), io.StringIO()
    configure_logging(logging.INFO, stream=first)
    configure_logging(logging.INFO, stream=second)

    logging.getLogger("x").info("once")

    assert first.getvalue() == ""
    assert len(_lines(second)) == 1


def test_http_client_chatter_is_held_back_unless_debugging() -> None:
    out = io.StringIO()
    configure_logging(logging.INFO, stream=out)
    logging.getLogger("httpx").info("HTTP Request: GET https://example.invalid/api/v3/time")
    configure_logging(logging.DEBUG, stream=out)
    logging.getLogger("httpx").info("shown when debugging")

    assert [line["message"] for line in _lines(out)] == ["shown when debugging"]
