"""Trading-pair symbols: ``BTCUSDT``, and the Unicode names Binance has allowed since 2025-12."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

import attrs

from domain.errors import InvalidInputError

__all__ = ["DEFAULT_SYMBOLS", "MAX_SYMBOL_LENGTH", "Symbol", "parse_symbols"]

MAX_SYMBOL_LENGTH = 20


def _normalise(value: object) -> str:
    if not isinstance(value, str):
        msg = f"a symbol must be text, not {type(value).__name__}"
        raise InvalidInputError(msg)
    # Only ASCII letters are folded: Binance symbols are upper-case in REST, lower-case in stream names.
    return value.upper() if value.isascii() else "".join(c.upper() if c.isascii() else c for c in value)


def _is_symbol_char(char: str) -> bool:
    if char.isascii():
        return char.isupper() or char.isdigit()
    # Unicode symbols (e.g. a CJK test coin) are letters or digits in other scripts.
    return unicodedata.category(char)[0] in {"L", "N"}


def _check(_instance: object, _attribute: object, value: str) -> None:
    if not value:
        msg = "a symbol cannot be empty"
        raise InvalidInputError(msg)
    if len(value) > MAX_SYMBOL_LENGTH:
        msg = f"symbol {value!r} is longer than {MAX_SYMBOL_LENGTH} characters"
        raise InvalidInputError(msg)
    bad = [c for c in value if not _is_symbol_char(c)]
    if bad:
        msg = f"symbol {value!r} contains {bad[0]!r}; use letters and digits only, e.g. BTCUSDT"
        raise InvalidInputError(msg)


@attrs.frozen(order=True, repr=False)
class Symbol:
    """A validated trading-pair symbol, normalised to Binance's REST form (upper-case ASCII letters)."""

    value: str = attrs.field(converter=_normalise, validator=_check)

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return f"Symbol({self.value!r})"

    @property
    def stream_name(self) -> str:
        """The lower-case form used in WebSocket stream names (``btcusdt``)."""
        return (
            self.value.lower()
            if self.value.isascii()
            else "".join(c.lower() if c.isascii() else c for c in self.value)
        )


def parse_symbols(values: Iterable[str | Symbol]) -> tuple[Symbol, ...]:
    """Parse several symbols, rejecting duplicates (Binance answers -1151 to a repeated symbol)."""
    if isinstance(values, str):
        values = [values]
    symbols: list[Symbol] = []
    seen: set[Symbol] = set()
    for value in values:
        symbol = value if isinstance(value, Symbol) else Symbol(value)
        if symbol in seen:
            msg = f"symbol {symbol} is listed twice"
            raise InvalidInputError(msg)
        seen.add(symbol)
        symbols.append(symbol)
    return tuple(symbols)


DEFAULT_SYMBOLS: tuple[Symbol, ...] = tuple(
    Symbol(s) for s in ("BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "XRPUSDT")
)
