"""The storage converter behind ``adapters.binance.parsing``, its strict scalar rules and its error messages.

``make_storage_converter`` turns domain objects into JSON-able values (decimals as exact strings, symbols and
intervals as their text, snake_case names) and back; ``_wire`` builds Binance's shapes on a copy of it. Both
are strict about types, because cattrs' own defaults would silently turn ``123`` into ``"123"``, ``"false"``
into ``True`` or ``"BTC"`` into a tuple of letters; unknown keys are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, get_args, get_origin

import attrs
from cattrs import Converter, transform_error
from cattrs.cols import homogenous_tuple_structure_factory, list_structure_factory
from cattrs.gen import make_dict_structure_fn
from cattrs.v import format_exception

from domain import Interval, InvalidInputError, Symbol, exact_decimal

__all__ = [
    "Rejected",
    "describe",
    "kind",
    "make_storage_converter",
    "require_mapping",
    "structure_str",
    "to_decimal",
]

# Exact (as Decimal(text)) and independent of the calling thread's context: see ``domain.exact_decimal``.
to_decimal: Callable[[str], Decimal] = exact_decimal


class Rejected(ValueError):  # noqa: N818 - reads as "value rejected" in the messages it carries
    """A value that would corrupt data; its message is shown to the user as it is."""


_KINDS = {
    bool: "a boolean",
    int: "an integer",
    float: "a number with a fraction",
    str: "text",
    list: "an array",
    dict: "an object",
    type(None): "null",
}


def kind(value: object) -> str:
    """The JSON kind of a decoded value, for messages (never the value itself, which may be long)."""
    return _KINDS.get(type(value), type(value).__name__)


def _short(text: str, limit: int = 24) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _structure_decimal(value: object, _: object = None) -> Decimal:
    if isinstance(value, str):
        try:
            number = to_decimal(value)
        except InvalidOperation:
            msg = f"{_short(value)} is not a decimal number"
            raise Rejected(msg) from None
    elif isinstance(value, Decimal):
        number = value
    elif isinstance(value, int) and not isinstance(value, bool):
        number = Decimal(value)
    else:
        # A JSON float has already been through binary floating point: its digits may be wrong.
        msg = f"expected a decimal string, got {kind(value)}"
        raise Rejected(msg)
    if not number.is_finite():
        msg = f"{_short(str(value))} is not a finite number"
        raise Rejected(msg)
    return number


def _structure_int(value: object, _: object = None) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    msg = f"expected an integer, got {kind(value)}"
    raise Rejected(msg)


def _structure_bool(value: object, _: object = None) -> bool:
    if isinstance(value, bool):
        return value
    msg = f"expected true or false, got {kind(value)}"
    raise Rejected(msg)


def structure_str(value: object, _: object = None) -> str:
    if isinstance(value, str):
        return value
    msg = f"expected text, got {kind(value)}"
    raise Rejected(msg)


_SYMBOLS: dict[str, Symbol] = {}  # symbols already checked, by their exact text (Symbol is immutable)
_SYMBOLS_KEPT = 8192  # Binance lists a few thousand


def _structure_symbol(value: object, _: object = None) -> Symbol:
    text = structure_str(value)
    symbol = _SYMBOLS.get(text)
    if symbol is not None:
        return symbol
    try:
        symbol = Symbol(text)
    except InvalidInputError as exc:
        raise Rejected(str(exc)) from None
    if len(_SYMBOLS) < _SYMBOLS_KEPT:
        _SYMBOLS[text] = symbol
    return symbol


def _structure_interval(value: object, _: object = None) -> Interval:
    try:
        return Interval.parse(structure_str(value))
    except InvalidInputError as exc:
        raise Rejected(str(exc)) from None


def _is_sequence(type_: Any) -> bool:
    args = get_args(type_)
    return get_origin(type_) is list or (get_origin(type_) is tuple and args[1:] == (Ellipsis,))


def _sequence_factory(type_: Any, converter: Converter) -> Callable[[Any, Any], Any]:
    """cattrs' list/tuple hooks, refusing text and objects (which they would iterate over)."""
    inner = (list_structure_factory if get_origin(type_) is list else homogenous_tuple_structure_factory)(
        type_, converter
    )

    def structure(value: Any, cl: Any) -> Any:
        if not isinstance(value, list | tuple):
            msg = f"expected an array, got {kind(value)}"
            raise Rejected(msg)
        return inner(value, cl)

    return structure


def require_mapping(value: object) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        msg = f"expected an object, got {kind(value)}"
        raise Rejected(msg)
    return value


def _attrs_factory(cl: type, converter: Converter) -> Callable[[Any, Any], Any]:
    generated: Callable[[Mapping[str, Any], Any], Any] = make_dict_structure_fn(cl, converter)

    def structure(value: Any, _: Any) -> Any:
        return generated(require_mapping(value), cl)

    return structure


def make_storage_converter() -> Converter:
    """Domain object <-> JSON-able value, with snake_case names; decimals travel as exact strings."""
    converter = Converter(detailed_validation=True)
    for cl, hook in (
        (Decimal, _structure_decimal),
        (int, _structure_int),
        (bool, _structure_bool),
        (str, structure_str),
        (Symbol, _structure_symbol),
        (Interval, _structure_interval),
    ):
        converter.register_structure_hook(cl, hook)
    converter.register_unstructure_hook(Decimal, str)
    converter.register_unstructure_hook(Symbol, str)
    converter.register_unstructure_hook(Interval, lambda interval: interval.value)
    converter.register_unstructure_hook_func(
        _is_sequence, lambda seq: [converter.unstructure(v) for v in seq]
    )
    converter.register_structure_hook_factory(_is_sequence, _sequence_factory)
    converter.register_structure_hook_factory(attrs.has, _attrs_factory)
    return converter


# --------------------------------------------------------------------------------------------------- errors


def _format(exc: BaseException, type_: type | None) -> str:
    if isinstance(exc, Rejected):
        return str(exc)
    if isinstance(exc, KeyError):
        return "required field missing"
    return format_exception(exc, type_)


def describe(exc: BaseException, names: Mapping[str, str]) -> list[str]:
    """One ``<what> @ <where>`` line per problem, fields named by ``names`` (``$.symbols[0].baseAsset``)."""
    lines = []
    for line in transform_error(exc, "$", _format):
        what, _, where = line.rpartition(" @ ")
        where = _PATH_NAME.sub(lambda m: "." + names.get(m.group(1), m.group(1)), where)
        lines.append(f"{what} @ {where}")
    return lines


_PATH_NAME = re.compile(r"\.(\w+)")
