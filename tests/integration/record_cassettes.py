"""Record the HTTP cassettes in ``cassettes/`` through the real Binance adapter.

    python -m tests.integration.record_cassettes            # every cassette, from the loopback test exchange
    python -m tests.integration.record_cassettes --live     # from BINANCE_BASE_URL (make cassettes)

From the loopback test exchange (``tests/loopback``), the server clock stands still at ``RECORDED_AT_MS`` and
the faults of the error cases (429, 418, 5xx, -1120) are injected; the contract suite's cassette is recorded
by running ``tests/contract`` with ``BINANCE_GATEWAY_RECORD_CASSETTES=loopback``. With ``--live`` the cases a
real exchange can be made to produce are recorded from ``BINANCE_BASE_URL`` (default: the Spot testnet) with
``BINANCE_API_KEY`` / ``BINANCE_API_SECRET``; the others keep their loopback recording. ``manifest.json``
says, per cassette, which server answered and when.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import attrs

from adapters.binance import BinanceRestAdapter
from adapters.clock import FakeClock
from domain import (
    DEFAULT_SYMBOLS,
    AccountInfo,
    AuthenticationError,
    BinanceAPIError,
    ConfigurationError,
    ExchangeUnavailableError,
    Interval,
    InvalidIntervalError,
    InvalidSymbolError,
    IPBannedError,
    KlinePage,
    RateLimitError,
    Symbol,
)
from tests.cassettes import (
    CASSETTES,
    MANIFEST,
    RECORD_ENV,
    RECORDING_API_KEY,
    RECORDING_API_SECRET,
    build_adapter,
    cassette,
    find_secrets,
)
from tests.loopback import Fault, LoopbackExchange

#: The loopback exchange's clock during every recording: 2026-01-15 12:34:56.789 UTC.
RECORDED_AT_MS = 1_768_480_496_789
LOOPBACK = "the loopback test exchange (tests/loopback), server clock fixed at RECORDED_AT_MS"
TESTNET_URL = "https://testnet.binance.vision"
WRONG_SECRET = "WRONGSECRETforTheBadSignatureCaseOnly00000000"
BTC, ETH, BNB = Symbol("BTCUSDT"), Symbol("ETHUSDT"), Symbol("BNBUSDT")
UNKNOWN = Symbol("NOSUCHCOIN123")

Call = Callable[[BinanceRestAdapter], Awaitable[object]]


@attrs.frozen
class Case:
    """One cassette: the adapter call it holds and what that call must give (a type, or an error type)."""

    name: str
    call: Call
    outcome: type
    fault: Fault | None = None
    fault_path: str | None = None
    wrong_secret: bool = False

    @property
    def live(self) -> bool:
        """Whether a real exchange can be made to answer this case (no injected fault needed)."""
        return self.fault is None


CASES: tuple[Case, ...] = (
    Case("time", lambda a: a.get_server_time(), object),
    Case("exchange_info", lambda a: a.get_exchange_info([BTC, ETH]), object),
    Case("ticker_price_one", lambda a: a.get_symbol_ticker(BTC), object),
    Case("ticker_price_many", lambda a: a.get_symbol_tickers([ETH, BTC, BNB]), list),
    Case("ticker_24hr_one", lambda a: a.get_ticker_24h(BTC), object),
    Case("ticker_24hr_many", lambda a: a.get_tickers_24h(list(DEFAULT_SYMBOLS)), list),
    Case("book_ticker_one", lambda a: a.get_book_ticker(BTC), object),
    Case("book_ticker_many", lambda a: a.get_book_tickers([BTC, ETH]), list),
    Case("klines", lambda a: a.get_kline_data(BTC, Interval.MINUTE_1, limit=5), KlinePage),
    Case("account", lambda a: a.get_account_info(omit_zero_balances=True), AccountInfo),
    Case("error_invalid_symbol", lambda a: a.get_symbol_ticker(UNKNOWN), InvalidSymbolError),
    Case(
        "error_bad_interval",
        lambda a: a.get_kline_data(BTC, Interval.SECOND_1, limit=5),
        InvalidIntervalError,
        fault=Fault.binance_error(-1120, status=400),
        fault_path="/api/v3/klines",
    ),
    Case("error_bad_signature", lambda a: a.get_account_info(), AuthenticationError, wrong_secret=True),
    Case(
        "error_rate_limited",
        lambda a: a.get_symbol_ticker(BTC),
        RateLimitError,
        fault=Fault.rate_limited(retry_after=7),
        fault_path="/api/v3/ticker/price",
    ),
    Case(
        "error_banned",
        lambda a: a.get_symbol_ticker(BTC),
        IPBannedError,
        fault=Fault.banned(retry_after=600),
        fault_path="/api/v3/ticker/price",
    ),
    Case(
        "error_unavailable",
        lambda a: a.get_book_ticker(BTC),
        ExchangeUnavailableError,
        fault=Fault.http_status(503),
        fault_path="/api/v3/ticker/bookTicker",
    ),
)


async def run_case(case: Case, adapter: BinanceRestAdapter) -> object:
    """The case's call; its outcome (a value, or the error it must raise) is checked and returned."""
    try:
        result = await case.call(adapter)
    except BinanceAPIError as exc:
        if not isinstance(exc, case.outcome):
            raise
        return exc
    if not isinstance(result, case.outcome) or issubclass(case.outcome, BinanceAPIError):
        msg = f"{case.name}: expected {case.outcome.__name__}, got {type(result).__name__}"
        raise AssertionError(msg)
    return result


