"""The JSON conversion: decimals as fixed-point strings, moments as ISO-8601 UTC plus milliseconds."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from adapters.cli._output import jsonable, milliseconds
from domain import ExchangeInfo, Interval, PriceFilter, RateLimit, Symbol, SymbolRules


def test_decimals_never_use_exponent_notation() -> None:
    assert jsonable(Decimal("0.00000001")) == "0.00000001"
    assert jsonable(Decimal("1E+3")) == "1000"


def test_moments_get_an_iso_sibling_and_durations_do_not() -> None:
    rules = SymbolRules(
        Symbol("BTCUSDT"),
        "TRADING",
        "BTC",
        "USDT",
        price_filter=PriceFilter(Decimal("0.01"), Decimal(0), Decimal("0.01")),
    )
    info = ExchangeInfo("UTC", 1_767_225_600_123, (RateLimit("REQUEST_WEIGHT", "MINUTE", 1, 6000),), (rules,))

    document = jsonable(info)

    assert document["server_time"] == "2026-01-01T00:00:00.123Z"
    assert document["server_time_ms"] == 1_767_225_600_123
    assert "_by_symbol" not in document
    assert "by_symbol" not in document
    assert document["symbols"][0]["price_filter"] == {
        "min_price": "0.01",
        "max_price": "0",
        "tick_size": "0.01",
    }
    assert document["rate_limits"][0]["interval_num"] == 1


def test_containers_datetimes_and_enums_become_plain_json() -> None:
    moment = datetime(2026, 1, 1, 12, 30, tzinfo=UTC)

    document = jsonable({Symbol("ETHBTC"): [moment, Interval.MONTH_1, (1.5, None, True)]})

    assert document == {"ETHBTC": ["2026-01-01T12:30:00.000Z", "1M", [1.5, None, True]]}


def test_milliseconds_print_one_decimal_and_never_a_negative_zero() -> None:
    assert milliseconds(-0.01, signed=True) == "+0.0 ms"
    assert milliseconds(-12.345, signed=True) == "-12.3 ms"
    assert milliseconds(80.06) == "80.1 ms"
