"""What a backfill did: per series, the candles stored and every range still missing, and why.

A range still missing after a backfill is one of three kinds (``GapKind``):

- ``empty``: the exchange was asked and returned no candle there: an outage, or a time before the symbol
  was listed (or after it stopped trading). Nothing more can be fetched, so such a range does not make the
  backfill incomplete. It is not recorded in the store: a later run asks again, which costs one request per
  range, because the exchange answers a window that starts in an empty stretch with the candles after it.
- ``failed``: fetching the range failed after the adapter's retries; ``error`` says how. A re-run fetches it.
- ``rejected``: the exchange returned candles there that failed validation (counted by reason in the store).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence

import attrs

from domain import Interval, Symbol
from domain.validators import Reason

__all__ = [
    "BackfillProgress",
    "BackfillReport",
    "GapKind",
    "ReportedGap",
    "SeriesReport",
]

#: Exit status for a range that failed validation (the command line's status for invalid data).
DATA_INVALID_EXIT = 7


class GapKind(enum.Enum):
    """Why candles are still missing after a backfill (see the module docstring)."""

    EMPTY = "empty"
    FAILED = "failed"
    REJECTED = "rejected"


@attrs.frozen
class ReportedGap:
    """Candles opening in ``[start_ms, end_ms]`` (``count`` of them) that are not stored, and why.

    ``error`` and ``error_type`` name the failure of a ``failed`` range (the message and the class name of
    the ``domain.errors`` exception); ``exit_code`` is that error's exit status (7 for ``rejected``).
    """

    start_ms: int
    end_ms: int
    count: int
    kind: GapKind
    error: str | None = None
    error_type: str | None = None
    exit_code: int | None = None


def _frozen_reasons(counts: Mapping[Reason, int]) -> Mapping[Reason, int]:
    return {reason: counts[reason] for reason in sorted(counts, key=lambda r: r.value)}


@attrs.frozen
class SeriesReport:
    """One symbol and interval: the range asked for, what was there before, what the run did, what is left.

    ``start_ms``/``end_ms`` are the open times of the first and last closed candle of the range (the
    still-open candle is never part of it). ``planned`` candles were missing when the run started;
    ``fetched`` came back from the exchange, of which ``stored`` were new and ``updated`` replaced other
    values; ``rejected_by_reason`` counts the ones that failed validation. ``gaps`` lists every range still
    missing at the end, as the store sees it.
    """

    symbol: Symbol
    interval: Interval
    start_ms: int
    end_ms: int
    expected: int
    already_stored: int
    planned: int
    requests: int
    fetched: int
    stored: int
    updated: int = 0
    rejected_by_reason: Mapping[Reason, int] = attrs.field(
        factory=dict, converter=_frozen_reasons, hash=False
    )
    gaps: tuple[ReportedGap, ...] = ()

    @property
    def missing(self) -> int:
        """Candles of the range not stored at the end, whatever the reason."""
        return sum(gap.count for gap in self.gaps)

    @property
    def unresolved(self) -> tuple[ReportedGap, ...]:
        """Gaps a re-run could fill or that need attention (``failed`` and ``rejected``)."""
        return tuple(gap for gap in self.gaps if gap.kind is not GapKind.EMPTY)

    @property
    def complete(self) -> bool:
        """Every candle of the range is stored, or the exchange has none there."""
        return not self.unresolved


@attrs.frozen
class BackfillReport:
    """Every series of one backfill run, and how long it took."""

    series: tuple[SeriesReport, ...]
    started_ms: int
    finished_ms: int

    @property
    def complete(self) -> bool:
        return all(report.complete for report in self.series)

    @property
    def stored(self) -> int:
        return sum(report.stored for report in self.series)

    @property
    def exit_code(self) -> int:
        """0 when complete; else the exit status of the first unresolved gap (see ``ReportedGap``)."""
        for report in self.series:
            for gap in report.unresolved:
                return gap.exit_code or 1
        return 0


@attrs.frozen
class BackfillProgress:
    """A progress event: ``done`` of ``total`` missing candles of one series have been dealt with (stored,
    found empty or failed), ``stored`` of them stored; ``finished`` once the series' report is final."""

    symbol: Symbol
    interval: Interval
    total: int
    done: int
    stored: int
    finished: bool = False
    gaps: Sequence[ReportedGap] = ()
