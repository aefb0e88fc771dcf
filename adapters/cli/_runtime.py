"""What every command shares: the container, the loaded configuration, running coroutines, and errors.

Every ``GatewayError`` becomes one line on stderr, ``error: <message> — <hint>``, and the exit status the
error class carries. Anything unexpected is one line and exit status 1; its traceback is printed only at
``--log-level DEBUG``.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import sys
import traceback
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import attrs
import click
import typer

from adapters.container import Container, start_resources
from domain import GatewayError

__all__ = ["CliLaunch", "CliState", "command", "fail", "guard"]

_T = TypeVar("_T")
UNEXPECTED_EXIT = 1
FALLBACK_HINT = "see docs/troubleshooting.md for the cause and the fix"

_log = logging.getLogger("binance_gateway.cli")


@attrs.frozen
class CliLaunch:
    """Where a run takes its settings from. ``main()`` uses the process environment and ``./.env``;
    tests pass their own (``obj=`` of ``CliRunner.invoke``), including a container with overrides."""

    environ: Mapping[str, str] = attrs.field(factory=lambda: dict(os.environ))
    env_file: Path | None = Path(".env")
    container: Container | None = None


@attrs.frozen
class CliState:
    """The configured run, given to every command as ``ctx.obj``."""

    container: Container
    config: Mapping[str, Any]

    @property
    def json(self) -> bool:
        return bool(self.config["json"])

    @property
    def debug(self) -> bool:
        return bool(self.config["log_level"] == "DEBUG")

    def run(self, work: Callable[[Container], Awaitable[_T]]) -> _T:
        """Run ``work`` in a fresh event loop between the container's resource start-up and shutdown.

        Resources marked ``OnFirstUse`` (the market-data store) open only if ``work`` asks for them.
        """
        return asyncio.run(self._lifecycle(work))

    async def _lifecycle(self, work: Callable[[Container], Awaitable[_T]]) -> _T:
        try:
            await _maybe_await(start_resources(self.container))
            return await work(self.container)
        finally:
            await _maybe_await(self.container.shutdown_resources())


async def _maybe_await(result: object) -> None:
    # init/shutdown_resources return an awaitable only when the container holds async resources.
    if inspect.isawaitable(result):
        await result


def _one_line(text: str) -> str:
    return " ".join(text.split())


def fail(error: GatewayError) -> typer.Exit:
    """Print ``error`` as one line on stderr; returns the ``typer.Exit`` to raise with its exit status."""
    message = _one_line(str(error)) or type(error).__name__
    typer.echo(f"error: {message} — {error.hint or FALLBACK_HINT}", err=True)
    return typer.Exit(error.exit_code)


@contextmanager
def guard(debug: bool) -> Iterator[None]:
    """Turn every failure inside into one stderr line and an exit status (see the module docstring)."""
    try:
        yield
    except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
        raise
    except GatewayError as error:
        _log.debug("command failed", exc_info=True)
        raise fail(error) from None
    except Exception as error:
        if debug:
            traceback.print_exc(file=sys.stderr)
        hint = "" if debug else " — run again with --log-level DEBUG for the traceback and report it"
        message = _one_line(str(error))
        typer.echo(f"error: unexpected {type(error).__name__}: {message}{hint}", err=True)
        raise typer.Exit(UNEXPECTED_EXIT) from None


@contextmanager
def command(ctx: typer.Context) -> Iterator[CliState]:
    """The run's state, with every failure inside turned into one line and an exit status."""
    state = ctx.find_object(CliState)
    if state is None:  # pragma: no cover - the app's callback always sets it
        msg = "the command line was not configured"
        raise RuntimeError(msg)
    with guard(state.debug):
        yield state
