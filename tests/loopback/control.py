"""`/__control/...`: drive a loopback exchange running in another process (JSON in, JSON out).

These routes bypass the request log, faults and weight accounting.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.loopback.faults import Fault

if TYPE_CHECKING:
    from tests.loopback.server import LoopbackExchange

PREFIX = "/__control"
_Action = Callable[["LoopbackExchange", dict[str, Any]], object]


def _inject(ex: LoopbackExchange, body: dict[str, Any]) -> object:
    ex.inject(Fault.from_dict(body["fault"]), times=int(body.get("times", 1)), path=body.get("path"))
    return {"pending": ex.faults.pending}


def _failure_rate(ex: LoopbackExchange, body: dict[str, Any]) -> object:
    fault = Fault.from_dict(body["fault"]) if body.get("fault") else None
    ex.set_failure_rate(float(body["rate"]), fault, seed=int(body.get("seed", 0)), path=body.get("path"))
    return {}


def _latency(ex: LoopbackExchange, body: dict[str, Any]) -> object:
    ex.set_latency(float(body["seconds"]), path=body.get("path"))
    return {}


def _clock(ex: LoopbackExchange, body: dict[str, Any]) -> object:
    ex.set_clock_skew(int(body["skew_ms"]))
    return {"server_time": ex.now_ms()}


def _keys(ex: LoopbackExchange, body: dict[str, Any]) -> object:
    if body.get("secret") is not None:
        ex.add_key(body["api_key"], secret=body["secret"])
    else:
        ex.add_key(body["api_key"], public_key_pem=body["public_key_pem"])
    return {}


def _ban(ex: LoopbackExchange, body: dict[str, Any]) -> object:
    ex.ban(float(body["seconds"]))
    return {}


def _prewarm(ex: LoopbackExchange, body: dict[str, Any]) -> object:
    return {
        "hours": ex.market.prewarm(
            body["symbol"], int(body["start_ms"]), int(body["end_ms"]), now=ex.now_ms()
        )
    }


_POSTS: dict[str, _Action] = {
    "faults": _inject,
    "faults/clear": lambda ex, _body: ex.clear_faults(),
    "failure-rate": _failure_rate,
    "latency": _latency,
    "clock": _clock,
    "keys": _keys,
    "ban": _ban,
    "reset-limits": lambda ex, _body: ex.reset_limits(),
    "release-hangs": lambda ex, _body: ex.release_hangs(),
    "requests/clear": lambda ex, _body: ex.clear_requests(),
    "prewarm": _prewarm,
}


def _reply(value: object) -> web.Response:
    return web.Response(
        body=json.dumps(value if value is not None else {}, ensure_ascii=False).encode(),
        content_type="application/json",
    )


def register(app: web.Application, exchange: LoopbackExchange) -> None:
    async def state(_request: web.Request) -> web.Response:
        return _reply(exchange.stats())

    async def requests(_request: web.Request) -> web.Response:
        return _reply([entry.to_dict() for entry in exchange.requests])

    def post(action: _Action) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handler(request: web.Request) -> web.Response:
            body = await request.json() if request.can_read_body else {}
            try:
                return _reply(action(exchange, body))
            except (KeyError, TypeError, ValueError) as exc:
                return web.Response(status=400, text=f"bad control request: {exc!r}")

        return handler

    app.router.add_get(f"{PREFIX}/state", state)
    app.router.add_get(f"{PREFIX}/requests", requests)
    for name, action in _POSTS.items():
        app.router.add_post(f"{PREFIX}/{name}", post(action))
