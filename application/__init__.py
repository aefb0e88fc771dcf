"""The application layer: use cases over the ports (no adapter, transport or framework imports)."""

from application.account import AccountService
from application.backfill import BackfillService
from application.backfill_report import BackfillProgress, BackfillReport, GapKind, ReportedGap, SeriesReport
from application.clock_sync import ClockOffset, measure_clock_offset
from application.collector import Collector
from application.collector_stats import CollectorStats
from application.frames import DECIMAL_COLUMNS, KLINE_COLUMNS, klines_to_frame
from application.market_data import MarketDataService
from application.snapshot import DEFAULT_KLINE_COUNT, Snapshot, SnapshotService, SnapshotStore
from application.validation import validate_market_data

__all__ = [
    "DECIMAL_COLUMNS",
    "DEFAULT_KLINE_COUNT",
    "KLINE_COLUMNS",
    "AccountService",
    "BackfillProgress",
    "BackfillReport",
    "BackfillService",
    "ClockOffset",
    "Collector",
    "CollectorStats",
    "GapKind",
    "MarketDataService",
    "ReportedGap",
    "SeriesReport",
    "Snapshot",
    "SnapshotService",
    "SnapshotStore",
    "klines_to_frame",
    "measure_clock_offset",
    "validate_market_data",
]
