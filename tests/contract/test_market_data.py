"""MarketDataPort contract: server time, exchange rules, prices, 24h statistics and book tickers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from domain import DEFAULT_SYMBOLS, InvalidSymbolError, Symbol
from domain.validators import (
    ValidationPolicy,
    check_book_ticker,
    check_price_on_tick,
    check_quote,
    check_symbol_tradable,
    check_ticker,
)
from ports import MarketDataPort
from tests.contract.conftest import Implementation

UNKNOWN = Symbol("NOSUCHCOIN123")
SOME = (Symbol("ETHUSDT"), Symbol("BTCUSDT"), Symbol("XRPUSDT"))


def _policy(implementation: Implementation) -> ValidationPolicy:
    # Quotes are as of "now": none from the future beyond clock tolerance, none older than a minute.
    return ValidationPolicy(max_future_ms=implementation.clock_tolerance_ms, max_age_ms=60_000)


async def test_server_time_is_the_implementations_current_time(implementation: Implementation) -> None:
    before = implementation.now_ms()
    server = await implementation.market_data.get_server_time()
    after = implementation.now_ms()

    tolerance = implementation.clock_tolerance_ms
    assert before - tolerance <= server.server_time_ms <= after + tolerance


async def test_exchange_info_lists_the_default_symbols_with_their_filters(
    market_data: MarketDataPort,
) -> None:
    info = await market_data.get_exchange_info()

    for symbol in DEFAULT_SYMBOLS:
        rules = info.rules_for(symbol)
        assert check_symbol_tradable(symbol, info) == []
        assert rules.price_filter is not None
        assert rules.price_filter.tick_size > 0
        assert rules.lot_size is not None
        assert 0 <= rules.lot_size.min_qty <= rules.lot_size.max_qty
        assert rules.base_asset + rules.quote_asset == symbol.value


async def test_exchange_info_carries_a_request_weight_limit(market_data: MarketDataPort) -> None:
    info = await market_data.get_exchange_info()

    assert info.request_weight_limits
    assert all(limit.limit > 0 and limit.window_ms > 0 for limit in info.request_weight_limits)


async def test_exchange_info_for_chosen_symbols_lists_exactly_those(market_data: MarketDataPort) -> None:
    info = await market_data.get_exchange_info(list(SOME))

    assert {rules.symbol for rules in info.symbols} == set(SOME)


async def test_exchange_info_for_an_unknown_symbol_raises_invalid_symbol(market_data: MarketDataPort) -> None:
    with pytest.raises(InvalidSymbolError):
        await market_data.get_exchange_info([Symbol("BTCUSDT"), UNKNOWN])


async def test_a_price_is_positive_current_and_on_the_tick(implementation: Implementation) -> None:
    market = implementation.market_data
    rules = (await market.get_exchange_info([Symbol("BTCUSDT")])).rules_for(Symbol("BTCUSDT"))

    quote = await market.get_symbol_ticker(Symbol("BTCUSDT"))

    assert quote.symbol == Symbol("BTCUSDT")
    assert check_quote(quote, implementation.now_ms(), _policy(implementation)) == []
    assert check_price_on_tick(quote.price, rules) == []


@pytest.mark.parametrize("order", [DEFAULT_SYMBOLS, DEFAULT_SYMBOLS[::-1]], ids=["listed", "reversed"])
async def test_many_prices_come_one_per_symbol_in_request_order(
    implementation: Implementation, order: tuple[Symbol, ...]
) -> None:
    quotes = await implementation.market_data.get_symbol_tickers(order)

    assert [quote.symbol for quote in quotes] == list(order)
    now = implementation.now_ms()
    assert all(check_quote(quote, now, _policy(implementation)) == [] for quote in quotes)


async def test_all_prices_include_every_default_symbol_once(market_data: MarketDataPort) -> None:
    quotes = await market_data.get_symbol_tickers(None)

    symbols = [quote.symbol for quote in quotes]
    assert len(symbols) == len(set(symbols))
    assert set(DEFAULT_SYMBOLS) <= set(symbols)
    assert all(quote.price > 0 for quote in quotes)


@pytest.mark.parametrize(
    "call",
    [
        lambda market: market.get_symbol_ticker(UNKNOWN),
        lambda market: market.get_symbol_tickers([Symbol("BTCUSDT"), UNKNOWN]),
        lambda market: market.get_ticker_24h(UNKNOWN),
        lambda market: market.get_book_ticker(UNKNOWN),
    ],
    ids=["price", "prices", "ticker-24h", "book-ticker"],
)
async def test_an_unknown_symbol_raises_invalid_symbol(
    market_data: MarketDataPort, call: Callable[[MarketDataPort], Awaitable[object]]
) -> None:
    with pytest.raises(InvalidSymbolError):
        await call(market_data)


async def test_a_24h_ticker_is_consistent(implementation: Implementation) -> None:
    ticker = await implementation.market_data.get_ticker_24h(Symbol("BTCUSDT"))

    assert ticker.symbol == Symbol("BTCUSDT")
    assert check_ticker(ticker, implementation.now_ms(), _policy(implementation)) == []
    assert ticker.low_price <= ticker.last_price <= ticker.high_price
    assert ticker.open_time_ms < ticker.close_time_ms
    assert ticker.trade_count >= 0


async def test_24h_tickers_come_one_per_symbol_in_request_order(implementation: Implementation) -> None:
    tickers = await implementation.market_data.get_tickers_24h(list(SOME))

    assert [ticker.symbol for ticker in tickers] == list(SOME)
    now = implementation.now_ms()
    assert all(check_ticker(ticker, now, _policy(implementation)) == [] for ticker in tickers)


async def test_a_book_ticker_never_bids_above_the_ask(implementation: Implementation) -> None:
    book = await implementation.market_data.get_book_ticker(Symbol("BTCUSDT"))

    assert book.symbol == Symbol("BTCUSDT")
    assert book.bid_price <= book.ask_price
    assert check_book_ticker(book, implementation.now_ms(), _policy(implementation)) == []


async def test_book_tickers_come_one_per_symbol_in_request_order(implementation: Implementation) -> None:
    books = await implementation.market_data.get_book_tickers(list(SOME))

    assert [book.symbol for book in books] == list(SOME)
    now = implementation.now_ms()
    assert all(check_book_ticker(book, now, _policy(implementation)) == [] for book in books)
