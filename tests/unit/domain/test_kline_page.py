"""The column-wise proof accepts a page only when every candle passes ``check_kline``, accepts every valid
page in the exchange's plain form, and the page answers as its candles would."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from application.market_data import MarketDataService
from domain import Interval, Kline, KlinePage, Symbol, build_kline_page
from domain.kline_page import DECIMAL_FIELDS, PRICE_FIELDS
from domain.storage import STORAGE_POLICY, validate_klines
from domain.validators import ValidationPolicy, check_kline
from tests.strategies import NOW_MS, kline_series

_INTS = ("open_time_ms", "close_time_ms", "trade_count")
_NO_FUTURE_BOUND = ValidationPolicy(max_future_ms=10**15, max_age_ms=None)

# Text an exchange might send in place of a decimal: other spellings of numbers, broken numbers, non-text.
_odd_values = st.one_of(
    st.sampled_from(
        [
            "0",
            "-0.0",
            "-1.5",
            "NaN",
            "sNaN",
            "Infinity",
            "1E+30",
            "1e-3",
            "007.5",
            "00.5",
            ".5",
            "5.",
            "",
            " 1.5",
            "1_0.5",
            "1.2.3",
            "\u0663.\u0665",  # Arabic-Indic digits: Decimal reads them
            "0.00000000",
            "0.0000000001",
            "1" * 40 + ".5",
            "0.10000000000000000001",
        ]
    ),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from([1, 1.5, None, True, ["1.5"]]),
)


class _Clock:
    def __init__(self, now_ms: int) -> None:
        self.now = now_ms

    def now_ms(self) -> int:
        return self.now


def _text(value: Decimal) -> str:
    return format(value, "f")


def _columns(klines: list[Kline]) -> dict[str, list[Any]]:
    """The candles as an exchange sends them: integers, and decimals as plain text."""
    columns: dict[str, list[Any]] = {name: [getattr(k, name) for k in klines] for name in _INTS}
    columns["ignore"] = [k.ignore for k in klines]
    for name in DECIMAL_FIELDS:
        columns[name] = [_text(getattr(k, name)) for k in klines]
    return columns


def _reference(symbol: Symbol, interval: Interval, columns: dict[str, list[Any]]) -> list[Kline] | None:
    """The candles the columns spell, when each is a valid candle and their open times increase."""
    klines = []
    for row in zip(*(columns[name] for name in (*_INTS, "ignore", *DECIMAL_FIELDS)), strict=True):
        ints, ignore, texts = row[:3], row[3], row[4:]
        if any(type(v) is not int for v in ints) or not all(isinstance(t, str) for t in (ignore, *texts)):
            return None
        try:
            decimals = [Decimal(t) for t in texts]
        except ArithmeticError:
            return None
        fields = dict(zip(_INTS, ints, strict=True)) | dict(zip(DECIMAL_FIELDS, decimals, strict=True))
        klines.append(Kline(symbol=symbol, interval=interval, ignore=ignore, **fields))
    opens = [k.open_time_ms for k in klines]
    valid = all(check_kline(k, 0, _NO_FUTURE_BOUND) == [] for k in klines)
    return klines if valid and all(a < b for a, b in itertools.pairwise(opens)) else None


def _plain(value: object) -> bool:
    """The exchange's form: digits, one point, digits; no leading zero but the one before the point."""
    if not isinstance(value, str) or not value.isascii() or value.count(".") != 1:
        return False
    whole, _, fraction = value.partition(".")
    digits = whole.isdigit() and fraction.isdigit()
    return digits and (whole == "0" or not whole.startswith("0"))


@st.composite
def _pages(draw: st.DrawFn) -> tuple[Interval, Symbol, dict[str, list[Any]]]:
    """A valid series as columns, perhaps with a hole, then sometimes a few values spoiled or candles moved,
    so that both answers occur."""
    interval, klines = draw(kline_series(min_size=0, max_size=12))
    symbol = klines[0].symbol if klines else Symbol("BTCUSDT")
    if len(klines) > 2 and draw(st.booleans()):  # a hole: still a valid page
        del klines[draw(st.integers(1, len(klines) - 2))]
    columns = _columns(klines)
    for _ in range(draw(st.integers(0, 3)) if klines else 0):
        index = draw(st.integers(0, len(klines) - 1))
        change = draw(st.sampled_from(["decimal", "swap-prices", "time", "count", "swap", "repeat"]))
        if change == "decimal":
            columns[draw(st.sampled_from(DECIMAL_FIELDS))][index] = draw(_odd_values)
        elif change == "swap-prices":  # a low above its high, and the like
            a, b = draw(st.permutations(("open", "high", "low", "close")))[:2]
            columns[a][index], columns[b][index] = columns[b][index], columns[a][index]
        elif change == "time":
            field = draw(st.sampled_from(["open_time_ms", "close_time_ms"]))
            columns[field][index] += draw(st.sampled_from([-1, 1, -60_000, 60_000, -(10**12)]))
        elif change == "count":
            columns["trade_count"][index] = draw(st.sampled_from([-3, -1, 0, 3, True, 1.0]))
        else:
            other = draw(st.integers(0, len(klines) - 1))
            for column in columns.values():
                if change == "swap":
                    column[index], column[other] = column[other], column[index]
                else:
                    column[index] = column[other]
    return interval, symbol, columns


