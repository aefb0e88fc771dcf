"""Stream settings: the URL rules shared with REST, Binance's limits as bounds, errors naming the setting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from adapters.settings import load_config
from adapters.streams import StreamSettings
from domain import ConfigurationError


@pytest.mark.parametrize(
    "url",
    ["ws://127.0.0.1:9000", "ws://localhost:1", "ws://[::1]:80", "wss://stream.testnet.binance.vision/"],
)
def test_secure_urls_and_plain_loopback_urls_are_accepted(url: str) -> None:
    assert StreamSettings(url=url).url == url.rstrip("/")


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ws://stream.binance.com:9443", "only wss:// is allowed"),
        ("https://stream.binance.com", "must start with wss://"),
        ("wss://user:secret@stream.binance.com", "user name or password"),
        ("stream.binance.com", "expected scheme://host"),
    ],
)
def test_other_urls_are_refused_naming_the_variable(url: str, problem: str) -> None:
    with pytest.raises(ConfigurationError, match="BINANCE_STREAM_URL") as caught:
        StreamSettings(url=url)
    assert problem in str(caught.value)
    assert "secret" not in str(caught.value)


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"max_streams_per_connection": 1025}, "BINANCE_STREAM_MAX_PER_CONNECTION must be from 1 to 1024"),
        ({"silence_timeout_s": 0}, "BINANCE_STREAM_SILENCE_SECONDS must be a positive number"),
        ({"buffer_size": 0}, "BINANCE_STREAM_BUFFER must be at least 1"),
        ({"control_rate": 6}, "control_rate must be from 0 to 5"),
        ({"rollover_margin_s": 86_400}, "leave part of the connection lifetime"),
        ({"reconnect_base_s": 5, "reconnect_max_s": 1}, "not be below the first reconnect delay"),
    ],
)
def test_limits_are_checked(changes: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigurationError, match=problem):
        StreamSettings(**changes)


def test_the_configuration_section_feeds_the_settings() -> None:
    config = load_config(
        {
            "BINANCE_STREAM_SILENCE_SECONDS": "12",
            "BINANCE_STREAM_BUFFER": "500",
            "BINANCE_GATEWAY_STREAMS": "no",
        },
        env_file=None,
    )

    settings = StreamSettings.from_mapping(
        config["streams"], url="wss://example.org", ca_bundle=Path("ca.pem")
    )

    assert config["streams"]["enabled"] is False
    assert (settings.silence_timeout_s, settings.buffer_size, settings.ca_bundle) == (
        12.0,
        500,
        Path("ca.pem"),
    )
    assert settings.max_streams_per_connection == 1024
    assert not settings.is_loopback


@pytest.mark.parametrize(
    ("environ", "problem"),
    [
        ({"BINANCE_STREAM_MAX_PER_CONNECTION": "2000"}, "at most 1024"),
        ({"BINANCE_GATEWAY_STREAMS": "sometimes"}, "BINANCE_GATEWAY_STREAMS must be true or false"),
        ({"BINANCE_STREAM_RECONNECT_MAX_SECONDS": "-1"}, "positive number of seconds"),
    ],
)
def test_bad_stream_variables_are_configuration_errors(environ: dict[str, str], problem: str) -> None:
    with pytest.raises(ConfigurationError, match=problem):
        load_config(environ, env_file=None)
