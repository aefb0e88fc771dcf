"""The HTTP layer: one pooled ``httpx.AsyncClient`` and the path every request takes through it.

A call ``get(path, params, weight=..., signed=...)`` runs under the retry policy; each attempt reserves its
weight from the shared limiter, builds (and for a signed call, signs) the query string once, sends exactly
those bytes, hands the answer's headers back to the limiter, and decodes the body or translates the failure
in ``errors``. A signed call first makes sure the clock offset is fresh; after a ``-1021`` it resynchronises
and tries once more. Each attempt is a span ``HTTP GET <path>`` and a set of metrics (``telemetry``).

``new_http_client`` builds the pooled client (the container's ``Singleton``), ``close_on_shutdown`` is the
container's ``Resource`` that closes it, ``open_http_client`` does both for a script. The transport is
aiohttp (measured cheaper per request than httpcore), wrapped so the URL is sent as built.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
from opentelemetry import trace
from opentelemetry.util.types import AttributeValue

from adapters.binance._transport import AiohttpTransport
from adapters.binance.clock import ClockSync
from adapters.binance.errors import error_from_response, translate_transport_errors
from adapters.binance.limiter import Permit, WeightLimiter
from adapters.binance.parsing import loads, parse_server_time
from adapters.binance.retry import RetryPolicy
from adapters.binance.settings import BinanceSettings, Credentials
from adapters.binance.signing import encode_params, sign_query
from adapters.binance.telemetry import BinanceTelemetry, CurrentSpan
from adapters.binance.weights import TIME
from domain.errors import (
    BinanceAPIError,
    ClockSkewError,
    ConfigurationError,
    IPBannedError,
    RateLimitError,
)

__all__ = ["USER_AGENT", "BinanceHttpClient", "close_on_shutdown", "new_http_client", "open_http_client"]

USER_AGENT = "binance-gateway/0.1"
_STATUS_WINDOW_S = 300.0
_PATHS_KEPT = 256  # paths whose per-attempt constants are kept (the adapter uses about a dozen)
_URLS_KEPT = 256  # unsigned URLs kept, built: a repeated request (same symbols, server time) is not re-parsed
_log = logging.getLogger(__name__)

#: Reads a successful answer's body: ``(body, path) -> value``, raising ``MalformedResponseError``.
Reader = Callable[[bytes, str], Any]


def new_http_client(
    *,
    connect_timeout: float = 5.0,
    read_timeout: float = 15.0,
    pool_timeout: float = 5.0,
    ca_bundle: str | Path | None = None,
    max_connections: int = 20,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """A pooled client with a timeout on every phase, no redirects and TLS verification always on."""
    bundle = Path(ca_bundle).expanduser() if ca_bundle else None
    return httpx.AsyncClient(
        transport=transport or AiohttpTransport(ca_bundle=bundle, max_connections=max_connections),
        timeout=httpx.Timeout(
            connect=connect_timeout, read=read_timeout, write=read_timeout, pool=pool_timeout
        ),
        headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        follow_redirects=False,  # a redirect could carry the API key to another host
        trust_env=False,
    )


@contextlib.asynccontextmanager
async def open_http_client(
    *,
    connect_timeout: float = 5.0,
    read_timeout: float = 15.0,
    pool_timeout: float = 5.0,
    ca_bundle: str | Path | None = None,
    max_connections: int = 20,
    transport: httpx.AsyncBaseTransport | None = None,
) -> AsyncIterator[httpx.AsyncClient]:
    """``async with open_http_client(...) as http``: a client for a script, closed at the end."""
    client = new_http_client(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        pool_timeout=pool_timeout,
        ca_bundle=ca_bundle,
        max_connections=max_connections,
        transport=transport,
    )
    try:
        yield client
    finally:
        await client.aclose()


async def close_on_shutdown(client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """The container ``Resource`` that closes the pooled client on ``shutdown_resources()``.

    The client itself is a ``Singleton`` (building it opens nothing), so the providers that use it stay
    synchronous; this resource, which nothing depends on, only owns its end.
    """
    try:
        yield client
    finally:
        await client.aclose()


class _PathConstants:
    """What every attempt at one path shares: its URL, span name and attribute sets (never mutated)."""

    __slots__ = ("endpoint", "failure", "path", "span_attributes", "span_name", "success", "url")

    def __init__(self, path: str, base_url: str, host: str) -> None:
        self.path = path
        self.url = base_url + path
        self.span_name = f"HTTP GET {path}"
        self.span_attributes: dict[str, AttributeValue] = {
            "http.request.method": "GET",
            "url.path": path,
            "server.address": host,
        }
        self.endpoint = {"endpoint": path}
        self.success = {"endpoint": path, "outcome": "success"}
        self.failure = {"endpoint": path, "outcome": "error"}


_WEIGHT_HEADER = b"x-mbx-used-weight-"


def _weight_headers(raw: Sequence[tuple[bytes, bytes]]) -> dict[str, str]:
    """The ``X-MBX-USED-WEIGHT-*`` headers of an answer, for the limiter (the largest value of a repeat)."""
    found: dict[str, str] = {}
    for name, value in raw:
        if name[:18].lower() == _WEIGHT_HEADER:
            key = name.decode("latin-1")
            text = value.decode("latin-1")
            previous = found.get(key)
            if previous is None or _as_int(text) > _as_int(previous):
                found[key] = text
    return found


def _as_int(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        return -1


class BinanceHttpClient:
    """Sends GET requests to one Binance REST host; see the module docstring for the path they take."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        settings: BinanceSettings,
        *,
        limiter: WeightLimiter,
        clock: ClockSync,
        retry: RetryPolicy,
        telemetry: BinanceTelemetry,
    ) -> None:
        self._http = http
        self._settings = settings
        self._limiter = limiter
        self._clock = clock
        self._retry = retry
        self._telemetry = telemetry
        self._host = httpx.URL(settings.base_url).host
        # The settings are frozen: what each call would work out from them is worked out once.
        self._credential_problem = settings.credential_problem
        self._recv_window = settings.recv_window_param
        self._paths: dict[str, _PathConstants] = {}
        self._urls: dict[tuple[str, tuple[tuple[str, str], ...]], httpx.URL] = {}
        self._attempts: collections.deque[tuple[float, bool]] = collections.deque()

    @property
    def http(self) -> httpx.AsyncClient:
        return self._http

    def credentials(self) -> Credentials:
        """The credentials for signed calls; ``ConfigurationError`` (nothing is sent) if they are unusable."""
        problem = self._credential_problem
        if problem is not None or self._settings.credentials is None:
            raise ConfigurationError(problem or "no credentials are configured")
        return self._settings.credentials

    async def fetch_server_time(self) -> int:
        """``GET /api/v3/time`` (weight 1), as the clock's sampler."""
        return parse_server_time(await self.get("/api/v3/time", weight=TIME)).server_time_ms

    async def get(
        self,
        path: str,
        params: Sequence[tuple[str, str]] = (),
        *,
        weight: int,
        signed: bool = False,
        read: Reader = loads,
    ) -> Any:
        """The body of a successful ``GET path`` as ``read(body, path)`` gives it (by default, the decoded
        JSON); raises ``domain.errors`` only."""
        credentials = None
        if signed:
            credentials = self.credentials()
            if self._clock.needs_sync():
                await self._clock.sync(self.fetch_server_time)
        try:
            try:  # the first attempt without the retry layer, which only sees a failure
                return await self._attempt(path, params, weight, credentials, 0, read)
            except Exception as exc:  # the policy decides; it re-raises what it does not retry
                return await self._with_retries(path, params, weight, credentials, read, failed=exc)
        except ClockSkewError:
            if credentials is None:  # an unsigned request carries no timestamp to correct
                raise
            _log.info("timestamp rejected by %s; resynchronising the clock and trying once more", path)
            await self._clock.sync(self.fetch_server_time, force=True)
            return await self._with_retries(path, params, weight, credentials, read)

    async def _with_retries(
        self,
        path: str,
        params: Sequence[tuple[str, str]],
        weight: int,
        credentials: Credentials | None,
        read: Reader,
        *,
        failed: Exception | None = None,
    ) -> Any:
        def retried(failure: BaseException) -> None:
            self._telemetry.retries.add(1, {"endpoint": path, "error.type": type(failure).__name__})

        return await self._retry.call(
            lambda retries: self._attempt(path, params, weight, credentials, retries, read),
            on_retry=retried,
            failed=failed,
        )

    def _url(
        self, constants: _PathConstants, params: Sequence[tuple[str, str]], credentials: Credentials | None
    ) -> httpx.URL:
        """The URL to send. Unsigned parameters given as a tuple always give the same URL: it is built once
        (``httpx.URL`` is immutable; parsing it is most of the cost of building it)."""
        if credentials is not None or type(params) is not tuple:
            # The query is passed as bytes: httpx keeps it as is, so the bytes sent are the bytes signed.
            return httpx.URL(constants.url, query=self._query(params, credentials).encode("ascii"))
        key = (constants.path, params)
        url = self._urls.get(key)
        if url is None:
            url = httpx.URL(constants.url, query=encode_params(params).encode("ascii"))
            if len(self._urls) < _URLS_KEPT:
                self._urls[key] = url
        return url

    def _query(self, params: Sequence[tuple[str, str]], credentials: Credentials | None) -> str:
        if credentials is None:
            return encode_params(params)
        full = [
            *params,
            ("recvWindow", self._recv_window),
            ("timestamp", str(self._clock.timestamp_ms())),
        ]
        return sign_query(full, credentials.signer)

    async def _attempt(
        self,
        path: str,
        params: Sequence[tuple[str, str]],
        weight: int,
        credentials: Credentials | None,
        retries: int,
        read: Reader,
    ) -> Any:
        constants = self._paths.get(path) or self._constants(path)
        permit = await self._limiter.acquire(weight, endpoint=path)
        if permit.waited_s > 0:
            self._telemetry.limiter_wait.record(permit.waited_s, constants.endpoint)
        url = self._url(constants, params, credentials)
        headers = {"X-MBX-APIKEY": credentials.api_key.reveal()} if credentials is not None else None
        with CurrentSpan(self._telemetry.tracer, constants.span_name, kind=trace.SpanKind.CLIENT) as span:
            recording = span.is_recording()
            if recording:
                span.set_attributes(
                    {
                        **constants.span_attributes,
                        "binance.request.weight": weight,
                        "binance.limiter.wait_s": permit.waited_s,
                        "http.request.resend_count": retries,
                    }
                )
            started = time.perf_counter()
            try:
                body = await self._exchange(url, headers, path, permit, span if recording else None, read)
            except BinanceAPIError as exc:
                self._finish(span, constants, started, exc)
                raise
            self._finish(span, constants, started, None)
            return body

    def _constants(self, path: str) -> _PathConstants:
        constants = _PathConstants(path, self._settings.base_url, self._host)
        if len(self._paths) < _PATHS_KEPT:
            self._paths[path] = constants
        return constants

    async def _exchange(
        self,
        url: httpx.URL,
        headers: dict[str, str] | None,
        path: str,
        permit: Permit,
        span: trace.Span | None,
        read: Reader,
    ) -> Any:
        try:
            with translate_transport_errors(path):
                response = await self._http.get(url, headers=headers)
        except BinanceAPIError:
            self._limiter.release(permit, sent=True)  # it may have reached the server: count it
            raise
        self._limiter.release(permit, headers=_weight_headers(response.headers.raw))
        status = response.status_code
        if span is not None:
            span.set_attribute("http.response.status_code", status)
            span.set_attribute("binance.weight.used", self._limiter.used_weight())
        if httpx.codes.is_success(status):
            return read(response.content, path)
        error = error_from_response(
            status,
            response.content,
            path,
            retry_after=response.headers.get("Retry-After"),
            now_ms=self._clock.server_now_ms(),
        )
        if isinstance(error, IPBannedError):
            self._limiter.on_banned(error.banned_until_ms)
        elif isinstance(error, RateLimitError):
            self._limiter.on_rate_limited(error.retry_after)
        raise error

    def _finish(
        self, span: trace.Span, constants: _PathConstants, started: float, error: BinanceAPIError | None
    ) -> None:
        elapsed = time.perf_counter() - started
        path = constants.path
        outcome = "success" if error is None else "error"
        attributes = constants.success if error is None else constants.failure
        self._telemetry.duration.record(elapsed, attributes)
        self._telemetry.requests.add(1, attributes)
        now = time.monotonic()
        self._attempts.append((now, error is not None))
        while self._attempts and self._attempts[0][0] < now - _STATUS_WINDOW_S:
            self._attempts.popleft()
        if error is not None:
            kind = type(error).__name__
            self._telemetry.errors.add(1, {"endpoint": path, "error.type": kind})
            span.set_attribute("error.type", kind)
            span.set_status(trace.Status(trace.StatusCode.ERROR, kind))
        _log.debug("GET %s %s in %.1f ms", path, outcome, elapsed * 1000)

    def attempts(self) -> tuple[int, int, float]:
        """HTTP attempts and failed attempts over the last five minutes, and that window in seconds."""
        cutoff = time.monotonic() - _STATUS_WINDOW_S
        recent = [failed for at, failed in self._attempts if at >= cutoff]
        return len(recent), sum(recent), _STATUS_WINDOW_S
