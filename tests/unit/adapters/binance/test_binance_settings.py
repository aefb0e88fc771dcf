"""Settings are validated before any request: URLs, the production opt-in, key formats bound to an
environment, timeouts and recvWindow. Errors name the setting and never repeat a key."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from adapters.binance import BinanceSettings, Environment
from domain import ConfigurationError
from tests.unit.adapters.binance.conftest import HMAC_KEY, HMAC_SECRET, AdapterFactory, FakeExchange


def build(**values: Any) -> BinanceSettings:
    return BinanceSettings.from_mapping(values)


def test_defaults_are_the_testnet_without_credentials() -> None:
    config = build()

    assert config.environment is Environment.TESTNET
    assert config.base_url == "https://testnet.binance.vision"
    assert config.stream_url == "wss://stream.testnet.binance.vision"
    assert config.credentials is None
    assert not config.can_sign
    assert config.recv_window_param == "5000"


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080", "http://127.3.4.5", "http://localhost:1234", "http://[::1]:9000"]
)
def test_plain_http_is_allowed_for_loopback_hosts(url: str) -> None:
    assert build(base_url=url).base_url == url
    assert build(base_url=url).is_loopback


@pytest.mark.parametrize(
    "url",
    ["http://testnet.binance.vision", "http://10.0.0.1", "http://127.0.0.1.example.com", "http://[::2]"],
)
def test_plain_http_is_refused_elsewhere(url: str) -> None:
    with pytest.raises(ConfigurationError, match=r"BINANCE_BASE_URL uses plain http://"):
        build(base_url=url)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://testnet.binance.vision",
        "testnet.binance.vision",
        "https://user:pw@testnet.binance.vision",
        "https://testnet.binance.vision/?x=1",
        "https://host:99999",
    ],
)
def test_unusable_urls_are_refused(url: str) -> None:
    with pytest.raises(ConfigurationError, match="BINANCE_BASE_URL") as caught:
        build(base_url=url)

    assert "pw" not in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "https://api.binance.com",
        "https://api3.binance.com",
        "https://api-gcp.binance.com",
        "https://data-api.binance.vision",
    ],
)
def test_production_must_be_chosen_explicitly(url: str) -> None:
    with pytest.raises(ConfigurationError, match="set BINANCE_ENVIRONMENT=production"):
        build(base_url=url)

    config = build(base_url=url, environment="production", stream_url="wss://stream.binance.com:9443")
    assert config.environment is Environment.PRODUCTION


def test_production_defaults_to_production_urls() -> None:
    config = build(environment="PRODUCTION")

    assert (config.base_url, config.stream_url) == (
        "https://api.binance.com",
        "wss://stream.binance.com:9443",
    )


def test_a_testnet_url_is_refused_in_production() -> None:
    with pytest.raises(ConfigurationError, match="Spot testnet"):
        build(environment="production", base_url="https://testnet.binance.vision")


def test_an_unknown_environment_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="BINANCE_ENVIRONMENT must be 'testnet' or 'production'"):
        build(environment="staging")


def test_hmac_credentials_are_bound_to_the_testnet_by_default() -> None:
    config = build(api_key=HMAC_KEY, api_secret=HMAC_SECRET)

    assert config.credentials is not None
    assert config.credentials.key_type == "HMAC"
    assert config.credentials.environment is Environment.TESTNET
    assert config.can_sign


def test_testnet_keys_are_never_usable_against_production() -> None:
    config = build(api_key=HMAC_KEY, api_secret=HMAC_SECRET, environment="production")

    assert not config.can_sign
    assert "belongs to testnet" in (config.credential_problem or "")


def test_production_keys_are_never_usable_against_the_testnet() -> None:
    config = build(api_key=HMAC_KEY, api_secret=HMAC_SECRET, key_environment="production")

    assert not config.can_sign
    assert "belongs to production" in (config.credential_problem or "")


def test_production_keys_work_against_production() -> None:
    config = build(
        api_key=HMAC_KEY, api_secret=HMAC_SECRET, environment="production", key_environment="production"
    )

    assert config.can_sign


async def test_keys_of_the_other_environment_are_not_sent(
    make_adapter: AdapterFactory, exchange: FakeExchange
) -> None:
    config = build(
        api_key=HMAC_KEY, api_secret=HMAC_SECRET, key_environment="production", base_url="http://127.0.0.1:9"
    )
    adapter = make_adapter(exchange, config)

    with pytest.raises(ConfigurationError, match="never sent to the other environment"):
        await adapter.get_account_info()

    assert not adapter.has_credentials
    assert exchange.requests == []


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"api_key": HMAC_KEY}, "BINANCE_API_KEY is set without BINANCE_API_SECRET"),
        ({"api_secret": HMAC_SECRET}, "BINANCE_API_SECRET is set but BINANCE_API_KEY is missing"),
        ({"api_key": HMAC_KEY, "api_secret": HMAC_SECRET, "private_key_path": "k.pem"}, "not both"),
        ({"private_key_passphrase": "phrase"}, "without BINANCE_PRIVATE_KEY_PATH"),
        ({"api_key": "short", "api_secret": HMAC_SECRET}, "BINANCE_API_KEY has 5 characters"),
        (
            {"api_key": HMAC_KEY, "api_secret": "x" * 40 + " y" * 10},
            "BINANCE_API_SECRET contains a character",
        ),
        (
            {"api_key": '"' + HMAC_KEY + '"', "api_secret": HMAC_SECRET},
            "BINANCE_API_KEY contains a character",
        ),
    ],
)
def test_incomplete_or_malformed_credentials_are_configuration_errors(
    values: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message) as caught:
        build(**values)

    assert HMAC_KEY not in str(caught.value)
    assert HMAC_SECRET not in str(caught.value)
    assert caught.value.exit_code == 3


def test_surrounding_whitespace_of_a_key_is_ignored() -> None:
    config = build(api_key=f"  {HMAC_KEY}\n", api_secret=HMAC_SECRET)

    assert config.credentials is not None
    assert config.credentials.api_key.reveal() == HMAC_KEY


def test_credentials_never_show_in_repr() -> None:
    config = build(api_key=HMAC_KEY, api_secret=HMAC_SECRET)

    assert HMAC_KEY not in repr(config)
    assert HMAC_SECRET not in repr(config)


def test_a_private_key_file_gives_an_ed25519_signer(tmp_path: Path) -> None:
    path = tmp_path / "ed25519.pem"
    key = ed25519.Ed25519PrivateKey.generate()
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"pass phrase"),
        )
    )

    config = build(api_key=HMAC_KEY, private_key_path=str(path), private_key_passphrase="pass phrase")

    assert config.credentials is not None
    assert config.credentials.key_type == "ED25519"
    assert "pass phrase" not in repr(config)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "there is no file at"),
        (b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "holds a public key"),
        (b"garbage", "not a PEM private key"),
    ],
)
def test_unusable_private_key_files_name_the_setting(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    path = tmp_path / "key.pem"
    if content is not None:
        path.write_bytes(content)

    with pytest.raises(ConfigurationError, match=f"BINANCE_PRIVATE_KEY_PATH: .*{message}"):
        build(api_key=HMAC_KEY, private_key_path=str(path))


@pytest.mark.parametrize(
    ("value", "sent"), [("5000", "5000"), (60000, "60000"), ("6000.346", "6000.346"), ("1", "1")]
)
def test_recv_window_accepts_1_to_60000_ms_with_up_to_three_decimals(value: object, sent: str) -> None:
    assert build(recv_window_ms=value).recv_window_param == sent


@pytest.mark.parametrize("value", ["0", "60001", "-5", "5000.0001", "abc", "NaN"])
def test_recv_window_outside_its_range_is_refused(value: str) -> None:
    with pytest.raises(ConfigurationError, match="BINANCE_RECV_WINDOW"):
        build(recv_window_ms=value)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("connect_timeout", "0"),
        ("read_timeout", "-1"),
        ("pool_timeout", "abc"),
        ("retry_max_seconds", "1e9"),
        ("max_retries", "11"),
        ("max_retries", "x"),
    ],
)
def test_timeouts_and_retry_budget_are_checked(key: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=f"BINANCE_{key.upper()}"):
        build(**{key: value})


def test_numbers_from_the_environment_are_converted() -> None:
    config = build(connect_timeout="2.5", read_timeout=7, max_retries="2", recv_window_ms=Decimal("4000"))

    assert (config.connect_timeout, config.read_timeout, config.max_retries) == (2.5, 7.0, 2)


def test_a_missing_ca_bundle_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="BINANCE_CA_BUNDLE"):
        build(ca_bundle=str(tmp_path / "absent.pem"))
