"""Telemetry settings read from the standard ``OTEL_*`` environment variables."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from domain import ConfigurationError

__all__ = ["DEFAULT_SERVICE_NAME", "EXPORTERS", "TelemetrySettings"]

DEFAULT_SERVICE_NAME = "binance-gateway"
#: The exporter names this gateway understands in ``OTEL_TRACES_EXPORTER`` / ``OTEL_METRICS_EXPORTER``.
EXPORTERS = ("otlp", "console", "none")
_SUPPORTED_PROTOCOLS = ("http/protobuf",)


def _exporters(variable: str, value: str | None) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(n.strip().lower() for n in (value or "none").split(",") if n.strip()))
    unknown = [name for name in names if name not in EXPORTERS]
    if unknown:
        msg = f"{variable}={value} names an exporter this gateway does not have; use otlp, console or none"
        raise ConfigurationError(msg)
    if "none" in names and len(names) > 1:
        msg = f"{variable}={value} mixes none with other exporters; use none alone"
        raise ConfigurationError(msg)
    return tuple(name for name in names if name != "none")


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


@attrs.frozen
class TelemetrySettings:
    """Which exporters to use and under which service name; nothing is exported by default.

    The OTLP exporter reads its own variables (``OTEL_EXPORTER_OTLP_ENDPOINT``, ``..._HEADERS``,
    ``..._TIMEOUT``, ``..._TRACES_ENDPOINT``, ...), the batch span processor ``OTEL_BSP_*`` and the metric
    reader ``OTEL_METRIC_EXPORT_INTERVAL``; only what this gateway decides itself is held here.
    """

    service_name: str = DEFAULT_SERVICE_NAME
    traces_exporters: tuple[str, ...] = ()
    metrics_exporters: tuple[str, ...] = ()
    sdk_disabled: bool = False

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> TelemetrySettings:
        """Read ``OTEL_SERVICE_NAME``, ``OTEL_TRACES_EXPORTER``, ``OTEL_METRICS_EXPORTER`` and
        ``OTEL_SDK_DISABLED``; raise ``ConfigurationError`` for a value this gateway cannot honour."""
        settings = cls(
            service_name=environ.get("OTEL_SERVICE_NAME", "").strip() or DEFAULT_SERVICE_NAME,
            traces_exporters=_exporters("OTEL_TRACES_EXPORTER", environ.get("OTEL_TRACES_EXPORTER")),
            metrics_exporters=_exporters("OTEL_METRICS_EXPORTER", environ.get("OTEL_METRICS_EXPORTER")),
            sdk_disabled=_flag(environ.get("OTEL_SDK_DISABLED")),
        )
        if settings.uses_otlp:
            for variable in (
                "OTEL_EXPORTER_OTLP_PROTOCOL",
                "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
                "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
            ):
                protocol = environ.get(variable, "").strip()
                if protocol and protocol not in _SUPPORTED_PROTOCOLS:
                    msg = (
                        f"{variable}={protocol} is not supported; the OTLP exporter here speaks http/protobuf"
                    )
                    raise ConfigurationError(msg)
        return settings

    @property
    def uses_otlp(self) -> bool:
        return "otlp" in self.traces_exporters or "otlp" in self.metrics_exporters

    @property
    def exports_anything(self) -> bool:
        return not self.sdk_disabled and bool(self.traces_exporters or self.metrics_exporters)
