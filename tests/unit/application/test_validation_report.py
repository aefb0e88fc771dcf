"""validate_market_data: one report with every problem of quotes, tickers, books, klines and series."""

from __future__ import annotations

from decimal import Decimal

import attrs

from adapters.container import Container
from adapters.memory import FakeExchange
from application import MarketDataService
from domain import Balance, Interval, Kline, Symbol
from domain.validators import MissingRange, Reason
from tests.unit.application.conftest import MINUTE_MS, NOW_MS

BTC, ETH = Symbol("BTCUSDT"), Symbol("ETHUSDT")
START_MS = Interval.MINUTE_1.open_time_ms(NOW_MS) - 100 * MINUTE_MS


def _service(container: Container) -> MarketDataService:
    service = container.market_data_service()
    assert isinstance(service, MarketDataService)
    return service


async def _candles(fake: FakeExchange, symbol: Symbol, count: int = 20) -> list[Kline]:
    return await fake.get_kline_data(symbol, Interval.MINUTE_1, START_MS, limit=count)


async def test_the_fake_exchanges_data_passes(container: Container, fake: FakeExchange) -> None:
    symbols = [BTC, ETH]
    report = _service(container).validate_market_data(
        quotes=await fake.get_symbol_tickers(symbols),
        tickers=await fake.get_tickers_24h(symbols),
        book_tickers=await fake.get_book_tickers(symbols),
        klines=await _candles(fake, BTC) + await _candles(fake, ETH),
        balances=(await fake.get_account_info()).balances,
        exchange_info=await fake.get_exchange_info(symbols),
    )

    assert report.ok, report.problems
    assert report.checked == 2 + 2 + 2 + 40 + len((await fake.get_account_info()).balances)


async def test_every_corruption_is_reported_under_its_label(container: Container, fake: FakeExchange) -> None:
    quote = (await fake.get_symbol_tickers([BTC]))[0]
    ticker = (await fake.get_tickers_24h([BTC]))[0]
    book = (await fake.get_book_tickers([BTC]))[0]
    klines = await _candles(fake, BTC)
    klines[3] = attrs.evolve(klines[3], low=klines[3].high + 1)

    report = _service(container).validate_market_data(
        quotes=[attrs.evolve(quote, price=Decimal("-1"))],
        tickers=[attrs.evolve(ticker, volume=Decimal("-5"))],
        book_tickers=[attrs.evolve(book, bid_price=book.ask_price + 1)],
        klines=klines,
        balances=[Balance("BTC", Decimal("-0.1"), Decimal(0))],
    )

    found = {(label, v.reason) for label, v in report.problems}
    assert found == {
        ("BTCUSDT quote", Reason.PRICE_NOT_POSITIVE),
        ("BTCUSDT ticker24h", Reason.NEGATIVE_QUANTITY),
        ("BTCUSDT book", Reason.CROSSED_BOOK),
        (f"BTCUSDT 1m kline {klines[3].open_time_ms}", Reason.OHLC_INCONSISTENT),
        ("balance BTC", Reason.NEGATIVE_QUANTITY),
    }
    assert not report.ok
    assert report.counts_by_reason()[Reason.NEGATIVE_QUANTITY] == 2


async def test_series_gaps_and_duplicates_are_reported_per_symbol(
    container: Container, fake: FakeExchange
) -> None:
    btc = await _candles(fake, BTC)
    eth = await _candles(fake, ETH)
    holed = btc[:5] + btc[8:]  # three candles missing
    doubled = [*eth[:10], eth[9], *eth[10:]]

    report = _service(container).validate_market_data(klines=holed + doubled)

    assert report.gaps == (("BTCUSDT 1m series", MissingRange(btc[5].open_time_ms, btc[7].open_time_ms, 3)),)
    assert [(label, v.reason) for label, v in report.problems] == [("ETHUSDT 1m series", Reason.DUPLICATE)]


async def test_a_requested_range_makes_missing_ends_gaps(container: Container, fake: FakeExchange) -> None:
    btc = await _candles(fake, BTC)
    first, last = btc[0].open_time_ms, btc[-1].open_time_ms

    report = _service(container).validate_market_data(
        klines=btc[2:-1], kline_ranges={(BTC, Interval.MINUTE_1): (first, last)}
    )

    assert [gap for _, gap in report.gaps] == [
        MissingRange(first, first + MINUTE_MS, 2),
        MissingRange(last, last, 1),
    ]


async def test_exchange_rules_check_listing_status_and_tick_size(
    container: Container, fake: FakeExchange
) -> None:
    quote = (await fake.get_symbol_tickers([BTC]))[0]
    info = await fake.get_exchange_info([ETH])

    report = _service(container).validate_market_data(
        quotes=[attrs.evolve(quote, symbol=ETH, price=Decimal("3000.005")), quote], exchange_info=info
    )

    reasons = [(label, v.reason) for label, v in report.problems]
    assert reasons == [
        ("ETHUSDT quote", Reason.PRICE_NOT_ON_TICK),
        ("BTCUSDT rules", Reason.UNKNOWN_SYMBOL),
    ]


async def test_nothing_to_check_is_an_empty_passing_report(container: Container) -> None:
    report = _service(container).validate_market_data()

    assert report.ok
    assert report.checked == 0
