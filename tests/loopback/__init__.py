"""A loopback Binance Spot REST exchange for tests and benchmarks (see README.md beside this file).

It imports nothing from the project: it is an independent reference for the HTTP adapter to be tested against.
"""

from tests.loopback.clock import ManualTime, ServerClock
from tests.loopback.faults import Fault
from tests.loopback.recorder import RecordedRequest
from tests.loopback.server import LoopbackExchange
from tests.loopback.signing import AsymmetricKey, HmacKey, encode_query
from tests.loopback.symbols import DEFAULT_SYMBOLS, UNICODE_SYMBOL, SymbolSpec
from tests.loopback.weights import RateLimit

__all__ = [
    "DEFAULT_SYMBOLS",
    "UNICODE_SYMBOL",
    "AsymmetricKey",
    "Fault",
    "HmacKey",
    "LoopbackExchange",
    "ManualTime",
    "RateLimit",
    "RecordedRequest",
    "ServerClock",
    "SymbolSpec",
    "encode_query",
]
