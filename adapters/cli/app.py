"""The ``binance-gateway`` command line: global options, then one command.

The entry point stays thin: the callback loads the configuration (options over environment over ``.env``),
builds the container and sets up logging; each command module asks the container for a service.
"""

from __future__ import annotations

from typing import Annotated

import typer

from adapters.cli import account, health, klines, market, snapshot
from adapters.cli import backfill as backfill_command
from adapters.cli import collect as collect_command
from adapters.cli import export as export_command
from adapters.cli import watch as watch_command
from adapters.cli._logging import remove_logging
from adapters.cli._runtime import CliLaunch, CliState, guard
from adapters.container import Container
from adapters.settings import load_config

__all__ = ["app", "main"]

app = typer.Typer(
    name="binance-gateway",
    help="Binance Spot market data and account information, typed and validated.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


AdapterOption = Annotated[
    str | None,
    typer.Option(help="Exchange adapter: binance or fake. Env BINANCE_GATEWAY_ADAPTER; default binance."),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON document instead of tables. Env BINANCE_GATEWAY_JSON.")
]
LogLevelOption = Annotated[
    str | None,
    typer.Option(help="DEBUG, INFO, WARNING, ERROR or CRITICAL. Env BINANCE_GATEWAY_LOG_LEVEL."),
]
DbOption = Annotated[
    str | None, typer.Option(help="Database file. Env BINANCE_GATEWAY_DB; default in the user data folder.")
]


@app.callback()
def configure(
    ctx: typer.Context,
    adapter: AdapterOption = None,
    json_output: JsonOption = False,
    log_level: LogLevelOption = None,
    db: DbOption = None,
) -> None:
    """Binance Spot market data and account information, typed and validated."""
    launch = ctx.obj if isinstance(ctx.obj, CliLaunch) else CliLaunch()
    overrides = {"adapter": adapter, "json": True if json_output else None, "log_level": log_level, "db": db}
    with guard(debug=log_level is not None and log_level.upper() == "DEBUG"):
        config = load_config(launch.environ, overrides, env_file=launch.env_file)
        container = launch.container if launch.container is not None else Container()
        container.config.from_dict(config)
    # JSON lines off a terminal, with trace ids, through the container's log filters (secret scrubbing).
    handler = container.logging_handler()
    ctx.call_on_close(lambda: remove_logging(handler))
    ctx.obj = CliState(container=container, config=config)


app.command("time")(market.server_time)
app.command("prices")(market.prices)
app.command("ticker")(market.ticker)
app.command("klines")(klines.klines)
app.command("account")(account.account)
app.command("snapshot")(snapshot.snapshot)
app.command("health")(health.health)
app.command("backfill")(backfill_command.backfill)
app.command("collect")(collect_command.collect)
app.command("export")(export_command.export)
app.command("watch")(watch_command.watch)


def main() -> None:
    """The console script ``binance-gateway``."""
    app()
