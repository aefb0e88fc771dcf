"""Market-data endpoints: shapes (object for `symbol`, array otherwise), selection rules and error codes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import pytest_asyncio

from tests.loopback import UNICODE_SYMBOL, LoopbackExchange, ManualTime
from tests.loopback.symbols import utc_ms

NOW = utc_ms(2026, 3, 2, 9, 30) + 500
PAIR = '["BTCUSDT","ETHUSDT"]'
MINI_FIELDS = [
    "symbol",
    "openPrice",
    "highPrice",
    "lowPrice",
    "lastPrice",
    "volume",
    "quoteVolume",
    "openTime",
    "closeTime",
    "firstId",
    "lastId",
    "count",
]


@pytest_asyncio.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with LoopbackExchange(seed=9, time_source=ManualTime(NOW)) as exchange:  # noqa: SIM117
        async with httpx.AsyncClient(base_url=exchange.base_url) as client:
            yield client


async def _json(client: httpx.AsyncClient, url: str) -> Any:
    response = await client.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"
    return response.json()


async def test_ping_and_time(client: httpx.AsyncClient) -> None:
    assert await _json(client, "/api/v3/ping") == {}
    assert await _json(client, "/api/v3/time") == {"serverTime": NOW}


async def test_exchange_info_lists_the_catalogue_with_full_filters(client: httpx.AsyncClient) -> None:
    info = await _json(client, "/api/v3/exchangeInfo")

    assert isinstance(info, dict)
    symbols = {s["symbol"]: s for s in info["symbols"]}
    assert len(symbols) >= 25
    assert {"BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "XRPUSDT", UNICODE_SYMBOL} <= set(symbols)
    assert {s["status"] for s in symbols.values()} == {"TRADING", "HALT", "BREAK"}
    assert info["serverTime"] == NOW
    assert info["timezone"] == "UTC"
    assert info["exchangeFilters"] == []
    btc = symbols["BTCUSDT"]
    filters = {f["filterType"]: f for f in btc["filters"]}
    assert filters["PRICE_FILTER"] == {
        "filterType": "PRICE_FILTER",
        "minPrice": "0.01000000",
        "maxPrice": "100000000.00000000",
        "tickSize": "0.01000000",
    }
    assert filters["LOT_SIZE"]["stepSize"] == "0.00001000"
    assert {
        "NOTIONAL",
        "MARKET_LOT_SIZE",
        "ICEBERG_PARTS",
        "PERCENT_PRICE_BY_SIDE",
        "TRAILING_DELTA",
        "MAX_NUM_ORDERS",
        "MAX_NUM_ALGO_ORDERS",
    } <= set(filters)
    assert btc["permissions"] == []
    assert btc["permissionSets"] == [["SPOT", "MARGIN"]]
    assert symbols[UNICODE_SYMBOL]["baseAsset"] == "这是测试币"


@pytest.mark.parametrize(
    "query",
    [
        "symbol=BTCUSDT",
        f"symbols={PAIR}",
        f"symbols={quote(PAIR, safe='')}",
        "symbol=%E8%BF%99%E6%98%AF%E6%B5%8B%E8%AF%95%E5%B8%81456",
    ],
    ids=["symbol", "symbols-unencoded", "symbols-encoded", "unicode"],
)
async def test_exchange_info_selects_symbols(client: httpx.AsyncClient, query: str) -> None:
    info = await _json(client, f"/api/v3/exchangeInfo?{query}")

    names = [s["symbol"] for s in info["symbols"]]
    assert names in (["BTCUSDT"], ["BTCUSDT", "ETHUSDT"], [UNICODE_SYMBOL])


async def test_exchange_info_filters_by_status_and_can_drop_permission_sets(
    client: httpx.AsyncClient,
) -> None:
    halted = await _json(client, "/api/v3/exchangeInfo?symbolStatus=HALT")
    lean = await _json(client, "/api/v3/exchangeInfo?showPermissionSets=false")

    assert [s["symbol"] for s in halted["symbols"]] == ["LUNAUSDT"]
    assert all(s["permissionSets"] == [] for s in lean["symbols"])


async def test_ticker_price_returns_an_object_for_symbol_and_arrays_otherwise(
    client: httpx.AsyncClient,
) -> None:
    one = await _json(client, "/api/v3/ticker/price?symbol=BTCUSDT")
    two = await _json(client, f"/api/v3/ticker/price?symbols={PAIR}")
    every = await _json(client, "/api/v3/ticker/price")

    assert isinstance(one, dict)
    assert set(one) == {"symbol", "price"}
    assert isinstance(two, list)
    assert [t["symbol"] for t in two] == ["BTCUSDT", "ETHUSDT"]
    assert two[0] == one
    assert isinstance(every, list)
    assert len(every) >= 25


async def test_prices_agree_across_endpoints(client: httpx.AsyncClient) -> None:
    price = await _json(client, "/api/v3/ticker/price?symbol=ETHUSDT")
    book = await _json(client, "/api/v3/ticker/bookTicker?symbol=ETHUSDT")
    full = await _json(client, "/api/v3/ticker/24hr?symbol=ETHUSDT")
    depth = await _json(client, "/api/v3/depth?symbol=ETHUSDT&limit=5")

    assert isinstance(price, dict)
    assert isinstance(book, dict)
    assert isinstance(full, dict)
    assert isinstance(depth, dict)
    assert full["lastPrice"] == price["price"]
    assert Decimal(book["askPrice"]) - Decimal(book["bidPrice"]) == Decimal("0.01")
    assert depth["bids"][0][0] == book["bidPrice"]
    assert depth["asks"][0][0] == book["askPrice"]
    assert Decimal(full["lowPrice"]) <= Decimal(full["lastPrice"]) <= Decimal(full["highPrice"])
    assert full["closeTime"] - full["openTime"] == 86_400_000
    assert full["count"] == full["lastId"] - full["firstId"] + 1


async def test_ticker_24hr_full_and_mini(client: httpx.AsyncClient) -> None:
    mini = await _json(client, "/api/v3/ticker/24hr?symbol=BNBUSDT&type=MINI")
    full = await _json(client, "/api/v3/ticker/24hr?symbol=BNBUSDT&type=FULL")

    assert isinstance(mini, dict)
    assert isinstance(full, dict)
    assert sorted(mini) == sorted(MINI_FIELDS)
    assert {
        "priceChange",
        "priceChangePercent",
        "weightedAvgPrice",
        "prevClosePrice",
        "lastQty",
        "bidPrice",
        "bidQty",
        "askPrice",
        "askQty",
    } <= set(full)
    assert {k: full[k] for k in MINI_FIELDS} == mini


async def test_avg_price_and_depth_shapes(client: httpx.AsyncClient) -> None:
    avg = await _json(client, "/api/v3/avgPrice?symbol=BTCUSDT")
    deep = await _json(client, "/api/v3/depth?symbol=BTCUSDT&limit=6000")
    default = await _json(client, "/api/v3/depth?symbol=BTCUSDT")

    assert isinstance(avg, dict)
    assert avg["mins"] == 5
    assert avg["closeTime"] <= NOW
    assert isinstance(deep, dict)
    assert len(deep["bids"]) == len(deep["asks"]) == 5000
    assert isinstance(default, dict)
    assert len(default["bids"]) == 100
    bids = [Decimal(p) for p, _ in default["bids"]]
    asks = [Decimal(p) for p, _ in default["asks"]]
    assert bids == sorted(bids, reverse=True)
    assert asks == sorted(asks)
    assert bids[0] < asks[0]


async def test_a_symbol_in_break_keeps_its_last_price(client: httpx.AsyncClient) -> None:
    ticker = await _json(client, "/api/v3/ticker/24hr?symbol=FTTUSDT")

    assert isinstance(ticker, dict)
    assert ticker["closeTime"] == utc_ms(2022, 11, 14)
    assert (ticker["volume"], ticker["count"], ticker["firstId"]) == ("0.00000000", 0, -1)


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("/api/v3/ticker/price?symbol=NOPE", -1121),
        ('/api/v3/ticker/price?symbols=["BTCUSDT","NOPE"]', -1121),
        ('/api/v3/ticker/price?symbols=["BTCUSDT","BTCUSDT"]', -1151),
        ('/api/v3/ticker/price?symbols=["BTCUSDT"', -1135),
        ('/api/v3/ticker/price?symbols=["btcusdt"]', -1100),
        ("/api/v3/ticker/price?symbols=[]", -1102),
        (f"/api/v3/ticker/price?symbol=BTCUSDT&symbols={PAIR}", -1128),
        ("/api/v3/ticker/price?symbol=BTCUSDT&symbol=ETHUSDT", -1101),
        ("/api/v3/ticker/price?symbol=", -1105),
        ("/api/v3/ticker/price?symbol=BTCUSDT&symbolStatus=HALT", -1220),
        ("/api/v3/ticker/price?symbolStatus=OPEN", -1122),
        ("/api/v3/ticker/24hr?symbol=BTCUSDT&type=FAT", -1139),
        ("/api/v3/avgPrice", -1102),
        ("/api/v3/depth?symbol=BTCUSDT&limit=-1", -1100),
        ("/api/v3/exchangeInfo?symbol=BTCUSDT&symbolStatus=TRADING", -1128),
        ("/api/v3/ping?x=1", -1104),
    ],
)
async def test_errors_are_binance_bodies(client: httpx.AsyncClient, url: str, code: int) -> None:
    response = await client.get(url)

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert set(response.json()) == {"code", "msg"}


async def test_status_filter_applies_to_lists(client: httpx.AsyncClient) -> None:
    trading = await _json(client, "/api/v3/ticker/price?symbolStatus=TRADING")
    everything = await _json(client, "/api/v3/ticker/price")

    assert isinstance(trading, list)
    assert isinstance(everything, list)
    assert len(trading) == len(everything) - 2


async def test_unknown_paths_are_404_with_weight_header(client: httpx.AsyncClient) -> None:
    plain = await client.get("/api/v1/ping")
    html = await client.get("/api/v1/ping", headers={"Accept": "text/html"})
    wrong_method = await client.post("/api/v3/ping")

    assert plain.status_code == 404
    assert plain.content == b""
    assert html.status_code == 404
    assert b"404 Not Found" in html.content
    assert wrong_method.status_code == 405
    assert "X-MBX-USED-WEIGHT-1M" in plain.headers
    assert "X-MBX-USED-WEIGHT-1M" in wrong_method.headers
