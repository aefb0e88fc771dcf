"""Health of the exchange link: signal statuses, thresholds, reports and alerts.

A health check measures a handful of *signals* (REST reachability, latency, error rate, weight usage, an
IP ban, clock offset, data freshness, stream state). Each signal compares its value with a ``Threshold`` and
gets a ``Status``; the ``HealthReport``'s status is the worst of its signals. An ``Alert`` records that one
signal changed status, including the way back to ``ok``.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable

import attrs

from domain.symbols import Symbol

__all__ = [
    "Alert",
    "ConnectionState",
    "DataFreshness",
    "ExchangeStatus",
    "HealthReport",
    "HealthThresholds",
    "SignalResult",
    "Status",
    "StreamConnection",
    "Threshold",
]


class Status(enum.Enum):
    """How healthy one signal, or the whole link, is. Ordered: ``ok`` < ``degraded`` < ``down``."""

    OK = "ok"
    DEGRADED = "degraded"
    DOWN = "down"

    @property
    def severity(self) -> int:
        """0 for ok, 1 for degraded, 2 for down (also the ``health`` command's exit status)."""
        return _SEVERITY[self]

    @classmethod
    def worst(cls, statuses: Iterable[Status]) -> Status:
        """The most severe of ``statuses``; ``ok`` when there are none."""
        return max(statuses, key=lambda status: status.severity, default=cls.OK)


_SEVERITY = {Status.OK: 0, Status.DEGRADED: 1, Status.DOWN: 2}


def _finite_non_negative(_instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not math.isfinite(value) or value < 0:
        msg = f"{attribute.name} must be a finite number >= 0, not {value!r}"
        raise ValueError(msg)


@attrs.frozen
class Threshold:
    """Where a signal whose larger values are worse turns ``degraded`` and where it turns ``down``."""

    degraded: float = attrs.field(validator=_finite_non_negative)
    down: float = attrs.field(validator=_finite_non_negative)

    def __attrs_post_init__(self) -> None:
        if self.down < self.degraded:
            msg = f"the down threshold ({self.down}) is below the degraded threshold ({self.degraded})"
            raise ValueError(msg)

    def classify(self, value: float) -> Status:
        """``down`` at or above ``down``, ``degraded`` at or above ``degraded``, else ``ok``."""
        if value >= self.down:
            return Status.DOWN
        if value >= self.degraded:
            return Status.DEGRADED
        return Status.OK

    def bound_for(self, status: Status) -> float:
        """The threshold that matters for ``status``: the one crossed, or for ``ok`` the next one up."""
        return self.down if status is Status.DOWN else self.degraded


@attrs.frozen
class HealthThresholds:
    """Every configurable threshold of the health check, with defaults suited to the Spot REST API.

    Shares are fractions (0.25 is 25 %). ``clock_offset_ms`` is compared with the absolute offset.
    """

    probe_failures: Threshold = Threshold(degraded=0.01, down=1.0)
    latency_p50_ms: Threshold = Threshold(degraded=500, down=2000)
    latency_p95_ms: Threshold = Threshold(degraded=1000, down=5000)
    error_rate: Threshold = Threshold(degraded=0.05, down=0.25)
    weight_usage: Threshold = Threshold(degraded=0.8, down=0.95)
    clock_offset_ms: Threshold = Threshold(degraded=1000, down=60_000)
    price_age_s: Threshold = Threshold(degraded=60, down=300)
    candle_age_s: Threshold = Threshold(degraded=180, down=900)


@attrs.frozen
class SignalResult:
    """One measured signal: its value (``None`` when it could not be measured), the threshold it was held
    against (``None`` when it has none) and a sentence for a person."""

    name: str
    status: Status
    value: float | None
    threshold: float | None
    message: str
    unit: str = ""


@attrs.frozen
class HealthReport:
    """The result of one health check; ``status`` is the worst status of its signals."""

    checked_at_ms: int
    signals: tuple[SignalResult, ...]

    @property
    def status(self) -> Status:
        return Status.worst(signal.status for signal in self.signals)

    def signal(self, name: str) -> SignalResult | None:
        """The signal called ``name``, if the check measured it."""
        return next((signal for signal in self.signals if signal.name == name), None)

    @property
    def problems(self) -> tuple[SignalResult, ...]:
        """The signals that are not ``ok``, worst first."""
        bad = [signal for signal in self.signals if signal.status is not Status.OK]
        return tuple(sorted(bad, key=lambda signal: -signal.status.severity))


@attrs.frozen
class Alert:
    """A signal changed status: it got worse, got better, or recovered to ``ok``."""

    signal: str
    previous: Status
    current: Status
    message: str
    at_ms: int
    value: float | None = None
    threshold: float | None = None

    @property
    def is_recovery(self) -> bool:
        """The signal is back to ``ok``."""
        return self.current is Status.OK

    @property
    def title(self) -> str:
        """A one-line summary, e.g. ``clock_offset ok -> degraded``."""
        return f"{self.signal} {self.previous.value} -> {self.current.value}"


@attrs.frozen
class ExchangeStatus:
    """What an exchange adapter knows about its own link, read without any request.

    ``requests`` and ``errors`` count HTTP attempts (retries included) over the last ``window_s`` seconds;
    every other field is ``None`` when the adapter does not know it (yet).
    """

    window_s: float
    requests: int = 0
    errors: int = 0
    used_weight: int | None = None
    weight_limit: int | None = None
    banned_until_ms: int | None = None
    clock_offset_ms: float | None = None

    @property
    def error_rate(self) -> float | None:
        """The share of attempts that failed, or ``None`` before the first attempt."""
        return self.errors / self.requests if self.requests else None

    @property
    def weight_usage(self) -> float | None:
        """The share of the request-weight limit used in the current window."""
        if self.used_weight is None or not self.weight_limit:
            return None
        return self.used_weight / self.weight_limit


@attrs.frozen
class DataFreshness:
    """When the newest price and the newest closed candle of a symbol were current (epoch ms)."""

    symbol: Symbol
    newest_price_ms: int | None = None
    newest_candle_ms: int | None = None


class ConnectionState(enum.Enum):
    """The state of one stream connection."""

    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    DISCONNECTED = "disconnected"


@attrs.frozen
class StreamConnection:
    """One stream connection as the health check sees it."""

    name: str
    state: ConnectionState
    detail: str = ""
