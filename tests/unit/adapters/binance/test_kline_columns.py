"""The column path (a ``KlinePage`` proved valid) and the row-by-row path give the same candles, whatever
the spelling of the decimals; the exchange's own spelling takes the column path."""

from __future__ import annotations

import gc
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.binance import parsing
from adapters.binance._klines import build_klines, check_rows
from adapters.binance.parsing import parse_klines, read_klines
from domain import Interval, KlinePage, MalformedResponseError, Symbol

_SYMBOL, _INTERVAL = Symbol("BTCUSDT"), Interval.MINUTE_1
# Equal values spelled differently stay apart: "1.0" and "1.00000000" are different decimals exactly.
_TEXTS = ["1", "1.0", "1.00000000", "0.00000000", "0", "-0", "0.1", "1E+2", "1e-3", "2.50", "12345.67890123"]
_QUIET_TAIL = ("0", 0, "0.00000000", "0", "0")
_BAD = ["1.2.3", "", "abc", " 1", "1_0"]


@st.composite
def _pages(draw: st.DrawFn) -> list[list[Any]]:
    pool = draw(st.lists(st.sampled_from(_TEXTS), min_size=1, max_size=4))
    if draw(st.integers(0, 9)) == 0:
        pool.append(draw(st.sampled_from(_BAD)))
    rows = []
    for number in range(draw(st.integers(1, 40))):
        open_ms = 1_704_067_200_000 + number * 60_000
        texts = [draw(st.sampled_from(pool)) for _ in range(8)]
        rows.append([open_ms, *texts[:5], open_ms + 59_999, texts[5], 7, *texts[6:], "0"])
    return rows


@given(_pages())
def test_the_column_path_gives_the_row_by_row_candles(page: list[list[Any]]) -> None:
    fast = build_klines(page, _SYMBOL, _INTERVAL)
    slow, problems = check_rows(page, _SYMBOL, _INTERVAL)

    if problems:
        assert fast is None
        with pytest.raises(MalformedResponseError, match=re.escape(problems[0])):
            parse_klines(page, _SYMBOL, _INTERVAL)
        return
    if fast is not None:
        assert [repr(k) for k in fast] == [repr(k) for k in slow]
    assert [repr(k) for k in parse_klines(page, _SYMBOL, _INTERVAL)] == [repr(k) for k in slow]


def test_the_exchanges_spelling_takes_the_column_path() -> None:
    page = [
        [open_ms, "1.5", "2.00000000", "1.0", "1.75", "0.00000000", open_ms + 59_999, "3.1", 7, "0.0", "0.0"]
        for open_ms in range(1_704_067_200_000, 1_704_067_200_000 + 3 * 60_000, 60_000)
    ]

    fast = build_klines(page, _SYMBOL, _INTERVAL)

    assert isinstance(fast, KlinePage)
    assert [k.ignore for k in fast] == ["0", "0", "0"]  # an array of 11 items: no "ignore"
    assert fast == check_rows(page, _SYMBOL, _INTERVAL)[0]


def test_repeated_texts_keep_their_exact_spelling() -> None:
    page = [
        [open_ms, "1.00000000", "1.0", "1", "1.00000000", "0.00000000", open_ms + 59_999, *_QUIET_TAIL]
        for open_ms in range(1_704_067_200_000, 1_704_067_200_000 + 30 * 60_000, 60_000)
    ]

    klines = parse_klines(page, _SYMBOL, _INTERVAL)

    assert {(str(k.open), str(k.high), str(k.low), str(k.close)) for k in klines} == {
        ("1.00000000", "1.0", "1", "1.00000000")
    }
    assert {(str(k.volume), str(k.quote_volume)) for k in klines} == {("0E-8", "0")}


def _body(count: int) -> bytes:
    rows = [
        [open_ms, "1.50000000", "2.00000000", "1.00000000", "1.75000000", "3.1", open_ms + 59_999, "4.2", 7,
         "0.5", "0.6", "0"]
        for open_ms in range(1_704_067_200_000, 1_704_067_200_000 + count * 60_000, 60_000)
    ]
    return json.dumps(rows, separators=(",", ":")).encode()


@pytest.fixture
def collections_counted() -> Iterator[list[int]]:
    """Every cyclic collection that starts, with the collector set to run after each new container."""
    started: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started.append(info["generation"])

    threshold = gc.get_threshold()
    gc.set_threshold(1)
    gc.callbacks.append(count)
    try:
        yield started
    finally:
        gc.callbacks.remove(count)
        gc.set_threshold(*threshold)


def test_a_page_is_read_without_a_cyclic_collection_and_the_collector_runs_again(
    collections_counted: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []  # collections counted as decoding starts and as the page is built
    decode, build = parsing.loads, parsing.parse_klines

    def decoding(*args: Any) -> Any:
        seen.append(len(collections_counted))
        return decode(*args)

    def building(*args: Any) -> Any:
        page = build(*args)
        seen.append(len(collections_counted))
        return page

    monkeypatch.setattr(parsing, "loads", decoding)
    monkeypatch.setattr(parsing, "parse_klines", building)

    page = read_klines(_body(1000), "/api/v3/klines", _SYMBOL, _INTERVAL)

    assert isinstance(page, KlinePage)
    assert len(page) == 1000
    assert len(seen) == 2
    assert seen[0] == seen[1]  # the collector set to run after every new container did not run once
    assert gc.isenabled()
    before = len(collections_counted)
    assert [[] for _ in range(10)]  # new containers start a collection again
    assert len(collections_counted) > before


def test_a_collector_that_was_off_stays_off(collections_counted: list[int]) -> None:
    gc.disable()
    try:
        assert len(read_klines(_body(3), "/api/v3/klines", _SYMBOL, _INTERVAL)) == 3
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.parametrize("body", [b'[[1,"2"', b"<html>", b'[{"open": "1.0"}]'])
def test_a_bad_body_is_refused_and_the_collector_runs_again(body: bytes) -> None:
    with pytest.raises(MalformedResponseError):
        read_klines(body, "/api/v3/klines", _SYMBOL, _INTERVAL)
    assert gc.isenabled()
