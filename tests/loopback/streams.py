"""WebSocket market streams for the loopback exchange: Binance's combined-stream endpoint, `/stream`.

    hub = StreamHub()
    async with LoopbackExchange(time_source=time, route_modules=(hub.register,)) as ex:
        url = hub.url            # ws://127.0.0.1:PORT, the stream host
        time.advance(1000)
        await hub.publish()      # every event of the elapsed server seconds, to every connection

On the real clock, `hub.start_pump()` publishes as time passes (`python -m tests.loopback --streams` does).

Streams (`?streams=a/b` and `SUBSCRIBE`/`UNSUBSCRIBE`/`LIST_SUBSCRIPTIONS` control frames): `<s>@trade`,
`<s>@aggTrade`, `<s>@kline_<i>`, `<s>@miniTicker`, `<s>@ticker`, `<s>@bookTicker`. Events are made from the
exchange's own deterministic market, second by second of *server* time, so a closed candle on the stream is
the very candle `GET /api/v3/klines` serves for that open time. Per server second: one trade, one aggTrade,
`book_updates` book tickers, one mini ticker and one ticker per symbol; an update of every open candle every
`kline_every_ms` (2 s, as Binance), and at each candle boundary the final update (`x: true`) of the candle
that just closed. Update ids and trade ids grow with server time.

Faults, for the stream adapter's tests: `disconnect(abrupt=True)` (TCP reset or close frame), `stall()` (the
open connections go silent but still answer pings), `ping(payload)` (pongs are recorded), `shutdown_notice()`
(`serverShutdown`, then optionally a close), `lifetime_s` (the server closes older connections, as Binance
does at 24 h), `send_raw(text)` (malformed messages), `refuse(status)` (upgrades answered with an HTTP error).
The server enforces 5 inbound messages a second per connection (pongs and control frames count): a client
over it is disconnected and `violations` counts it.

It imports nothing from the project, like the rest of the loopback exchange.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from aiohttp import WSMsgType, web

from tests.loopback.intervals import INTERVALS, SECOND, Interval

if TYPE_CHECKING:
    from tests.loopback.server import LoopbackExchange

_KINDS = ("trade", "aggTrade", "miniTicker", "ticker", "bookTicker")
_INBOUND_LIMIT = 5
_POLICY_VIOLATION = 1008


class StreamConnection:
    """One client connection as the server sees it."""

    def __init__(self, ws: web.WebSocketResponse, request: web.Request, streams: list[str]) -> None:
        self.ws = ws
        self.request = request
        self.streams: set[str] = set(streams)
        self.opened = time.monotonic()
        self.stalled = False
        self.pongs: list[bytes] = []
        self.inbound: deque[float] = deque()
        self.control: list[dict[str, Any]] = []
        self.sent = 0
        self.closed = False

    def abort(self) -> None:
        transport = self.request.transport
        if transport is not None:
            transport.abort()


class StreamHub:
    """The stream endpoint and its controls; pass `hub.register` in the exchange's `route_modules`."""

    def __init__(
        self,
        *,
        kline_every_ms: int = 2000,
        book_updates: int = 1,
        lifetime_s: float | None = None,
        inbound_limit: int = _INBOUND_LIMIT,
    ) -> None:
        self.kline_every_ms = kline_every_ms
        self.book_updates = book_updates
        self.lifetime_s = lifetime_s
        self.inbound_limit = inbound_limit
        self.connections: list[StreamConnection] = []
        self.attempts = 0
        self.violations = 0
        self.refuse_status: int | None = None
        self.refuse_headers: dict[str, str] = {}
        self._exchange: LoopbackExchange | None = None
        self._published_ms: int | None = None
        self._changed = asyncio.Event()
        self._pump: asyncio.Task[None] | None = None

    # ---------------------------------------------------------------- setup

    def register(self, app: web.Application, exchange: LoopbackExchange) -> None:
        self._exchange = exchange
        app.router.add_get("/stream", self._handle)

    @property
    def exchange(self) -> LoopbackExchange:
        if self._exchange is None:
            raise RuntimeError("the stream hub is not registered with a running exchange")
        return self._exchange

    @property
    def url(self) -> str:
        return self.exchange.base_url.replace("http://", "ws://", 1)

    @property
    def open_connections(self) -> list[StreamConnection]:
        return [conn for conn in self.connections if not conn.closed]

    async def wait_for(self, predicate: Callable[[], bool], within_s: float = 5.0) -> None:
        """Until `predicate()` holds (checked whenever a connection opens, closes or sends control)."""
        async with asyncio.timeout(within_s):
            while not predicate():
                self._changed.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.05):
                        await self._changed.wait()

    # ---------------------------------------------------------------- the endpoint

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.attempts += 1
        if self.refuse_status is not None:
            return web.Response(status=self.refuse_status, headers=self.refuse_headers)
        query = request.query.get("streams", "")
        streams = [unquote(name) for name in query.split("/") if name]
        bad = [name for name in streams if not self._valid(name)]
        if bad:
            body = json.dumps({"code": -1121, "msg": f"Invalid symbol or stream: {bad[0]}"})
            return web.Response(status=400, body=body, content_type="application/json")
        ws = web.WebSocketResponse(autoping=False, compress=False)
        await ws.prepare(request)
        conn = StreamConnection(ws, request, streams)
        self.connections.append(conn)
        self._changed.set()
        timer = None
        if self.lifetime_s is not None:
            loop = asyncio.get_running_loop()
            timer = loop.call_later(self.lifetime_s, lambda: asyncio.ensure_future(ws.close(code=1000)))
        try:
            await self._read(conn)
        finally:
            conn.closed = True
            if timer is not None:
                timer.cancel()
            self._changed.set()
        return ws

    def _valid(self, name: str) -> bool:
        symbol, _, kind = name.partition("@")
        spec = next((s for s in self.exchange.catalogue.specs if s.symbol.lower() == symbol.lower()), None)
        if spec is None or symbol != symbol.lower():
            return False
        return kind in _KINDS or (kind.startswith("kline_") and kind.removeprefix("kline_") in INTERVALS)

    async def _read(self, conn: StreamConnection) -> None:
        ws = conn.ws
        async for message in ws:
            inbound = message.type in (WSMsgType.PING, WSMsgType.PONG, WSMsgType.TEXT, WSMsgType.BINARY)
            if inbound and self._over_limit(conn):
                self.violations += 1
                await ws.close(code=_POLICY_VIOLATION, message=b"Too many requests")
                return
            if message.type == WSMsgType.PING:
                await ws.pong(message.data)
            elif message.type == WSMsgType.PONG:
                conn.pongs.append(message.data)
                self._changed.set()
            elif message.type == WSMsgType.TEXT:
                await self._control(conn, message.data)

    def _over_limit(self, conn: StreamConnection) -> bool:
        now = time.monotonic()
        conn.inbound.append(now)
        while conn.inbound and conn.inbound[0] <= now - 1.0:
            conn.inbound.popleft()
        return len(conn.inbound) > self.inbound_limit

    async def _control(self, conn: StreamConnection, text: str) -> None:
        try:
            request = json.loads(text)
            method, request_id = request["method"], request.get("id")
        except (ValueError, KeyError, TypeError):
            await conn.ws.send_str(json.dumps({"error": {"code": 3, "msg": "Invalid JSON"}, "id": None}))
            return
        conn.control.append(request)
        params = request.get("params", [])
        if method in ("SUBSCRIBE", "UNSUBSCRIBE"):
            bad = [name for name in params if not isinstance(name, str) or not self._valid(name)]
            if bad:
                error = {"code": 2, "msg": f"Invalid request: unknown stream {bad[0]}"}
                await conn.ws.send_str(json.dumps({"error": error, "id": request_id}))
                return
            if method == "SUBSCRIBE":
                conn.streams.update(params)
            else:
                conn.streams.difference_update(params)
            reply: dict[str, Any] = {"result": None, "id": request_id}
        elif method == "LIST_SUBSCRIPTIONS":
            reply = {"result": sorted(conn.streams), "id": request_id}
        else:
            reply = {
                "error": {"code": 2, "msg": f"Invalid request: unknown method {method}"},
                "id": request_id,
            }
        await conn.ws.send_str(json.dumps(reply))
        self._changed.set()

    # ---------------------------------------------------------------- publishing

    async def publish(self, now_ms: int | None = None) -> int:
        """Send the events of every server second after the last publish up to `now_ms` (default: the
        exchange's clock); returns the number of messages sent."""
        now = self.exchange.now_ms() if now_ms is None else now_ms
        step = now - now % SECOND
        start = step if self._published_ms is None else self._published_ms + SECOND
        self._published_ms = max(step, self._published_ms or step)
        sent = 0
        for t in range(start, step + 1, SECOND):
            for conn in self.open_connections:
                if conn.stalled or conn.ws.closed:
                    continue
                for message in self._messages(conn.streams, t):
                    try:
                        await conn.ws.send_str(message)
                    except (ConnectionError, RuntimeError):
                        break
                    conn.sent += 1
                    sent += 1
        return sent

    def _messages(self, streams: set[str], t: int) -> list[str]:
        out: list[str] = []
        for name in sorted(streams):
            symbol, _, kind = name.partition("@")
            spec = self.exchange.market.spec(symbol.upper())
            if kind.startswith("kline_"):
                out.extend(self._klines(name, spec.symbol, Interval(kind.removeprefix("kline_")), t))
            elif kind == "bookTicker":
                out.extend(
                    self._wrap(name, self.book_ticker(spec.symbol, t, i)) for i in range(self.book_updates)
                )
            else:
                out.append(self._wrap(name, self._event(kind, spec.symbol, t)))
        return out

    @staticmethod
    def _wrap(stream: str, data: dict[str, Any]) -> str:
        return json.dumps({"stream": stream, "data": data}, separators=(",", ":"), ensure_ascii=False)

    def book_ticker(self, symbol: str, t: int, index: int = 0) -> dict[str, Any]:
        market = self.exchange.market
        top = market.book_ticker(market.spec(symbol), t)
        return {
            "u": (t // SECOND) * 1000 + index,
            "s": symbol,
            "b": top["bidPrice"],
            "B": top["bidQty"],
            "a": top["askPrice"],
            "A": top["askQty"],
        }

    def _event(self, kind: str, symbol: str, t: int) -> dict[str, Any]:
        market = self.exchange.market
        spec = market.spec(symbol)
        if kind in ("trade", "aggTrade"):
            trade_id = t // SECOND
            price = market.price_text(spec, t)
            qty = market.book_ticker(spec, t)["bidQty"]
            if kind == "trade":
                return {
                    "e": "trade",
                    "E": t,
                    "s": symbol,
                    "t": trade_id,
                    "p": price,
                    "q": qty,
                    "T": t,
                    "m": trade_id % 2 == 0,
                    "M": True,
                }
            return {
                "e": "aggTrade",
                "E": t,
                "s": symbol,
                "a": trade_id,
                "p": price,
                "q": qty,
                "f": trade_id,
                "l": trade_id,
                "T": t,
                "m": trade_id % 2 == 0,
                "M": True,
            }
        if kind == "miniTicker":
            mini = market.ticker_24h(spec, t, full=False)
            return {
                "e": "24hrMiniTicker",
                "E": t,
                "s": symbol,
                "c": mini["lastPrice"],
                "o": mini["openPrice"],
                "h": mini["highPrice"],
                "l": mini["lowPrice"],
                "v": mini["volume"],
                "q": mini["quoteVolume"],
            }
        full = market.ticker_24h(spec, t, full=True)
        return {
            "e": "24hrTicker",
            "E": t,
            "s": symbol,
            "p": full["priceChange"],
            "P": full["priceChangePercent"],
            "w": full["weightedAvgPrice"],
            "x": full["prevClosePrice"],
            "c": full["lastPrice"],
            "Q": full["lastQty"],
            "b": full["bidPrice"],
            "B": full["bidQty"],
            "a": full["askPrice"],
            "A": full["askQty"],
            "o": full["openPrice"],
            "h": full["highPrice"],
            "l": full["lowPrice"],
            "v": full["volume"],
            "q": full["quoteVolume"],
            "O": full["openTime"],
            "C": full["closeTime"],
            "F": full["firstId"],
            "L": full["lastId"],
            "n": full["count"],
        }

    def _klines(self, stream: str, symbol: str, interval: Interval, t: int) -> list[str]:
        out = []
        current = interval.floor(t)
        if current == t:
            previous = current - (interval.fixed_ms or 0) if interval.fixed_ms else None
            if previous is not None:
                out.append(self._wrap(stream, self.kline(symbol, interval.name, previous, t)))
        if (t - current) % self.kline_every_ms == 0 or current == t:
            out.append(self._wrap(stream, self.kline(symbol, interval.name, current, t)))
        return out

    def kline(self, symbol: str, interval: str, open_ms: int, t: int) -> dict[str, Any]:
        """The kline event for the candle opening at `open_ms`, as it stands at server time `t`: built from
        the very row `GET /api/v3/klines` serves."""
        (row,) = self.exchange.market.klines(symbol, interval, now=t, start=open_ms, end=open_ms, limit=1)
        close_ms = int(str(row[6]))
        trades = int(str(row[8]))
        first_id = open_ms // SECOND
        return {
            "e": "kline",
            "E": t,
            "s": symbol,
            "k": {
                "t": row[0],
                "T": close_ms,
                "s": symbol,
                "i": interval,
                "f": first_id,
                "L": first_id + trades - 1,
                "o": row[1],
                "c": row[4],
                "h": row[2],
                "l": row[3],
                "v": row[5],
                "n": trades,
                "x": close_ms < t,
                "q": row[7],
                "V": row[9],
                "Q": row[10],
                "B": row[11],
            },
        }

    def start_pump(self, period_s: float = 0.05) -> asyncio.Task[None]:
        """Publish in real time: every `period_s`, the events of the server seconds that passed (for a
        loopback exchange on the real clock, e.g. `python -m tests.loopback --streams`)."""

        async def pump() -> None:
            while True:
                await self.publish()
                await asyncio.sleep(period_s)

        self._pump = asyncio.get_running_loop().create_task(pump(), name="stream pump")
        return self._pump

    # ---------------------------------------------------------------- faults

    async def disconnect(self, *, abrupt: bool = True) -> int:
        """Drop every open connection: `abrupt` resets the TCP connection, else a close frame (1001)."""
        count = 0
        for conn in self.open_connections:
            count += 1
            if abrupt:
                conn.abort()
            else:
                await conn.ws.close(code=1001, message=b"going away")
        return count

    def stall(self) -> int:
        """The open connections stop sending data (they still answer pings); new ones are not stalled."""
        conns = self.open_connections
        for conn in conns:
            conn.stalled = True
        return len(conns)

    async def ping(self, payload: bytes = b"loopback") -> int:
        conns = self.open_connections
        for conn in conns:
            await conn.ws.ping(payload)
        return len(conns)

    async def shutdown_notice(self) -> int:
        """Send `serverShutdown` on every open connection (Binance's "reconnect now")."""
        conns = self.open_connections
        data = {"e": "serverShutdown", "E": self.exchange.now_ms()}
        for conn in conns:
            await conn.ws.send_str(self._wrap("!serverShutdown", data))
        return len(conns)

    async def send_raw(self, text: str | bytes) -> int:
        """Send `text` as it is (a text frame, or a binary frame for bytes) on every open connection."""
        conns = self.open_connections
        for conn in conns:
            if isinstance(text, bytes):
                await conn.ws.send_bytes(text)
            else:
                await conn.ws.send_str(text)
        return len(conns)

    def refuse(self, status: int | None, headers: dict[str, str] | None = None) -> None:
        """Answer new upgrade requests with HTTP `status` (None: accept again)."""
        self.refuse_status = status
        self.refuse_headers = headers or {}
