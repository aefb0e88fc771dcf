"""The telemetry, health and alert settings are read like every other setting and checked up front."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.settings import health_thresholds, load_config
from domain import ConfigurationError, HealthThresholds, Threshold


def _load(environ: dict[str, str]) -> dict[str, object]:
    return load_config(environ, env_file=None)


def test_the_defaults_export_nothing_use_the_default_thresholds_and_no_webhook() -> None:
    config = _load({})

    assert config["telemetry"] == {
        "service_name": "binance-gateway",
        "traces_exporters": (),
        "metrics_exporters": (),
        "sdk_disabled": False,
    }
    health = config["health"]
    assert isinstance(health, dict)
    assert health["probes"] == 5
    assert health["store_freshness"] is True
    assert health_thresholds(health["thresholds"]) == HealthThresholds()
    assert config["alerts"] == {"webhook_url": None, "webhook_timeout": 5.0, "webhook_attempts": 3}


def test_each_threshold_can_be_set_by_name(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("BINANCE_GATEWAY_HEALTH_CLOCK_OFFSET_MS_DEGRADED=250\n")
    config = load_config(
        {"BINANCE_GATEWAY_HEALTH_ERROR_RATE_DOWN": "0.6", "BINANCE_GATEWAY_HEALTH_PROBES": "9"},
        env_file=env_file,
    )

    health = config["health"]
    thresholds = health_thresholds(health["thresholds"])
    assert thresholds.error_rate == Threshold(degraded=0.05, down=0.6)
    assert thresholds.clock_offset_ms == Threshold(degraded=250, down=60_000)
    assert health["probes"] == 9


def test_telemetry_exporters_come_from_the_otel_variables_also_in_the_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("OTEL_TRACES_EXPORTER=console\nOTEL_SERVICE_NAME=gw-1\n")

    telemetry = load_config({}, env_file=env_file)["telemetry"]

    assert telemetry["traces_exporters"] == ("console",)
    assert telemetry["service_name"] == "gw-1"


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"BINANCE_GATEWAY_HEALTH_ERROR_RATE_DOWN": "0.01"}, "BINANCE_GATEWAY_HEALTH_ERROR_RATE_DOWN"),
        (
            {"BINANCE_GATEWAY_HEALTH_LATENCY_P95_MS_DEGRADED": "fast"},
            "LATENCY_P95_MS_DEGRADED must be a number",
        ),
        ({"BINANCE_GATEWAY_HEALTH_PRICE_AGE_S_DOWN": "-1"}, "at least 0"),
        ({"BINANCE_GATEWAY_HEALTH_PROBES": "0"}, "BINANCE_GATEWAY_HEALTH_PROBES must be at least 1"),
        ({"OTEL_TRACES_EXPORTER": "jaeger"}, "OTEL_TRACES_EXPORTER=jaeger"),
        ({"BINANCE_GATEWAY_ALERT_WEBHOOK": "hooks.example.com/T0KEN"}, "http:// or https://"),
        ({"BINANCE_GATEWAY_ALERT_WEBHOOK_ATTEMPTS": "0"}, "ATTEMPTS must be at least 1"),
        ({"BINANCE_GATEWAY_HEALTH_STORE_FRESHNESS": "maybe"}, "STORE_FRESHNESS must be true or false"),
    ],
)
def test_unusable_values_are_configuration_errors(environ: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigurationError, match=named) as caught:
        _load(environ)

    assert "T0KEN" not in str(caught.value)


def test_a_webhook_url_is_kept_as_given() -> None:
    alerts = _load({"BINANCE_GATEWAY_ALERT_WEBHOOK": "https://hooks.example.com/T0KEN"})["alerts"]

    assert alerts == {
        "webhook_url": "https://hooks.example.com/T0KEN",
        "webhook_timeout": 5.0,
        "webhook_attempts": 3,
    }
