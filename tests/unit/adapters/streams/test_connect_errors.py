"""A failed connection attempt becomes a domain error that says whether trying again can help."""

from __future__ import annotations

import aiohttp
import pytest
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from adapters.streams.connection import build_url, connect_error
from domain import (
    AccessDeniedError,
    ConfigurationError,
    ExchangeUnavailableError,
    GatewayError,
    InvalidRequestError,
    IPBannedError,
    NetworkError,
    RateLimitError,
    RequestTimeoutError,
)

NOW_MS = 1_767_225_600_000


def _refused(status: int, **headers: str) -> aiohttp.WSServerHandshakeError:
    url = URL("wss://stream.example/stream")
    info = aiohttp.RequestInfo(url, "GET", CIMultiDictProxy(CIMultiDict()), url)
    return aiohttp.WSServerHandshakeError(info, (), status=status, headers=CIMultiDict(headers))


@pytest.mark.parametrize(
    ("error", "kind", "retryable"),
    [
        (_refused(503), ExchangeUnavailableError, True),
        (_refused(429, **{"Retry-After": "7"}), RateLimitError, True),
        (_refused(418, **{"Retry-After": "120"}), IPBannedError, False),
        (_refused(403), AccessDeniedError, False),
        (_refused(451), AccessDeniedError, False),
        (_refused(404), ConfigurationError, False),
        (_refused(400), InvalidRequestError, False),
        (TimeoutError(), RequestTimeoutError, True),
        (aiohttp.ClientConnectionError("refused"), NetworkError, True),
        (ConnectionResetError(), NetworkError, True),
        (RuntimeError("odd"), NetworkError, True),
    ],
)
def test_each_cause_maps_to_one_error(
    error: BaseException, kind: type[GatewayError], retryable: bool
) -> None:
    mapped = connect_error(error, now_ms=NOW_MS)

    assert type(mapped) is kind
    assert mapped.retryable is retryable


def test_a_ban_says_until_when_and_a_rate_limit_how_long_to_wait() -> None:
    banned = connect_error(_refused(418, **{"Retry-After": "120"}), now_ms=NOW_MS)
    limited = connect_error(_refused(429, **{"Retry-After": "7"}), now_ms=NOW_MS)

    assert isinstance(banned, IPBannedError)
    assert banned.banned_until_ms == NOW_MS + 120_000
    assert isinstance(limited, RateLimitError)
    assert limited.retry_after == 7.0


def test_a_domain_error_passes_through() -> None:
    refused = InvalidRequestError("refused")

    assert connect_error(refused, now_ms=NOW_MS) is refused


def test_streams_go_in_the_url_while_it_stays_short_and_the_rest_by_subscribe() -> None:
    streams = ["btcusdt@trade", "ethusdt@trade", "这是测试币456@trade"]

    url, rest = build_url("wss://h", streams, max_length=60)
    full, none = build_url("wss://h", streams, max_length=4000)

    assert str(url) == "wss://h/stream?streams=btcusdt@trade/ethusdt@trade"
    assert rest == ["这是测试币456@trade"]
    assert none == []
    assert full.raw_query_string.endswith("%E8%BF%99%E6%98%AF%E6%B5%8B%E8%AF%95%E5%B8%81456@trade")