def _fresh(name: str) -> None:
    (CASSETTES / f"{name}.yaml").unlink(missing_ok=True)


async def record_from_loopback(case: Case) -> None:
    clock = FakeClock(RECORDED_AT_MS)
    async with LoopbackExchange(time_source=clock.now_ms) as exchange:
        exchange.add_hmac_key(RECORDING_API_KEY, RECORDING_API_SECRET)
        if case.fault is not None:
            exchange.inject(case.fault, path=case.fault_path)
        secret = WRONG_SECRET if case.wrong_secret else RECORDING_API_SECRET
        adapter = build_adapter(exchange.base_url, api_secret=secret, clock=clock)
        try:
            _fresh(case.name)
            with cassette(case.name, record_mode="once"):
                await run_case(case, adapter)
        finally:
            await adapter.aclose()


async def record_live(case: Case, base_url: str, api_key: str, api_secret: str) -> None:
    secret = WRONG_SECRET if case.wrong_secret else api_secret
    adapter = build_adapter(base_url, api_key=api_key, api_secret=secret, clock=None)
    try:
        _fresh(case.name)
        with cassette(case.name, record_mode="once", secrets=(api_key, api_secret)):
            await run_case(case, adapter)
    finally:
        await adapter.aclose()


def record_contract() -> None:
    """Run the contract suite against the loopback exchange, writing ``cassettes/contract.yaml``."""
    _fresh("contract")
    env = {**os.environ, RECORD_ENV: "loopback"}
    command = [sys.executable, "-m", "pytest", "tests/contract", "-q", "-p", "no:cacheprovider",
               "-k", "binance-cassettes", "--no-cov"]  # fmt: skip
    subprocess.run(command, env=env, check=True, cwd=CASSETTES.parent)


def _scan(names: Sequence[str], extra: tuple[str, ...] = ()) -> None:
    for name in names:
        path = CASSETTES / f"{name}.yaml"
        problems = find_secrets(
            path.read_text(encoding="utf-8"), (RECORDING_API_KEY, RECORDING_API_SECRET, *extra)
        )
        if problems:
            path.unlink()
            msg = f"{path.name} looked like it held a credential and was deleted: {problems[0]}"
            raise SystemExit(msg)


def _update_manifest(entries: dict[str, dict[str, Any]]) -> None:
    manifest: dict[str, Any] = json.loads(MANIFEST.read_text(encoding="utf-8")) if MANIFEST.exists() else {}
    manifest.update(entries)
    MANIFEST.write_text(json.dumps(dict(sorted(manifest.items())), indent=2) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.integration.record_cassettes", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument(
        "--live", action="store_true", help="record from BINANCE_BASE_URL with real credentials"
    )
    parser.add_argument("--only", nargs="*", metavar="NAME", help="record only these cassettes")
    args = parser.parse_args(argv)
    wanted = [c for c in CASES if not args.only or c.name in args.only]
    CASSETTES.mkdir(exist_ok=True)
    if args.live:
        api_key, api_secret = os.environ.get("BINANCE_API_KEY", ""), os.environ.get("BINANCE_API_SECRET", "")
        if not api_key or not api_secret:
            print(
                "error: --live needs BINANCE_API_KEY and BINANCE_API_SECRET (a testnet key)", file=sys.stderr
            )
            return 3
        base_url = os.environ.get("BINANCE_BASE_URL") or TESTNET_URL
        live = [c for c in wanted if c.live]
        recorded_at = int(time.time() * 1000)
        try:
            for case in live:
                print(f"recording {case.name} from {base_url}")
                asyncio.run(record_live(case, base_url, api_key, api_secret))
        except ConfigurationError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 3
        _scan([c.name for c in live], (api_key, api_secret))
        origin = {"server": base_url, "recorded_at_ms": recorded_at, "command": "make cassettes"}
        _update_manifest({c.name: origin for c in live})
        skipped = [c.name for c in wanted if not c.live]
        print(
            f"kept the loopback recordings of {', '.join(skipped)}: no real exchange sends them on request"
        )
        return 0
    for case in wanted:
        print(f"recording {case.name} from the loopback test exchange")
        asyncio.run(record_from_loopback(case))
    names = [c.name for c in wanted]
    if not args.only or "contract" in args.only:
        print("recording contract from the loopback test exchange (running tests/contract)")
        record_contract()
        names.append("contract")
    _scan(names)
    origin = {"server": LOOPBACK, "recorded_at_ms": RECORDED_AT_MS,
              "command": "python -m tests.integration.record_cassettes"}  # fmt: skip
    _update_manifest(dict.fromkeys(names, origin))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
