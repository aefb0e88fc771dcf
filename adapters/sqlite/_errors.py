"""The one place where sqlite3 exceptions become ``domain.errors``; nothing from sqlite3 crosses the port."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from domain import GatewayError, StorageError, StorageUnavailableError

__all__ = ["translated"]

# Result codes (their primary part) that mean "try again later", not "this cannot work".
_TRANSIENT = {"SQLITE_BUSY", "SQLITE_LOCKED"}
_WHY = {
    "SQLITE_CANTOPEN": "the file cannot be opened (missing folder or no permission)",
    "SQLITE_READONLY": "the file or its folder is read-only",
    "SQLITE_PERM": "permission denied",
    "SQLITE_NOTADB": "the file is not an SQLite database",
    "SQLITE_CORRUPT": "the database file is damaged",
    "SQLITE_FULL": "the disk is full",
    "SQLITE_IOERR": "a disk input/output error occurred",
}


def _primary(exc: sqlite3.Error) -> str:
    name = getattr(exc, "sqlite_errorname", "") or ""
    for prefix in (*_TRANSIENT, *_WHY):
        if name.startswith(prefix):
            return prefix
    return name


@contextmanager
def translated(location: str, action: str) -> Iterator[None]:
    """Re-raise sqlite3 errors met while ``action`` as ``StorageError`` or ``StorageUnavailableError``."""
    try:
        yield
    except GatewayError:
        raise
    except sqlite3.Error as exc:
        code = _primary(exc)
        if code in _TRANSIENT:
            msg = f"{location} is locked by another writer; {action} gave up after the busy timeout"
            raise StorageUnavailableError(msg, location=location) from exc
        why = _WHY.get(code, str(exc))
        msg = f"{action} failed on {location}: {why}"
        raise StorageError(msg, location=location) from exc
