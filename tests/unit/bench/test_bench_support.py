"""The benchmark harness's own logic: statistics, tables, the round structure and the runner's dispatch.

Nothing here times anything; the figures come from ``python -m bench``, never from tests.
"""

from __future__ import annotations

import pytest

from bench import __main__ as runner
from bench._support import Case, Stats, measure, render_table, summarize


def test_summarize_gives_the_median_and_the_extremes() -> None:
    assert summarize([3.0, 1.0, 2.0]) == Stats(median=2.0, min=1.0, max=3.0, rounds=3)


def test_summarize_takes_the_middle_of_an_even_count() -> None:
    assert summarize([4.0, 1.0, 3.0, 2.0]).median == 2.5


def test_summarize_refuses_no_samples() -> None:
    with pytest.raises(ValueError, match="no samples"):
        summarize([])


def test_stats_scale_every_figure() -> None:
    assert Stats(1.0, 0.5, 2.0, 3).scaled(1000) == Stats(1000.0, 500.0, 2000.0, 3)


def test_render_table_aligns_the_first_column_left_and_the_rest_right() -> None:
    table = render_table(["client", "ms"], [["raw", 0.5], ["adapter", "0.6"]])
    assert table.splitlines() == [
        "| client | ms |",
        "| :--- | ---: |",
        "| raw | 0.5 |",
        "| adapter | 0.6 |",
    ]


def test_render_table_refuses_a_row_of_the_wrong_width() -> None:
    with pytest.raises(ValueError, match="2 cells for 3 headers"):
        render_table(["a", "b", "c"], [["1", "2"]])


async def test_measure_warms_up_then_takes_one_sample_per_round_for_every_case() -> None:
    calls: list[str] = []
    rounds_started: list[str] = []

    async def fetch() -> None:
        calls.append("async")

    def fetch_sync() -> None:
        calls.append("sync")

    cases = [
        Case("client", "async op", fetch, before_round=lambda: rounds_started.append("async")),
        Case("client", "sync op", fetch_sync),
    ]
    results = await measure(cases, rounds=3, calls=4, warmup=2)

    assert calls.count("async") == calls.count("sync") == 2 + 3 * 4
    assert rounds_started == ["async"] * 3
    assert set(results) == {("client", "async op"), ("client", "sync op")}
    assert all(stats.rounds == 3 for stats in results.values())
    assert all(len(case.samples) == 3 for case in cases)


async def test_measure_refuses_zero_rounds() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        await measure([], rounds=0, calls=1, warmup=0)


def test_the_runner_lists_the_benchmarks_present(capsys: pytest.CaptureFixture[str]) -> None:
    assert runner.main(["--list"]) == 0
    listed = capsys.readouterr().out.split()
    assert "rest" in listed
    assert set(listed) <= set(runner.BENCHMARKS)


def test_the_runner_refuses_an_unknown_benchmark(capsys: pytest.CaptureFixture[str]) -> None:
    assert runner.main(["nonesuch"]) == 2
    assert "no benchmark named 'nonesuch'" in capsys.readouterr().err


def test_each_benchmark_run_together_writes_its_own_json_file() -> None:
    assert runner.per_benchmark(["--quick", "--json", "out/results.json"], "rest") == [
        "--quick",
        "--json",
        "out/results.rest.json",
    ]
    assert runner.per_benchmark(["--json=results.json"], "backfill") == ["--json=results.backfill.json"]
    assert runner.per_benchmark(["--rounds", "3"], "rest") == ["--rounds", "3"]
