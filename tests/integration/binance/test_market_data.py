"""Every market-data method of the adapter against the loopback exchange, over real HTTP."""

from __future__ import annotations

import itertools

import pytest

from adapters.binance.signing import encode_params, symbols_param
from domain import Interval, InvalidSymbolError, Symbol
from tests.integration.binance.conftest import Connect
from tests.loopback import UNICODE_SYMBOL, LoopbackExchange

BTC, ETH, BNB = Symbol("BTCUSDT"), Symbol("ETHUSDT"), Symbol("BNBUSDT")


async def test_every_market_data_method_answers(
    loopback_exchange: LoopbackExchange, connect: Connect
) -> None:
    adapter = connect(loopback_exchange)

    server_time = await adapter.get_server_time()
    info = await adapter.get_exchange_info()
    some_info = await adapter.get_exchange_info([BTC, ETH])
    quote = await adapter.get_symbol_ticker(BTC)
    quotes = await adapter.get_symbol_tickers([ETH, BTC, BNB])
    every_quote = await adapter.get_symbol_tickers()
    ticker = await adapter.get_ticker_24h(ETH)
    tickers = await adapter.get_tickers_24h([BNB, BTC])
    book = await adapter.get_book_ticker(BTC)
    books = await adapter.get_book_tickers([BTC, ETH])
    klines = await adapter.get_kline_data(BTC, Interval.MINUTE_1, limit=1000)

    assert abs(server_time.server_time_ms - loopback_exchange.now_ms()) < 5_000
    assert BTC in info
    assert [rules.symbol for rules in some_info.symbols] == [BTC, ETH]
    assert quote.symbol == BTC
    assert quote.price > 0
    assert [q.symbol for q in quotes] == [ETH, BTC, BNB]
    assert len(every_quote) >= 25
    assert ticker.symbol == ETH
    assert [t.symbol for t in tickers] == [BNB, BTC]
    assert book.bid_price <= book.ask_price
    assert [b.symbol for b in books] == [BTC, ETH]
    assert len(klines) == 1000
    assert all(
        later.open_time_ms - earlier.open_time_ms == 60_000 for earlier, later in itertools.pairwise(klines)
    )
    assert loopback_exchange.count_429 == 0


async def test_klines_follow_the_range_semantics(
    loopback_exchange: LoopbackExchange, connect: Connect
) -> None:
    adapter = connect(loopback_exchange)
    newest = await adapter.get_kline_data(BTC, Interval.HOUR_1, limit=3)
    start = newest[0].open_time_ms - 10 * 3_600_000

    page = await adapter.get_kline_data(BTC, Interval.HOUR_1, start_ms=start, end_ms=start + 4 * 3_600_000)

    assert [k.open_time_ms for k in page] == [start + i * 3_600_000 for i in range(5)]


async def test_a_unicode_symbol_is_sent_percent_encoded_and_answered(
    loopback_exchange: LoopbackExchange, connect: Connect
) -> None:
    adapter = connect(loopback_exchange)
    unicode = Symbol(UNICODE_SYMBOL)

    (quote, btc) = await adapter.get_symbol_tickers([unicode, BTC])

    assert quote.symbol == unicode
    assert btc.symbol == BTC
    (request,) = loopback_exchange.requests_to("/api/v3/ticker/price")
    assert request.query_string == encode_params([("symbols", symbols_param([UNICODE_SYMBOL, "BTCUSDT"]))])


async def test_24hr_statistics_of_many_symbols_come_in_bands_of_twenty(
    loopback_exchange: LoopbackExchange, connect: Connect
) -> None:
    adapter = connect(loopback_exchange)
    info = await adapter.get_exchange_info()
    wanted = [rules.symbol for rules in info.symbols if rules.is_trading][:25]
    loopback_exchange.clear_requests()

    tickers = await adapter.get_tickers_24h(wanted)

    assert [t.symbol for t in tickers] == wanted
    assert sorted(r.weight for r in loopback_exchange.requests) == [2, 2]  # not one call of weight 40


async def test_an_unknown_symbol_is_an_invalid_symbol_error(
    loopback_exchange: LoopbackExchange, connect: Connect
) -> None:
    adapter = connect(loopback_exchange)

    with pytest.raises(InvalidSymbolError) as caught:
        await adapter.get_symbol_ticker(Symbol("NOSUCHUSDT"))

    assert caught.value.code == -1121
    assert caught.value.endpoint == "/api/v3/ticker/price"
    assert len(loopback_exchange.requests) == 1
