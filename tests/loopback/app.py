"""The aiohttp application: one request pipeline (log, latency, faults, weight, handler, headers) for every
REST route, plus the control routes. Other modules add their routes through `register(app, exchange)`.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from tests.loopback import control, faults, pages
from tests.loopback.errors import BANNED as BANNED_MSG
from tests.loopback.errors import MESSAGES, TOO_MUCH_WEIGHT, BinanceError, default_status, error_body
from tests.loopback.params import Params
from tests.loopback.recorder import RecordedRequest
from tests.loopback.rest import ROUTES, Call, Handler
from tests.loopback.weights import weight_of

if TYPE_CHECKING:
    from tests.loopback.server import LoopbackExchange

JSON_TYPE = "application/json;charset=UTF-8"
HTML_TYPE = "text/html"
AioHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class _Served:
    """A response about to be sent: status, body, extra headers."""

    __slots__ = ("body", "content_type", "headers", "status")

    def __init__(
        self, status: int, body: bytes, content_type: str = JSON_TYPE, headers: dict[str, str] | None = None
    ) -> None:
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers or {}


class Pipeline:
    """Runs every /api request through the same steps, in Binance's order."""

    def __init__(self, exchange: LoopbackExchange) -> None:
        self.exchange = exchange

    def wrap(self, path: str, handler: Handler | None) -> AioHandler:
        async def aio_handler(request: web.Request) -> web.StreamResponse:
            return await self.handle(request, path, handler)

        return aio_handler

    async def handle(self, request: web.Request, path: str, handler: Handler | None) -> web.StreamResponse:
        ex = self.exchange
        raw_query = request.raw_path.partition("?")[2]
        entry = RecordedRequest(
            request.method, path, raw_query, tuple(request.headers.items()), ex.clock.now_ms()
        )
        ex.log.add(entry)
        delay = ex.faults.latency_for(path)
        if delay:
            await asyncio.sleep(delay)
        fault = ex.faults.take(path)
        if fault is None:
            return self._send(entry, self._serve(request, entry, handler))
        entry.fault = fault.kind
        return await self._fault(request, entry, handler, fault)

    def _serve(self, request: web.Request, entry: RecordedRequest, handler: Handler | None) -> _Served:
        ex = self.exchange
        now = ex.clock.now_ms()
        params = Params(entry.query_string)
        weight = weight_of(entry.path, params)
        refusal = ex.limiter.admit(now, weight)
        if refusal is not None:
            return _Served(
                refusal.status,
                error_body(-1003, refusal.msg),
                headers={"Retry-After": str(refusal.retry_after_s)},
            )
        entry.weight = weight
        if handler is None:
            return _unrouted(request, entry.path)
        try:
            time_mult = _time_mult(request.headers.get("X-MBX-TIME-UNIT"))
            params.check_duplicates()
            call = Call(ex, params, now, time_mult, request.headers.get("X-MBX-APIKEY"))
            return _Served(200, handler(call))
        except BinanceError as error:
            return _Served(error.status, error.body())

    def _send(self, entry: RecordedRequest, served: _Served) -> web.Response:
        headers = self._weight_headers()
        headers["Content-Type"] = served.content_type
        headers.update(served.headers)
        self.exchange.log.responded(entry, served.status)
        return web.Response(status=served.status, body=served.body, headers=headers)

    def _weight_headers(self) -> dict[str, str]:
        ex = self.exchange
        return {name: str(used) for name, used in ex.limiter.used(ex.clock.now_ms())}

    async def _fault(  # noqa: PLR0911 - one return per fault kind
        self, request: web.Request, entry: RecordedRequest, handler: Handler | None, fault: faults.Fault
    ) -> web.StreamResponse:
        ex = self.exchange
        kind = fault.kind
        if kind == faults.DELAY:
            await asyncio.sleep(fault.seconds or 0.0)
            return self._send(entry, self._serve(request, entry, handler))
        if kind in (faults.RESET, faults.DISCONNECT):
            _drop(request, reset=kind == faults.RESET)
            ex.log.responded(entry, None)
            return web.Response()
        if kind == faults.HANG:
            released = await ex.hang(fault.seconds)
            if released:
                _drop(request, reset=False)
                ex.log.responded(entry, None)
                return web.Response()
            return self._send(entry, self._serve(request, entry, handler))
        if kind == faults.TRUNCATED_JSON:
            served = self._serve(request, entry, handler)
            served.body = served.body[: max(1, len(served.body) // 2)] if len(served.body) > 1 else b""
            return self._send(entry, served)
        if kind == faults.PARTIAL_BODY:
            return await self._partial(request, entry, self._serve(request, entry, handler))
        return self._send(entry, self._canned(fault))

    def _canned(self, fault: faults.Fault) -> _Served:  # noqa: PLR0911 - one return per fault kind
        """Responses that never reach the handler and charge no weight."""
        ex = self.exchange
        kind = fault.kind
        if kind == faults.HTTP_STATUS:
            status = fault.status or 500
            if fault.body == "html":
                return _Served(status, pages.cdn_error_page(status), HTML_TYPE)
            if fault.body == "empty":
                return _Served(status, b"", HTML_TYPE)
            code = fault.code if fault.code is not None else (-1001 if status >= 500 else -1000)
            return _Served(status, error_body(code, fault.msg or MESSAGES.get(code, "")))
        if kind == faults.BINANCE_ERROR:
            code = fault.code if fault.code is not None else -1001
            msg = fault.msg or (self._too_much_weight() if code == -1003 else MESSAGES.get(code, ""))
            headers = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
            return _Served(fault.status or default_status(code), error_body(code, msg), headers=headers)
        if kind == faults.NON_JSON:
            return _Served(fault.status or 200, pages.NON_JSON_BODY)
        if kind == faults.WAF_403:
            return _Served(403, pages.waf_block_page(), HTML_TYPE)
        if kind == faults.RATE_LIMITED:
            retry = fault.retry_after or 1
            return _Served(
                429, error_body(-1003, self._too_much_weight()), headers={"Retry-After": str(retry)}
            )
        if kind == faults.BANNED:
            retry = fault.retry_after or 120
            now = ex.clock.now_ms()
            until = now + retry * 1000
            if fault.persist:
                ex.limiter.ban(now, retry * 1000)
            return _Served(
                418, error_body(-1003, BANNED_MSG.format(until=until)), headers={"Retry-After": str(retry)}
            )
        raise AssertionError(f"unhandled fault kind {kind}")  # pragma: no cover

    def _too_much_weight(self) -> str:
        rate = self.exchange.limiter.limits[0]
        return TOO_MUCH_WEIGHT.format(limit=rate.limit, num=rate.interval_num, interval=rate.interval)

    async def _partial(
        self, request: web.Request, entry: RecordedRequest, served: _Served
    ) -> web.StreamResponse:
        headers = self._weight_headers()
        headers["Content-Type"] = served.content_type
        response = web.StreamResponse(status=served.status, headers=headers)
        response.content_length = len(served.body)
        await response.prepare(request)
        await response.write(served.body[: len(served.body) // 2])
        _drop(request, reset=False)
        self.exchange.log.responded(entry, served.status)
        return response


def _time_mult(unit: str | None) -> int:
    if unit is None or unit in ("MILLISECOND", "millisecond"):
        return 1
    if unit in ("MICROSECOND", "microsecond"):
        return 1000
    raise BinanceError(-1194)


def _unrouted(request: web.Request, path: str) -> _Served:
    if path in ROUTES:
        return _Served(405, b"", HTML_TYPE)
    if "text/html" in request.headers.get("Accept", ""):
        return _Served(404, pages.not_found_page(), HTML_TYPE)
    return _Served(404, b"", HTML_TYPE)


def _drop(request: web.Request, *, reset: bool) -> None:
    """End the connection without a response: RST when `reset`, else an orderly close."""
    transport = request.transport
    if transport is None:
        return
    if reset:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()


def register(app: web.Application, exchange: LoopbackExchange) -> Pipeline:
    """The REST routes; returns the pipeline so the catch-all can answer through it."""
    pipeline = Pipeline(exchange)
    for path, handler in ROUTES.items():
        app.router.add_get(path, pipeline.wrap(path, handler), allow_head=False)
    return pipeline


RouteModule = Callable[[web.Application, "LoopbackExchange"], object]


def create_app(exchange: LoopbackExchange, route_modules: tuple[RouteModule, ...] = ()) -> web.Application:
    """Control routes, REST routes, any extra route modules (e.g. WebSocket streams), then a catch-all
    answering 404/405 through the REST pipeline so even those carry the weight header."""
    app = web.Application()
    control.register(app, exchange)
    pipeline = register(app, exchange)
    for module in route_modules:
        module(app, exchange)

    async def unrouted(request: web.Request) -> web.StreamResponse:
        return await pipeline.handle(request, request.path, None)

    app.router.add_route("*", "/{tail:.*}", unrouted)
    return app
