"""Scripted faults: what the next matching requests suffer, a deterministic failure rate, and latency.

Path filters are exact (`/api/v3/klines`) or prefixes ending in `*` (`/api/v3/ticker/*`); None matches all.
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, fields

HTTP_STATUS = "http_status"  # an HTTP error status with a Binance, HTML or empty body
BINANCE_ERROR = "binance_error"  # a {"code","msg"} body (e.g. -1001, -1003, -1007) with its status
RESET = "reset"  # TCP reset (RST) instead of a response
DISCONNECT = "disconnect"  # orderly close (FIN) without a response
HANG = "hang"  # no response until the client gives up (a read timeout); released when the server stops
TRUNCATED_JSON = "truncated_json"  # the real response, its JSON cut in half (Content-Length matches)
PARTIAL_BODY = "partial_body"  # the real response, connection closed half-way through the announced body
NON_JSON = "non_json"  # 200 with a body that is not JSON
WAF_403 = "waf_403"  # the HTML page of a web application firewall block
RATE_LIMITED = "rate_limited"  # 429, -1003, Retry-After
BANNED = "banned"  # 418, -1003 naming the ban end, Retry-After; `persist` bans the limiter for real
DELAY = "delay"  # answer normally after `seconds`

KINDS = (
    HTTP_STATUS,
    BINANCE_ERROR,
    RESET,
    DISCONNECT,
    HANG,
    TRUNCATED_JSON,
    PARTIAL_BODY,
    NON_JSON,
    WAF_403,
    RATE_LIMITED,
    BANNED,
    DELAY,
)


@dataclass(frozen=True, slots=True)
class Fault:
    """One injected failure. Build it with the named constructors."""

    kind: str
    status: int | None = None
    body: str = "binance"
    code: int | None = None
    msg: str | None = None
    retry_after: int | None = None
    seconds: float | None = None
    persist: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {', '.join(KINDS)}")
        if self.body not in ("binance", "html", "empty"):
            raise ValueError("body is 'binance', 'html' or 'empty'")

    @classmethod
    def http_status(
        cls, status: int = 503, *, body: str = "binance", code: int | None = None, msg: str | None = None
    ) -> Fault:
        return cls(HTTP_STATUS, status=status, body=body, code=code, msg=msg)

    @classmethod
    def binance_error(
        cls, code: int, *, status: int | None = None, msg: str | None = None, retry_after: int | None = None
    ) -> Fault:
        return cls(BINANCE_ERROR, status=status, code=code, msg=msg, retry_after=retry_after)

    @classmethod
    def reset(cls) -> Fault:
        return cls(RESET)

    @classmethod
    def disconnect(cls) -> Fault:
        return cls(DISCONNECT)

    @classmethod
    def hang(cls, seconds: float | None = None) -> Fault:
        return cls(HANG, seconds=seconds)

    @classmethod
    def truncated_json(cls) -> Fault:
        return cls(TRUNCATED_JSON)

    @classmethod
    def partial_body(cls) -> Fault:
        return cls(PARTIAL_BODY)

    @classmethod
    def non_json(cls, status: int = 200) -> Fault:
        return cls(NON_JSON, status=status)

    @classmethod
    def waf_403(cls) -> Fault:
        return cls(WAF_403, status=403)

    @classmethod
    def rate_limited(cls, retry_after: int = 1) -> Fault:
        return cls(RATE_LIMITED, status=429, retry_after=retry_after)

    @classmethod
    def banned(cls, retry_after: int = 120, *, persist: bool = False) -> Fault:
        return cls(BANNED, status=418, retry_after=retry_after, persist=persist)

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        return cls(DELAY, seconds=seconds)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Fault:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        return cls(**data)  # type: ignore[arg-type]


def path_matches(pattern: str | None, path: str) -> bool:
    if pattern is None:
        return True
    if pattern.endswith("*"):
        return path.startswith(pattern[:-1])
    return path == pattern


@dataclass
class _Scripted:
    fault: Fault
    remaining: int
    path: str | None


class FaultPlan:
    """Thread-safe: tests script faults from their own thread while the server loop consumes them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[_Scripted] = []
        self._rate = 0.0
        self._rate_fault: Fault | None = None
        self._rate_path: str | None = None
        self._rate_rng = random.Random(0)
        self._latency: list[tuple[str | None, float]] = []
        self.injected = 0

    def inject(self, fault: Fault, *, times: int = 1, path: str | None = None) -> None:
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._queue.append(_Scripted(fault, times, path))

    def set_failure_rate(
        self, rate: float, fault: Fault | None = None, *, seed: int = 0, path: str | None = None
    ) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate is a fraction between 0 and 1")
        with self._lock:
            self._rate = rate
            self._rate_fault = fault or Fault.http_status(500)
            self._rate_path = path
            self._rate_rng = random.Random(seed)

    def set_latency(self, seconds: float, *, path: str | None = None) -> None:
        with self._lock:
            self._latency = [(p, s) for p, s in self._latency if p != path]
            if seconds > 0:
                self._latency.append((path, seconds))

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
            self._rate = 0.0
            self._latency.clear()

    @property
    def pending(self) -> int:
        with self._lock:
            return sum(item.remaining for item in self._queue)

    def latency_for(self, path: str) -> float:
        if not self._latency:
            return 0.0
        with self._lock:
            return sum(seconds for pattern, seconds in self._latency if path_matches(pattern, path))

    def take(self, path: str) -> Fault | None:
        """The fault the request to `path` suffers, if any: scripted ones first, then the failure rate."""
        if not self._queue and not self._rate:
            return None
        with self._lock:
            for item in self._queue:
                if path_matches(item.path, path):
                    item.remaining -= 1
                    if item.remaining == 0:
                        self._queue.remove(item)
                    self.injected += 1
                    return item.fault
            if self._rate and path_matches(self._rate_path, path) and self._rate_rng.random() < self._rate:
                self.injected += 1
                return self._rate_fault
        return None
