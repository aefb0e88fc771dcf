"""Klines: Binance's open-time alignment, ordering and limit rules, and well-formed deterministic candles."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
import pytest_asyncio

from tests.loopback import LoopbackExchange, ManualTime
from tests.loopback.intervals import INTERVALS
from tests.loopback.symbols import utc_ms

NOW = utc_ms(2026, 1, 14, 13, 37) + 12_345  # a Wednesday, mid-minute
MINUTE = 60_000
FIXED = {
    "1s": 1_000,
    "1m": MINUTE,
    "3m": 3 * MINUTE,
    "5m": 5 * MINUTE,
    "15m": 15 * MINUTE,
    "30m": 30 * MINUTE,
    "1h": 60 * MINUTE,
    "2h": 120 * MINUTE,
    "4h": 240 * MINUTE,
    "6h": 360 * MINUTE,
    "8h": 480 * MINUTE,
    "12h": 720 * MINUTE,
    "1d": 1440 * MINUTE,
    "3d": 3 * 1440 * MINUTE,
}
Kline = list[Any]
Query = dict[str, str | int]


@pytest_asyncio.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with LoopbackExchange(seed=3, time_source=ManualTime(NOW)) as exchange:  # noqa: SIM117
        async with httpx.AsyncClient(base_url=exchange.base_url) as client:
            yield client


async def _klines(client: httpx.AsyncClient, **params: str | int) -> list[Kline]:
    response = await client.get("/api/v3/klines", params={"symbol": "BTCUSDT", **params})
    assert response.status_code == 200, response.text
    rows: list[Kline] = response.json()
    return rows


def _utc(ms: object) -> datetime:
    assert isinstance(ms, int)
    return datetime.fromtimestamp(ms / 1000, UTC)


@pytest.mark.parametrize("interval", INTERVALS)
async def test_every_interval_aligns_open_times_and_ends_with_the_open_candle(
    client: httpx.AsyncClient, interval: str
) -> None:
    rows = await _klines(client, interval=interval, limit=30)

    opens = [row[0] for row in rows]
    assert len(rows) == 30
    assert all(row[6] == nxt[0] - 1 for row, nxt in itertools.pairwise(rows))
    assert opens[-1] <= NOW < rows[-1][6]
    if interval in FIXED:
        assert all(o % FIXED[interval] == 0 for o in opens)
    elif interval == "1w":
        assert all(_utc(o).weekday() == 0 and _utc(o).hour == 0 for o in opens)
    else:
        assert all(_utc(o).day == 1 and _utc(o).hour == 0 for o in opens)


async def test_months_follow_the_calendar(client: httpx.AsyncClient) -> None:
    rows = await _klines(client, interval="1M", startTime=utc_ms(2024, 1, 15), limit=3)

    assert [(_utc(r[0]).date().isoformat(), _utc(r[6]).date().isoformat()) for r in rows] == [
        ("2024-02-01", "2024-02-29"),
        ("2024-03-01", "2024-03-31"),
        ("2024-04-01", "2024-04-30"),
    ]


async def test_candles_are_well_formed_binance_decimals(client: httpx.AsyncClient) -> None:
    for interval in ("1s", "1m", "1h", "1d", "1M"):
        for row in await _klines(client, interval=interval, limit=200):
            assert len(row) == 12
            assert row[11] == "0"
            assert isinstance(row[0], int)
            assert isinstance(row[6], int)
            assert isinstance(row[8], int)
            texts = [row[i] for i in (1, 2, 3, 4, 5, 7, 9, 10)]
            assert all(isinstance(t, str) and len(t.split(".")[1]) == 8 for t in texts)
            o, h, low, c, volume = (Decimal(str(row[i])) for i in (1, 2, 3, 4, 5))
            assert h >= max(o, c)
            assert low <= min(o, c)
            assert low > 0
            assert all(p % Decimal("0.01") == 0 for p in (o, h, low, c))
            assert volume > 0
            assert Decimal(str(row[9])) <= volume
            assert row[8] >= 1


async def test_consecutive_candles_share_their_boundary_price(client: httpx.AsyncClient) -> None:
    rows = await _klines(client, interval="1m", startTime=utc_ms(2024, 3, 1), limit=1000)

    assert all(row[4] == nxt[1] for row, nxt in itertools.pairwise(rows))


async def test_no_times_gives_the_newest_limit_candles(client: httpx.AsyncClient) -> None:
    default = await _klines(client, interval="1m")
    capped = await _klines(client, interval="1m", limit=5000)

    assert len(default) == 500
    assert len(capped) == 1000
    assert default[-1][0] == capped[-1][0] == NOW - NOW % MINUTE


async def test_start_time_gives_the_oldest_candles_opening_at_or_after_it(client: httpx.AsyncClient) -> None:
    start = utc_ms(2024, 6, 1, 12, 0)

    aligned = await _klines(client, interval="1h", startTime=start, limit=3)
    mid = await _klines(client, interval="1h", startTime=start + 1, limit=3)

    assert [r[0] for r in aligned] == [start, start + 3_600_000, start + 7_200_000]
    assert mid[0][0] == start + 3_600_000


async def test_end_time_gives_the_newest_candles_opening_at_or_before_it(client: httpx.AsyncClient) -> None:
    end = utc_ms(2024, 6, 1, 12, 30)

    rows = await _klines(client, interval="1h", endTime=end, limit=2)

    assert [r[0] for r in rows] == [utc_ms(2024, 6, 1, 11), utc_ms(2024, 6, 1, 12)]


async def test_both_times_read_forward_from_start_capped_at_end(client: httpx.AsyncClient) -> None:
    start, end = utc_ms(2024, 6, 1), utc_ms(2024, 6, 1, 0, 4)

    rows = await _klines(client, interval="1m", startTime=start, endTime=end, limit=1000)
    limited = await _klines(client, interval="1m", startTime=start, endTime=end, limit=2)

    assert [r[0] for r in rows] == [start + i * MINUTE for i in range(5)]
    assert [r[0] for r in limited] == [start, start + MINUTE]


async def test_nothing_exists_before_listing_or_after_now(client: httpx.AsyncClient) -> None:
    listed = utc_ms(2017, 8, 17, 4)

    first = await _klines(client, interval="1d", startTime=0, limit=2)
    before = await _klines(client, interval="1m", endTime=listed - 1)
    future = await _klines(client, interval="1m", startTime=NOW + 10 * MINUTE)

    assert first[0][0] == utc_ms(2017, 8, 17)
    assert before == []
    assert future == []


async def test_the_open_candle_is_partial_and_final_once_closed() -> None:
    time = ManualTime(
        utc_ms(
            2024,
            6,
            1,
            12,
            0,
        )
        + 20_000
    )
    async with (
        LoopbackExchange(seed=3, time_source=time) as exchange,
        httpx.AsyncClient(base_url=exchange.base_url) as client,
    ):
        params: Query = {"symbol": "BTCUSDT", "interval": "1m", "startTime": utc_ms(2024, 6, 1, 12)}
        partial = (await client.get("/api/v3/klines", params=params)).json()[0]
        time.advance(60_000)
        final = (await client.get("/api/v3/klines", params=params)).json()[0]

    assert partial[0] == final[0]
    assert partial[1] == final[1]
    assert Decimal(partial[5]) < Decimal(final[5])
    assert partial[4] != final[4]


async def test_time_zone_shifts_bar_alignment_only(client: httpx.AsyncClient) -> None:
    rows = await _klines(client, interval="1d", timeZone="8", startTime=utc_ms(2024, 6, 1), limit=2)

    assert [r[0] for r in rows] == [utc_ms(2024, 6, 1, 16), utc_ms(2024, 6, 2, 16)]


async def test_ui_klines_serve_the_same_candles(client: httpx.AsyncClient) -> None:
    params: Query = {"symbol": "ETHUSDT", "interval": "5m", "startTime": utc_ms(2024, 2, 2), "limit": 50}

    klines = (await client.get("/api/v3/klines", params=params)).json()
    ui = (await client.get("/api/v3/uiKlines", params=params)).json()

    assert klines == ui


async def test_the_series_is_reproducible_from_the_seed() -> None:
    params: Query = {"symbol": "SOLUSDT", "interval": "1m", "startTime": utc_ms(2024, 1, 1), "limit": 1000}
    pages = []
    for seed in (5, 5, 6):
        async with (
            LoopbackExchange(seed=seed, time_source=ManualTime(NOW)) as exchange,
            httpx.AsyncClient(base_url=exchange.base_url) as client,
        ):
            pages.append((await client.get("/api/v3/klines", params=params)).content)

    assert pages[0] == pages[1] != pages[2]


async def test_the_reference_series_matches_what_is_served(client: httpx.AsyncClient) -> None:
    reference = LoopbackExchange(seed=3).market.klines(
        "BTCUSDT", "1m", now=NOW, start=utc_ms(2024, 1, 1), limit=1000
    )

    assert await _klines(client, interval="1m", startTime=utc_ms(2024, 1, 1), limit=1000) == reference


async def test_microsecond_time_unit_scales_every_time_field(client: httpx.AsyncClient) -> None:
    params: Query = {
        "symbol": "BTCUSDT",
        "interval": "1h",
        "startTime": utc_ms(2024, 1, 1) * 1000,
        "limit": 1,
    }

    micro = await client.get("/api/v3/klines", params=params, headers={"X-MBX-TIME-UNIT": "MICROSECOND"})
    bad = await client.get("/api/v3/klines", params=params, headers={"X-MBX-TIME-UNIT": "NANOSECOND"})

    assert micro.json()[0][0] == utc_ms(2024, 1, 1) * 1000
    assert micro.json()[0][6] == (utc_ms(2024, 1, 1, 1) - 1) * 1000
    assert bad.json()["code"] == -1194


async def test_a_symbol_in_break_has_no_candles_after_the_break() -> None:
    async with (
        LoopbackExchange(time_source=ManualTime(NOW)) as exchange,
        httpx.AsyncClient(base_url=exchange.base_url) as client,
    ):
        newest = (await client.get("/api/v3/klines", params={"symbol": "FTTUSDT", "interval": "1d"})).json()

    assert newest[-1][0] == utc_ms(2022, 11, 13)


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"symbol": "BTCUSDT"}, -1102),
        ({"symbol": "BTCUSDT", "interval": "2m"}, -1120),
        ({"symbol": "BTCUSDT", "interval": "1H"}, -1120),
        ({"symbol": "NOPEUSDT", "interval": "1m"}, -1121),
        ({"symbol": "btcusdt", "interval": "1m"}, -1100),
        ({"interval": "1m"}, -1102),
        ({"symbol": "BTCUSDT", "interval": "1m", "startTime": "yesterday"}, -1100),
        ({"symbol": "BTCUSDT", "interval": "1m", "startTime": 2, "endTime": 1}, -1128),
        ({"symbol": "BTCUSDT", "interval": "1m", "limit": 0}, -1130),
        ({"symbol": "BTCUSDT", "interval": "1m", "timeZone": "+15:00"}, -1130),
        ({"symbol": "BTCUSDT", "interval": "1m", "window": "x"}, -1104),
        ({"symbol": "BTCUSDT", "interval": ""}, -1105),
    ],
)
async def test_bad_parameters_get_binance_error_codes(
    client: httpx.AsyncClient, params: Query, code: int
) -> None:
    response = await client.get("/api/v3/klines", params=params)

    assert response.status_code == 400
    assert response.json()["code"] == code


def test_the_series_spans_pages_without_gaps_or_duplicates() -> None:
    exchange = LoopbackExchange(seed=3, time_source=ManualTime(NOW))
    start, end = utc_ms(2024, 2, 28), utc_ms(2024, 3, 1, 23, 59)

    series = exchange.kline_series("BTCUSDT", "1m", start_ms=start, end_ms=end)

    assert [row[0] for row in series] == list(range(start, end + 1, MINUTE))
    assert (
        series[1000]
        == exchange.market.klines("BTCUSDT", "1m", now=NOW, start=start + 1000 * MINUTE, limit=1)[0]
    )
