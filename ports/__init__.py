"""Ports: the interfaces the application needs, as ``typing.Protocol`` classes."""

from ports.account import AccountPort
from ports.alerts import AlertSink
from ports.clock import Clock
from ports.health import ExchangeStatusPort, FreshnessSource, StreamStatusSource
from ports.market_data import MAX_KLINE_LIMIT, MarketDataPort
from ports.storage import DEFAULT_CHUNK_SIZE, MarketDataStore
from ports.streams import MarketStreamPort

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "MAX_KLINE_LIMIT",
    "AccountPort",
    "AlertSink",
    "Clock",
    "ExchangeStatusPort",
    "FreshnessSource",
    "MarketDataPort",
    "MarketDataStore",
    "MarketStreamPort",
    "StreamStatusSource",
]