def _fixed(value: int, whole: int, fraction: int) -> str:
    """``value`` / 10**fraction written with ``whole`` digits before the point (zeros in front if needed)."""
    digits = str(value).rjust(whole + fraction, "0")
    return f"{digits[:whole]}.{digits[whole:]}"


@st.composite
def _exchange_pages(draw: st.DrawFn) -> tuple[Interval, Symbol, dict[str, list[Any]]]:
    """Pages as an exchange writes them, every price with as many digits before and after the point (Binance
    sends eight after it), ties and prices under 1e-6 and zero among them; then sometimes one price spoiled:
    another shape, a zero in front, or anything ``_odd_values`` holds."""
    interval, klines = draw(kline_series(min_size=1, max_size=12))
    symbol = klines[0].symbol
    columns = _columns(klines)
    whole, fraction = draw(st.integers(1, 6)), draw(st.integers(1, 10))
    lowest, highest = (0 if whole == 1 else 10 ** (whole - 1 + fraction)), 10 ** (whole + fraction) - 1
    base = draw(st.one_of(st.integers(lowest, lowest + 20), st.integers(lowest, highest)))
    for index in range(len(klines)):
        low, first, second, high = sorted(min(base + draw(st.integers(0, 3)), highest) for _ in range(4))
        open_, close = draw(st.permutations((first, second)))
        for name, value in zip(PRICE_FIELDS, (open_, high, low, close), strict=True):
            columns[name][index] = _fixed(value, whole, fraction)
    for _ in range(draw(st.integers(0, 2))):
        index, name = draw(st.integers(0, len(klines) - 1)), draw(st.sampled_from(PRICE_FIELDS))
        text = columns[name][index]
        change = draw(st.sampled_from(["longer", "zero-first", "shifted", "odd", "swap"]))
        if not isinstance(text, str):  # spoiled already
            continue
        if change == "longer":
            columns[name][index] = text + "0"
        elif change == "zero-first":  # as long as the others, but not in plain form
            columns[name][index] = "0" + text[1:]
        elif change == "shifted":  # as long as the others, the point elsewhere
            digits = text.replace(".", "")
            cut = draw(st.integers(0, len(digits)))
            columns[name][index] = f"{digits[:cut]}.{digits[cut:]}"
        elif change == "odd":
            columns[name][index] = draw(_odd_values)
        else:
            other = draw(st.sampled_from(PRICE_FIELDS))
            columns[name][index], columns[other][index] = columns[other][index], text
    return interval, symbol, columns


def _check_built_against_reference(page: tuple[Interval, Symbol, dict[str, list[Any]]]) -> None:
    interval, symbol, columns = page
    built = build_kline_page(columns, symbol, interval)
    reference = _reference(symbol, interval, columns)

    if built is not None:  # never a page of anything check_kline would refuse
        assert reference is not None
        assert built == reference
        assert list(built) == reference
        assert all(type(k) is Kline for k in built)
    plain = all(_plain(v) for name in DECIMAL_FIELDS for v in columns[name])
    if reference is not None and plain:  # and every valid page the exchange sends is proved so
        assert isinstance(built, KlinePage)


def _check_texts(page: tuple[Interval, Symbol, dict[str, list[Any]]]) -> None:
    interval, symbol, columns = page
    built = build_kline_page(columns, symbol, interval)
    if built is None:
        return
    for name in DECIMAL_FIELDS:
        assert built.texts(name) == tuple(str(getattr(k, name)) for k in built)
        assert built.decimals(name) == tuple(Decimal(t) for t in columns[name])
        assert [str(d) for d in built.decimals(name)] == list(built.texts(name))


@given(_pages())
def test_a_page_is_built_only_for_valid_candles_and_for_every_valid_page_in_plain_form(
    page: tuple[Interval, Symbol, dict[str, list[Any]]],
) -> None:
    _check_built_against_reference(page)


@given(_exchange_pages())
def test_prices_of_one_shape_are_proved_as_text_as_exactly(
    page: tuple[Interval, Symbol, dict[str, list[Any]]],
) -> None:
    _check_built_against_reference(page)


