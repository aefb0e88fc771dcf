"""Configuration loading: options over environment over .env over defaults, and clear errors."""

from pathlib import Path

import pytest

from adapters.settings import default_db_path, load_config
from domain import ConfigurationError


def _load(environ: dict[str, str] | None = None, cli: dict[str, object] | None = None) -> dict[str, object]:
    return load_config(environ or {}, cli or {}, env_file=None)


def test_defaults_choose_the_testnet_binance_adapter_and_five_pairs() -> None:
    config = _load()

    assert config["adapter"] == "binance"
    assert config["log_level"] == "WARNING"
    assert config["json"] is False
    assert config["symbols"] == ["BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "XRPUSDT"]
    assert config["fake"] == {"seed": 7}
    binance = config["binance"]
    assert isinstance(binance, dict)
    assert binance["base_url"] == "https://testnet.binance.vision"
    assert binance["stream_url"] == "wss://stream.testnet.binance.vision"
    assert binance["api_key"] is None
    assert binance["api_secret"] is None
    assert binance["private_key_path"] is None
    assert binance["recv_window_ms"] == 5000
    assert (binance["connect_timeout"], binance["read_timeout"], binance["pool_timeout"]) == (5.0, 10.0, 5.0)
    assert (binance["max_retries"], binance["retry_max_seconds"]) == (4, 30.0)
    assert binance["ca_bundle"] is None


def test_the_default_database_is_a_file_in_the_user_data_folder() -> None:
    config = _load()

    assert config["db"] == default_db_path()
    assert Path(default_db_path()).name == "binance-gateway.sqlite3"


def test_environment_variables_fill_every_setting() -> None:
    config = _load(
        {
            "BINANCE_GATEWAY_ADAPTER": "FAKE",
            "BINANCE_GATEWAY_LOG_LEVEL": "debug",
            "BINANCE_GATEWAY_JSON": "yes",
            "BINANCE_GATEWAY_DB": "/data/gw.sqlite3",
            "BINANCE_GATEWAY_SYMBOLS": "btcusdt, ethbtc",
            "BINANCE_GATEWAY_FAKE_SEED": "42",
            "BINANCE_BASE_URL": "http://127.0.0.1:8080",
            "BINANCE_API_KEY": "fake-key-for-tests",
            "BINANCE_API_SECRET": "fake-secret-for-tests",
            "BINANCE_RECV_WINDOW": "6000",
            "BINANCE_READ_TIMEOUT": "2.5",
            "BINANCE_MAX_RETRIES": "0",
            "BINANCE_RETRY_MAX_SECONDS": "1",
            "BINANCE_CA_BUNDLE": "/etc/ssl/ca.pem",
        }
    )

    assert config["adapter"] == "fake"
    assert config["log_level"] == "DEBUG"
    assert config["json"] is True
    assert config["db"] == "/data/gw.sqlite3"
    assert config["symbols"] == ["BTCUSDT", "ETHBTC"]
    assert config["fake"] == {"seed": 42}
    binance = config["binance"]
    assert isinstance(binance, dict)
    assert binance["base_url"] == "http://127.0.0.1:8080"
    assert binance["api_key"] == "fake-key-for-tests"
    assert binance["api_secret"] == "fake-secret-for-tests"
    assert binance["recv_window_ms"] == 6000
    assert binance["read_timeout"] == 2.5
    assert binance["max_retries"] == 0
    assert binance["retry_max_seconds"] == 1.0
    assert binance["ca_bundle"] == "/etc/ssl/ca.pem"


def test_command_line_options_win_over_the_environment() -> None:
    environ = {
        "BINANCE_GATEWAY_ADAPTER": "binance",
        "BINANCE_GATEWAY_LOG_LEVEL": "ERROR",
        "BINANCE_GATEWAY_DB": "a",
    }

    config = _load(environ, {"adapter": "fake", "log_level": "INFO", "json": True, "db": "b"})

    chosen = (config["adapter"], config["log_level"], config["json"], config["db"])
    assert chosen == ("fake", "INFO", True, "b")


def test_options_not_given_leave_the_environment_in_charge() -> None:
    config = _load({"BINANCE_GATEWAY_ADAPTER": "fake"}, {"adapter": None, "json": None})

    assert config["adapter"] == "fake"
    assert config["json"] is False


def test_the_env_file_is_read_below_the_environment_and_left_out_of_it(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "BINANCE_GATEWAY_ADAPTER=fake\nBINANCE_GATEWAY_FAKE_SEED=11\nBINANCE_API_KEY=from-file\n"
    )
    environ = {"BINANCE_GATEWAY_FAKE_SEED": "12"}

    config = load_config(environ, {}, env_file=env_file)

    assert config["adapter"] == "fake"
    assert config["fake"] == {"seed": 12}
    binance = config["binance"]
    assert isinstance(binance, dict)
    assert binance["api_key"] == "from-file"
    assert environ == {"BINANCE_GATEWAY_FAKE_SEED": "12"}


def test_a_missing_env_file_is_no_error(tmp_path: Path) -> None:
    config = load_config({}, {}, env_file=tmp_path / "absent.env")

    assert config["adapter"] == "binance"


def test_an_empty_variable_counts_as_unset() -> None:
    config = _load({"BINANCE_GATEWAY_ADAPTER": " ", "BINANCE_API_KEY": ""})

    assert config["adapter"] == "binance"
    binance = config["binance"]
    assert isinstance(binance, dict)
    assert binance["api_key"] is None


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"BINANCE_GATEWAY_ADAPTER": "kraken"}, "unknown adapter 'kraken'"),
        ({"BINANCE_GATEWAY_LOG_LEVEL": "LOUD"}, "unknown log level 'LOUD'"),
        ({"BINANCE_GATEWAY_JSON": "maybe"}, "BINANCE_GATEWAY_JSON must be true or false"),
        ({"BINANCE_GATEWAY_FAKE_SEED": "seven"}, "BINANCE_GATEWAY_FAKE_SEED must be a whole number"),
        ({"BINANCE_RECV_WINDOW": "0"}, "BINANCE_RECV_WINDOW must be at least 1"),
        ({"BINANCE_MAX_RETRIES": "-1"}, "BINANCE_MAX_RETRIES must be at least 0"),
        ({"BINANCE_READ_TIMEOUT": "0"}, "BINANCE_READ_TIMEOUT must be a positive number of seconds"),
        ({"BINANCE_CONNECT_TIMEOUT": "soon"}, "BINANCE_CONNECT_TIMEOUT must be a number"),
        ({"BINANCE_GATEWAY_SYMBOLS": "BTC-USDT"}, "BINANCE_GATEWAY_SYMBOLS: symbol 'BTC-USDT' contains '-'"),
        ({"BINANCE_GATEWAY_SYMBOLS": " , "}, "BINANCE_GATEWAY_SYMBOLS lists no symbol"),
    ],
)
def test_an_unusable_setting_is_a_configuration_error_naming_it(environ: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigurationError, match=named) as caught:
        _load(environ)

    assert caught.value.exit_code == 3


def test_an_unknown_adapter_from_the_command_line_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="use one of binance, fake"):
        _load(cli={"adapter": "nope"})


def test_secrets_are_passed_through_but_never_echoed_in_errors() -> None:
    secret = "canary-secret-0123456789"
    environ = {"BINANCE_API_SECRET": secret, "BINANCE_RECV_WINDOW": "x"}

    with pytest.raises(ConfigurationError) as caught:
        _load(environ)

    assert secret not in str(caught.value)


def test_an_unreadable_env_file_is_a_configuration_error(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_bytes(b"BINANCE_GATEWAY_ADAPTER=\xff\xfe\n")

    with pytest.raises(ConfigurationError, match="cannot read"):
        load_config({}, {}, env_file=env_file)
