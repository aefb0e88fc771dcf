"""A throwaway PostgreSQL server for the storage tests: ``initdb`` into a temporary folder, start, stop.

initdb refuses to run as root, so as root the server runs as the ``postgres`` system user, in a folder that
user owns. It listens on a free port of 127.0.0.1 and on a unix socket in that folder, trusts local users,
and skips fsync: its data is thrown away at the end of the session.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

__all__ = ["PostgresServer", "postgres_server", "server_binaries_missing", "start_server"]

_SYSTEM_USER = "postgres"


def server_binaries_missing() -> str | None:
    """Why no server can be started here, or ``None`` when ``initdb`` and ``pg_ctl`` are on PATH."""
    missing = [name for name in ("initdb", "pg_ctl") if shutil.which(name) is None]
    if missing:
        return f"no PostgreSQL server binaries on PATH ({', '.join(missing)} not found)"
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@attrs.frozen
class PostgresServer:
    """A running server: ``url`` reaches its ``postgres`` database as the ``postgres`` superuser."""

    root: Path
    port: int
    run_as: tuple[str, ...]

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        try:
            _run(
                [
                    *self.run_as,
                    _tool("pg_ctl"),
                    "-D",
                    str(self.root / "data"),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ]
            )
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        msg = f"{name} is not on PATH"
        raise RuntimeError(msg)
    return path


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    if done.returncode != 0:
        msg = f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
        raise RuntimeError(msg)


def start_server() -> PostgresServer:
    """initdb and start a server; the caller stops it with ``PostgresServer.stop``."""
    root = Path(tempfile.mkdtemp(prefix="bg-postgres-"))
    run_as: tuple[str, ...] = ()
    if os.geteuid() == 0:
        account = pwd.getpwnam(_SYSTEM_USER)
        os.chown(root, account.pw_uid, account.pw_gid)
        run_as = ("runuser", "-u", _SYSTEM_USER, "--")
    data = root / "data"
    try:
        _run(
            [
                *run_as,
                _tool("initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ]
        )
        port = _free_port()
        options = (
            f"-p {port} -h 127.0.0.1 -k {root} -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=50"
        )
        _run(
            [
                *run_as,
                _tool("pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(root / "server.log"),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ]
        )
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return PostgresServer(root, port, run_as)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One throwaway server for the whole test session, stopped and deleted at the end.

    Skipped only where no server binary exists; any other failure to start it fails the tests.
    """
    reason = server_binaries_missing()
    if reason is not None:
        pytest.skip(reason)
    server = start_server()
    try:
        yield server
    finally:
        server.stop()
