"""Round trips: domain -> JSON-able -> domain is the identity; so is domain -> Binance's shape -> domain."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.binance._klines import build_klines, check_rows
from adapters.binance._wire import WIRE_NAMES
from adapters.binance.parsing import (
    parse_account_info,
    parse_exchange_info,
    parse_klines,
    parse_ticker_24h,
    structure,
    unstructure,
)
from domain import (
    AccountInfo,
    Balance,
    BookTicker,
    CommissionRates,
    DataValidationError,
    ExchangeInfo,
    Interval,
    Kline,
    LotSize,
    NotionalFilter,
    PriceFilter,
    PriceQuote,
    RateLimit,
    ServerTime,
    Symbol,
    SymbolRules,
    Ticker24h,
)
from domain.storage import KLINE_FIELDS
from tests.strategies import (
    account_infos,
    balances,
    book_tickers,
    commission_rates,
    exact_decimals,
    exchange_infos,
    kline_series,
    klines,
    lot_sizes,
    notional_filters,
    price_filters,
    price_quotes,
    rate_limits,
    server_times,
    symbol_rules,
    tickers_24h,
)

MODELS: list[tuple[type, st.SearchStrategy[Any]]] = [
    (ServerTime, server_times),
    (PriceQuote, price_quotes()),
    (BookTicker, book_tickers()),
    (Ticker24h, tickers_24h()),
    (Kline, klines()),
    (RateLimit, rate_limits),
    (PriceFilter, price_filters),
    (LotSize, lot_sizes),
    (NotionalFilter, notional_filters),
    (SymbolRules, symbol_rules()),
    (ExchangeInfo, exchange_infos()),
    (Balance, balances),
    (CommissionRates, commission_rates),
    (AccountInfo, account_infos()),
]


def test_every_model_of_the_market_exchange_and_account_modules_is_covered() -> None:
    import domain.account
    import domain.exchange
    import domain.market

    models = {
        value
        for module in (domain.market, domain.exchange, domain.account)
        for value in vars(module).values()
        if attrs.has(value) and value.__module__ == module.__name__
    }
    assert models == {cl for cl, _ in MODELS}


def _only_json_types(value: object) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _only_json_types(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_only_json_types(v) for v in value)
    return value is None or isinstance(value, str | int | bool)


@pytest.mark.parametrize(("cl", "strategy"), MODELS, ids=[cl.__name__ for cl, _ in MODELS])
def test_unstructure_then_structure_gives_the_same_object(cl: type, strategy: st.SearchStrategy[Any]) -> None:
    @given(strategy)
    def round_trip(obj: Any) -> None:
        data = unstructure(obj)
        assert _only_json_types(data)
        through_text = json.loads(json.dumps(data))
        assert structure(through_text, cl) == obj
        assert unstructure(structure(through_text, cl)) == data

    round_trip()


@given(st.tuples(exact_decimals, exact_decimals, exact_decimals))
def test_decimals_keep_their_exact_text_through_storage(values: tuple[Decimal, Decimal, Decimal]) -> None:
    data = unstructure(PriceFilter(*values))

    assert [data["min_price"], data["max_price"], data["tick_size"]] == [str(v) for v in values]
    back = structure(data, PriceFilter)
    assert [str(back.min_price), str(back.max_price), str(back.tick_size)] == [str(v) for v in values]


def test_stored_values_use_text_for_decimals_symbols_and_intervals() -> None:
    kline = Kline(Symbol("BTCUSDT"), Interval.MONTH_1, 0, Decimal("1.50"), Decimal(2), Decimal(1),
                  Decimal("1.5"), Decimal("0E-8"), 1, Decimal(0), 3, Decimal(0), Decimal(0))  # fmt: skip

    data = unstructure(kline)

    assert (data["symbol"], data["interval"], data["open"], data["volume"]) == (
        "BTCUSDT",
        "1M",
        "1.50",
        "0E-8",
    )


@given(exchange_infos())
def test_a_stored_exchange_info_drops_its_index_and_rebuilds_it(info: ExchangeInfo) -> None:
    data = unstructure(info)

    assert set(data) == {"timezone", "server_time_ms", "rate_limits", "symbols"}
    back = structure(data, ExchangeInfo)
    assert all(back.rules_for(rules.symbol) == rules for rules in info.symbols)


@pytest.mark.parametrize(
    ("data", "said"),
    [
        ({"server_time_ms": "1"}, "expected an integer, got text @ $.server_time_ms"),
        ({}, "required field missing @ $.server_time_ms"),
        ([], "expected an object"),
    ],
)
def test_stored_data_that_does_not_fit_is_a_validation_error(data: object, said: str) -> None:
    with pytest.raises(DataValidationError) as raised:
        structure(data, ServerTime)

    assert said in str(raised.value)


# ------------------------------------------------------------------------------------------ the wire shape


def _wire_names(data: dict[str, Any]) -> dict[str, Any]:
    return {WIRE_NAMES.get(key, key): value for key, value in data.items()}


def _wire_symbol(rules: SymbolRules) -> dict[str, Any]:
    data = unstructure(rules)
    filters = [{"filterType": name} for name in data.pop("other_filter_types")]
    for field, filter_type in (("price_filter", "PRICE_FILTER"), ("lot_size", "LOT_SIZE"),
                               ("market_lot_size", "MARKET_LOT_SIZE"), ("notional", "NOTIONAL")):  # fmt: skip
        value = data.pop(field)
        if value is not None:
            filters.append({"filterType": filter_type, **_wire_names(value)})
    return _wire_names(data) | {"filters": filters}


@given(exchange_infos())
def test_an_exchange_info_in_binance_shape_parses_back_to_itself(info: ExchangeInfo) -> None:
    data = unstructure(info)
    body = _wire_names(data) | {
        "rateLimits": [_wire_names(limit) for limit in data["rate_limits"]],
        "symbols": [_wire_symbol(rules) for rules in info.symbols],
        "exchangeFilters": [],
    }

    assert parse_exchange_info(json.loads(json.dumps(body))) == info


@given(tickers_24h())
def test_a_ticker_in_binance_shape_parses_back_to_itself(ticker: Ticker24h) -> None:
    assert parse_ticker_24h(_wire_names(unstructure(ticker))) == ticker


@given(account_infos())
def test_an_account_in_binance_shape_parses_back_to_itself(account: AccountInfo) -> None:
    data = unstructure(account)
    body = _wire_names(data) | {"commissionRates": data["commission_rates"]}

    assert parse_account_info(body) == account


def _wire_kline(kline: Kline) -> list[Any]:
    return [kline.open_time_ms, str(kline.open), str(kline.high), str(kline.low), str(kline.close),
            str(kline.volume), kline.close_time_ms, str(kline.quote_volume), kline.trade_count,
            str(kline.taker_buy_base_volume), str(kline.taker_buy_quote_volume), kline.ignore]  # fmt: skip


@given(kline_series(max_size=30))
def test_a_kline_page_parses_back_to_the_series(series: tuple[Interval, list[Kline]]) -> None:
    interval, candles = series
    symbol = candles[0].symbol if candles else Symbol("BTCUSDT")
    page = json.loads(json.dumps([_wire_kline(k) for k in candles]))

    parsed = parse_klines(page, symbol, interval)

    assert parsed == candles
    assert all(type(k) is Kline for k in parsed)


def _exchange_kline(kline: Kline) -> list[Any]:
    """As the exchange spells it: decimals in plain form, never with an exponent."""
    values = [getattr(kline, name) for name in KLINE_FIELDS[2:]]
    return [format(value, "f") if isinstance(value, Decimal) else value for value in values]


@given(kline_series(min_size=1, max_size=30))
def test_the_column_path_and_the_row_path_build_equal_klines(series: tuple[Interval, list[Kline]]) -> None:
    interval, candles = series
    page = [_exchange_kline(k) for k in candles]

    fast = build_klines(page, candles[0].symbol, interval)
    slow, problems = check_rows(page, candles[0].symbol, interval)

    assert problems == []
    assert fast == slow == candles
    assert fast is not None
    assert [hash(k) for k in fast] == [hash(k) for k in slow]
    assert [repr(k) for k in fast] == [repr(k) for k in slow]
