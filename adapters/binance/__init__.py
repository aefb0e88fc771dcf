"""The Binance Spot REST adapter: httpx over aiohttp, signed, weight-limited, retried, traced.

``BinanceRestAdapter`` implements ``MarketDataPort``, ``AccountPort`` and ``ExchangeStatusPort``. Its parts,
one module each: ``settings`` (validated configuration), ``credentials`` (keys bound to an environment),
``secrets`` (redacted values, the log filter), ``signing`` (HMAC, Ed25519, RSA over the exact query bytes),
``clock`` (server-time offset), ``limiter`` (request weight), ``weights`` (endpoint weights, the cheapest
multi-symbol form), ``retry`` (the tenacity policy), ``errors`` (the one translation to ``domain.errors``),
``client`` (the HTTP layer), ``telemetry`` (spans and metrics) and ``parsing`` (Binance JSON to domain
objects).
"""

from adapters.binance.adapter import BinanceRestAdapter
from adapters.binance.client import BinanceHttpClient, close_on_shutdown, new_http_client, open_http_client
from adapters.binance.clock import ClockSync
from adapters.binance.limiter import DEFAULT_LIMITS, WeightLimiter
from adapters.binance.retry import RetryPolicy
from adapters.binance.secrets import RedactingFilter, Secret, install_log_redaction, redacting_filter
from adapters.binance.settings import BinanceSettings, Credentials, Environment
from adapters.binance.telemetry import BinanceTelemetry

__all__ = [
    "DEFAULT_LIMITS",
    "BinanceHttpClient",
    "BinanceRestAdapter",
    "BinanceSettings",
    "BinanceTelemetry",
    "ClockSync",
    "Credentials",
    "Environment",
    "RedactingFilter",
    "RetryPolicy",
    "Secret",
    "WeightLimiter",
    "close_on_shutdown",
    "install_log_redaction",
    "new_http_client",
    "open_http_client",
    "redacting_filter",
]
