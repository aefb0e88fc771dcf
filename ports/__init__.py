"""Ports: the interfaces the application needs, as ``typing.Protocol`` classes."""

from ports.account import AccountPort
from ports.clock import Clock
from ports.market_data import MAX_KLINE_LIMIT, MarketDataPort

__all__ = ["MAX_KLINE_LIMIT", "AccountPort", "Clock", "MarketDataPort"]
