"""Run the loopback exchange as a process: `python -m tests.loopback --port 0 --seed 7 ...`.

The first line on stdout is the base URL (http://127.0.0.1:PORT); it serves until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from tests.loopback.server import LoopbackExchange
from tests.loopback.streams import StreamHub


def _parse_date_ms(text: str) -> int:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tests.loopback",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        choices=["127.0.0.1", "::1", "localhost"],
        help="loopback address to bind (default 127.0.0.1)",
    )
    parser.add_argument("--port", type=int, default=0, help="port (default 0: any free port)")
    parser.add_argument("--seed", type=int, default=0, help="market-data seed (default 0)")
    parser.add_argument("--weight-limit", type=int, default=6000, help="REQUEST_WEIGHT limit (default 6000)")
    parser.add_argument("--weight-interval", default="1m", help="its window, e.g. 1m, 10s, 1h (default 1m)")
    parser.add_argument("--ban-after", type=int, default=2, help="429s in one window before a 418 ban")
    parser.add_argument("--ban-seconds", type=float, default=120.0, help="first ban's length (default 120)")
    parser.add_argument("--skew-ms", type=int, default=0, help="server clock minus real time, in ms")
    parser.add_argument(
        "--hmac-key",
        action="append",
        default=[],
        metavar="API_KEY:SECRET",
        help="accept this HMAC key (repeatable)",
    )
    parser.add_argument(
        "--public-key",
        action="append",
        default=[],
        metavar="API_KEY:PEM_FILE",
        help="accept this Ed25519/RSA public key (repeatable)",
    )
    parser.add_argument("--no-record", action="store_true", help="do not keep the request log (benchmarks)")
    parser.add_argument(
        "--streams",
        action="store_true",
        help="also serve the WebSocket market streams at /stream, in real time",
    )
    parser.add_argument(
        "--prewarm",
        action="append",
        nargs=3,
        default=[],
        metavar=("SYMBOL", "START", "END"),
        help="render the 1m candles of [START, END) (ISO dates, UTC) before serving, "
        "e.g. --prewarm BTCUSDT 2024-01-01 2025-01-01",
    )
    return parser


async def serve(options: argparse.Namespace) -> None:
    hub = StreamHub() if options.streams else None
    exchange = LoopbackExchange(
        route_modules=(hub.register,) if hub is not None else (),
        seed=options.seed,
        weight_limit=options.weight_limit,
        weight_interval=options.weight_interval,
        ban_after_429s=options.ban_after,
        ban_seconds=options.ban_seconds,
        clock_skew_ms=options.skew_ms,
        record_requests=not options.no_record,
        host=options.host,
        port=options.port,
    )
    for item in options.hmac_key:
        api_key, _, secret = item.partition(":")
        exchange.add_key(api_key, secret=secret)
    for item in options.public_key:
        api_key, _, path = item.partition(":")
        exchange.add_key(api_key, public_key_pem=Path(path).read_bytes())  # noqa: ASYNC240 - before serving
    for symbol, start, end in options.prewarm:
        exchange.market.prewarm(symbol, _parse_date_ms(start), _parse_date_ms(end), now=exchange.now_ms())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with exchange:
        if hub is not None:
            hub.start_pump()
        sys.stdout.write(exchange.base_url + "\n")
        sys.stdout.flush()
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> None:
    options = build_parser().parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(options))


if __name__ == "__main__":
    main()
