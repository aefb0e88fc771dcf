"""One line saying what a command saved, and where."""

from __future__ import annotations

from application.snapshot_store import SnapshotSaved
from domain import SaveResult

__all__ = ["saved_line"]


def _rejected(results: list[SaveResult]) -> str:
    counts: dict[str, int] = {}
    for result in results:
        for reason, count in result.rejected_by_reason.items():
            counts[reason.value] = counts.get(reason.value, 0) + count
    return ", ".join(f"{reason} {count}" for reason, count in counts.items())


def saved_line(saved: SnapshotSaved) -> str:
    """``saved in PATH: 5 prices, 5 24h statistics, 295 candles (5 still open, not stored), the account``."""
    klines = saved.klines
    kept = klines.stored + klines.updated
    parts = [
        f"{saved.prices.stored + saved.prices.updated} prices",
        f"{saved.tickers_24h.stored + saved.tickers_24h.updated} 24h statistics",
        f"{kept} new candles"
        + (f" ({klines.duplicates} already stored)" if klines.duplicates else "")
        + (f", {klines.not_closed} still open, not stored" if klines.not_closed else ""),
    ]
    if saved.account is not None:
        parts.append("the account")
    results = [saved.prices, saved.tickers_24h, klines, *([saved.account] if saved.account else [])]
    rejected = _rejected(results)
    line = f"saved in {saved.location}: {', '.join(parts)}"
    return f"{line}; rejected by validation: {rejected}" if rejected else line
