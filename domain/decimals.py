"""Exact decimals from text, the same way everywhere.

``exact_decimal(text)`` is ``Decimal(text)``: nothing is rounded or clamped. It makes the value under a
context wide enough for any decimal, so it does not depend on the calling thread's context (whose precision
or traps a caller may have changed), and it skips that context's look-up, which makes it a little faster.
``InvalidOperation`` is raised for text that is not a number.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal, InvalidOperation

__all__ = ["exact_decimal"]

_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[InvalidOperation])
exact_decimal: Callable[[str], Decimal] = _EXACT.create_decimal
