"""The stream benchmark's own logic: the library-free frame reader and the per-run latency summary.

Nothing here times anything; the figures come from ``python -m bench streams``, never from tests.
"""

from __future__ import annotations

import asyncio

import pytest

from bench._stream_server import _frame, _template
from bench.streams import Meter, Outcome, _latency_summary, _RawReader, _rotated

_UPGRADE_REPLY = (
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
)


class _Transport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written = b""

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += bytes(data)


def _stamped(stream: str, update_id: int) -> bytes:
    head, tail = _template(stream)
    return _frame(head + str(update_id).encode() + tail)


def _big_frame() -> bytes:
    payload = b'{"stream":"x","data":{"u":7,"pad":"' + b"p" * 200 + b'"}}'
    return _frame(payload)


async def test_the_raw_reader_sends_an_upgrade_and_reads_frames_split_anywhere() -> None:
    meter = Meter(latency=False, expected=3)
    reader = _RawReader("/stream?streams=btcusdt@bookTicker", "127.0.0.1", meter)
    transport = _Transport()
    reader.connection_made(transport)
    assert transport.written.startswith(b"GET /stream?streams=btcusdt@bookTicker HTTP/1.1\r\n")
    assert b"Upgrade: websocket\r\n" in transport.written

    wire = (
        _UPGRADE_REPLY
        + _stamped("btcusdt@bookTicker", 11)
        + _big_frame()
        + _stamped("btcusdt@bookTicker", 12)
    )
    for start in range(0, len(wire), 5):  # five bytes at a time: every header and payload is cut somewhere
        reader.data_received(wire[start : start + 5])

    assert reader.count == 2  # three frames: the first is number 0
    assert reader.done.done()


async def test_the_raw_reader_skips_frames_that_are_not_text() -> None:
    meter = Meter(latency=False, expected=2)
    reader = _RawReader("/stream", "127.0.0.1", meter)
    reader.connection_made(_Transport())
    pong = bytes((0x8A, 0))
    reader.data_received(_UPGRADE_REPLY + pong + _stamped("ethusdt@bookTicker", 5))
    assert reader.count == 0
    assert not reader.done.done()


async def test_the_raw_reader_ends_when_the_connection_is_lost() -> None:
    reader = _RawReader("/stream", "127.0.0.1", Meter(latency=False, expected=10))
    reader.connection_lost(None)
    assert reader.done.done()


def test_the_frame_header_carries_a_16_bit_length_for_long_payloads() -> None:
    frame = _big_frame()
    assert frame[:2] == bytes((0x81, 126))
    assert int.from_bytes(frame[2:4], "big") == len(frame) - 4


def _outcome(latencies_ms: list[float]) -> Outcome:
    return Outcome(events=len(latencies_ms), wall_s=1.0, cpu_s=0.001 * len(latencies_ms),
                   latencies_ns=[int(value * 1e6) for value in latencies_ms])  # fmt: skip


def test_the_latency_summary_takes_the_median_run_and_reports_the_spread_of_p99() -> None:
    warm_up = [50.0] * 10  # the first tenth of each run is dropped
    runs = [
        _outcome(warm_up + [0.1] * 89 + [1.0]),
        _outcome(warm_up + [0.2] * 89 + [2.0]),
        _outcome(warm_up + [0.3] * 89 + [3.0]),
    ]
    summary = _latency_summary(runs)
    assert summary["latency_p50_ms"] == pytest.approx(0.2)
    assert summary["latency_p99_ms"] == pytest.approx(0.2)
    assert summary["latency_p99_min_ms"] == pytest.approx(0.1)
    assert summary["latency_p99_max_ms"] == pytest.approx(0.3)
    assert summary["latency_p99_pooled_ms"] == pytest.approx(0.3)  # all 270 events together, not one run
    assert summary["latency_max_ms"] == pytest.approx(3.0)  # the worst event of any run, warm-up excluded
    assert summary["latency_events"] == 3 * 90
    assert summary["latency_cpu_us_per_event"] == pytest.approx(1000.0)


def test_each_round_starts_with_the_next_client() -> None:
    names = ["adapter", "aiohttp", "websockets"]
    assert [_rotated(names, number)[0] for number in range(1, 5)] == [
        "adapter",
        "aiohttp",
        "websockets",
        "adapter",
    ]
    assert sorted(_rotated(names, 2)) == sorted(names)
