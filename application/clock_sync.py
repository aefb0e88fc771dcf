"""How far the exchange's clock is from ours, compensated for the round trip."""

from __future__ import annotations

import attrs

from ports import Clock, MarketDataPort

__all__ = ["ClockOffset", "measure_clock_offset"]


@attrs.frozen
class ClockOffset:
    """One reading of the server clock.

    ``offset_ms`` is what to add to the local clock to get the server's:
    ``server_time_ms - (local_time_ms + rtt_ms / 2)``, where ``local_time_ms`` is the local clock when the
    request left and ``rtt_ms`` the round trip measured on the monotonic clock.
    """

    server_time_ms: int
    local_time_ms: int
    rtt_ms: float
    offset_ms: float


async def measure_clock_offset(market: MarketDataPort, clock: Clock) -> ClockOffset:
    """Ask the exchange for its time once and compute the RTT-compensated offset."""
    local_ms = clock.now_ms()
    started = clock.monotonic()
    server = await market.get_server_time()
    rtt_ms = (clock.monotonic() - started) * 1000
    offset_ms = server.server_time_ms - (local_ms + rtt_ms / 2)
    return ClockOffset(
        server_time_ms=server.server_time_ms, local_time_ms=local_ms, rtt_ms=rtt_ms, offset_ms=offset_ms
    )
