"""Every real Binance REST body in the capture set parses, or is refused for a reason stated here.

The captures live beside the repository, in ``../shared/binance-captures`` (never copied in); their README
says where each body came from. The parser is chosen by folder. Outcomes that are not "parses" are listed in
``REFUSED`` with the problem the refusal must name, each decided from the Binance facts:

- the ``nodebinance`` exchangeInfo, 24h ticker and account bodies are /api/v1-era shapes (2017-2018) that a
  v3 server no longer sends: rate limits without ``intervalNum`` (the window length cannot be known), a
  ticker without its ``symbol``, an account without ``commissionRates``/``updateTime``/``accountType``;
- the ``ccxt`` bodies have JSON numbers turned into strings by ccxt's recorder (the README's caveat), which
  the parser rightly refuses as they are; with the numbers restored they must parse, and they are checked
  for field coverage only.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from adapters.binance.parsing import (
    parse_account_info,
    parse_book_ticker,
    parse_error_body,
    parse_exchange_info,
    parse_klines,
    parse_price_quote,
    parse_server_time,
    parse_ticker_24h,
)
from domain import Interval, MalformedResponseError, Symbol

CAPTURES = Path(__file__).resolve().parents[2].parent / "shared" / "binance-captures"
REST = CAPTURES / "rest"
MISSING = (
    "../shared/binance-captures not found: "
    "conformance tests need the Binance capture set beside the repository"
)

pytestmark = pytest.mark.skipif(not REST.is_dir(), reason=MISSING)

AS_OF_MS = 1_767_225_600_000


def _exact(values: list[Decimal] | list[str]) -> list[Any]:
    """Decimals, or decimal strings, as (sign, digits, exponent): equal only when every digit was kept."""
    return [Decimal(v).as_tuple() for v in values]


def _check_time(raw: Any) -> None:
    assert parse_server_time(raw).server_time_ms == raw["serverTime"]


def _check_exchange_info(raw: Any) -> None:
    info = parse_exchange_info(raw)
    assert info.server_time_ms == raw["serverTime"]
    assert [(r.rate_limit_type, r.interval, r.interval_num, r.limit) for r in info.rate_limits] == [
        (r["rateLimitType"], r["interval"], r["intervalNum"], r["limit"]) for r in raw["rateLimits"]
    ]
    assert [str(s.symbol) for s in info.symbols] == [s["symbol"] for s in raw["symbols"]]
    for rules, wire in zip(info.symbols, raw["symbols"], strict=True):
        assert (rules.status, rules.base_asset, rules.quote_asset) == (
            wire["status"],
            wire["baseAsset"],
            wire["quoteAsset"],
        )
        by_type = {f["filterType"]: f for f in wire["filters"]}
        typed = {"PRICE_FILTER", "LOT_SIZE", "MARKET_LOT_SIZE", "NOTIONAL", "MIN_NOTIONAL"}
        assert set(rules.other_filter_types) == set(by_type) - typed
        if "PRICE_FILTER" in by_type:
            assert rules.price_filter is not None
            assert _exact([rules.price_filter.tick_size]) == _exact([by_type["PRICE_FILTER"]["tickSize"]])
        if "LOT_SIZE" in by_type:
            assert rules.lot_size is not None
            assert _exact([rules.lot_size.max_qty]) == _exact([by_type["LOT_SIZE"]["maxQty"]])
        assert (rules.market_lot_size is None) == ("MARKET_LOT_SIZE" not in by_type)
        notional = by_type.get("NOTIONAL", by_type.get("MIN_NOTIONAL"))
        if notional is not None:
            assert rules.notional is not None
            assert _exact([rules.notional.min_notional]) == _exact([notional["minNotional"]])


def _check_price(raw: Any) -> None:
    quote = parse_price_quote(raw, AS_OF_MS)
    assert (str(quote.symbol), quote.as_of_ms) == (raw["symbol"], AS_OF_MS)
    assert _exact([quote.price]) == _exact([raw["price"]])


def _check_ticker(raw: Any) -> None:
    ticker = parse_ticker_24h(raw)
    assert str(ticker.symbol) == raw["symbol"]
    assert _exact([ticker.last_price, ticker.quote_volume, ticker.price_change_percent]) == _exact(
        [raw["lastPrice"], raw["quoteVolume"], raw["priceChangePercent"]]
    )
    assert (ticker.open_time_ms, ticker.first_trade_id, ticker.trade_count) == (
        raw["openTime"],
        raw["firstId"],
        raw["count"],
    )


def _check_book(raw: Any) -> None:
    book = parse_book_ticker(raw, AS_OF_MS)
    assert str(book.symbol) == raw["symbol"]
    assert _exact([book.bid_price, book.bid_qty, book.ask_price, book.ask_qty]) == _exact(
        [raw["bidPrice"], raw["bidQty"], raw["askPrice"], raw["askQty"]]
    )


def _check_klines(raw: Any) -> None:
    klines = parse_klines(raw, Symbol("BTCUSDT"), Interval.MINUTE_1)
    assert len(klines) == len(raw)
    for kline, row in zip(klines, raw, strict=True):
        assert [kline.open_time_ms, kline.close_time_ms, kline.trade_count] == [row[0], row[6], row[8]]
        decimals = [kline.open, kline.high, kline.low, kline.close, kline.volume, kline.quote_volume]
        assert _exact(decimals) == _exact([row[1], row[2], row[3], row[4], row[5], row[7]])
        assert _exact([kline.taker_buy_base_volume, kline.taker_buy_quote_volume]) == _exact(
            [row[9], row[10]]
        )
        assert kline.ignore == row[11]


def _check_account(raw: Any) -> None:
    account = parse_account_info(raw)
    assert account.update_time_ms == raw["updateTime"]
    assert _exact([account.commission_rates.maker]) == _exact([raw["commissionRates"]["maker"]])
    assert [b.asset for b in account.balances] == [b["asset"] for b in raw["balances"]]
    assert _exact([b.free for b in account.balances] + [b.locked for b in account.balances]) == _exact(
        [b["free"] for b in raw["balances"]] + [b["locked"] for b in raw["balances"]]
    )


def _check_error(raw: Any) -> None:
    assert parse_error_body(raw) == (raw["code"], raw["msg"])


CHECKS: dict[str, Callable[[Any], None]] = {
    "time": _check_time,
    "exchangeInfo": _check_exchange_info,
    "ticker-price": _check_price,
    "ticker-24hr": _check_ticker,
    "bookTicker": _check_book,
    "klines": _check_klines,
    "account": _check_account,
    "errors": _check_error,
}
# Folders of the capture set that no gateway call reads.
NOT_READ = {"avgPrice": "the gateway does not call /api/v3/avgPrice"}

# file -> (parser, a problem the refusal must name)
REFUSED: dict[str, tuple[Callable[[Any], object], str]] = {
    "exchangeInfo/nodebinance-1.json": (
        parse_exchange_info,
        "required field missing @ $.rateLimits[0].intervalNum",
    ),
    "ticker-24hr/nodebinance-1.json": (parse_ticker_24h, "required field missing @ $.symbol"),
    "account/nodebinance-1.json": (parse_account_info, "required field missing @ $.commissionRates"),
    "ticker-24hr/ccxt-1.json": (parse_ticker_24h, "expected an integer, got text @ $.openTime"),
    "account/ccxt-1.json": (parse_account_info, "expected an integer, got text @ $.updateTime"),
}

# The fields ccxt's recorder turned from JSON integers into strings (captures README, "Caveats").
CCXT_INTEGER_FIELDS = frozenset(
    {"makerCommission", "takerCommission", "buyerCommission", "sellerCommission", "updateTime", "uid",
     "openTime", "closeTime", "firstId", "lastId", "count"}
)  # fmt: skip


def _files() -> list[str]:
    if not REST.is_dir():
        return []
    return sorted(str(path.relative_to(REST)) for path in REST.glob("*/*.json"))


def _load(name: str) -> Any:
    return json.loads((REST / name).read_text(encoding="utf-8"))


def _restore_ccxt_integers(raw: dict[str, Any]) -> dict[str, Any]:
    return {key: int(value) if key in CCXT_INTEGER_FIELDS else value for key, value in raw.items()}


PARSED = [name for name in _files() if name not in REFUSED and name.split("/")[0] not in NOT_READ]
CCXT = [name for name in _files() if Path(name).name.startswith("ccxt-")]


def test_every_capture_folder_is_read_or_said_to_be_unread() -> None:
    folders = {path.name for path in REST.iterdir() if path.is_dir()}

    assert folders == set(CHECKS) | set(NOT_READ)


def test_every_listed_refusal_names_a_capture_file() -> None:
    assert set(REFUSED) <= set(_files())


@pytest.mark.parametrize("name", PARSED)
def test_capture_parses(name: str) -> None:
    CHECKS[name.split("/", maxsplit=1)[0]](_load(name))


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_capture_of_a_shape_binance_no_longer_sends_is_refused(name: str) -> None:
    parser, problem = REFUSED[name]

    with pytest.raises(MalformedResponseError) as raised:
        parser(_load(name))

    assert problem in str(raised.value)


@pytest.mark.parametrize("name", CCXT)
def test_ccxt_capture_parses_once_its_integers_are_restored(name: str) -> None:
    CHECKS[name.split("/", maxsplit=1)[0]](_restore_ccxt_integers(_load(name)))


def test_the_legacy_kline_ignore_field_is_kept_verbatim() -> None:
    [kline] = parse_klines(_load("klines/pythonbinance-1.json"), Symbol("BNBBTC"), Interval.MINUTE_1)

    assert kline.ignore == "83431971.04346950"
    assert kline.low == Decimal("0.00001000")


def test_a_break_symbol_and_a_leveraged_symbol_keep_their_rules() -> None:
    info = parse_exchange_info(_load("exchangeInfo/cryptofeed-1.json"))

    bccbtc = info.rules_for(Symbol("BCCBTC"))
    btcup = info.rules_for(Symbol("BTCUPUSDT"))
    assert (bccbtc.status, bccbtc.is_trading, bccbtc.market_lot_size) == ("BREAK", False, None)
    assert (btcup.permission_sets, btcup.is_spot_trading_allowed) == ((("LEVERAGED",),), False)
    assert "MAX_POSITION" in btcup.other_filter_types
    bidr_filter = info.rules_for(Symbol("BTCBIDR")).price_filter
    assert bidr_filter is not None
    assert str(bidr_filter.tick_size) == "1.00"


def test_show_permission_sets_false_gives_no_permission_sets() -> None:
    [ethbtc] = parse_exchange_info(_load("exchangeInfo/chainslake-1.json")).symbols

    assert ethbtc.permission_sets == ()
    assert ethbtc.notional is not None
    assert ethbtc.notional.max_notional == Decimal("9000000.00000000")


def test_the_error_message_with_a_backslash_is_decoded_once() -> None:
    code, msg = parse_error_body(_load("errors/ghissue-2.json")) or (0, "")

    assert code == -1100
    assert r"(\.[0-9]{1,20})" in msg
