"""The one place where psycopg exceptions become ``domain.errors``; nothing from psycopg crosses the port."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from domain import GatewayError, StorageError, StorageUnavailableError

__all__ = ["first_line", "translated"]


def first_line(exc: BaseException) -> str:
    """The first line of a driver message (libpq adds hints and context on later lines)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else exc.__class__.__name__


@contextmanager
def translated(location: str, action: str) -> Iterator[None]:
    """Re-raise psycopg errors met while ``action`` as ``StorageError`` or ``StorageUnavailableError``.

    Lost connections, refused connections, deadlocks and serialization failures are worth retrying; a
    rejected statement (a constraint, a type, a trigger) is not.
    """
    try:
        yield
    except GatewayError:
        raise
    except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
        msg = f"{action} failed on {location}: {first_line(exc)}"
        raise StorageUnavailableError(msg, location=location) from exc
    except psycopg.Error as exc:
        msg = f"{action} failed on {location}: {first_line(exc)}; nothing of it was stored"
        raise StorageError(msg, location=location) from exc
