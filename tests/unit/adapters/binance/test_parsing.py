"""Parsing Binance bodies: what is kept, what is refused, and what the refusal says."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest

from adapters.binance import parsing
from adapters.binance._wire import PriceWire
from adapters.binance.parsing import (
    loads,
    parse_account_info,
    parse_book_ticker,
    parse_book_tickers,
    parse_error_body,
    parse_exchange_info,
    parse_klines,
    parse_price_quote,
    parse_price_quotes,
    parse_server_time,
    parse_ticker_24h,
    parse_tickers_24h,
)
from domain import (
    AccountInfo,
    Interval,
    LotSize,
    MalformedResponseError,
    NotionalFilter,
    PriceFilter,
    PriceQuote,
    Symbol,
)

BTC = Symbol("BTCUSDT")
MINUTE = Interval.MINUTE_1

KLINE = [1767225600000, "64000.00", "64120.50", "63950.00", "64080.25", "12.345", 1767225659999,
         "790123.45", 842, "6.100", "390555.12", "0"]  # fmt: skip

FULL_TICKER: dict[str, Any] = {
    "symbol": "BTCUSDT", "priceChange": "850.20", "priceChangePercent": "1.341",
    "weightedAvgPrice": "63900.12", "prevClosePrice": "63399.90", "lastPrice": "64250.10", "lastQty": "0.012",
    "bidPrice": "64250.00", "bidQty": "1.5", "askPrice": "64250.10", "askQty": "0.8", "openPrice": "63399.90",
    "highPrice": "64500.00",
    "lowPrice": "63100.00", "volume": "15234.567", "quoteVolume": "973456789.12", "openTime": 1767139200000,
    "closeTime": 1767225599999, "firstId": 500000001, "lastId": 501234567, "count": 1234567,
}  # fmt: skip

MINI_KEYS = ("symbol", "openPrice", "highPrice", "lowPrice", "lastPrice", "volume", "quoteVolume", "openTime",
             "closeTime", "firstId", "lastId", "count")  # fmt: skip

SYMBOL: dict[str, Any] = {
    "symbol": "BTCUSDT", "status": "TRADING", "baseAsset": "BTC", "baseAssetPrecision": 8,
    "quoteAsset": "USDT", "quotePrecision": 8, "quoteAssetPrecision": 8, "orderTypes": ["LIMIT", "MARKET"],
    "isSpotTradingAllowed": True,
    "filters": [
        {"filterType": "PRICE_FILTER", "minPrice": "0.01000000", "maxPrice": "1000000.00000000",
         "tickSize": "0.01000000"},
        {"filterType": "LOT_SIZE", "minQty": "0.00001000", "maxQty": "9000.00000000",
         "stepSize": "0.00001000"},
    ],
    "permissions": [], "permissionSets": [["SPOT", "MARGIN"], ["TRD_GRP_004"]],
}  # fmt: skip


def exchange_info(*symbols: dict[str, Any]) -> dict[str, Any]:
    return {
        "timezone": "UTC",
        "serverTime": 1767225600123,
        "rateLimits": [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000}
        ],
        "exchangeFilters": [],
        "symbols": list(symbols),
    }


def converter_only(raw: Any, cl: Any) -> Any:
    """What the converter alone makes of ``raw`` (the parse functions read usual shapes without it)."""
    return parsing._wire.structure(raw, cl)


def refusal(call: Any, *args: Any) -> str:
    with pytest.raises(MalformedResponseError) as raised:
        call(*args)
    return str(raised.value)


# ------------------------------------------------------------------------------------------ scalars


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("NaN", "'NaN' is not a finite number"),
        ("-Infinity", "'-Infinity' is not a finite number"),
        ("sNaN", "is not"),
        ("abc", "'abc' is not a decimal number"),
        ("", "'' is not a decimal number"),
        (1.5, "expected a decimal string, got a number with a fraction"),
        (True, "expected a decimal string, got a boolean"),
        (None, "expected a decimal string, got null"),
        (["1"], "expected a decimal string, got an array"),
    ],
)
def test_a_price_that_is_not_a_finite_decimal_string_is_refused_with_its_path(
    value: object, said: str
) -> None:
    message = refusal(parse_price_quote, {"symbol": "BTCUSDT", "price": value}, 1)

    assert said in message
    assert "@ $.price" in message
    assert "/api/v3/ticker/price" in message


def test_prices_of_symbols_already_checked_read_directly_give_what_the_converter_gives() -> None:
    body = [{"symbol": "BTCUSDT", "price": "64250.10000000"}, {"symbol": "ETHUSDT", "price": "1E+3", "x": 1}]

    first, again = parse_price_quotes(body, 5), parse_price_quotes(body, 5)  # the second reads it directly

    expected = [PriceQuote(w.symbol, w.price, 5) for w in converter_only(body, list[PriceWire])]
    assert first == again == expected


@pytest.mark.parametrize("price", ["NaN", "abc", 1.5, None])
def test_a_bad_price_of_a_symbol_already_checked_is_refused_with_its_path(price: object) -> None:
    parse_price_quotes([{"symbol": "BTCUSDT", "price": "1"}], 1)

    body = [{"symbol": "BTCUSDT", "price": "1"}, {"symbol": "BTCUSDT", "price": price}]
    message = refusal(parse_price_quotes, body, 1)

    assert "@ $[1].price" in message


def test_an_integer_price_is_exact_and_accepted() -> None:
    assert parse_price_quote({"symbol": "BTCUSDT", "price": 64000}, 1).price == Decimal(64000)


def test_decimals_keep_their_exact_digits() -> None:
    quote = parse_price_quote({"symbol": "BTCUSDT", "price": "0.00000162"}, 7)

    assert str(quote.price) == "0.00000162"
    assert quote.as_of_ms == 7


@pytest.mark.parametrize("value", [True, "1767225600123", 1.5, None])
def test_an_integer_field_refuses_booleans_text_and_fractions(value: object) -> None:
    assert "@ $.serverTime" in refusal(parse_server_time, {"serverTime": value})


def test_a_missing_required_field_is_named_by_its_wire_name() -> None:
    message = refusal(parse_ticker_24h, {k: v for k, v in FULL_TICKER.items() if k != "quoteVolume"})

    assert "required field missing @ $.quoteVolume" in message


def test_unknown_fields_are_ignored() -> None:
    assert parse_server_time({"serverTime": 5, "somethingNew": [1, 2]}).server_time_ms == 5


def test_a_bad_symbol_text_is_refused() -> None:
    assert "@ $.symbol" in refusal(parse_price_quote, {"symbol": "BTC/USDT", "price": "1"}, 1)


def test_a_body_of_the_wrong_shape_is_refused_at_the_root() -> None:
    assert "expected an object, got an array @ $" in refusal(parse_server_time, [])
    assert "expected an array, got an object @ $" in refusal(parse_price_quotes, {"symbol": "X"}, 1)


def test_the_refusal_quotes_only_a_short_prefix_of_the_body() -> None:
    body = {"symbol": "BTCUSDT", "price": "x", "filler": "A" * 5000}
    message = refusal(parse_price_quote, body, 1)

    assert len(message) < 300
    assert "AAAAAAAAAA" not in message  # a long token is redacted, not quoted


def test_only_the_first_problems_are_listed() -> None:
    message = refusal(parse_ticker_24h, {"symbol": "BTCUSDT", "priceChange": "1"})

    assert message.count("required field missing") == 5
    assert "and 14 more" in message


# ------------------------------------------------------------------------------------------ tickers


def test_lists_keep_the_exchange_order() -> None:
    quotes = parse_price_quotes([{"symbol": "ETHUSDT", "price": "1"}, {"symbol": "BTCUSDT", "price": "2"}], 9)

    assert [(str(q.symbol), q.price, q.as_of_ms) for q in quotes] == [
        ("ETHUSDT", Decimal(1), 9),
        ("BTCUSDT", Decimal(2), 9),
    ]


def test_book_tickers_take_their_time_from_the_caller() -> None:
    body = {"symbol": "BTCUSDT", "bidPrice": "1.5", "bidQty": "2", "askPrice": "1.6", "askQty": "3"}

    book = parse_book_ticker(body, 42)
    assert (book.bid_price, book.ask_qty, book.as_of_ms, book.update_id) == (
        Decimal("1.5"),
        Decimal(3),
        42,
        None,
    )
    assert parse_book_tickers([body, body], 42) == [book, book]


def test_a_full_ticker_maps_every_field() -> None:
    ticker = parse_ticker_24h(FULL_TICKER)

    assert ticker.symbol == BTC
    assert ticker.price_change_percent == Decimal("1.341")
    assert ticker.quote_volume == Decimal("973456789.12")
    assert (ticker.first_trade_id, ticker.last_trade_id, ticker.trade_count) == (
        500000001,
        501234567,
        1234567,
    )
    assert ticker.open_time_ms == 1767139200000


def test_a_mini_ticker_is_completed_with_derived_and_zero_fields() -> None:
    mini = {key: FULL_TICKER[key] for key in MINI_KEYS}

    ticker = parse_ticker_24h(mini)

    assert ticker.price_change == Decimal("850.20")
    assert ticker.price_change_percent == Decimal("1.341")
    assert ticker.weighted_avg_price == (Decimal("973456789.12") / Decimal("15234.567")).quantize(
        Decimal("1E-8")
    )
    assert ticker.bid_price == ticker.ask_qty == ticker.last_qty == ticker.prev_close_price == Decimal(0)
    assert ticker.last_price == Decimal("64250.10")
    assert parse_tickers_24h([mini, FULL_TICKER])[1] == parse_ticker_24h(FULL_TICKER)


def test_a_mini_ticker_without_volume_has_a_zero_average_price() -> None:
    mini = {key: FULL_TICKER[key] for key in MINI_KEYS} | {"volume": "0", "quoteVolume": "0"}

    assert parse_ticker_24h(mini).weighted_avg_price == Decimal(0)


def test_a_full_ticker_missing_some_full_fields_is_refused_not_taken_for_mini() -> None:
    broken = {k: v for k, v in FULL_TICKER.items() if k not in {"bidPrice", "askPrice"}}

    message = refusal(parse_ticker_24h, broken)

    assert "required field missing @ $.bidPrice" in message
    assert "required field missing @ $.askPrice" in message


# ------------------------------------------------------------------------------------------ exchange info


def test_filters_land_in_typed_fields_and_other_types_are_kept_by_name() -> None:
    symbol = copy.deepcopy(SYMBOL)
    symbol["filters"] += [
        {"filterType": "MARKET_LOT_SIZE", "minQty": "0", "maxQty": "100", "stepSize": "0"},
        {"filterType": "NOTIONAL", "minNotional": "5", "applyMinToMarket": True, "maxNotional": "9000000",
         "applyMaxToMarket": False, "avgPriceMins": 5},
        {"filterType": "ICEBERG_PARTS", "limit": 10},
        {"filterType": "A_FILTER_FROM_THE_FUTURE", "whatever": [1]},
    ]  # fmt: skip

    rules = parse_exchange_info(exchange_info(symbol)).rules_for(BTC)

    assert rules.price_filter == PriceFilter(Decimal("0.01"), Decimal(1000000), Decimal("0.01"))
    assert rules.lot_size == LotSize(Decimal("0.00001"), Decimal(9000), Decimal("0.00001"))
    assert rules.market_lot_size == LotSize(Decimal(0), Decimal(100), Decimal(0))
    assert rules.notional == NotionalFilter(Decimal(5), Decimal(9000000), True, False, 5)
    assert rules.other_filter_types == ("ICEBERG_PARTS", "A_FILTER_FROM_THE_FUTURE")
    assert rules.permission_sets == (("SPOT", "MARGIN"), ("TRD_GRP_004",))


def test_unknown_status_and_permissions_are_kept() -> None:
    symbol = SYMBOL | {"status": "AUCTION_SOMETHING", "permissionSets": [["TRD_GRP_999"]]}

    rules = parse_exchange_info(exchange_info(symbol)).rules_for(BTC)

    assert (rules.status, rules.has_known_status, rules.permission_sets) == (
        "AUCTION_SOMETHING",
        False,
        (("TRD_GRP_999",),),
    )


def test_min_notional_fills_notional_unless_notional_is_there() -> None:
    min_notional = {
        "filterType": "MIN_NOTIONAL",
        "minNotional": "0.001",
        "applyToMarket": False,
        "avgPriceMins": 5,
    }
    notional = {"filterType": "NOTIONAL", "minNotional": "5", "applyMinToMarket": True, "maxNotional": "90",
                "applyMaxToMarket": True, "avgPriceMins": 1}  # fmt: skip

    alone = parse_exchange_info(exchange_info(SYMBOL | {"filters": [min_notional]})).rules_for(BTC)
    both = parse_exchange_info(exchange_info(SYMBOL | {"filters": [min_notional, notional]})).rules_for(BTC)

    assert alone.notional == NotionalFilter(Decimal("0.001"), None, False, False, 5)
    assert both.notional == NotionalFilter(Decimal(5), Decimal(90), True, True, 1)
    assert both.other_filter_types == ("MIN_NOTIONAL",)


def test_legacy_symbol_fields_stand_in_for_the_current_ones() -> None:
    legacy = {k: v for k, v in SYMBOL.items() if k not in {"quoteAssetPrecision", "permissionSets"}}
    legacy |= {"quotePrecision": 2, "permissions": ["SPOT", "MARGIN"]}

    rules = parse_exchange_info(exchange_info(legacy)).rules_for(BTC)

    assert rules.quote_asset_precision == 2
    assert rules.permission_sets == (("SPOT", "MARGIN"),)


def test_a_bad_filter_is_reported_with_its_index_and_the_other_problems_too() -> None:
    symbol = SYMBOL | {
        "baseAsset": 7,
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": "0.01", "maxPrice": "x", "tickSize": "0.01"},
            {"minQty": "1"},
            {"filterType": "LOT_SIZE", "minQty": "1", "maxQty": "2", "stepSize": "1"},
            {"filterType": "LOT_SIZE", "minQty": "1", "maxQty": "2", "stepSize": "1"},
        ],
    }

    message = refusal(parse_exchange_info, exchange_info(symbol))

    assert "'x' is not a decimal number @ $.symbols[0].filters[0].maxPrice" in message
    assert "a filter without a filterType @ $.symbols[0].filters[1]" in message
    assert "a second LOT_SIZE filter @ $.symbols[0].filters[3]" in message
    assert "expected text, got an integer @ $.symbols[0].baseAsset" in message


@pytest.mark.parametrize("filters", ["PRICE_FILTER", {"filterType": "LOT_SIZE"}])
def test_filters_that_are_not_an_array_are_refused(filters: object) -> None:
    assert "@ $.symbols[0].filters" in refusal(
        parse_exchange_info, exchange_info(SYMBOL | {"filters": filters})
    )


def test_text_where_an_array_belongs_is_refused_rather_than_split_into_letters() -> None:
    message = refusal(parse_exchange_info, exchange_info(SYMBOL | {"orderTypes": "LIMIT"}))

    assert "expected an array, got text @ $.symbols[0].orderTypes" in message


def test_a_rate_limit_without_its_interval_count_is_refused() -> None:
    body = exchange_info(SYMBOL)
    body["rateLimits"] = [{"rateLimitType": "REQUESTS", "interval": "MINUTE", "limit": 1200}]

    assert "required field missing @ $.rateLimits[0].intervalNum" in refusal(parse_exchange_info, body)


# ------------------------------------------------------------------------------------------ account


ACCOUNT: dict[str, Any] = {
    "makerCommission": 10, "takerCommission": 10, "buyerCommission": 0, "sellerCommission": 0,
    "commissionRates": {"maker": "0.00100000", "taker": "0.00100000", "buyer": "0.00000000", "seller": "0"},
    "canTrade": True, "canWithdraw": False, "canDeposit": False, "brokered": False,
    "requireSelfTradePrevention": False, "preventSor": False, "updateTime": 1767225500000,
    "accountType": "SPOT", "balances": [{"asset": "BTC", "free": "1.00000000", "locked": "0.00000000"},
                                        {"asset": "这是测试币456", "free": "10", "locked": "25"}],
    "permissions": ["SPOT"], "uid": 1234567890,
}  # fmt: skip


def test_account_info_maps_rates_balances_and_uid() -> None:
    account = parse_account_info(ACCOUNT)

    assert account.commission_rates.maker == Decimal("0.001")
    assert account.balance("这是测试币456") is not None
    assert (account.account_type, account.permissions, account.uid) == ("SPOT", ("SPOT",), 1234567890)
    assert not account.can_withdraw


def test_an_account_without_uid_parses_and_an_unknown_account_type_is_kept() -> None:
    body = {k: v for k, v in ACCOUNT.items() if k != "uid"} | {"accountType": "SOMETHING_NEW"}

    account = parse_account_info(body)

    assert (account.uid, account.account_type) == (None, "SOMETHING_NEW")


def test_a_string_boolean_is_refused() -> None:
    assert "expected true or false, got text @ $.canTrade" in refusal(
        parse_account_info, ACCOUNT | {"canTrade": "true"}
    )


def test_usual_balances_read_directly_give_what_the_converter_gives() -> None:
    odd = {"asset": "X", "free": "1E+3", "locked": "-0", "new": 1}
    body = ACCOUNT | {"balances": [*ACCOUNT["balances"], odd]}

    assert parse_account_info(body) == converter_only(body, AccountInfo)


@pytest.mark.parametrize(
    ("balance", "said"),
    [
        ({"asset": "BTC", "free": 1.5, "locked": "0"}, "got a number with a fraction @ $.balances[1].free"),
        (
            {"asset": "BTC", "free": "1", "locked": "NaN"},
            "'NaN' is not a finite number @ $.balances[1].locked",
        ),
        ({"asset": 7, "free": "1", "locked": "0"}, "expected text, got an integer @ $.balances[1].asset"),
        ({"asset": "BTC", "free": "1"}, "required field missing @ $.balances[1].locked"),
        ("BTC", "expected an object, got text @ $.balances[1]"),
    ],
)
def test_an_unusual_balance_is_refused_by_the_converter_with_its_path(balance: object, said: str) -> None:
    body = ACCOUNT | {"balances": [ACCOUNT["balances"][0], balance]}

    assert said in refusal(parse_account_info, body)


def test_a_refusal_outside_the_balances_quotes_the_body_as_it_came() -> None:
    message = refusal(parse_account_info, {"balances": ACCOUNT["balances"], **ACCOUNT, "canTrade": None})

    assert "@ $.canTrade" in message
    assert '"balances":[{"asset":"BTC"' in message


# ------------------------------------------------------------------------------------------ klines


def test_a_kline_array_maps_by_position() -> None:
    [kline] = parse_klines([KLINE], BTC, MINUTE)

    assert (kline.symbol, kline.interval, kline.open_time_ms, kline.close_time_ms) == (
        BTC,
        MINUTE,
        1767225600000,
        1767225659999,
    )
    assert (kline.open, kline.high, kline.low, kline.close) == tuple(Decimal(str(v)) for v in KLINE[1:5])
    assert (kline.volume, kline.quote_volume, kline.trade_count) == (
        Decimal("12.345"),
        Decimal("790123.45"),
        842,
    )
    assert (kline.taker_buy_base_volume, kline.taker_buy_quote_volume, kline.ignore) == (
        Decimal("6.100"),
        Decimal("390555.12"),
        "0",
    )


def test_extra_trailing_items_are_ignored_and_a_missing_ignore_item_defaults() -> None:
    longer, shorter = [*KLINE, "new"], KLINE[:11]

    assert parse_klines([longer], BTC, MINUTE) == parse_klines([KLINE], BTC, MINUTE)
    assert parse_klines([shorter], BTC, MINUTE) == parse_klines([KLINE], BTC, MINUTE)
    assert parse_klines([KLINE, shorter], BTC, MINUTE) == parse_klines([KLINE, KLINE], BTC, MINUTE)


def test_an_empty_page_is_an_empty_list() -> None:
    assert parse_klines([], BTC, MINUTE) == []


@pytest.mark.parametrize(
    ("index", "value", "said"),
    [
        (1, "NaN", "'NaN' is not a finite number @ $[1][1] (open)"),
        (4, "inf", "'inf' is not a finite number @ $[1][4] (close)"),
        (5, "12,5", "'12,5' is not a decimal number @ $[1][5] (volume)"),
        (7, 790123.45, "expected a decimal string, got a number with a fraction @ $[1][7] (quote_volume)"),
        (0, True, "expected an integer, got a boolean @ $[1][0] (open_time_ms)"),
        (6, "1767225659999", "expected an integer, got text @ $[1][6] (close_time_ms)"),
        (8, 842.0, "expected an integer, got a number with a fraction @ $[1][8] (trade_count)"),
        (11, 0, "expected text, got an integer @ $[1][11] (ignore)"),
    ],
)
def test_one_bad_item_refuses_the_page_and_is_located(index: int, value: object, said: str) -> None:
    bad = list(KLINE)
    bad[index] = value

    message = refusal(parse_klines, [KLINE, bad, KLINE], BTC, MINUTE)

    assert said in message
    assert "/api/v3/klines" in message


@pytest.mark.parametrize(
    ("page", "said"),
    [
        ({"code": -1121}, "expected an array of klines, got an object @ $"),
        ([KLINE, {"t": 1}], "expected a kline array, got an object @ $[1]"),
        ([KLINE, KLINE[:5]], "expected at least 11 items, got 5 @ $[1]"),
    ],
)
def test_a_page_of_the_wrong_shape_is_refused(page: object, said: str) -> None:
    assert said in refusal(parse_klines, page, BTC, MINUTE)


# ------------------------------------------------------------------------------------------ errors and bytes


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"code": -1121, "msg": "Invalid symbol."}, (-1121, "Invalid symbol.")),
        (
            {"code": -1003, "msg": "Way too much request weight used.", "data": {}},
            (-1003, "Way too much request weight used."),
        ),
        ({"code": -1022}, (-1022, "")),
        ({"code": -1022, "msg": 7}, (-1022, "")),
        ({"code": "-1121", "msg": "Invalid symbol."}, None),
        ({"code": True, "msg": "x"}, None),
        ({"msg": "x"}, None),
        ([{"code": -1}], None),
        ("Invalid symbol", None),
    ],
)
def test_error_bodies_give_code_and_message_or_none(body: object, expected: tuple[int, str] | None) -> None:
    assert parse_error_body(body) == expected


def test_loads_decodes_json_bytes() -> None:
    assert loads(b'{"serverTime":1767225600123}', "/api/v3/time") == {"serverTime": 1767225600123}


@pytest.mark.parametrize(
    "body",
    [b"", b'{"serverTime":17', b"<html><body>502 Bad Gateway</body></html>", b"NaN", b"\xff\xfe"],
)
def test_loads_refuses_what_is_not_json(body: bytes) -> None:
    with pytest.raises(MalformedResponseError) as raised:
        loads(body, "/api/v3/time")

    assert raised.value.endpoint == "/api/v3/time"
    assert "not JSON" in str(raised.value)


def test_loads_does_not_quote_a_signature_echoed_into_an_error_page() -> None:
    signature = "9f" * 32
    body = f"<html>Bad request to /api/v3/account?timestamp=1&signature={signature}</html>".encode()

    with pytest.raises(MalformedResponseError) as raised:
        loads(body, "/api/v3/account")

    assert signature not in str(raised.value)
    assert signature[:16] not in str(raised.value)
