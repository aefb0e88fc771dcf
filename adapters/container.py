"""The composition root: the one place that chooses adapters and builds the services.

``config`` is fed with ``adapters.settings.load_config(...)`` through ``config.from_dict``. ``config.adapter``
selects the exchange adapter (``fake`` or ``binance``) behind both ports. Tests swap collaborators with
``.override()`` (for example ``container.clock.override(FakeClock(...))``), never by patching.

Provider names other modules rely on: ``config``, ``clock``, ``fake_exchange``, ``binance_exchange``,
``market_data`` (the selected ``MarketDataPort``), ``account`` (the selected ``AccountPort``),
``market_data_service``, ``account_service``, ``snapshot_service``.
"""

from __future__ import annotations

from typing import NoReturn

from dependency_injector import containers, providers

from adapters.clock import SystemClock
from adapters.memory import FakeExchange
from application import AccountService, MarketDataService, SnapshotService
from domain import ConfigurationError

__all__ = ["Container"]


def _binance_not_wired() -> NoReturn:
    msg = "the binance adapter is not available in this build"
    raise ConfigurationError(msg + "; use --adapter fake (or BINANCE_GATEWAY_ADAPTER=fake)")


class Container(containers.DeclarativeContainer):
    """Everything a run needs, built on first use; ``shutdown_resources()`` closes what was opened."""

    config = providers.Configuration(strict=True)

    clock = providers.Singleton(SystemClock)

    # telemetry: wired by adapters/telemetry (a Resource that sets up the OpenTelemetry SDK). Until then
    # nothing is configured and the services' spans go to the API's no-op tracer.

    fake_exchange = providers.Singleton(FakeExchange, clock=clock, seed=config.fake.seed.as_int())

    # binance: wired by adapters/binance
    binance_exchange = providers.Singleton(_binance_not_wired)

    market_data = providers.Selector(config.adapter, fake=fake_exchange, binance=binance_exchange)
    account = providers.Selector(config.adapter, fake=fake_exchange, binance=binance_exchange)

    market_data_service = providers.Factory(MarketDataService, market=market_data, clock=clock)
    account_service = providers.Factory(AccountService, account=account)
    # store: wired by the storage layer (SnapshotService takes an optional ``store``).
    snapshot_service = providers.Factory(SnapshotService, market=market_data, account=account, clock=clock)
