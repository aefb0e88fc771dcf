"""Every request the exchange received, so tests can assert what a client sent and how often."""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import dataclass, field
from urllib.parse import unquote_plus


@dataclass
class RecordedRequest:
    method: str
    path: str
    query_string: str  # raw, exactly as sent (still percent-encoded)
    headers: tuple[tuple[str, str], ...]
    received_ms: int
    status: int | None = None  # None: no response was sent (reset, disconnect, hang)
    weight: int = 0  # weight charged (0 when refused or faulted)
    fault: str | None = None

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None

    @property
    def params(self) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for part in self.query_string.split("&"):
            if part:
                key, _, value = part.partition("=")
                out.append((unquote_plus(key), unquote_plus(value)))
        return out

    @property
    def signed(self) -> bool:
        return any(key == "signature" for key, _ in self.params)

    def to_dict(self) -> dict[str, object]:
        return {
            "method": self.method,
            "path": self.path,
            "query_string": self.query_string,
            "headers": [list(pair) for pair in self.headers],
            "received_ms": self.received_ms,
            "status": self.status,
            "weight": self.weight,
            "fault": self.fault,
        }


@dataclass
class RequestLog:
    max_entries: int = 100_000
    record: bool = True
    entries: deque[RecordedRequest] = field(init=False)
    status_counts: Counter[int] = field(default_factory=Counter)
    total: int = 0

    def __post_init__(self) -> None:
        self.entries = deque(maxlen=self.max_entries)
        self._lock = threading.Lock()

    def add(self, entry: RecordedRequest) -> None:
        with self._lock:
            self.total += 1
            if self.record:
                self.entries.append(entry)

    def responded(self, entry: RecordedRequest, status: int | None) -> None:
        entry.status = status
        if status is not None:
            with self._lock:
                self.status_counts[status] += 1

    def snapshot(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self.entries)

    def clear(self) -> None:
        with self._lock:
            self.entries.clear()
            self.status_counts.clear()
            self.total = 0
