"""Query-string parsing and validation with Binance's error codes.

The raw query string is kept exactly as received: signatures are verified over it, not over a re-encoding.
"""

from __future__ import annotations

import functools
import json
import re
from urllib.parse import unquote_plus

from tests.loopback.errors import BinanceError, empty, illegal, mandatory

_INT_RANGE = "^[0-9]{1,20}$"
_SYMBOL_RANGE = r"^[\w\-._&&[^a-z]]{1,50}$"
_SYMBOLS_RANGE = r'^\[("[\w\-._&&[^a-z]]{1,50}"(,"[\w\-._&&[^a-z]]{1,50}"){0,}){0,1}\]$'
_MICROSECOND_THRESHOLD = 10**14  # time params at or above this are microseconds
_ASCII_LOWER = re.compile("[a-z]")


@functools.lru_cache(maxsize=4096)
def is_legal_symbol(text: str) -> bool:
    """Word characters (Unicode letters and digits included), `-`, `_`, `.`, but no ASCII lowercase."""
    if not 1 <= len(text) <= 50 or _ASCII_LOWER.search(text):
        return False
    return all(ch.isalnum() or ch in "-_." for ch in text)


class Params:
    """The decoded parameters of one request, tracking which ones the endpoint read."""

    __slots__ = ("_read", "pairs", "raw")

    def __init__(self, raw: str) -> None:
        self.raw = raw
        self.pairs: list[tuple[str, str]] = []
        self._read: set[str] = set()
        if raw:
            for part in raw.split("&"):
                if not part:
                    continue
                key, _, value = part.partition("=")
                self.pairs.append((unquote_plus(key), unquote_plus(value)))

    def __contains__(self, name: str) -> bool:
        return any(key == name for key, _ in self.pairs)

    def peek(self, name: str) -> str | None:
        """The value without marking it read (for weight computation before validation)."""
        for key, value in self.pairs:
            if key == name:
                return value
        return None

    def check_duplicates(self) -> None:
        names = [key for key, _ in self.pairs]
        if len(set(names)) != len(names):
            raise BinanceError(-1101)

    def check_all_read(self) -> None:
        unread = [key for key, _ in self.pairs if key not in self._read]
        if unread:
            read = len(self.pairs) - len(unread)
            raise BinanceError(
                -1104,
                f"Not all sent parameters were read; read '{read}' parameter(s) "
                f"but was sent '{len(self.pairs)}'.",
            )

    def optional(self, name: str) -> str | None:
        value = self.peek(name)
        self._read.add(name)
        if value is not None and value == "":
            raise empty(name)
        return value

    def required(self, name: str) -> str:
        value = self.optional(name)
        if value is None:
            raise mandatory(name)
        return value

    def optional_int(self, name: str) -> int | None:
        value = self.optional(name)
        if value is None:
            return None
        if not value.isascii() or not value.isdigit() or len(value) > 20:
            raise illegal(name, _INT_RANGE)
        return int(value)

    def optional_time_ms(self, name: str) -> int | None:
        """A time parameter in ms; values that are evidently microseconds are converted."""
        value = self.optional_int(name)
        if value is not None and value >= _MICROSECOND_THRESHOLD:
            return value // 1000
        return value

    def optional_bool(self, name: str) -> bool | None:
        value = self.optional(name)
        if value is None:
            return None
        if value not in ("true", "false"):
            raise illegal(name, "true, false")
        return value == "true"

    def symbol(self, name: str = "symbol", *, required: bool = True) -> str | None:
        value = self.required(name) if required else self.optional(name)
        if value is not None and not is_legal_symbol(value):
            raise illegal(name, _SYMBOL_RANGE)
        return value

    def symbols(self) -> list[str] | None:
        """The `symbols` JSON array, sent encoded or unencoded (both arrive decoded here)."""
        value = self.optional("symbols")
        if value is None:
            return None
        try:
            parsed = json.loads(value)
        except ValueError:
            raise BinanceError(-1135, "JSON sent for parameter 'symbols' is not valid") from None
        if not isinstance(parsed, list) or not all(isinstance(item, str) for item in parsed):
            raise illegal("symbols", _SYMBOLS_RANGE)
        if not parsed:
            raise mandatory("symbols")
        if not all(is_legal_symbol(item) for item in parsed):
            raise illegal("symbols", _SYMBOLS_RANGE)
        if len(set(parsed)) != len(parsed):
            raise BinanceError(-1151)
        return parsed

    def symbols_count_hint(self) -> int | None:
        """How many symbols `symbols` names, leniently (weights are charged before validation)."""
        value = self.peek("symbols")
        if value is None:
            return None
        try:
            parsed = json.loads(value)
        except ValueError:
            return 1
        return len(parsed) if isinstance(parsed, list) else 1
