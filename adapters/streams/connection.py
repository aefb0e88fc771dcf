"""One WebSocket connection to the combined-stream endpoint: open, subscribe, read until it ends.

A ``StreamLink`` hands every text frame to its ``deliver`` callback and never parses market data itself.
Pings are answered by aiohttp (``autoping``) as they are read. Silence is watched with a timer that compares
message counts (a timeout on every ``receive`` would cost about as much as reading the frame). Streams go
into the URL while it stays short; the rest are sent as ``SUBSCRIBE`` messages in batches, paced below the
exchange's limit of 5 inbound messages a second, and the link is ready once every batch is acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import Callable, Sequence
from typing import Any, Literal
from urllib.parse import quote

import aiohttp
import orjson
import yarl

from adapters.streams.settings import StreamSettings
from domain import (
    AccessDeniedError,
    ConfigurationError,
    DisconnectReason,
    ExchangeUnavailableError,
    GatewayError,
    InvalidRequestError,
    IPBannedError,
    NetworkError,
    RateLimitError,
    RequestTimeoutError,
)

__all__ = ["StreamLink", "connect_error"]

_ENDPOINT = "/stream"
_HTTP_TOO_MANY = 429
_HTTP_BANNED = 418
_HTTP_FORBIDDEN = 403
_HTTP_NOT_FOUND = 404
_HTTP_UNAVAILABLE_FOR_LEGAL_REASONS = 451
_HTTP_CLIENT_ERRORS = range(400, 500)
_ABNORMAL_CLOSURE = 1006
_CLOSED_BEFORE_REPLY = "the connection closed before the exchange answered"
Deliver = Callable[["StreamLink", bytes], None]


def _retry_after(headers: Any) -> float | None:
    try:
        return float(headers.get("Retry-After")) if headers and headers.get("Retry-After") else None
    except (TypeError, ValueError):
        return None


def connect_error(exc: BaseException, *, now_ms: int) -> GatewayError:  # noqa: PLR0911 - one per cause
    """The domain error for a failed connection attempt; ``retryable`` says whether to try again."""
    if isinstance(exc, GatewayError):
        return exc
    if isinstance(exc, aiohttp.WSServerHandshakeError):
        status, retry_after = exc.status, _retry_after(exc.headers)
        text = f"the stream server refused the connection: HTTP {status}"
        if status == _HTTP_BANNED:
            until = now_ms + int((retry_after or 120) * 1000)
            return IPBannedError(text, banned_until_ms=until, retry_after=retry_after, endpoint=_ENDPOINT)
        if status == _HTTP_TOO_MANY:
            return RateLimitError(text, retry_after=retry_after, endpoint=_ENDPOINT)
        if status in (_HTTP_FORBIDDEN, _HTTP_UNAVAILABLE_FOR_LEGAL_REASONS):
            return AccessDeniedError(text, http_status=status, endpoint=_ENDPOINT)
        if status == _HTTP_NOT_FOUND:
            msg = f"{text}: the host has no {_ENDPOINT} endpoint; check BINANCE_STREAM_URL"
            return ConfigurationError(msg)
        if status in _HTTP_CLIENT_ERRORS:
            return InvalidRequestError(text, http_status=status, endpoint=_ENDPOINT)
        return ExchangeUnavailableError(text, http_status=status, endpoint=_ENDPOINT)
    if isinstance(exc, TimeoutError):
        return RequestTimeoutError("connecting to the stream server timed out", endpoint=_ENDPOINT)
    if isinstance(exc, aiohttp.ClientError | OSError):
        return NetworkError(f"cannot connect to the stream server: {type(exc).__name__}", endpoint=_ENDPOINT)
    return NetworkError(f"stream connection failed: {type(exc).__name__}", endpoint=_ENDPOINT)


def build_url(base: str, streams: Sequence[str], max_length: int) -> tuple[yarl.URL, list[str]]:
    """The combined-stream URL holding as many of ``streams`` as fit in ``max_length``, and the rest."""
    prefix = f"{base}{_ENDPOINT}"
    names: list[str] = []
    length = len(prefix) + len("?streams=")
    for index, stream in enumerate(streams):
        encoded = quote(stream, safe="@_!")
        if length + len(encoded) + 1 > max_length:
            return yarl.URL(_with(prefix, names), encoded=True), list(streams[index:])
        names.append(encoded)
        length += len(encoded) + 1
    return yarl.URL(_with(prefix, names), encoded=True), []


def _with(prefix: str, names: list[str]) -> str:
    return f"{prefix}?streams={'/'.join(names)}" if names else prefix


class StreamLink:
    """One connection. ``held`` is a list while the link is a standby that must not deliver yet."""

    def __init__(
        self,
        name: str,
        streams: Sequence[str],
        *,
        session: aiohttp.ClientSession,
        settings: StreamSettings,
        deliver: Deliver,
        ssl_context: ssl.SSLContext | None,
        over: Callable[[], bool],
        wait_room: Callable[[], Any],
    ) -> None:
        self.name = name
        self.streams = list(streams)
        self.messages = 0
        self.held: list[Any] | None = None
        self.first: dict[str, Any] = {}
        self.opened_at = 0.0
        self.shutdown_notice = asyncio.Event()
        self.task: asyncio.Task[tuple[DisconnectReason, str]] | None = None
        self._session = session
        self._settings = settings
        self._deliver = deliver
        self._ssl = ssl_context
        self._over = over
        self._wait_room = wait_room
        self._ws: aiohttp.ClientWebSocketResponse[Literal[False]] | None = None
        self._end: tuple[DisconnectReason, str] | None = None
        self._replies: dict[int, asyncio.Future[str | None]] = {}
        self._requested: set[str] = set()
        self._next_id = 1
        self._next_send = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._seen = 0
        self._last_change = 0.0
        self._due = 0.0

    @property
    def reader(self) -> asyncio.Task[tuple[DisconnectReason, str]]:
        """The reading task; it returns why the link ended."""
        if self.task is None:
            msg = f"stream link {self.name} is not open"
            raise RuntimeError(msg)
        return self.task

    # ------------------------------------------------------------------------------------------ opening

    async def open(self) -> None:
        """Connect and start reading; subscribe what did not fit in the URL; return once all is acknowledged.

        Raises whatever aiohttp raises (``connect_error`` classifies it) or ``InvalidRequestError`` when the
        exchange refuses a subscription.
        """
        settings = self._settings
        url, rest = build_url(settings.url, self.streams, settings.max_url_length)
        self.streams = [name for name in self.streams if name not in rest]
        self._requested = set(self.streams)
        async with asyncio.timeout(settings.connect_timeout_s):
            self._ws = await self._session.ws_connect(
                url,
                autoping=True,
                decode_text=False,
                compress=0,
                max_msg_size=16 * 1024 * 1024,
                timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=settings.close_timeout_s),
                ssl=self._ssl if self._ssl is not None else True,
            )
        self.opened_at = time.monotonic()
        self.task = asyncio.get_running_loop().create_task(self._serve(self._ws), name=f"stream {self.name}")
        self._arm_silence_timer()
        await self.subscribe(rest)

    async def subscribe(self, streams: Sequence[str]) -> None:
        """Send ``SUBSCRIBE`` for ``streams`` in paced batches and wait for every acknowledgement.

        Streams already subscribed or requested are skipped. Raises ``InvalidRequestError`` when the
        exchange refuses one, ``NetworkError`` when the connection closes first.
        """
        wanted = [name for name in dict.fromkeys(streams) if name not in self._requested]
        if not wanted:
            return
        self._requested.update(wanted)
        batch = self._settings.subscribe_batch
        pending = [
            await self._send_control("SUBSCRIBE", wanted[start : start + batch])
            for start in range(0, len(wanted), batch)
        ]
        for streams_in_batch, reply in pending:
            async with asyncio.timeout(self._settings.connect_timeout_s):
                error = await reply
            if error == _CLOSED_BEFORE_REPLY:
                raise NetworkError(error, endpoint=_ENDPOINT)
            if error is not None:
                msg = f"the exchange refused the subscription to {streams_in_batch[0]} and others: {error}"
                raise InvalidRequestError(msg, endpoint=_ENDPOINT)
            self.streams.extend(streams_in_batch)

    async def _send_control(
        self, method: str, params: list[str]
    ) -> tuple[list[str], asyncio.Future[str | None]]:
        ws = self._ws
        if ws is None:
            msg = "the link is not open"
            raise NetworkError(msg, endpoint=_ENDPOINT)
        wait = self._next_send - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        self._next_send = time.monotonic() + 1.0 / self._settings.control_rate
        request_id = self._next_id
        self._next_id += 1
        reply: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._replies[request_id] = reply
        await ws.send_str(orjson.dumps({"method": method, "params": params, "id": request_id}).decode())
        return params, reply

    def reply(self, request_id: object, error: str | None) -> None:
        """The exchange answered control message ``request_id`` (``error`` when it refused it)."""
        future = self._replies.pop(request_id, None) if isinstance(request_id, int) else None
        if future is not None and not future.done():
            future.set_result(error)

    # ------------------------------------------------------------------------------------------ reading

    async def _serve(
        self, ws: aiohttp.ClientWebSocketResponse[Literal[False]]
    ) -> tuple[DisconnectReason, str]:
        try:
            outcome = await self._read(ws)
        except asyncio.CancelledError:
            if self._end is None:
                raise
            outcome = self._end
        except (aiohttp.ClientError, OSError) as exc:
            outcome = (DisconnectReason.NETWORK_ERROR, type(exc).__name__)
        finally:
            self._disarm_silence_timer()
            with contextlib.suppress(Exception):
                await self._close_ws()
        return self._end or outcome

    async def _read(
        self, ws: aiohttp.ClientWebSocketResponse[Literal[False]]
    ) -> tuple[DisconnectReason, str]:
        receive = ws.receive
        deliver = self._deliver
        over = self._over
        text = aiohttp.WSMsgType.TEXT
        while True:
            message = await receive()
            if message.type is text:
                self.messages += 1
                deliver(self, message.data)
                if over():
                    await self._wait_room()
                continue
            if message.type is aiohttp.WSMsgType.BINARY:
                self.messages += 1
                deliver(self, b"")  # counted as malformed: Binance sends only text frames on this endpoint
                continue
            if message.type is aiohttp.WSMsgType.ERROR:
                return DisconnectReason.NETWORK_ERROR, f"{type(message.data).__name__}: {message.data}"
            code = ws.close_code
            if code is None or code == _ABNORMAL_CLOSURE:  # no close frame: the connection was lost
                return DisconnectReason.NETWORK_ERROR, "connection lost without a close frame"
            return DisconnectReason.CLOSED_BY_SERVER, f"close code {code}"

    async def _close_ws(self) -> None:
        ws = self._ws
        if ws is not None and not ws.closed:
            await ws.close()
        for reply in self._replies.values():
            if not reply.done():
                reply.set_result(_CLOSED_BEFORE_REPLY)
        self._replies.clear()

    def stop(self, reason: DisconnectReason, detail: str = "") -> None:
        """End the link (its task returns ``reason``); harmless once it has ended."""
        if self._end is None:
            self._end = (reason, detail)
        if self.task is not None and not self.task.done():
            self.task.cancel()

    # ------------------------------------------------------------------------------------------ silence

    def _arm_silence_timer(self) -> None:
        self._seen = self.messages
        self._last_change = time.monotonic()
        self._schedule_check()

    def _schedule_check(self) -> None:
        period = self._settings.silence_timeout_s / 4
        self._due = time.monotonic() + period
        self._timer = asyncio.get_running_loop().call_later(period, self._check_silence)

    def _check_silence(self) -> None:
        now = time.monotonic()
        if self.messages != self._seen:
            self._seen = self.messages
            self._last_change = now
        elif now - self._due > self._settings.silence_timeout_s / 4:
            # The event loop itself was held up (nothing could be read meanwhile): start a fresh window
            # rather than blame the stream.
            self._last_change = now
        elif now - self._last_change >= self._settings.silence_timeout_s:
            silent = now - self._last_change
            self.stop(DisconnectReason.SILENCE, f"no message for {silent:.1f} s")
            return
        self._schedule_check()

    def _disarm_silence_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def __repr__(self) -> str:
        return f"StreamLink({self.name!r}, streams={len(self.streams)})"
