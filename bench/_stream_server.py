"""The stream benchmark's server: Binance-shaped book-ticker frames on ``/stream``, from its own process.

``python -m bench._stream_server`` prints ``ws://127.0.0.1:PORT`` and serves until SIGTERM. Before each
WebSocket connection, ``GET /plan?mode=flood&count=N`` (as fast as the socket takes them) or
``GET /plan?mode=rate&rate=5000&count=N`` (one frame every 1/rate s, each in its own write, paced by
sleeping, never by spinning) says what the next connection gets.
Frames go round the subscribed streams (``<symbol>@bookTicker``), combined-stream shaped: those in the URL
(``/stream?streams=a/b``) or, for a connection without any there, those of its first ``SUBSCRIBE`` message,
which is acknowledged as the exchange does (``{"result":null,"id":...}``) before the first frame.

Every frame is stamped: its update id ``u`` is ``time.monotonic_ns()`` when it is written (the clock is
system-wide on Linux, so the client's reading of the same clock gives the frame's latency), plus the frame's
number in flood mode, where frames are stamped in batches. Frames are built by hand and written straight to
the transport, so the server is never what limits the client. After the last frame it waits for the client to
close the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import socket
import sys
import time
from typing import Any

from aiohttp import WSMsgType, web

_BATCH = 512
_HIGH_WATER = 4 << 20
_YIELD_EVERY = 256


def _frame(payload: bytes) -> bytes:
    size = len(payload)
    if size < 126:  # the WebSocket length encodings: 7 bits, or 16 bits after 126
        return bytes((0x81, size)) + payload
    return bytes((0x81, 126)) + size.to_bytes(2, "big") + payload


def _template(stream: str) -> tuple[bytes, bytes]:
    symbol = stream.partition("@")[0].upper()
    head = f'{{"stream":"{stream}","data":{{"u":'.encode()
    tail = f',"s":"{symbol}","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"}}}}'
    return head, tail.encode()


class Server:
    def __init__(self) -> None:
        self.plan: dict[str, Any] = {"mode": "flood", "count": 0, "rate": 0.0}

    async def set_plan(self, request: web.Request) -> web.Response:
        self.plan = {
            "mode": request.query.get("mode", "flood"),
            "count": int(request.query.get("count", "0")),
            "rate": float(request.query.get("rate", "0")),
        }
        return web.json_response(self.plan)

    async def stream(self, request: web.Request) -> web.StreamResponse:
        # A plan serves one connection; a client that reconnects afterwards gets no frames.
        plan, self.plan = self.plan, {"mode": "flood", "count": 0, "rate": 0.0}
        streams = [name for name in request.query.get("streams", "").split("/") if name]
        ws = web.WebSocketResponse(autoping=True, compress=False)
        await ws.prepare(request)
        if not streams:
            streams = await self._subscribed(ws)
        transport = request.transport
        if transport is None or not streams:
            return ws
        templates = [_template(name) for name in streams]
        sock = transport.get_extra_info("socket")
        if sock is not None:  # asyncio sets it already; said here because the latency figures rest on it
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if plan["mode"] == "rate":
            await self._at_rate(transport, templates, plan["count"], plan["rate"])
        else:
            await self._flood(transport, templates, plan["count"])
        async for _ in ws:  # the client closes once it has counted every frame
            pass
        return ws

    @staticmethod
    async def _subscribed(ws: web.WebSocketResponse) -> list[str]:
        async for message in ws:
            if message.type is not WSMsgType.TEXT:
                continue
            request = json.loads(message.data)
            if request.get("method") == "SUBSCRIBE":
                await ws.send_str(json.dumps({"result": None, "id": request.get("id")}))
                return [str(name) for name in request.get("params", [])]
        return []

    @staticmethod
    async def _flood(transport: asyncio.Transport, templates: list[tuple[bytes, bytes]], count: int) -> None:
        sent = 0
        width = len(templates)
        while sent < count:
            base = time.monotonic_ns()
            batch = min(_BATCH, count - sent)
            frames = []
            for i in range(sent, sent + batch):
                head, tail = templates[i % width]
                frames.append(_frame(head + str(base + i).encode() + tail))
            transport.write(b"".join(frames))
            sent += batch
            while transport.get_write_buffer_size() > _HIGH_WATER:  # noqa: ASYNC110 - no event for this
                await asyncio.sleep(0.0005)

    @staticmethod
    async def _at_rate(
        transport: asyncio.Transport, templates: list[tuple[bytes, bytes]], count: int, rate: float
    ) -> None:
        width = len(templates)
        start = time.monotonic() + 0.05
        for i in range(count):
            wait = start + i / rate - time.monotonic()
            if wait > 0:
                # A blocking sleep: precise to about a tenth of a millisecond, where the event loop's timers
                # round up to whole milliseconds (frames would leave in bursts); the loop has nothing else
                # to do meanwhile, and nothing spins, so the client and the rest of the machine keep a core.
                time.sleep(wait)  # noqa: ASYNC251 - on purpose, see above
            head, tail = templates[i % width]
            frame = _frame(head + str(time.monotonic_ns()).encode() + tail)
            transport.write(frame)  # straight into the socket (TCP_NODELAY), so the stamp is its send time
            if transport.get_write_buffer_size():  # the client fell behind: let the loop drain the buffer
                await asyncio.sleep(0.0005)
            elif not i % _YIELD_EVERY:
                await asyncio.sleep(0)


async def serve() -> None:
    server = Server()
    app = web.Application()
    app.router.add_get("/plan", server.set_plan)
    app.router.add_get("/stream", server.stream)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    sys.stdout.write(f"ws://127.0.0.1:{port}\n")
    sys.stdout.flush()
    await stop.wait()
    await runner.cleanup()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
