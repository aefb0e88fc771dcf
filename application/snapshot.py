"""The snapshot use case: one consistent look at the chosen pairs, the clock and the account."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Protocol

import attrs
from opentelemetry import trace

from application._concurrency import task_group
from application.clock_sync import ClockOffset, measure_clock_offset
from application.validation import validate_market_data
from domain import (
    DEFAULT_SYMBOLS,
    AccountInfo,
    Interval,
    InvalidInputError,
    Kline,
    PriceQuote,
    Symbol,
    SymbolRules,
    Ticker24h,
    parse_symbols,
)
from domain.validators import DEFAULT_POLICY, ValidationPolicy, ValidationReport
from ports import MAX_KLINE_LIMIT, AccountPort, Clock, MarketDataPort

__all__ = ["DEFAULT_KLINE_COUNT", "Snapshot", "SnapshotService", "SnapshotStore"]

DEFAULT_KLINE_COUNT = 60


@attrs.frozen
class Snapshot:
    """What ``SnapshotService.take`` saw. Data is kept as the exchange sent it; ``report`` says what is wrong.

    ``account`` is ``None`` when no credentials are configured.
    """

    taken_at_ms: int
    symbols: tuple[Symbol, ...]
    interval: Interval
    clock: ClockOffset
    rules: tuple[SymbolRules, ...]
    quotes: tuple[PriceQuote, ...]
    tickers_24h: tuple[Ticker24h, ...]
    klines: Mapping[Symbol, tuple[Kline, ...]]
    account: AccountInfo | None
    report: ValidationReport

    @property
    def prices(self) -> dict[str, Decimal]:
        return {str(q.symbol): q.price for q in self.quotes}


class SnapshotStore(Protocol):
    """Where a snapshot may be recorded. A seam for the storage layer: ``SnapshotService`` calls it once
    per snapshot when one is given, after validation, and the snapshot is returned either way."""

    async def save_snapshot(self, snapshot: Snapshot) -> None: ...


class SnapshotService:
    """Takes snapshots; the calls after the clock reading run concurrently.

    Raises the first error of any call (the others are cancelled): see ``ports.market_data`` and
    ``ports.account``. Data that breaks domain rules does not raise; it is listed in ``Snapshot.report``.
    The span is ``SnapshotService.take``.
    """

    def __init__(
        self,
        market: MarketDataPort,
        account: AccountPort,
        clock: Clock,
        *,
        policy: ValidationPolicy = DEFAULT_POLICY,
        store: SnapshotStore | None = None,
        tracer_provider: trace.TracerProvider | None = None,
    ) -> None:
        self._market = market
        self._account = account
        self._clock = clock
        self._policy = policy
        self._store = store
        self._tracer = trace.get_tracer(__name__, tracer_provider=tracer_provider)

    async def take(
        self,
        symbols: Iterable[str | Symbol] = DEFAULT_SYMBOLS,
        interval: str | Interval = Interval.MINUTE_1,
        kline_count: int = DEFAULT_KLINE_COUNT,
    ) -> Snapshot:
        """Server time and offset, rules, prices (one call), 24h statistics, the newest ``kline_count``
        candles of each pair, the account when credentials exist, and the validation report."""
        wanted = parse_symbols(symbols)
        ivl = Interval.parse(interval)
        if not wanted:
            msg = "give at least one symbol"
            raise InvalidInputError(msg)
        if not 1 <= kline_count <= MAX_KLINE_LIMIT:
            msg = f"the number of candles must be 1 to {MAX_KLINE_LIMIT}, not {kline_count}"
            raise InvalidInputError(msg)
        with self._tracer.start_as_current_span("SnapshotService.take") as span:
            span.set_attributes({"symbols.count": len(wanted), "kline.interval": ivl.value})
            # Measured alone, before the burst, so that concurrent calls do not inflate the round trip.
            clock = await measure_clock_offset(self._market, self._clock)
            async with task_group() as group:
                info = group.create_task(self._market.get_exchange_info(wanted))
                quotes = group.create_task(self._market.get_symbol_tickers(wanted))
                tickers = group.create_task(self._market.get_tickers_24h(wanted))
                candles = {
                    s: group.create_task(self._market.get_kline_data(s, ivl, limit=kline_count))
                    for s in wanted
                }
                account = (
                    group.create_task(self._account.get_account_info(omit_zero_balances=True))
                    if self._account.has_credentials
                    else None
                )
            exchange_info = info.result()
            klines = {s: tuple(task.result()) for s, task in candles.items()}
            account_info = account.result() if account is not None else None
            now_ms = self._clock.now_ms()
            report = validate_market_data(
                now_ms=now_ms,
                policy=self._policy,
                quotes=quotes.result(),
                tickers=tickers.result(),
                klines=[k for series in klines.values() for k in series],
                balances=account_info.balances if account_info is not None else (),
                exchange_info=exchange_info,
            )
            span.set_attribute("validation.problems", len(report.problems))
            snapshot = Snapshot(
                taken_at_ms=now_ms,
                symbols=wanted,
                interval=ivl,
                clock=clock,
                rules=tuple(exchange_info.rules_for(s) for s in wanted),
                quotes=tuple(quotes.result()),
                tickers_24h=tuple(tickers.result()),
                klines=klines,
                account=account_info,
                report=report,
            )
            if self._store is not None:
                await self._store.save_snapshot(snapshot)
            return snapshot
