"""The fake's market model: seeded, reproducible, and consistent across klines, tickers and prices."""

from __future__ import annotations

from decimal import Decimal

import pytest

from adapters.clock import FakeClock
from adapters.memory import FakeExchange, default_catalog
from domain import DEFAULT_SYMBOLS, Interval, Kline, Symbol, SymbolRules
from domain.validators import ValidationPolicy, check_kline, check_price_on_tick
from tests.unit.adapters.memory.conftest import NOW_MS

BTC = Symbol("BTCUSDT")
MINUTE_MS = 60_000
HOUR_MS = 3_600_000
DAY_MS = 86_400_000
ALIGNED_NOW_MS = 1_768_478_400_000  # 2026-01-15 12:00:00.000 UTC


async def _snapshot(fake: FakeExchange) -> tuple[object, ...]:
    return (
        await fake.get_symbol_tickers(None),
        await fake.get_tickers_24h(DEFAULT_SYMBOLS),
        await fake.get_book_tickers(DEFAULT_SYMBOLS),
        await fake.get_kline_data(BTC, Interval.MINUTE_1, limit=1000),
        await fake.get_kline_data(Symbol("XRPUSDT"), Interval.DAY_1, start_ms=0, limit=50),
    )


async def test_the_same_seed_gives_the_same_market() -> None:
    first = FakeExchange(clock=FakeClock(NOW_MS), seed=42)
    second = FakeExchange(clock=FakeClock(NOW_MS), seed=42)

    assert await _snapshot(first) == await _snapshot(second)


async def test_different_seeds_give_different_markets() -> None:
    fakes = [FakeExchange(clock=FakeClock(NOW_MS), seed=seed) for seed in (1, 2)]
    prices = [[q.price for q in await fake.get_symbol_tickers(DEFAULT_SYMBOLS)] for fake in fakes]

    assert all(a != b for a, b in zip(*prices, strict=True))


async def test_closed_candles_stay_the_same_as_time_passes(fake: FakeExchange, clock: FakeClock) -> None:
    before = await fake.get_kline_data(BTC, Interval.MINUTE_1, limit=200)
    clock.advance(7 * DAY_MS + 12_345)
    after = await fake.get_kline_data(BTC, Interval.MINUTE_1, start_ms=before[0].open_time_ms, limit=200)

    assert after[:-1] == before[:-1]
    assert after[-1].open_time_ms == before[-1].open_time_ms
    assert after[-1].open == before[-1].open


async def test_an_open_candle_keeps_growing_until_it_closes(fake: FakeExchange, clock: FakeClock) -> None:
    seen = []
    for _ in range(4):
        (candle,) = await fake.get_kline_data(BTC, Interval.HOUR_1, limit=1)
        seen.append(candle)
        clock.advance(5 * MINUTE_MS)

    assert len({c.open_time_ms for c in seen}) == 1
    assert all(c.close_time_ms >= NOW_MS for c in seen)
    assert [c.volume for c in seen] == sorted(c.volume for c in seen)
    assert [c.trade_count for c in seen] == sorted(c.trade_count for c in seen)


@pytest.mark.parametrize("interval", list(Interval), ids=lambda i: i.value)
async def test_the_current_price_is_the_close_of_every_open_candle(
    fake: FakeExchange, interval: Interval
) -> None:
    price = await fake.get_symbol_ticker(BTC)
    (candle,) = await fake.get_kline_data(BTC, interval, limit=1)

    assert candle.close == price.price
    assert candle.open_time_ms <= NOW_MS <= candle.close_time_ms


async def test_an_hour_is_the_sum_of_its_minutes(fake: FakeExchange) -> None:
    start = ALIGNED_NOW_MS - 5 * HOUR_MS
    (hour,) = await fake.get_kline_data(BTC, Interval.HOUR_1, start_ms=start, limit=1)
    minutes = await fake.get_kline_data(BTC, Interval.MINUTE_1, start_ms=start, end_ms=start + HOUR_MS - 1)

    assert len(minutes) == 60
    assert hour.open == minutes[0].open
    assert hour.close == minutes[-1].close
    assert hour.volume == sum(m.volume for m in minutes)
    assert hour.trade_count == sum(m.trade_count for m in minutes)
    assert hour.low <= min(hour.open, hour.close) <= max(hour.open, hour.close) <= hour.high


def _off_grid(kline: Kline, rules: SymbolRules) -> list[str]:
    """Prices off the tick or outside PRICE_FILTER's range; volumes that are not whole steps."""
    assert rules.lot_size is not None
    step = rules.lot_size.step_size
    prices = (kline.open, kline.high, kline.low, kline.close)
    problems = [str(v) for price in prices for v in check_price_on_tick(price, rules)]
    volumes = (kline.volume, kline.taker_buy_base_volume)
    problems += [f"volume {q} not a multiple of {step}" for q in volumes if q % step]
    return problems


