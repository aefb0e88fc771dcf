"""The aiohttp transport: TLS always verified (a custom CA bundle allowed), aiohttp failures mapped onto the
httpx tree by what happened, and the client that closes with its ``async with``."""

from __future__ import annotations

import ssl
from pathlib import Path

import aiohttp
import certifi
import httpx
import pytest

from adapters.binance import open_http_client
from adapters.binance._transport import AiohttpTransport, _translate, make_ssl_context
from domain import ConfigurationError


@pytest.mark.parametrize("bundle", [None, Path(certifi.where()), Path(certifi.where()).parent])
def test_tls_is_always_verified(bundle: Path | None) -> None:
    context = make_ssl_context(bundle)

    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname


def test_a_bundle_that_is_not_pem_is_a_configuration_error(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not a certificate")

    with pytest.raises(ConfigurationError, match="BINANCE_CA_BUNDLE"):
        make_ssl_context(bundle)


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (aiohttp.ConnectionTimeoutError(), httpx.ConnectTimeout),
        (aiohttp.SocketTimeoutError(), httpx.ReadTimeout),
        (TimeoutError(), httpx.ReadTimeout),
        (aiohttp.ServerDisconnectedError(), httpx.RemoteProtocolError),
        (aiohttp.ClientPayloadError("cut short"), httpx.RemoteProtocolError),
        (aiohttp.ClientOSError(104, "Connection reset by peer"), httpx.ReadError),
        (aiohttp.InvalidURL("x"), httpx.UnsupportedProtocol),
    ],
)
def test_aiohttp_failures_keep_their_meaning(raised: BaseException, expected: type[Exception]) -> None:
    assert type(_translate(raised)) is expected


async def test_a_refused_connection_is_a_connect_error() -> None:
    transport = AiohttpTransport()
    try:
        with pytest.raises(httpx.ConnectError):
            await transport.handle_async_request(httpx.Request("GET", "http://127.0.0.1:9/api/v3/ping"))
    finally:
        await transport.aclose()


async def test_open_http_client_closes_its_client() -> None:
    async with open_http_client(connect_timeout=1, read_timeout=1) as http:
        assert not http.is_closed
        assert http.timeout.connect == 1
        assert not http.follow_redirects

    assert http.is_closed
