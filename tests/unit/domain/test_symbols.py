"""Symbols: normalised, validated, Unicode-aware."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain import DEFAULT_SYMBOLS, InvalidInputError, Symbol, parse_symbols
from tests.strategies import symbols


def test_lower_case_input_is_normalised_to_upper_case() -> None:
    assert Symbol("btcusdt").value == "BTCUSDT"
    assert Symbol("btcusdt") == Symbol("BTCUSDT")


def test_unicode_symbol_is_accepted_and_kept_as_is() -> None:
    assert Symbol("这是测试币456").value == "这是测试币456"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("BTC-USDT", "'-'"),
        ("BTC USDT", "' '"),
        ("BTC/USDT", "'/'"),
        ("A" * 21, "longer than 20"),
        ("BTC\nUSDT", "'\\n'"),
    ],
)
def test_malformed_symbols_are_clear_errors(text: str, fragment: str) -> None:
    with pytest.raises(InvalidInputError) as raised:
        Symbol(text)
    assert fragment in str(raised.value)


def test_a_non_text_symbol_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="must be text"):
        Symbol(42)


def test_stream_name_is_lower_case() -> None:
    assert Symbol("BTCUSDT").stream_name == "btcusdt"
    assert Symbol("这是测试币ABC").stream_name == "这是测试币abc"


@given(symbols)
def test_valid_symbols_survive_a_round_trip_through_text(symbol: Symbol) -> None:
    assert Symbol(str(symbol)) == symbol
    assert Symbol(symbol.stream_name) == symbol


@given(st.text(min_size=1, max_size=30))
def test_any_text_is_either_a_valid_symbol_or_an_invalid_input_error(text: str) -> None:
    try:
        symbol = Symbol(text)
    except InvalidInputError:
        return
    assert 1 <= len(symbol.value) <= 20
    assert all(c.isalnum() for c in symbol.value)


def test_parse_symbols_rejects_duplicates_after_normalisation() -> None:
    with pytest.raises(InvalidInputError, match="listed twice"):
        parse_symbols(["BTCUSDT", "btcusdt"])


def test_parse_symbols_keeps_order_and_accepts_one_string() -> None:
    assert parse_symbols(["ethusdt", Symbol("BTCUSDT")]) == (Symbol("ETHUSDT"), Symbol("BTCUSDT"))
    assert parse_symbols("bnbusdt") == (Symbol("BNBUSDT"),)


def test_default_symbols_are_the_five_pairs() -> None:
    assert [s.value for s in DEFAULT_SYMBOLS] == ["BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "XRPUSDT"]
