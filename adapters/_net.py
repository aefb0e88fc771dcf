"""Network address rules every adapter shares: splitting a base URL, and whether a host is this machine.

This module belongs to no technology subpackage, so the REST and the stream adapters both use it without
depending on each other.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

import attrs

__all__ = ["EndpointUrl", "is_loopback", "parse_endpoint_url"]


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
