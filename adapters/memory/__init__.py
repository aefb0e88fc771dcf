"""The fake exchange: a deterministic, offline adapter of the market-data and account ports."""

from adapters.memory.account import DEFAULT_BALANCES
from adapters.memory.catalog import RATE_LIMITS, SymbolSpec, default_catalog
from adapters.memory.exchange import ENDPOINTS, FakeExchange
from adapters.memory.failures import FailureScript
from adapters.memory.market import SymbolMarket

__all__ = [
    "DEFAULT_BALANCES",
    "ENDPOINTS",
    "RATE_LIMITS",
    "FailureScript",
    "FakeExchange",
    "SymbolMarket",
    "SymbolSpec",
    "default_catalog",
]
