"""Which Binance environment a host belongs to, and whether a host is this machine."""

from __future__ import annotations

from typing import Literal

# The URL and loopback rules are shared with the stream adapter, so they live in a neutral module.
from adapters._net import EndpointUrl, is_loopback, parse_endpoint_url

__all__ = ["EndpointUrl", "host_environment", "is_loopback", "parse_endpoint_url"]

HostEnvironment = Literal["production", "testnet", "other"]

PRODUCTION_HOSTS = frozenset(
    {
        "api.binance.com",
        "api1.binance.com",
        "api2.binance.com",
        "api3.binance.com",
        "api4.binance.com",
        "api-gcp.binance.com",
        "data-api.binance.vision",
        "stream.binance.com",
        "data-stream.binance.vision",
        "ws-api.binance.com",
    }
)
TESTNET_HOSTS = frozenset(
    {
        "testnet.binance.vision",
        "api1.testnet.binance.vision",
        "stream.testnet.binance.vision",
        "ws-api.testnet.binance.vision",
    }
)


def host_environment(host: str) -> HostEnvironment:
    """``production`` for Binance's production hosts (and any other ``*.binance.com``), ``testnet`` for the
    Spot testnet, ``other`` for anything else (a proxy, a loopback test exchange)."""
    name = host.lower().rstrip(".")
    if name in TESTNET_HOSTS or name.endswith(".testnet.binance.vision"):
        return "testnet"
    if name in PRODUCTION_HOSTS or name.endswith(".binance.com") or name == "binance.com":
        return "production"
    return "other"