@given(_pages())
def test_texts_are_what_str_writes_for_each_decimal(
    page: tuple[Interval, Symbol, dict[str, list[Any]]],
) -> None:
    _check_texts(page)


@given(_exchange_pages())
def test_texts_of_prices_of_one_shape_are_what_str_writes(
    page: tuple[Interval, Symbol, dict[str, list[Any]]],
) -> None:
    _check_texts(page)


@given(_pages(), st.integers(-(10**13), 10**13), st.integers(-3, 3), st.integers(-3, 3))
def test_the_service_reports_the_same_problems_for_a_page_as_for_its_candles(
    page: tuple[Interval, Symbol, dict[str, list[Any]]], now_shift: int, start_shift: int, end_shift: int
) -> None:
    interval, symbol, columns = page
    built = build_kline_page(columns, symbol, interval)
    if built is None:
        return
    now = NOW_MS + now_shift
    service = MarketDataService(None, _Clock(now))  # type: ignore[arg-type]  # no port call is made
    first = built[0].open_time_ms if built else 0
    last = built[-1].open_time_ms if built else 0
    start = first + start_shift * interval.duration_ms
    end = last + end_shift * interval.duration_ms
    for bounds in ((start, end), (None, None)):
        fast = service._kline_problems(built, symbol, interval, *bounds)
        reference = service._kline_problems(list(built), symbol, interval, *bounds)
        assert fast == reference
    other = Symbol("ETHUSDT") if symbol != Symbol("ETHUSDT") else Symbol("BTCUSDT")
    if built:  # a page of another series is checked in full, and refused
        assert service._kline_problems(built, other, interval, None, None)


@given(_pages(), st.integers(-(10**13), 10**13))
def test_split_closed_agrees_with_the_store_validation(
    page: tuple[Interval, Symbol, dict[str, list[Any]]], now_shift: int
) -> None:
    interval, symbol, columns = page
    built = build_kline_page(columns, symbol, interval)
    if built is None:
        return
    now = NOW_MS + now_shift
    split = built.split_closed(now, STORAGE_POLICY.max_future_ms)
    reference = validate_klines(list(built), now, STORAGE_POLICY)
    assert validate_klines(built, now, STORAGE_POLICY) == reference
    if split is None:  # a candle opens in the future: the full validation rejects it
        assert reference.rejections
        return
    accepted, not_closed = split
    assert isinstance(accepted, KlinePage)
    assert accepted == list(reference.accepted)
    assert not_closed == reference.not_closed
    assert reference.duplicates == 0
    assert not reference.rejections


def _one(**changes: Any) -> dict[str, list[Any]]:
    """One valid 1m candle as columns, with ``changes`` (field -> value)."""
    values: dict[str, Any] = {
        "open_time_ms": 60_000,
        "close_time_ms": 119_999,
        "trade_count": 1,
        "ignore": "0",
        "open": "1.5",
        "high": "2.5",
        "low": "1.0",
        "close": "2.0",
        "volume": "3.0",
        "quote_volume": "4.0",
        "taker_buy_base_volume": "1.0",
        "taker_buy_quote_volume": "2.0",
    }
    return {name: [value] for name, value in (values | changes).items()}


@pytest.mark.parametrize(
    ("low", "open_", "proved"),
    [
        # Equal as floats, yet the low is above the open: refused, and the row-by-row check says why.
        ("1.10000000000000000001", "1.1", False),
        ("1.1", "1.10000000000000000001", True),  # equal as floats, the low below the open: valid
        ("1.1", "1.10000000", True),  # equal values written apart
        ("1.1", "1.1", True),
        ("1.2", "1.1", False),
    ],
)
def test_prices_equal_as_floats_are_compared_exactly(low: str, open_: str, proved: bool) -> None:
    symbol, interval = Symbol("BTCUSDT"), Interval.MINUTE_1
    built = build_kline_page(_one(low=low, open=open_), symbol, interval)
    assert (built is not None) is proved
    if built is not None:
        assert built[0].low == Decimal(low)
        assert built[0].open == Decimal(open_)


def test_tiny_values_are_written_as_str_writes_them() -> None:
    built = build_kline_page(
        _one(volume="0.00000000", taker_buy_base_volume="0.00000012", low="0.00000100", open="1.0"),
        Symbol("BTCUSDT"),
        Interval.MINUTE_1,
    )
    assert built is not None
    assert built.texts("volume") == ("0E-8",)
    assert built.texts("taker_buy_base_volume") == ("1.2E-7",)
    assert built.texts("low") == ("0.00000100",)
    assert built.decimals("volume") == (Decimal("0E-8"),)


