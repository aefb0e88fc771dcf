"""Binance WebSocket market streams: ``BinanceStreamAdapter`` implements ``MarketStreamPort``.

Its parts, one module each: ``settings`` (validated configuration), ``parsing`` (stream payloads to domain
events), ``connection`` (one WebSocket connection), ``adapter`` (connection groups, reconnects and
make-before-break handovers), ``telemetry`` (spans and metrics); ``_buffer`` and ``_pacing`` hold the
backpressure policy and the connection limits.
"""

from adapters.streams.adapter import BinanceStreamAdapter, StateListener
from adapters.streams.parsing import Decoded, MalformedMessageError, SymbolCache, decode, stream_name
from adapters.streams.settings import MAX_STREAMS_PER_CONNECTION, StreamSettings
from adapters.streams.telemetry import StreamTelemetry

__all__ = [
    "MAX_STREAMS_PER_CONNECTION",
    "BinanceStreamAdapter",
    "Decoded",
    "MalformedMessageError",
    "StateListener",
    "StreamSettings",
    "StreamTelemetry",
    "SymbolCache",
    "decode",
    "stream_name",
]
