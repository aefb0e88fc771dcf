"""Which Binance environment a host belongs to, and whether a host is this machine."""

from __future__ import annotations

import ipaddress
from typing import Literal
from urllib.parse import urlsplit

import attrs

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


@attrs.frozen
class EndpointUrl:
    """A base URL split into the parts the settings check, and its normalised text (no trailing slash)."""

    scheme: str
    host: str
    text: str


def parse_endpoint_url(text: str) -> EndpointUrl:
    """Split and check a base URL; raises ``ValueError`` with a reason that never echoes credentials."""
    parts = urlsplit(text.strip())
    scheme = parts.scheme.lower()
    if not scheme or not parts.netloc:
        msg = "expected scheme://host, e.g. https://testnet.binance.vision"
        raise ValueError(msg)
    if "@" in parts.netloc:
        msg = "user name or password in the URL are not allowed"
        raise ValueError(msg)
    if parts.query or parts.fragment:
        msg = "a base URL cannot carry a query string or a fragment"
        raise ValueError(msg)
    host = (parts.hostname or "").rstrip(".")
    if not host:
        msg = "the URL has no host"
        raise ValueError(msg)
    try:
        port = parts.port
    except ValueError:
        msg = "the port is not a number from 0 to 65535"
        raise ValueError(msg) from None
    shown_host = f"[{host}]" if ":" in host else host
    netloc = f"{shown_host}:{port}" if port is not None else shown_host
    return EndpointUrl(scheme=scheme, host=host, text=f"{scheme}://{netloc}{parts.path.rstrip('/')}")


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and localhost (names are not resolved, so no DNS answer can make a host local)."""
    name = host.strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def host_environment(host: str) -> HostEnvironment:
    """``production`` for Binance's production hosts (and any other ``*.binance.com``), ``testnet`` for the
    Spot testnet, ``other`` for anything else (a proxy, a loopback test exchange)."""
    name = host.lower().rstrip(".")
    if name in TESTNET_HOSTS or name.endswith(".testnet.binance.vision"):
        return "testnet"
    if name in PRODUCTION_HOSTS or name.endswith(".binance.com") or name == "binance.com":
        return "production"
    return "other"
