"""Signed account calls against the loopback exchange, which verifies signatures and timestamps: HMAC,
Ed25519 and RSA keys, rejected credentials, and a server clock that jumps by several seconds."""

from __future__ import annotations

import pytest

from domain import AuthenticationError
from tests.integration.binance.conftest import Connect
from tests.loopback import AsymmetricKey, HmacKey, LoopbackExchange


@pytest.mark.parametrize("kind", ["hmac", "ed25519", "rsa"])
async def test_the_account_is_read_with_each_key_type(
    kind: str, loopback_exchange: LoopbackExchange, connect: Connect
) -> None:
    key: HmacKey | AsymmetricKey
    if kind == "hmac":
        key = loopback_exchange.add_hmac_key()
    elif kind == "ed25519":
        key = loopback_exchange.add_ed25519_key()
    else:
        key = loopback_exchange.add_rsa_key()
    loopback_exchange.set_balances(key.api_key, {"BTC": ("1.5", "0"), "USDT": ("0", "0"), "ETH": ("0", "2")})
    adapter = connect(loopback_exchange, key)

    everything = await adapter.get_account_info()
    held = await adapter.get_account_info(omit_zero_balances=True)

    assert adapter.has_credentials
    assert {b.asset for b in everything.balances} == {"BTC", "USDT", "ETH"}
    assert {b.asset for b in held.balances} == {"BTC", "ETH"}
    signed = loopback_exchange.requests_to("/api/v3/account")
    assert [r.status for r in signed] == [200, 200]
    assert all(r.signed and r.header("X-MBX-APIKEY") == key.api_key for r in signed)
    assert all(
        not r.signed and r.header("X-MBX-APIKEY") is None
        for r in loopback_exchange.requests_to("/api/v3/time")
    )


async def test_a_wrong_secret_is_an_authentication_error_sent_once(
    loopback_exchange: LoopbackExchange, connect: Connect
) -> None:
    key = loopback_exchange.add_hmac_key()
    adapter = connect(loopback_exchange, HmacKey(key.api_key, "w" * 64))

    with pytest.raises(AuthenticationError) as caught:
        await adapter.get_account_info()

    assert caught.value.code == -1022
    assert caught.value.exit_code == 4
    assert len(loopback_exchange.requests_to("/api/v3/account")) == 1


async def test_an_unknown_key_is_an_authentication_error(
    loopback_exchange: LoopbackExchange, connect: Connect
) -> None:
    adapter = connect(loopback_exchange, HmacKey("u" * 64, "s" * 64))

    with pytest.raises(AuthenticationError) as caught:
        await adapter.get_account_info()

    assert caught.value.code in {-2014, -2015}
    assert len(loopback_exchange.requests_to("/api/v3/account")) == 1


@pytest.mark.parametrize("skew_ms", [8_000, -4_000])  # server ahead: outside recvWindow; behind: "ahead"
async def test_a_server_clock_jump_is_resynchronised_then_the_call_succeeds(
    skew_ms: int, loopback_exchange: LoopbackExchange, connect: Connect
) -> None:
    key = loopback_exchange.add_hmac_key()
    adapter = connect(loopback_exchange, key)
    await adapter.get_account_info()  # synchronised with the unskewed clock
    loopback_exchange.set_clock_skew(skew_ms)

    await adapter.get_account_info()

    statuses = [r.status for r in loopback_exchange.requests_to("/api/v3/account")]
    assert statuses == [200, 400, 200]  # the -1021, then the retry after the resync
    assert len(loopback_exchange.requests_to("/api/v3/time")) == 2
    assert adapter.clock_offset_ms == pytest.approx(skew_ms, abs=250)


async def test_a_skewed_server_clock_from_the_start_needs_no_rejection(
    loopback_exchange: LoopbackExchange, connect: Connect
) -> None:
    loopback_exchange.set_clock_skew(-6_000)
    key = loopback_exchange.add_hmac_key()
    adapter = connect(loopback_exchange, key)

    await adapter.get_account_info()

    assert [r.status for r in loopback_exchange.requests_to("/api/v3/account")] == [200]
