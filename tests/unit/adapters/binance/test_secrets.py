"""Secrets never print themselves, and the log filter scrubs keys, signatures and registered secrets from
every part of a record, including what httpx logs about a signed request."""

from __future__ import annotations

import io
import logging
import pickle
from collections.abc import Iterator

import pytest

from adapters.binance.secrets import (
    RedactingFilter,
    Secret,
    install_log_redaction,
    redact,
    redacting_filter,
    register_secret,
)
from domain import MalformedResponseError
from tests.unit.adapters.binance.conftest import (
    HMAC_KEY,
    HMAC_SECRET,
    AdapterFactory,
    FakeExchange,
    hmac_settings,
    ok,
)


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Everything logged at DEBUG and above, through a handler that formats records the usual way."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    # httpx's own logger may have been quietened by an earlier in-process CLI run's logging set-up.
    httpx_logger = logging.getLogger("httpx")
    levels = root.level, httpx_logger.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    httpx_logger.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(levels[0])
    httpx_logger.setLevel(levels[1])


def test_a_secret_is_redacted_in_repr_str_and_format() -> None:
    secret = Secret("hunter2-hunter2")

    assert repr(secret) == str(secret) == f"{secret}" == f"{secret!r}" == "Secret('***')"
    assert secret.reveal() == "hunter2-hunter2"
    assert "hunter2" not in repr([secret, {"k": secret}])


def test_secrets_compare_by_value_and_refuse_pickling() -> None:
    assert Secret("a-secret-value") == Secret("a-secret-value") != Secret("another-value")
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(Secret("a-secret-value"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("X-MBX-APIKEY: abcDEF123", "X-MBX-APIKEY: ***"),
        ("{'x-mbx-apikey': 'abcDEF123'}", "{'x-mbx-apikey': '***'}"),
        ("[(b'X-MBX-APIKEY', b'abcDEF123')]", "[(b'X-MBX-APIKEY', b'***')]"),
        (
            "GET /api/v3/account?timestamp=1&signature=deadbeef HTTP/1.1",
            "GET /api/v3/account?timestamp=1&signature=*** HTTP/1.1",
        ),
        ("a=1&signature=ab%2B%2Fc%3D%3D&b=2", "a=1&signature=***&b=2"),
        ('{"apiKey":"abcDEF123","signature":"xyz"}', '{"apiKey":"***","signature":"***"}'),
        ("nothing secret here", "nothing secret here"),
    ],
)
def test_redact_removes_header_values_and_signatures(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_registered_secrets_are_removed_wherever_they_appear() -> None:
    register_secret(Secret("registered-secret-0042"))
    register_secret("tiny")  # too short to register: it would shred ordinary words

    assert redact("value=registered-secret-0042; tiny") == "value=***; tiny"


def test_the_filter_scrubs_message_arguments_and_exception_text(captured: io.StringIO) -> None:
    register_secret(HMAC_SECRET)
    logger = logging.getLogger("adapters.binance.client")
    install_log_redaction()

    logger.debug("sent %s with key %s", "/x?signature=abc123", {"X-MBX-APIKEY": "key-value-1"})
    try:
        raise RuntimeError(f"boom {HMAC_SECRET}")
    except RuntimeError:
        logger.exception("failed")

    output = captured.getvalue()
    assert "signature=***" in output
    assert "abc123" not in output
    assert "key-value-1" not in output
    assert HMAC_SECRET not in output
    assert "boom ***" in output


def test_installing_twice_adds_the_filter_once() -> None:
    install_log_redaction()
    install_log_redaction()

    assert logging.getLogger("httpx").filters.count(redacting_filter()) == 1
    assert isinstance(redacting_filter(), RedactingFilter)


def test_a_record_whose_arguments_do_not_format_is_left_alone() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%d items", ("many",), None)

    assert RedactingFilter().filter(record)
    assert record.args == ("many",)


async def test_httpx_request_logs_of_a_signed_call_stay_clean(
    captured: io.StringIO, make_adapter: AdapterFactory, exchange: FakeExchange
) -> None:
    exchange.on("/api/v3/account", ok({"code": 0}))
    adapter = make_adapter(exchange, hmac_settings())  # installs the filter and registers the secrets

    with pytest.raises(MalformedResponseError):  # the body is no account; only the logs matter here
        await adapter.get_account_info()

    output = captured.getvalue()
    assert "HTTP Request: GET" in output  # httpx did log the request line
    assert "signature=***" in output
    assert HMAC_KEY not in output
    assert HMAC_SECRET not in output
