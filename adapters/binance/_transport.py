"""An httpx transport over aiohttp that sends the URL exactly as built.

Measured on a loopback server, aiohttp's HTTP/1.1 client costs about a third of httpcore's CPU per small
request. The ``httpx-aiohttp`` package offers such a transport but hands aiohttp the URL as text, and yarl
then re-quotes the query (``%2C`` becomes ``,``, ``%2F`` becomes ``/``), so the bytes on the wire would
differ from the bytes signed. This transport passes ``yarl.URL(..., encoded=True)``, reads the whole body,
and maps aiohttp's failures onto httpx's exception tree by what actually happened (a reset is not a timeout).

The TLS context is built on first use, inside the event loop, and verification cannot be turned off.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import aiohttp
import httpx
import yarl

from domain.errors import ConfigurationError

__all__ = ["AiohttpTransport", "make_ssl_context"]


def make_ssl_context(ca_bundle: Path | None) -> ssl.SSLContext:
    """A verifying TLS context: the certifi roots, or ``ca_bundle`` (a PEM file or a folder of them)."""
    if ca_bundle is None:
        return httpx.create_ssl_context()
    try:
        if ca_bundle.is_dir():
            return ssl.create_default_context(capath=str(ca_bundle))
        return ssl.create_default_context(cafile=str(ca_bundle))
    except (OSError, ssl.SSLError) as exc:
        msg = f"BINANCE_CA_BUNDLE: {ca_bundle} is not a readable PEM certificate bundle"
        raise ConfigurationError(msg) from exc


# Most specific first: a read timeout is also a connection error to aiohttp, a TLS failure a connector error.
_Causes = type[BaseException] | tuple[type[BaseException], ...]
_TRANSLATIONS: tuple[tuple[_Causes, type[httpx.TransportError]], ...] = (
    (aiohttp.ConnectionTimeoutError, httpx.ConnectTimeout),
    ((aiohttp.SocketTimeoutError, aiohttp.ServerTimeoutError, TimeoutError), httpx.ReadTimeout),
    ((aiohttp.ClientProxyConnectionError, aiohttp.ClientHttpProxyError), httpx.ProxyError),
    (aiohttp.ClientConnectorError, httpx.ConnectError),  # refused, unreachable, DNS, TLS handshake
    ((aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError), httpx.RemoteProtocolError),
    (aiohttp.ClientResponseError, httpx.RemoteProtocolError),  # a malformed status line or headers
    (aiohttp.InvalidURL, httpx.UnsupportedProtocol),
)


def _translate(exc: BaseException) -> httpx.TransportError:
    """The httpx exception that says what went wrong; anything else is a read error (a reset)."""
    kind = next((target for source, target in _TRANSLATIONS if isinstance(exc, source)), httpx.ReadError)
    return kind(type(exc).__name__)


class AiohttpTransport(httpx.AsyncBaseTransport):
    """One pooled aiohttp session (created on first use, in the running loop), keep-alive, TLS verified."""

    def __init__(
        self, *, ca_bundle: Path | None = None, max_connections: int = 20, keepalive_expiry: float = 30.0
    ) -> None:
        self._ca_bundle = ca_bundle
        self._max_connections = max_connections
        self._keepalive_expiry = keepalive_expiry
        self._session: aiohttp.ClientSession | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                ssl=make_ssl_context(self._ca_bundle),
                limit=self._max_connections,
                keepalive_timeout=self._keepalive_expiry,
                ttl_dns_cache=300,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),  # the API sets no cookies worth keeping
                trust_env=False,
                auto_decompress=False,  # httpx decodes by Content-Encoding
                skip_auto_headers=("User-Agent",),
            )
            # aiohttp resends an idempotent request once, unseen, when a reused connection drops. Every
            # attempt must go through the limiter and the retry policy, so that layer is switched off (the
            # flag has no public setter; aiohttp's own test client clears it the same way).
            if hasattr(self._session, "_retry_connection"):
                self._session._retry_connection = False
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts = request.extensions.get("timeout", {})
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=_sum(timeouts.get("pool"), timeouts.get("connect")),
            sock_connect=timeouts.get("connect"),
            sock_read=timeouts.get("read"),
        )
        content = request.content or None
        url = yarl.URL(str(request.url), encoded=True)
        try:
            async with self._get_session().request(
                request.method,
                url,
                headers=list(request.headers.multi_items()),
                data=content,
                allow_redirects=False,
                timeout=timeout,
            ) as response:
                body = await response.read()
                status, reason, headers = response.status, response.reason, response.raw_headers
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _translate(exc) from exc
        extensions: dict[str, object] = {"http_version": b"HTTP/1.1"}
        if reason:
            extensions["reason_phrase"] = reason.encode("latin-1", "replace")
        return httpx.Response(status, headers=headers, content=body, request=request, extensions=extensions)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _sum(first: float | None, second: float | None) -> float | None:
    if first is None or second is None:
        return first if second is None else second
    return first + second
