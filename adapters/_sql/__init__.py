"""What the SQL market-data stores share: their columns, queries, row conversions and port logic.

SQLite (``adapters.sqlite``) and PostgreSQL (``adapters.postgres``) keep the same tables and run the same
queries; they differ in the driver, in how a statement runs (a thread, or natively async) and in how a
decimal travels (exact text, or ``NUMERIC``). This package holds everything else. It belongs to no
technology: it imports neither driver nor either store, so both use it and stay independent of each other.
"""

from adapters._sql.store import SqlMarketDataStore

__all__ = ["SqlMarketDataStore"]
