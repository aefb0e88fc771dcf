"""Signed requests: key checks, the three signature kinds over the percent-encoded query, and timestamps."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import quote

import httpx
import pytest
import pytest_asyncio

from tests.loopback import UNICODE_SYMBOL, HmacKey, LoopbackExchange, ManualTime, encode_query

NOW = 1_767_225_600_000  # 2026-01-01T00:00:00Z
VECTOR_SECRET = "example-secret-do-not-use-0123456789abcdef"
VECTOR_PAYLOAD = "omitZeroBalances=true&recvWindow=5000&timestamp=1767225600000"
VECTOR_SIGNATURE = "45a5f78b4030ddd06c1c4a1444e7246c4b90e18a8797951addb2fed6cc9ec84c"


@pytest_asyncio.fixture
async def exchange() -> AsyncIterator[LoopbackExchange]:
    async with LoopbackExchange(time_source=ManualTime(NOW)) as exchange:
        yield exchange


@pytest_asyncio.fixture
async def client(exchange: LoopbackExchange) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=exchange.base_url) as client:
        yield client


async def _account(client: httpx.AsyncClient, api_key: str | None, query: str) -> httpx.Response:
    headers = {} if api_key is None else {"X-MBX-APIKEY": api_key}
    return await client.get(f"/api/v3/account?{query}", headers=headers)


def test_hmac_signature_matches_the_facts_test_vector() -> None:
    key = HmacKey("A" * 64, VECTOR_SECRET)

    assert key.sign(VECTOR_PAYLOAD) == VECTOR_SIGNATURE


async def test_the_test_vector_request_is_accepted_with_hex_in_either_case(
    exchange: LoopbackExchange, client: httpx.AsyncClient
) -> None:
    key = exchange.add_hmac_key(secret=VECTOR_SECRET)

    lower = await _account(client, key.api_key, f"{VECTOR_PAYLOAD}&signature={VECTOR_SIGNATURE}")
    upper = await _account(client, key.api_key, f"{VECTOR_PAYLOAD}&signature={VECTOR_SIGNATURE.upper()}")

    assert lower.status_code == upper.status_code == 200
    assert {b["asset"] for b in lower.json()["balances"]} == {"BTC", "ETH", "BNB", "USDT", "456"}


async def test_a_wrong_secret_is_an_invalid_signature(
    exchange: LoopbackExchange, client: httpx.AsyncClient
) -> None:
    key = exchange.add_hmac_key()
    forged = HmacKey(key.api_key, "not-the-secret")

    response = await _account(client, key.api_key, forged.signed_query({"timestamp": str(NOW)}))

    assert response.status_code == 400
    assert response.json() == {"code": -1022, "msg": "Signature for this request is not valid."}


@pytest.mark.parametrize("kind", ["ed25519", "rsa"])
async def test_asymmetric_keys_sign_in_base64_and_tampering_is_caught(
    exchange: LoopbackExchange, client: httpx.AsyncClient, kind: str
) -> None:
    pair = exchange.add_ed25519_key() if kind == "ed25519" else exchange.add_rsa_key()
    query = pair.signed_query({"omitZeroBalances": "true", "timestamp": str(NOW)})

    accepted = await _account(client, pair.api_key, query)
    tampered = await _account(
        client, pair.api_key, query.replace("omitZeroBalances=true", "omitZeroBalances=false")
    )

    assert accepted.status_code == 200
    assert tampered.json()["code"] == -1022


async def test_a_base64_signature_must_be_url_encoded(
    exchange: LoopbackExchange, client: httpx.AsyncClient
) -> None:
    pair = exchange.add_ed25519_key()
    timestamp = NOW
    while "+" not in (signature := pair.sign(f"timestamp={timestamp}")):
        timestamp -= 1

    raw = await _account(client, pair.api_key, f"timestamp={timestamp}&signature={signature}")
    encoded = await _account(
        client, pair.api_key, f"timestamp={timestamp}&signature={quote(signature, safe='')}"
    )

    assert raw.json()["code"] == -1022
    assert encoded.status_code == 200


async def test_signing_the_raw_text_of_a_parameter_that_needs_encoding_fails(
    exchange: LoopbackExchange, client: httpx.AsyncClient
) -> None:
    key = exchange.add_hmac_key()
    pairs = [("symbol", UNICODE_SYMBOL), ("timestamp", str(NOW))]
    sent = encode_query(pairs)
    raw_text = f"symbol={UNICODE_SYMBOL}&timestamp={NOW}"
    path = "/api/v3/account/commission"
    headers = {"X-MBX-APIKEY": key.api_key}

    good = await client.get(f"{path}?{sent}&signature={key.sign(sent)}", headers=headers)
    bad = await client.get(f"{path}?{sent}&signature={key.sign(raw_text)}", headers=headers)

    assert good.status_code == 200
    assert good.json()["symbol"] == UNICODE_SYMBOL
    assert bad.json() == {"code": -1022, "msg": "Signature for this request is not valid."}


async def test_a_query_sent_unencoded_is_not_the_encoded_form_even_if_signed_as_sent(
    exchange: LoopbackExchange, client: httpx.AsyncClient
) -> None:
    key = exchange.add_hmac_key()
    sent = f'omitZeroBalances=true&timestamp={NOW}&note=["x"]'

    response = await _account(client, key.api_key, f"{sent}&signature={key.sign(sent)}")

    assert response.json()["code"] == -1022


@pytest.mark.parametrize(
    ("api_key", "status", "code"),
    [(None, 401, -2014), ("short", 401, -2014), ("k" * 64, 401, -2015)],
    ids=["missing", "malformed", "unknown"],
)
async def test_key_problems_are_reported_before_the_signature(
    exchange: LoopbackExchange, client: httpx.AsyncClient, api_key: str | None, status: int, code: int
) -> None:
    key = exchange.add_hmac_key()

    response = await _account(client, api_key, key.signed_query({"timestamp": str(NOW)}))

    assert (response.status_code, response.json()["code"]) == (status, code)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("signature=00", "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed."),
        (f"timestamp={NOW}", "Mandatory parameter 'signature' was not sent, was empty/null, or malformed."),
    ],
)
async def test_missing_signing_parameters_are_minus_1102(
    exchange: LoopbackExchange, client: httpx.AsyncClient, query: str, message: str
) -> None:
    key = exchange.add_hmac_key()

    response = await _account(client, key.api_key, query)

    assert response.json() == {"code": -1102, "msg": message}


@pytest.mark.parametrize(
    ("timestamp", "recv_window", "expected"),
    [
        (NOW + 999, None, 200),
        (NOW + 1000, None, "Timestamp for this request was 1000ms ahead of the server's time."),
        (NOW - 5000, None, 200),
        (NOW - 5001, None, "Timestamp for this request is outside of the recvWindow."),
        (NOW - 60_000, "60000", 200),
        (NOW - 6001, "6000.346", "Timestamp for this request is outside of the recvWindow."),
        (NOW * 1000, None, 200),
    ],
)
async def test_timestamps_are_checked_against_the_server_clock(
    exchange: LoopbackExchange,
    client: httpx.AsyncClient,
    timestamp: int,
    recv_window: str | None,
    expected: int | str,
) -> None:
    key = exchange.add_hmac_key()
    params = (
        {"timestamp": str(timestamp)}
        if recv_window is None
        else {"recvWindow": recv_window, "timestamp": str(timestamp)}
    )

    response = await _account(client, key.api_key, key.signed_query(params))

    if expected == 200:
        assert response.status_code == 200
    else:
        assert response.status_code == 400
        assert response.json() == {"code": -1021, "msg": expected}


async def test_a_recv_window_over_a_minute_is_refused(
    exchange: LoopbackExchange, client: httpx.AsyncClient
) -> None:
    key = exchange.add_hmac_key()

    response = await _account(
        client, key.api_key, key.signed_query({"recvWindow": "60001", "timestamp": str(NOW)})
    )

    assert response.json() == {"code": -1102, "msg": "Param 'recvWindow' cannot be greater than 60000."}


async def test_a_skewed_server_clock_rejects_the_local_time_until_the_client_resyncs(
    exchange: LoopbackExchange, client: httpx.AsyncClient
) -> None:
    key = exchange.add_hmac_key()
    exchange.set_clock_skew(-7_000)

    stale = await _account(client, key.api_key, key.signed_query({"timestamp": str(NOW)}))
    server_time = (await client.get("/api/v3/time")).json()["serverTime"]
    fresh = await _account(client, key.api_key, key.signed_query({"timestamp": str(server_time)}))

    assert stale.json()["code"] == -1021
    assert server_time == NOW - 7_000
    assert fresh.status_code == 200


async def test_omit_zero_balances_drops_empty_assets(
    exchange: LoopbackExchange, client: httpx.AsyncClient
) -> None:
    key = exchange.add_hmac_key()
    exchange.set_balances(key.api_key, {"BTC": ("0.5", "0"), "DOGE": ("0", "0")})

    every = await _account(client, key.api_key, key.signed_query({"timestamp": str(NOW)}))
    nonzero = await _account(
        client, key.api_key, key.signed_query({"omitZeroBalances": "true", "timestamp": str(NOW)})
    )

    assert [b["asset"] for b in every.json()["balances"]] == ["BTC", "DOGE"]
    assert nonzero.json()["balances"] == [{"asset": "BTC", "free": "0.50000000", "locked": "0.00000000"}]


async def test_the_request_log_shows_the_key_header_and_never_the_secret(
    exchange: LoopbackExchange, client: httpx.AsyncClient
) -> None:
    key = exchange.add_hmac_key()

    await _account(client, key.api_key, key.signed_query({"timestamp": str(NOW)}))

    (entry,) = exchange.requests_to("/api/v3/account")
    assert entry.signed
    assert entry.header("x-mbx-apikey") == key.api_key
    assert key.secret not in entry.query_string
    assert entry.weight == 20
