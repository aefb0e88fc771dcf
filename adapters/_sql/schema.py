"""What the SQL stores' schemas share: the shape of a forward migration and the refusal of a newer schema.

Each store lists its migrations in its own dialect (``adapters/sqlite/_schema.py``,
``adapters/postgres/_schema.py``), numbered alike, and applies the missing ones in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs

from domain import SchemaVersionError

__all__ = ["Migration", "check_known", "pending"]


@attrs.frozen
class Migration:
    """One forward step: the schema ``version`` it produces and the statements that get there."""

    version: int
    description: str
    statements: tuple[str, ...]


def check_known(current: int, migrations: tuple[Migration, ...], location: str) -> None:
    """Raise ``SchemaVersionError`` for a database whose schema is newer than ``migrations`` reach."""
    latest = migrations[-1].version
    if current > latest:
        msg = (
            f"{location} has schema version {current}, newer than the {latest} this "
            "binance-gateway knows; upgrade binance-gateway or use another database"
        )
        raise SchemaVersionError(msg, location=location)


def pending(current: int, target: int, migrations: tuple[Migration, ...]) -> Iterator[Migration]:
    """The migrations that take a database from version ``current`` to ``target``, in order."""
    return (migration for migration in migrations if current < migration.version <= target)
