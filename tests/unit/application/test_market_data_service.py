"""MarketDataService through the container on the fake exchange: prices, tickers and the clock offset."""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest

from adapters.clock import FakeClock
from adapters.container import Container
from adapters.memory import FakeExchange
from application import MarketDataService
from domain import (
    DEFAULT_SYMBOLS,
    DataValidationError,
    InvalidInputError,
    InvalidSymbolError,
    PriceQuote,
    ServerTime,
    Symbol,
)
from domain.validators import Reason
from tests.unit.application.conftest import NOW_MS
from tests.unit.application.corrupting import CorruptingMarket

TEN = [
    *(str(s) for s in DEFAULT_SYMBOLS),
    *("ADAUSDT", "DOGEUSDT", "TRXUSDT", "DOTUSDT", "LTCUSDT"),
]


def _service(container: Container) -> MarketDataService:
    service = container.market_data_service()
    assert isinstance(service, MarketDataService)
    return service


async def test_prices_of_many_symbols_take_one_port_call(container: Container, fake: FakeExchange) -> None:
    prices = await _service(container).fetch_current_prices(TEN)

    assert list(prices) == TEN
    assert all(price > 0 for price in prices.values())
    assert fake.calls["get_symbol_tickers"] == 1
    assert sum(fake.calls.values()) == 1


async def test_prices_come_back_in_request_order_whatever_the_text_case(container: Container) -> None:
    prices = await _service(container).fetch_current_prices(["xrpusdt", Symbol("BTCUSDT")])

    assert list(prices) == ["XRPUSDT", "BTCUSDT"]


async def test_quotes_carry_the_exchange_time(container: Container) -> None:
    quotes = await _service(container).fetch_quotes(DEFAULT_SYMBOLS)

    assert [q.symbol for q in quotes] == list(DEFAULT_SYMBOLS)
    assert {q.as_of_ms for q in quotes} == {NOW_MS}


@pytest.mark.parametrize("symbols", [[], ["BTCUSDT", "btcusdt"], ["BTC-USDT"]])
async def test_unusable_symbol_lists_are_refused_before_any_call(
    container: Container, fake: FakeExchange, symbols: list[str]
) -> None:
    with pytest.raises(InvalidInputError):
        await _service(container).fetch_current_prices(symbols)

    assert sum(fake.calls.values()) == 0


async def test_a_symbol_the_exchange_does_not_list_is_an_invalid_symbol_error(container: Container) -> None:
    with pytest.raises(InvalidSymbolError) as caught:
        await _service(container).fetch_current_prices(["BTCUSDT", "NOPEUSDT"])

    assert caught.value.code == -1121


def _negative_first(quotes: list[PriceQuote]) -> list[PriceQuote]:
    return [attrs.evolve(quotes[0], price=Decimal(-1)), *quotes[1:]]


async def test_an_invalid_quote_raises_a_validation_error_naming_the_symbol_and_rule(
    container: Container, clock: FakeClock
) -> None:
    container.fake_exchange.override(CorruptingMarket(clock, quotes=_negative_first))

    with pytest.raises(DataValidationError) as caught:
        await _service(container).fetch_current_prices(["ETHUSDT", "BTCUSDT"])

    assert [v.reason for v in caught.value.violations] == [Reason.PRICE_NOT_POSITIVE]
    assert "ETHUSDT quote price: -1 is not positive" in str(caught.value)
    assert caught.value.exit_code == 7


async def test_a_quote_missing_from_the_answer_is_a_validation_error(
    container: Container, clock: FakeClock
) -> None:
    container.fake_exchange.override(CorruptingMarket(clock, quotes=lambda quotes: quotes[1:]))

    with pytest.raises(DataValidationError, match="ETHUSDT price symbol: missing from the answer"):
        await _service(container).fetch_current_prices(["ETHUSDT", "BTCUSDT"])


async def test_a_stale_quote_is_a_validation_error(container: Container, clock: FakeClock) -> None:
    old = NOW_MS - 10 * 60_000
    container.fake_exchange.override(
        CorruptingMarket(clock, quotes=lambda quotes: [attrs.evolve(q, as_of_ms=old) for q in quotes])
    )

    with pytest.raises(DataValidationError) as caught:
        await _service(container).fetch_current_prices(["BTCUSDT"])

    assert [v.reason for v in caught.value.violations] == [Reason.STALE_TIMESTAMP]


async def test_many_problems_are_all_kept_and_the_message_stays_short(
    container: Container, clock: FakeClock
) -> None:
    container.fake_exchange.override(
        CorruptingMarket(clock, quotes=lambda quotes: [attrs.evolve(q, price=Decimal(0)) for q in quotes])
    )

    with pytest.raises(DataValidationError) as caught:
        await _service(container).fetch_current_prices(TEN)

    assert len(caught.value.violations) == 10
    assert str(caught.value).endswith("and 7 more")


async def test_24h_tickers_of_many_symbols_take_one_port_call(
    container: Container, fake: FakeExchange
) -> None:
    tickers = await _service(container).fetch_tickers_24h(TEN)

    assert [str(t.symbol) for t in tickers] == TEN
    assert all(t.low_price <= t.last_price <= t.high_price for t in tickers)
    assert fake.calls["get_tickers_24h"] == 1


async def test_book_tickers_of_many_symbols_take_one_port_call(
    container: Container, fake: FakeExchange
) -> None:
    books = await _service(container).fetch_book_tickers(DEFAULT_SYMBOLS)

    assert [b.symbol for b in books] == list(DEFAULT_SYMBOLS)
    assert all(b.bid_price <= b.ask_price for b in books)
    assert fake.calls["get_book_tickers"] == 1


async def test_exchange_info_covers_the_chosen_pairs(container: Container) -> None:
    info = await _service(container).fetch_exchange_info(["BTCUSDT", "ETHBTC"])

    assert [str(r.symbol) for r in info.symbols] == ["BTCUSDT", "ETHBTC"]
    assert info.request_weight_limits


class SkewedServerClock(FakeExchange):
    """An exchange whose clock runs ``skew_ms`` ahead, with a symmetric network delay each way."""

    def __init__(self, clock: FakeClock, *, skew_ms: int, one_way_ms: int) -> None:
        super().__init__(clock)
        self._fake_clock = clock
        self._skew_ms = skew_ms
        self._one_way_ms = one_way_ms

    async def get_server_time(self) -> ServerTime:
        self._fake_clock.advance(self._one_way_ms)
        stamped = self._fake_clock.now_ms() + self._skew_ms
        self._fake_clock.advance(self._one_way_ms)
        return ServerTime(stamped)


async def test_the_clock_offset_is_compensated_for_the_round_trip(
    container: Container, clock: FakeClock
) -> None:
    container.fake_exchange.override(SkewedServerClock(clock, skew_ms=2_500, one_way_ms=40))

    reading = await _service(container).measure_clock_offset()

    assert reading.local_time_ms == NOW_MS
    assert reading.server_time_ms == NOW_MS + 40 + 2_500
    assert reading.rtt_ms == pytest.approx(80)
    assert reading.offset_ms == pytest.approx(2_500)
