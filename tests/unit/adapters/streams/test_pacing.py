"""Reconnect backoff and the connection-attempt budget."""

from __future__ import annotations

import pytest

from adapters.streams._pacing import AttemptBudget, Backoff


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("attempt", "ceiling"), [(1, 0.5), (2, 1.0), (3, 2.0), (6, 16.0), (7, 30.0), (99, 30.0)]
)
def test_backoff_doubles_its_ceiling_up_to_the_cap(attempt: int, ceiling: float) -> None:
    assert Backoff(0.5, 30.0, rng=lambda: 1.0).delay(attempt) == ceiling


def test_backoff_is_fully_jittered() -> None:
    assert Backoff(0.5, 30.0, rng=lambda: 0.25).delay(3) == 0.5
    assert Backoff(0.5, 30.0, rng=lambda: 0.0).delay(9) == 0.0


def test_backoff_needs_a_base_below_its_cap() -> None:
    with pytest.raises(ValueError, match="base <= cap"):
        Backoff(2.0, 1.0)


def test_the_budget_admits_up_to_its_limit_in_any_window() -> None:
    ticks = Ticks()
    budget = AttemptBudget(3, 300.0, monotonic=ticks)
    for at in (0.0, 10.0, 20.0):
        ticks.now = at
        assert budget.wait_s() == 0
        budget.record()

    ticks.now = 100.0
    assert budget.wait_s() == 200.0  # until the first attempt leaves the window
    ticks.now = 300.0
    assert budget.wait_s() == 0
    assert budget.used == 2


def test_the_budget_needs_a_limit_and_a_window() -> None:
    with pytest.raises(ValueError, match="limit >= 1"):
        AttemptBudget(0, 300.0, monotonic=Ticks())
