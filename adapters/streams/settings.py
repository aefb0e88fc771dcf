"""Settings of the stream adapter, validated before any connection is opened.

``url`` is the stream host (``BINANCE_STREAM_URL``): ``wss://``, or plain ``ws://`` for a loopback host only.
The limits default to Binance's documented ones (24-hour connections, 1024 streams a connection, 300
connection attempts per 5 minutes, 5 inbound messages a second); tests shorten the times.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs

from adapters._net import is_loopback, parse_endpoint_url
from domain import ConfigurationError

__all__ = ["ENV_NAMES", "MAX_STREAMS_PER_CONNECTION", "StreamSettings"]

#: Binance's limit of streams on one connection.
MAX_STREAMS_PER_CONNECTION = 1024
_MAX_CONTROL_RATE = 5.0
_DAY_S = 86_400.0


def _check_url(_instance: object, _attribute: object, value: str) -> None:
    try:
        url = parse_endpoint_url(value)
    except ValueError as exc:
        msg = f"BINANCE_STREAM_URL is not a usable URL: {exc}"
        raise ConfigurationError(msg) from None
    if url.scheme == "ws" and not is_loopback(url.host):
        msg = (
            f"BINANCE_STREAM_URL uses plain ws:// for {url.host}; only wss:// is allowed "
            "(plain ws:// only for 127.0.0.1, ::1 or localhost)"
        )
        raise ConfigurationError(msg)
    if url.scheme not in {"ws", "wss"}:
        msg = f"BINANCE_STREAM_URL must start with wss://, not {url.scheme}://"
        raise ConfigurationError(msg)


#: The environment variables behind the settings a user may set (the rest are for tests and tuning).
ENV_NAMES = {
    "silence_timeout_s": "BINANCE_STREAM_SILENCE_SECONDS",
    "reconnect_max_s": "BINANCE_STREAM_RECONNECT_MAX_SECONDS",
    "buffer_size": "BINANCE_STREAM_BUFFER",
    "max_streams_per_connection": "BINANCE_STREAM_MAX_PER_CONNECTION",
}


def _name(attribute: attrs.Attribute[Any]) -> str:
    return ENV_NAMES.get(attribute.name, f"stream setting {attribute.name}")


def _positive(_instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not value > 0 or value == float("inf"):
        msg = f"{_name(attribute)} must be a positive number, not {value!r}"
        raise ConfigurationError(msg)


def _between(low: float, high: float = float("inf")) -> Callable[[object, attrs.Attribute[Any], float], None]:
    def check(_instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
        if not low <= value <= high:
            bound = f"at least {low:g}" if high == float("inf") else f"from {low:g} to {high:g}"
            msg = f"{_name(attribute)} must be {bound}, not {value!r}"
            raise ConfigurationError(msg)

    return check


def _normalise_url(value: str) -> str:
    try:
        return parse_endpoint_url(value).text
    except ValueError:
        return value  # the validator reports it


@attrs.frozen(kw_only=True)
class StreamSettings:
    """Validated settings; ``from_mapping`` reads the ``streams`` section of the configuration.

    - ``silence_timeout_s``: no message for this long means a dead stream; reconnect.
    - ``lifetime_s``: the exchange closes a connection this old (24 h); each is replaced after
      ``lifetime_s - rollover_margin_s`` plus a random share of ``rollover_jitter_s``, new one first.
    - ``reconnect_base_s`` / ``reconnect_max_s``: the jittered backoff between reconnect attempts.
    - ``max_connect_attempts`` per ``attempt_window_s``: never more connection attempts than this.
    - ``buffer_size``: events waiting for the consumer before latest-wins updates are coalesced.
    - ``control_rate``: control messages (subscribe) sent per second, below the exchange's 5 with pongs.
    - ``handover_timeout_s``: how long a replacement connection may take to catch up before the switch.
    """

    url: str = attrs.field(
        default="wss://stream.testnet.binance.vision", converter=_normalise_url, validator=_check_url
    )
    silence_timeout_s: float = attrs.field(default=30.0, validator=_positive)
    lifetime_s: float = attrs.field(default=_DAY_S, validator=_positive)
    rollover_margin_s: float = attrs.field(default=1800.0, validator=_between(0.0))
    rollover_jitter_s: float = attrs.field(default=900.0, validator=_between(0.0))
    reconnect_base_s: float = attrs.field(default=0.5, validator=_between(0.0))
    reconnect_max_s: float = attrs.field(default=30.0, validator=_between(0.0))
    stable_after_s: float = attrs.field(default=30.0, validator=_between(0.0))
    max_connect_attempts: int = attrs.field(default=300, validator=_between(1))
    attempt_window_s: float = attrs.field(default=300.0, validator=_positive)
    max_streams_per_connection: int = attrs.field(
        default=MAX_STREAMS_PER_CONNECTION,
        validator=_between(1, MAX_STREAMS_PER_CONNECTION),
    )
    buffer_size: int = attrs.field(default=10_000, validator=_between(1))
    control_rate: float = attrs.field(default=4.0, validator=[_positive, _between(0.0, _MAX_CONTROL_RATE)])
    subscribe_batch: int = attrs.field(default=100, validator=_between(1))
    max_url_length: int = attrs.field(default=4000, validator=_between(64))
    handover_timeout_s: float = attrs.field(default=10.0, validator=_positive)
    connect_timeout_s: float = attrs.field(default=10.0, validator=_positive)
    close_timeout_s: float = attrs.field(default=2.0, validator=_positive)
    lag_sample_every: int = attrs.field(default=16, validator=_between(1))
    ca_bundle: Path | None = None

    def __attrs_post_init__(self) -> None:
        if self.rollover_margin_s + self.rollover_jitter_s >= self.lifetime_s:
            msg = "the stream rollover margin and jitter must leave part of the connection lifetime"
            raise ConfigurationError(msg)
        if self.reconnect_max_s < self.reconnect_base_s:
            msg = "BINANCE_STREAM_RECONNECT_MAX_SECONDS must not be below the first reconnect delay"
            raise ConfigurationError(msg)

    @property
    def is_loopback(self) -> bool:
        return is_loopback(parse_endpoint_url(self.url).host)

    @classmethod
    def from_mapping(
        cls, streams: Mapping[str, object], *, url: str, ca_bundle: Path | None = None
    ) -> StreamSettings:
        """From the ``streams`` configuration section (``enabled`` is the collector's, not ours) and the
        stream URL, already checked against the chosen environment by the Binance settings."""
        values = {key: value for key, value in streams.items() if value is not None and key != "enabled"}
        return cls(url=url, ca_bundle=ca_bundle, **values)  # type: ignore[arg-type]
