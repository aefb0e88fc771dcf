"""What the fake exchange promises beyond the port contract: its catalogue, symbol statuses and account."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal

import pytest

from adapters.clock import FakeClock
from adapters.memory import FakeExchange, default_catalog
from domain import (
    DEFAULT_SYMBOLS,
    ConfigurationError,
    Interval,
    InvalidRequestError,
    InvalidSymbolError,
    RateLimit,
    Symbol,
    SymbolStatus,
)
from domain.validators import check_price_on_tick
from tests.unit.adapters.memory.conftest import NOW_MS

UNICODE = Symbol("这是测试币456")
BROKEN = Symbol("BCCBTC")
HALTED = Symbol("LUNAUSDT")


async def test_exchange_info_lists_the_whole_catalogue_defaults_first(fake: FakeExchange) -> None:
    info = await fake.get_exchange_info()

    assert len(info.symbols) == len(default_catalog()) >= 25
    assert tuple(rules.symbol for rules in info.symbols[:5]) == DEFAULT_SYMBOLS
    assert (info.timezone, info.server_time_ms) == ("UTC", NOW_MS)
    statuses = {rules.symbol: rules.status for rules in info.symbols}
    assert (statuses[HALTED], statuses[BROKEN], statuses[UNICODE]) == ("HALT", "BREAK", "TRADING")


async def test_every_symbol_has_the_filters_a_client_needs(fake: FakeExchange) -> None:
    for rules in (await fake.get_exchange_info()).symbols:
        assert rules.price_filter is not None
        assert rules.lot_size is not None
        assert rules.market_lot_size is not None
        assert rules.notional is not None
        assert rules.price_filter.min_price == rules.price_filter.tick_size > 0
        assert rules.price_filter.max_price > rules.price_filter.min_price
        assert 0 < rules.lot_size.min_qty <= rules.lot_size.max_qty
        assert rules.notional.min_notional > 0
        assert rules.permission_sets
        assert "MARKET" in rules.order_types


async def test_rate_limits_are_binances(fake: FakeExchange) -> None:
    info = await fake.get_exchange_info()

    assert info.request_weight_limits == (RateLimit("REQUEST_WEIGHT", "MINUTE", 1, 6000),)
    types = {limit.rate_limit_type for limit in info.rate_limits}
    assert types == {"REQUEST_WEIGHT", "ORDERS", "RAW_REQUESTS"}


async def test_the_unicode_test_coin_is_a_full_symbol(fake: FakeExchange) -> None:
    rules = (await fake.get_exchange_info([UNICODE])).rules_for(UNICODE)
    quote = await fake.get_symbol_ticker(UNICODE)

    assert (rules.base_asset, rules.quote_asset) == ("这是测试币", "456")
    assert check_price_on_tick(quote.price, rules) == []


async def test_every_current_price_is_on_its_tick_and_within_the_price_filter(fake: FakeExchange) -> None:
    info = await fake.get_exchange_info()

    for quote in await fake.get_symbol_tickers(None):
        assert check_price_on_tick(quote.price, info.rules_for(quote.symbol)) == []


async def test_all_symbols_means_every_symbol_with_market_data(fake: FakeExchange) -> None:
    quotes = await fake.get_symbol_tickers(None)
    tickers = await fake.get_tickers_24h(None)
    books = await fake.get_book_tickers(None)

    expected = [spec.symbol for spec in default_catalog() if spec.status != SymbolStatus.BREAK]
    assert [q.symbol for q in quotes] == [t.symbol for t in tickers] == [b.symbol for b in books] == expected
    assert HALTED in expected


@pytest.mark.parametrize(
    "call",
    [
        lambda fake: fake.get_symbol_ticker(BROKEN),
        lambda fake: fake.get_ticker_24h(BROKEN),
        lambda fake: fake.get_book_ticker(BROKEN),
        lambda fake: fake.get_symbol_tickers([Symbol("BTCUSDT"), BROKEN]),
        lambda fake: fake.get_kline_data(BROKEN, Interval.MINUTE_1),
    ],
    ids=["price", "ticker-24h", "book-ticker", "prices", "klines"],
)
async def test_a_symbol_in_break_has_no_market_data(
    fake: FakeExchange, call: Callable[[FakeExchange], Awaitable[object]]
) -> None:
    with pytest.raises(InvalidSymbolError, match="BREAK") as raised:
        await call(fake)

    assert (raised.value.code, raised.value.http_status) == (-1121, 400)
    assert raised.value.endpoint is not None


async def test_an_unknown_symbol_error_names_the_symbol_and_the_endpoint(fake: FakeExchange) -> None:
    with pytest.raises(InvalidSymbolError, match="NOPEUSDT") as raised:
        await fake.get_kline_data(Symbol("NOPEUSDT"), Interval.HOUR_1)

    assert (raised.value.code, raised.value.endpoint) == (-1121, "/api/v3/klines")


async def test_a_symbol_does_not_exist_before_its_listing() -> None:
    fake = FakeExchange(clock=FakeClock(1_577_836_800_000))  # 2020-01-01, before SOLUSDT was listed
    sol = Symbol("SOLUSDT")

    info = await fake.get_exchange_info()
    with pytest.raises(InvalidSymbolError):
        await fake.get_symbol_ticker(sol)

    assert sol not in info
    assert Symbol("BTCUSDT") in info
    assert sol not in {q.symbol for q in await fake.get_symbol_tickers(None)}


async def test_a_repeated_symbol_is_refused_like_binance_does(fake: FakeExchange) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        await fake.get_symbol_tickers([Symbol("BTCUSDT"), Symbol("BTCUSDT")])

    assert raised.value.code == -1151


async def test_an_empty_list_of_symbols_gives_an_empty_answer(fake: FakeExchange) -> None:
    assert await fake.get_symbol_tickers([]) == []
    assert await fake.get_tickers_24h([]) == []
    assert (await fake.get_exchange_info([])).symbols == ()


async def test_the_account_has_zero_locked_and_unicode_balances(fake: FakeExchange) -> None:
    info = await fake.get_account_info()

    assert info.permissions == ("SPOT",)
    assert info.account_type == "SPOT"
    assert info.update_time_ms <= NOW_MS
    assert any(b.is_zero for b in info.balances)
    assert any(b.locked > 0 for b in info.balances)
    assert info.balance("这是测试币") is not None
    assert info.commission_rates.taker == Decimal("0.001")
    assert len((await fake.get_account_info(omit_zero_balances=True)).balances) < len(info.balances)


async def test_without_credentials_the_account_is_refused_as_a_configuration_error(clock: FakeClock) -> None:
    fake = FakeExchange(clock=clock, has_credentials=False)

    with pytest.raises(ConfigurationError, match="credentials"):
        await fake.get_account_info()

    assert not fake.has_credentials
    assert fake.calls["get_account_info"] == 1
    assert (await fake.get_server_time()).server_time_ms == NOW_MS  # market data needs no credentials


async def test_closing_the_fake_releases_nothing_and_it_keeps_answering(fake: FakeExchange) -> None:
    await fake.aclose()

    assert (await fake.get_server_time()).server_time_ms == NOW_MS
