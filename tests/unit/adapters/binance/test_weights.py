"""Endpoint weights from the documentation and the cheapest way to ask for many symbols."""

from __future__ import annotations

import pytest

from adapters.binance.weights import (
    book_ticker_weight,
    depth_weight,
    plan_symbols,
    ticker_24hr_weight,
    ticker_price_weight,
)


def names(count: int) -> list[str]:
    return [f"S{i:04d}USDT" for i in range(count)]


@pytest.mark.parametrize(("count", "weight"), [(1, 2), (2, 4), (500, 4), (None, 4)])
def test_ticker_price_and_book_ticker_weights(count: int | None, weight: int) -> None:
    assert ticker_price_weight(count) == book_ticker_weight(count) == weight


@pytest.mark.parametrize(
    ("count", "weight"), [(1, 2), (20, 2), (21, 40), (100, 40), (101, 80), (1000, 80), (None, 80)]
)
def test_ticker_24hr_weight_tiers(count: int | None, weight: int) -> None:
    assert ticker_24hr_weight(count) == weight


@pytest.mark.parametrize(
    ("limit", "weight"),
    [(1, 5), (100, 5), (101, 25), (500, 25), (501, 50), (1000, 50), (1001, 250), (5000, 250)],
)
def test_depth_weight_tiers(limit: int, weight: int) -> None:
    assert depth_weight(limit) == weight


def test_one_symbol_uses_the_single_symbol_form() -> None:
    plan = plan_symbols(["BTCUSDT"], ticker_price_weight)

    assert (plan.form, plan.weight, plan.batches) == ("single", 2, (("BTCUSDT",),))


def test_up_to_a_hundred_prices_are_one_symbols_call() -> None:
    plan = plan_symbols(names(100), ticker_price_weight)

    assert (plan.form, plan.weight, plan.calls) == ("batches", 4, 1)


def test_more_than_a_hundred_prices_ask_for_every_symbol_at_the_same_weight() -> None:
    plan = plan_symbols(names(101), ticker_price_weight)

    assert (plan.form, plan.weight, plan.calls) == ("all", 4, 1)


@pytest.mark.parametrize(("count", "calls", "weight"), [(20, 1, 2), (21, 2, 4), (100, 5, 10), (101, 6, 12)])
def test_24hr_statistics_are_split_into_bands_of_twenty_when_that_weighs_less(
    count: int, calls: int, weight: int
) -> None:
    plan = plan_symbols(names(count), ticker_24hr_weight, (20,))

    assert (plan.form, plan.calls, plan.weight) == ("batches", calls, weight)
    assert [s for batch in plan.batches for s in batch] == names(count)  # every symbol, in request order
    assert all(len(batch) <= 20 for batch in plan.batches)


@pytest.mark.parametrize(
    ("count", "form", "weight"), [(780, "batches", 78), (800, "all", 80), (5000, "all", 80)]
)
def test_beyond_the_bands_every_symbol_is_asked_for(count: int, form: str, weight: int) -> None:
    plan = plan_symbols(names(count), ticker_24hr_weight, (20,))

    assert (plan.form, plan.weight) == (form, weight)


def test_no_batch_is_larger_than_the_cap() -> None:
    plan = plan_symbols(names(250), lambda n: 1 if n is not None else 1000, max_batch=100)

    assert [len(batch) for batch in plan.batches] == [100, 100, 50]


def test_a_few_symbols_are_never_the_all_form() -> None:
    assert plan_symbols(names(2), ticker_price_weight).form == "batches"  # 4 either way, one call either way