async def test_every_symbol_has_valid_candles_on_its_ticks_and_steps(fake: FakeExchange) -> None:
    info = await fake.get_exchange_info()
    policy = ValidationPolicy(max_future_ms=0, max_age_ms=None)
    for rules in info.symbols:
        if rules.status == "BREAK":
            continue
        for interval in (Interval.SECOND_1, Interval.MINUTE_1, Interval.DAY_1, Interval.MONTH_1):
            klines = await fake.get_kline_data(rules.symbol, interval, limit=200)
            assert klines, (rules.symbol, interval)
            assert [v for k in klines for v in check_kline(k, NOW_MS, policy)] == [], (rules.symbol, interval)
            assert [p for k in klines for p in _off_grid(k, rules)] == [], (rules.symbol, interval)
            assert all(k.taker_buy_base_volume <= k.volume for k in klines)
            assert all(k.taker_buy_quote_volume <= k.quote_volume for k in klines)


@pytest.mark.parametrize(
    ("symbol", "interval", "first_open"),
    [
        ("BNBUSDT", Interval.MINUTE_1, 1_509_939_000_000),  # listed 2017-11-06 03:30
        ("BNBUSDT", Interval.HOUR_1, 1_509_937_200_000),  # the hour that contains the listing: 03:00
        ("BNBUSDT", Interval.MONTH_1, 1_509_494_400_000),  # 2017-11-01
    ],
)
async def test_history_starts_with_the_candle_that_contains_the_listing(
    fake: FakeExchange, symbol: str, interval: Interval, first_open: int
) -> None:
    klines = await fake.get_kline_data(Symbol(symbol), interval, start_ms=0, limit=3)

    assert klines[0].open_time_ms == first_open
    assert klines[0].volume > 0


async def test_no_candle_opens_after_now(fake: FakeExchange) -> None:
    klines = await fake.get_kline_data(BTC, Interval.MINUTE_1, end_ms=NOW_MS + 365 * DAY_MS, limit=5)

    assert klines[-1].open_time_ms == Interval.MINUTE_1.open_time_ms(NOW_MS)


async def test_a_halted_symbol_stands_still(fake: FakeExchange, clock: FakeClock) -> None:
    luna = Symbol("LUNAUSDT")
    klines = await fake.get_kline_data(luna, Interval.DAY_1, limit=10)
    price = await fake.get_symbol_ticker(luna)
    clock.advance(3 * DAY_MS)
    ticker = await fake.get_ticker_24h(luna)

    assert all(k.open == k.high == k.low == k.close == price.price for k in klines)
    assert all(k.volume == 0 and k.trade_count == 0 for k in klines)
    assert ticker.last_price == price.price
    assert (ticker.volume, ticker.trade_count, ticker.first_trade_id) == (Decimal(0), 0, -1)


async def test_the_24h_ticker_agrees_with_the_minute_candles() -> None:
    fake = FakeExchange(clock=FakeClock(ALIGNED_NOW_MS))
    start = ALIGNED_NOW_MS - DAY_MS
    minutes = await fake.get_kline_data(BTC, Interval.MINUTE_1, start_ms=start, limit=1000)
    minutes += await fake.get_kline_data(BTC, Interval.MINUTE_1, start_ms=start + 1000 * MINUTE_MS, limit=440)
    hours = await fake.get_kline_data(BTC, Interval.HOUR_1, start_ms=start, limit=24)

    ticker = await fake.get_ticker_24h(BTC)

    assert len(minutes) == 1440
    assert (ticker.open_time_ms, ticker.close_time_ms) == (start, ALIGNED_NOW_MS)
    assert ticker.open_price == minutes[0].open
    assert ticker.last_price == minutes[-1].close
    assert ticker.volume == sum(m.volume for m in minutes)
    assert ticker.trade_count == sum(m.trade_count for m in minutes)
    assert ticker.last_trade_id - ticker.first_trade_id + 1 == ticker.trade_count
    assert ticker.high_price == max(h.high for h in hours)
    assert ticker.low_price == min(h.low for h in hours)
    assert ticker.low_price <= ticker.weighted_avg_price <= ticker.high_price


async def test_the_last_trade_lies_between_the_best_bid_and_ask(fake: FakeExchange, clock: FakeClock) -> None:
    for _ in range(50):
        price = await fake.get_symbol_ticker(BTC)
        book = await fake.get_book_ticker(BTC)
        assert book.bid_price <= price.price <= book.ask_price
        assert book.bid_price < book.ask_price
        assert book.bid_qty > 0
        assert book.ask_qty > 0
        clock.advance(997)


@pytest.mark.parametrize("symbol", ["SHIBUSDT", "PEPEUSDT", "BTCUSDT"])
async def test_volumes_are_plain_decimals_in_whole_steps(fake: FakeExchange, symbol: str) -> None:
    (kline,) = await fake.get_kline_data(Symbol(symbol), Interval.DAY_1, end_ms=NOW_MS - DAY_MS, limit=1)

    assert "E" not in str(kline.volume)
    assert "E" not in str(kline.quote_volume)
    assert kline.volume > 0


def test_the_catalogue_has_a_listing_time_before_now_for_every_symbol() -> None:
    assert all(0 < spec.listed_ms < NOW_MS for spec in default_catalog())
