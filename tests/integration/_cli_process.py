"""Running ``binance-gateway`` as a subprocess against a loopback exchange, for kill and signal tests."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["COMMAND", "DEADLINE_S", "environ"]

#: ``python -c COMMAND ARGS...`` runs the console script's entry point.
COMMAND = "from adapters.cli.app import main; main()"
#: The longest any step of these tests may take before the test gives up.
DEADLINE_S = 60.0


def environ(base_url: str, db: Path, *, streams: bool = False) -> dict[str, str]:
    """The process environment less the caller's Binance and OpenTelemetry settings, pointed at the
    loopback exchange and ``db``. Run the command in an empty folder so that no ``.env`` is read.

    ``collect`` polls over REST unless ``streams``; the stream URL points at the loopback exchange either way,
    so nothing ever reaches a real exchange."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("BINANCE_", "OTEL_"))}
    return {
        **inherited,
        "BINANCE_GATEWAY_ADAPTER": "binance",
        "BINANCE_BASE_URL": base_url,
        "BINANCE_STREAM_URL": base_url.replace("http://", "ws://", 1),
        "BINANCE_GATEWAY_STREAMS": "true" if streams else "false",
        "BINANCE_GATEWAY_DB": str(db),
        "BINANCE_GATEWAY_SYMBOLS": "BTCUSDT",
    }
