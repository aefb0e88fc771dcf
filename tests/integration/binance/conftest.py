"""The Binance adapter against the loopback exchange: real HTTP on 127.0.0.1, the production transport,
short timeouts and the zero-wait retry policy."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

import pytest

from adapters.binance import BinanceRestAdapter, BinanceSettings, RetryPolicy, new_http_client
from tests.loopback import AsymmetricKey, HmacKey, LoopbackExchange

ExchangeFactory = Callable[..., Awaitable[LoopbackExchange]]


class Connect(Protocol):
    def __call__(
        self,
        exchange: LoopbackExchange,
        key: HmacKey | AsymmetricKey | None = None,
        *,
        retry: RetryPolicy | None = None,
        **settings: Any,
    ) -> BinanceRestAdapter: ...


@pytest.fixture
async def connect(tmp_path: Path) -> AsyncIterator[Connect]:
    """Builds adapters on the real HTTP client; closes them at the end of the test."""
    adapters: list[BinanceRestAdapter] = []

    def make(
        exchange: LoopbackExchange,
        key: HmacKey | AsymmetricKey | None = None,
        *,
        retry: RetryPolicy | None = None,
        **settings: Any,
    ) -> BinanceRestAdapter:
        values: dict[str, Any] = {"base_url": exchange.base_url, "read_timeout": 2.0, "connect_timeout": 1.0}
        if isinstance(key, HmacKey):
            values.update(api_key=key.api_key, api_secret=key.secret)
        elif key is not None:
            path = tmp_path / f"{key.api_key}.pem"
            path.write_bytes(key.private_key_pem)
            values.update(api_key=key.api_key, private_key_path=str(path))
        values.update(settings)
        config = BinanceSettings.from_mapping(values)
        http = new_http_client(
            connect_timeout=config.connect_timeout, read_timeout=config.read_timeout, pool_timeout=1.0
        )
        adapter = BinanceRestAdapter(http, config, retry=retry or RetryPolicy.instant())
        adapters.append(adapter)
        return adapter

    yield make
    for adapter in adapters:
        await adapter.aclose()
