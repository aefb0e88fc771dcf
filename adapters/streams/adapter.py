"""``BinanceStreamAdapter``: the market-stream port over Binance's combined-stream WebSocket endpoint.

Topics are spread over groups of at most ``max_streams_per_connection`` streams; each group keeps one live
connection and a supervisor task that

- reconnects after a loss, a close or a silent stream, with jittered exponential backoff, and never starts
  more connection attempts than the budget allows (300 per 5 minutes by default);
- replaces the connection before the exchange's 24-hour limit, and at once on a ``serverShutdown`` notice,
  *make before break*: the new connection is opened and subscribed while the old one still delivers; its
  events are held until the old connection has delivered everything the new one started with, then the
  held events are released through the same duplicate filter and the old connection is closed. No event is
  lost or delivered twice across the switch.

Every event's identity (trade id, book update id, event time, or for klines open time, closed flag and event
time) is compared with the newest delivered for its stream, which drops the overlap. After a real loss the
memory is cleared (the exchange never replays, and a testnet reset restarts its ids).

Parsing, the event buffer and the link live in ``parsing``, ``_buffer`` and ``connection``; this module
holds the groups, their supervisors and the hot path that turns a frame into a delivered event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from opentelemetry.util.types import AttributeValue

from adapters.streams import parsing
from adapters.streams._buffer import EventBuffer
from adapters.streams._pacing import AttemptBudget, Backoff
from adapters.streams.connection import StreamLink, connect_error
from adapters.streams.settings import StreamSettings
from adapters.streams.telemetry import StreamTelemetry
from domain import (
    ConfigurationError,
    ConnectionState,
    DisconnectReason,
    GatewayError,
    RateLimitError,
    StreamConnected,
    StreamConnection,
    StreamDisconnected,
    StreamEvent,
    StreamReconnecting,
    StreamStats,
    StreamTopic,
)
from ports import Clock, MarketStreamPort

__all__ = ["BinanceStreamAdapter", "StateListener"]

_log = logging.getLogger("binance_gateway.streams")

#: Told of every change of a connection's state: (connection name, state, detail).
StateListener = Callable[[str, ConnectionState, str], None]

_FRAME_ERRORS = (ValueError, KeyError, TypeError)
_PARSE_ERRORS = parsing.DECODE_ERRORS
_CATCH_UP_POLL_S = 0.005
_LOGGED_MALFORMED = 10


class _Group:
    """Up to ``max_streams_per_connection`` streams on one live connection, with its supervisor."""

    def __init__(self, adapter: BinanceStreamAdapter, name: str) -> None:
        self.adapter = adapter
        self.name = name
        self.routes: dict[str, parsing.Route] = {}
        self.live: StreamLink | None = None
        self.state = ConnectionState.DISCONNECTED
        self.detail = "not connected yet"
        self.task: asyncio.Task[None] | None = None
        self._serial = 0
        self._lag_countdown = adapter.settings.lag_sample_every

    # ------------------------------------------------------------------------------------------ hot path

    def on_message(self, link: StreamLink, data: bytes) -> None:
        """One text frame from ``link``: parse, drop duplicates, buffer (or hold, for a standby link)."""
        adapter = self.adapter
        adapter.received += 1
        try:
            message = orjson.loads(data)
            stream = message["stream"]
            payload = message["data"]
        except _FRAME_ERRORS:
            self._control(link, data)
            return
        route = self.routes.get(stream)
        if route is None:
            self._unrouted(link, stream, payload)
            return
        try:
            event = route.parse(payload, adapter.now_ms())
        except _PARSE_ERRORS as exc:
            adapter.malformed(stream, exc)
            return
        if link is self.live:
            self.accept(route, event)
        elif link.held is not None:
            link.held.append((route, event))
            link.first.setdefault(stream, route.ident(event))

    def accept(self, route: parsing.Route, event: Any) -> None:
        ident = route.ident(event)
        last = route.last
        if last is not None and ident <= last:
            self.adapter.duplicates += 1
            return
        route.last = ident
        route.delivered += 1
        if route.lossless(event):
            self.adapter.buffer.put(event, route.name)
        else:
            self.adapter.buffer.put_latest(event, route.name, route.kind.value)
        self._lag_countdown -= 1
        if not self._lag_countdown:
            self._lag_countdown = self.adapter.settings.lag_sample_every
            self.adapter.sample_lag(route, event)

    def _control(self, link: StreamLink, data: bytes) -> None:
        try:
            decoded = parsing.decode(data, self.adapter.symbols, self.adapter.now_ms())
        except parsing.MalformedMessageError as exc:
            self.adapter.malformed(self.name, exc)
            return
        if decoded.reply_id is not None:
            link.reply(decoded.reply_id, decoded.error)
        elif decoded.shutdown:
            link.shutdown_notice.set()
        else:
            self.adapter.unsupported += 1

    def _unrouted(self, link: StreamLink, stream: object, payload: object) -> None:
        if stream == parsing.SHUTDOWN_STREAM or (
            isinstance(payload, dict) and payload.get("e") == "serverShutdown"
        ):
            link.shutdown_notice.set()
        else:
            self.adapter.unsupported += 1

    # ------------------------------------------------------------------------------------------ supervisor

    def set_state(self, state: ConnectionState, detail: str) -> None:
        self.state, self.detail = state, detail
        listener = self.adapter.on_state
        if listener is not None:
            listener(self.name, state, detail)

    async def run(self) -> None:
        adapter = self.adapter
        failures = 0
        reason: DisconnectReason | None = None
        detail = ""
        while True:
            live = await self._connect(failures, reason, detail)
            self._go_live(live)
            await self._catch_up_subscriptions(live)
            while True:
                reason, detail = await self._serve(live)
                if reason not in (DisconnectReason.LIFETIME, DisconnectReason.SERVER_SHUTDOWN):
                    break
                replacement = await self._replace(live, reason)
                if replacement is None:
                    reason, detail = await self._ended(live)
                    break
                live = replacement
            lived = time.monotonic() - live.opened_at
            failures = 0 if lived >= adapter.settings.stable_after_s else failures + 1
            self._lost(reason, detail)

    async def _connect(self, failures: int, reason: DisconnectReason | None, detail: str) -> StreamLink:
        """A new live link, retried with backoff; raises the first error that retrying cannot cure."""
        adapter = self.adapter
        attempt = failures
        retry_after = 0.0
        while True:
            if reason is not None:
                attempt += 1
                delay = max(adapter.backoff.delay(attempt), retry_after)
                adapter.emit(StreamReconnecting(self.name, adapter.now_ms(), attempt, delay, reason))
                self.set_state(
                    ConnectionState.RECONNECTING, f"attempt {attempt} after {reason.value}: {detail}"
                )
                await asyncio.sleep(delay)
            try:
                return await self._open(standby=False)
            except GatewayError as exc:
                if not exc.retryable:
                    self.set_state(ConnectionState.DISCONNECTED, str(exc))
                    raise
                reason, detail = DisconnectReason.CONNECT_FAILED, str(exc)
                retry_after = (exc.retry_after or 0.0) if isinstance(exc, RateLimitError) else 0.0
                _log.warning("stream %s: connection attempt %d failed: %s", self.name, attempt + 1, exc)

    async def _open(self, *, standby: bool) -> StreamLink:
        adapter = self.adapter
        wait = adapter.budget.wait_s()
        if wait > 0:
            _log.warning("stream connection attempts at the limit; waiting %.1f s", wait)
            await asyncio.sleep(wait)
        adapter.budget.record()
        self._serial += 1
        link = StreamLink(
            f"{self.name}#{self._serial}",
            list(self.routes),
            session=await adapter.session(),
            settings=adapter.settings,
            deliver=self.on_message,
            ssl_context=adapter.ssl_context,
            over=lambda: adapter.buffer.over,
            wait_room=adapter.buffer.room,
        )
        if standby:
            link.held = []
        attributes: dict[str, AttributeValue] = {
            "stream.connection": self.name,
            "stream.count": len(link.streams),
            "server.address": adapter.host,
        }
        with adapter.telemetry.tracer.start_as_current_span(
            "MarketStreamPort.connect", attributes=attributes
        ) as span:
            try:
                await link.open()
            except BaseException as exc:
                link.stop(DisconnectReason.CONNECT_FAILED)
                if link.task is not None:
                    with contextlib.suppress(BaseException):
                        await link.task
                if isinstance(exc, asyncio.CancelledError):
                    raise
                error = connect_error(exc, now_ms=adapter.now_ms())
                span.record_exception(error)
                span.set_attribute("error.type", type(error).__name__)
                adapter.telemetry.connects.add(1, {"outcome": "error", "error.type": type(error).__name__})
                raise error from exc
        adapter.telemetry.connects.add(1, {"outcome": "success"})
        return link

    def _go_live(self, link: StreamLink) -> None:
        # A fresh connection after a loss: nothing it sends can repeat what the old one sent.
        for route in self.routes.values():
            route.last = None
        self.live = link
        self.adapter.emit(StreamConnected(self.name, self.adapter.now_ms(), len(link.streams)))
        self.set_state(ConnectionState.CONNECTED, f"{len(link.streams)} streams")

    async def _serve(self, link: StreamLink) -> tuple[DisconnectReason, str]:
        """Until ``link`` ends (its reason) or must be replaced (``lifetime`` or ``server_shutdown``)."""
        reader = link.reader
        settings = self.adapter.settings
        age = time.monotonic() - link.opened_at
        replace_in = self.adapter.rollover_after_s() - age
        notice = asyncio.get_running_loop().create_task(link.shutdown_notice.wait())
        try:
            done, _ = await asyncio.wait(
                {reader, notice}, timeout=max(0.0, replace_in), return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            notice.cancel()
        if reader in done:
            return reader.result()
        if notice in done:
            return DisconnectReason.SERVER_SHUTDOWN, "the exchange announced a shutdown"
        return (
            DisconnectReason.LIFETIME,
            f"older than {settings.lifetime_s - settings.rollover_margin_s:.0f} s",
        )

    async def _ended(self, link: StreamLink) -> tuple[DisconnectReason, str]:
        return await link.reader

    async def _replace(self, old: StreamLink, reason: DisconnectReason) -> StreamLink | None:
        """Make before break; the new live link, or ``None`` when the old one died before a new one opened."""
        adapter = self.adapter
        adapter.count_reconnect(reason)
        adapter.emit(StreamReconnecting(self.name, adapter.now_ms(), 1, 0.0, reason))
        with adapter.telemetry.tracer.start_as_current_span(
            "MarketStreamPort.handover", attributes={"stream.connection": self.name, "reason": reason.value}
        ) as span:
            new = await self._open_standby(old)
            if new is None:
                span.set_attribute("outcome", "lost")
                return None
            deadline = time.monotonic() + adapter.settings.handover_timeout_s
            # Polled: checking on every frame would tax the hot path for a switch made once a day.
            while not self._caught_up(new) and not old.reader.done() and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(_CATCH_UP_POLL_S)
            clean = self._caught_up(new)
            span.set_attribute("outcome", "clean" if clean else "timeout")
            if not clean:  # events between the two connections may be missing: say so
                detail = "the old connection ended" if old.reader.done() else "the new one did not catch up"
                adapter.emit(StreamDisconnected(self.name, adapter.now_ms(), reason, f"handover: {detail}"))
            self._switch(old, new)
            old.stop(reason, "replaced")
            with contextlib.suppress(BaseException):
                await old.reader
            await self._catch_up_subscriptions(new)
        return new

    async def _catch_up_subscriptions(self, link: StreamLink) -> None:
        """Subscribe what was added while ``link`` was being opened."""
        missing = [name for name in self.routes if name not in link.streams]
        if missing:
            await link.subscribe(missing)

    async def _open_standby(self, old: StreamLink) -> StreamLink | None:
        attempt = 0
        while True:
            try:
                return await self._open(standby=True)
            except GatewayError as exc:
                if not exc.retryable:
                    raise
                if old.task is not None and old.task.done():
                    return None
                attempt += 1
                _log.warning("replacing stream connection %s: attempt %d failed: %s", self.name, attempt, exc)
                await asyncio.sleep(self.adapter.backoff.delay(attempt))

    def _caught_up(self, new: StreamLink) -> bool:
        """The old link has delivered every event the new one started with (so nothing falls between)."""
        if not new.first:
            return False
        routes = self.routes
        for name, ident in new.first.items():
            last = routes[name].last
            if last is None or last < ident:
                return False
        return True

    def _switch(self, old: StreamLink, new: StreamLink) -> None:
        # One synchronous step: no frame of either link can be handled in between.
        held, new.held = new.held or [], None
        self.live = new
        for route, event in held:
            self.accept(route, event)
        adapter = self.adapter
        adapter.emit(StreamConnected(self.name, adapter.now_ms(), len(new.streams), handover=True))
        self.set_state(ConnectionState.CONNECTED, f"{len(new.streams)} streams (replaced {old.name})")

    def _lost(self, reason: DisconnectReason, detail: str) -> None:
        _log.warning("stream %s lost (%s: %s); reconnecting", self.name, reason.value, detail)
        adapter = self.adapter
        self.live = None
        adapter.count_reconnect(reason)
        adapter.emit(StreamDisconnected(self.name, adapter.now_ms(), reason, detail))
        self.set_state(ConnectionState.DISCONNECTED, f"{reason.value}: {detail}")

    async def add(self, names: list[str]) -> None:
        live = self.live
        if live is not None and live.task is not None and not live.task.done():
            await live.subscribe(names)

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(BaseException):
                await self.task
        if self.live is not None:
            self.live.stop(DisconnectReason.CLOSED, "closed by the client")
            if self.live.task is not None:
                with contextlib.suppress(BaseException):
                    await self.live.task
        self.state, self.detail = ConnectionState.DISCONNECTED, "closed"


class BinanceStreamAdapter(MarketStreamPort):
    """Binance market streams over aiohttp's WebSocket client, chosen by measurement: it reads a small frame
    for about a sixth of the CPU the ``websockets`` library needs (docs/benchmarks.md, Streams)."""

    def __init__(
        self,
        settings: StreamSettings,
        clock: Clock,
        *,
        telemetry: StreamTelemetry | None = None,
        on_state: StateListener | None = None,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.now_ms = clock.now_ms
        self.telemetry = telemetry or StreamTelemetry()
        self.on_state = on_state
        self._rng = rng
        self.backoff = Backoff(settings.reconnect_base_s, settings.reconnect_max_s, rng=rng)
        self.budget = AttemptBudget(
            settings.max_connect_attempts, settings.attempt_window_s, monotonic=time.monotonic
        )
        self.buffer = EventBuffer(settings.buffer_size)
        self.symbols = parsing.SymbolCache()
        self.host = settings.url.split("://", 1)[-1].split("/", 1)[0]
        self.ssl_context: ssl.SSLContext | None = None
        self.received = 0
        self.duplicates = 0
        self.unsupported = 0
        self.malformed_count = 0
        self.reconnects: Counter[str] = Counter()
        self._groups: list[_Group] = []
        self._topics: set[StreamTopic] = set()
        self._session: aiohttp.ClientSession | None = None
        self._closed = False
        self.telemetry.observe(self.stats, self._delivered_by_kind, self.stream_connections)

    def __repr__(self) -> str:
        return f"BinanceStreamAdapter({self.settings.url!r}, topics={len(self._topics)})"

    # ------------------------------------------------------------------------------------------ the port

    async def subscribe(self, topics: Iterable[StreamTopic]) -> None:
        if self._closed:
            msg = "the stream adapter is closed"
            raise ConfigurationError(msg)
        limit = self.settings.max_streams_per_connection
        added: dict[_Group, list[str]] = {}
        for topic in topics:
            if topic in self._topics:
                continue
            self._topics.add(topic)
            group = self._groups[-1] if self._groups and len(self._groups[-1].routes) < limit else None
            if group is None:
                group = _Group(self, f"stream-{len(self._groups) + 1}")
                self._groups.append(group)
            route = parsing.route_for(topic)
            group.routes[route.name] = route
            added.setdefault(group, []).append(route.name)
        for group, names in added.items():
            if group.task is None:
                group.task = asyncio.get_running_loop().create_task(
                    group.run(), name=f"supervise {group.name}"
                )
                group.task.add_done_callback(self._group_ended)
            else:
                await group.add(names)

    def events(self) -> AsyncIterator[StreamEvent]:
        return self.buffer

    def stream_connections(self) -> Sequence[StreamConnection]:
        return tuple(StreamConnection(group.name, group.state, group.detail) for group in self._groups)

    def stats(self) -> StreamStats:
        return StreamStats(
            received=self.received,
            delivered=self.buffer.delivered,
            duplicates=self.duplicates,
            shed=dict(self.buffer.shed),
            malformed=self.malformed_count,
            unsupported=self.unsupported,
            reconnects=dict(self.reconnects),
            buffered=len(self.buffer),
        )

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for group in self._groups:
            await group.stop()
        if self._session is not None:
            await self._session.close()
            self._session = None
        self.buffer.close()

    async def __aenter__(self) -> BinanceStreamAdapter:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # ------------------------------------------------------------------------------------------ for groups

    async def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            if self.settings.ca_bundle is not None:
                self.ssl_context = _ssl_context(self.settings.ca_bundle)
            self._session = aiohttp.ClientSession(trust_env=True)
        return self._session

    def rollover_after_s(self) -> float:
        """Age at which a connection is replaced: before the lifetime limit, spread by a random share."""
        settings = self.settings
        return settings.lifetime_s - settings.rollover_margin_s - settings.rollover_jitter_s * self._rng()

    def emit(self, event: StreamEvent) -> None:
        self.buffer.put(event)

    def count_reconnect(self, reason: DisconnectReason) -> None:
        self.reconnects[reason.value] += 1
        self.telemetry.reconnects.add(1, {"reason": reason.value})

    def malformed(self, where: str, exc: BaseException) -> None:
        self.malformed_count += 1
        if self.malformed_count <= _LOGGED_MALFORMED or not self.malformed_count % 1000:
            _log.warning("malformed message on %s (%d so far): %s", where, self.malformed_count, exc)

    def sample_lag(self, route: parsing.Route, event: Any) -> None:
        event_time = getattr(event, "event_time_ms", None)
        if event_time is not None:
            self.telemetry.lag.record(max(0, self.now_ms() - event_time), {"kind": route.kind.value})

    def _delivered_by_kind(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for group in self._groups:
            for route in group.routes.values():
                counts[route.kind.value] += route.delivered
        return dict(counts)

    def _group_ended(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            _log.error("stream supervisor stopped: %s", error)
            self.buffer.close(error)


def _ssl_context(bundle: Path) -> ssl.SSLContext:
    try:
        if bundle.is_dir():
            return ssl.create_default_context(capath=str(bundle))
        return ssl.create_default_context(cafile=str(bundle))
    except (OSError, ssl.SSLError) as exc:
        msg = f"BINANCE_CA_BUNDLE: {bundle} is not a readable PEM certificate bundle"
        raise ConfigurationError(msg) from exc