def test_a_tiny_value_is_found_beside_a_shorter_zero_that_sorts_before_it() -> None:
    columns = _one(volume="0.000", taker_buy_base_volume="0.0")
    for name, values in list(columns.items()):  # two candles, one minute apart
        step = 60_000 if name.endswith("_ms") else 0
        columns[name] = [v + i * step if step else v for i, v in enumerate(values * 2)]
    columns["volume"][1] = "0.0000001"  # "0.000" < "0.0000001" as text, yet only the second is under 1e-6
    columns["taker_buy_base_volume"][1] = "0.00000005"

    built = build_kline_page(columns, Symbol("BTCUSDT"), Interval.MINUTE_1)

    assert built is not None
    assert built.texts("volume") == ("0.000", "1E-7")
    assert built.texts("taker_buy_base_volume") == ("0.0", "5E-8")


def test_a_page_is_a_read_only_sequence_of_its_candles() -> None:
    symbol, interval = Symbol("BTCUSDT"), Interval.MINUTE_1
    columns = _one()
    for name, values in list(columns.items()):  # three candles, one minute apart
        step = 60_000 if name.endswith("_ms") else 0
        columns[name] = [v + i * step if step else v for i, v in enumerate(values * 3)]
    built = build_kline_page(columns, symbol, interval)
    assert built is not None
    candles = list(built)

    assert len(built) == 3
    assert built[-1] == candles[2]
    fresh = build_kline_page(columns, symbol, interval)  # no candle made yet: one is made on its own
    assert fresh is not None
    assert fresh[-2] == candles[1]
    with pytest.raises(IndexError):
        built[3]
    assert isinstance(built[1:], KlinePage)
    assert built[1:] == candles[1:]
    assert built[::-1] == tuple(reversed(candles))
    assert built == tuple(candles)
    assert built != candles[:2]
    assert built != "not candles"
    assert built.is_series(symbol, interval)
    assert not built.is_series(Symbol("ETHUSDT"), interval)
    assert not built.is_series(symbol, Interval.MINUTE_3)
    assert built.open_times_ms == (60_000, 120_000, 180_000)
    assert built.close_times_ms == (119_999, 179_999, 239_999)
    assert built.trade_counts == (1, 1, 1)
    assert built.ignores == ("0", "0", "0")
    assert repr(built) == "KlinePage(BTCUSDT 1m, 3 candles)"
    assert candles[1] in built
    with pytest.raises(TypeError):
        built[0] = candles[1]  # type: ignore[index]
    with pytest.raises(KeyError, match="decimal fields"):
        built.texts("open_time_ms")


def test_columns_must_name_every_field_and_be_equally_long() -> None:
    with pytest.raises(ValueError, match="kline columns"):
        build_kline_page({"open": []}, Symbol("BTCUSDT"), Interval.MINUTE_1)
    uneven = _one()
    uneven["volume"] = ["1.0", "2.0"]
    with pytest.raises(ValueError, match="equally long"):
        build_kline_page(uneven, Symbol("BTCUSDT"), Interval.MINUTE_1)
    empty = build_kline_page({name: [] for name in _one()}, Symbol("BTCUSDT"), Interval.MINUTE_1)
    assert empty is not None
    assert list(empty) == []


def test_pages_compare_by_their_series_and_candles() -> None:
    symbol, interval = Symbol("BTCUSDT"), Interval.MINUTE_1
    page = build_kline_page(_one(), symbol, interval)
    same = build_kline_page(_one(), symbol, interval)
    other_symbol = build_kline_page(_one(), Symbol("ETHUSDT"), interval)
    other_price = build_kline_page(_one(close="2.25"), symbol, interval)
    assert page is not None

    assert page == page  # noqa: PLR0124 - the same page, without comparing candles
    assert page == same
    assert page != other_symbol
    assert page != other_price


def test_a_candle_opening_beyond_the_future_bound_is_left_to_the_full_validation() -> None:
    page = build_kline_page(_one(), Symbol("BTCUSDT"), Interval.MINUTE_1)
    assert page is not None

    assert page.split_closed(now_ms=0, max_future_ms=59_999) is None
    assert page.split_closed(now_ms=0, max_future_ms=60_000) == (page[:0], 1)
    assert validate_klines(page, 0, STORAGE_POLICY).rejections  # and that validation rejects it


def test_text_outside_ascii_is_left_to_the_row_by_row_check() -> None:
    columns = _one(volume="\u0663.\u0665")  # Arabic-Indic digits, which Decimal reads as 3.5
    assert build_kline_page(columns, Symbol("BTCUSDT"), Interval.MINUTE_1) is None
    assert _reference(Symbol("BTCUSDT"), Interval.MINUTE_1, columns) is not None
