"""HTTP cassettes of the Binance adapter: how they are recorded, filtered, matched and replayed.

A cassette is recorded by running the real ``BinanceRestAdapter`` against a server (the loopback test
exchange, or the Spot testnet with ``make cassettes``) under vcrpy, and replayed with record mode ``none``: a
request that is not in the cassette fails the test instead of reaching the network. vcrpy hooks httpx's own
transports, so the adapter is built on ``httpx.AsyncHTTPTransport`` here; everything above the transport
(signing, limiter, retries, error mapping, parsing, spans) is the adapter's real code.

Before anything is written: the ``X-MBX-APIKEY`` header, the ``signature`` and ``timestamp`` parameters are
replaced by ``<filtered>`` (matching still works: the live request is filtered the same way before it is
compared), and the recording fails if the key or secret still appears anywhere in a request or response.
Requests match on method, path and the remaining (non-secret) query parameters.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import vcr

from adapters.binance import BinanceRestAdapter, BinanceSettings, ClockSync, RetryPolicy, new_http_client
from adapters.clock import FakeClock
from tests.loopback import LoopbackExchange

__all__ = [
    "CASSETTES",
    "FILTERED",
    "MANIFEST",
    "RECORDING_API_KEY",
    "RECORDING_API_SECRET",
    "RECORD_ENV",
    "REPLAY_BASE_URL",
    "adapter_on_cassette",
    "build_adapter",
    "cassette",
    "find_secrets",
    "read_manifest",
]

CASSETTES = Path(__file__).resolve().parents[1] / "cassettes"
MANIFEST = CASSETTES / "manifest.json"
FILTERED = "<filtered>"
SECRET_HEADERS = ("X-MBX-APIKEY",)
SECRET_PARAMETERS = ("signature", "timestamp")

#: The loopback recordings' credentials: obviously fake, registered with the loopback exchange only.
RECORDING_API_KEY = "RECORDINGKEYcassettesOnlyNotARealKey0123456789012345678901234567"
RECORDING_API_SECRET = "RECORDINGSECRETcassettesOnlyNotARealSecret9876543210987654321098"
#: Set to ``loopback`` (by ``tests.integration.record_cassettes``) to record instead of replaying.
RECORD_ENV = "BINANCE_GATEWAY_RECORD_CASSETTES"
#: Replays never connect; the URL only has to be one the settings accept.
REPLAY_BASE_URL = "http://127.0.0.1:9"


class SecretInCassetteError(AssertionError):
    """A credential survived the filters; the cassette is not written."""


def _checker(secrets: tuple[str, ...]) -> tuple[Any, Any]:
    def check(text: str, where: str) -> None:
        for secret in secrets:
            if secret and secret in text:
                msg = f"a credential would be written to a cassette ({where}); recording stopped"
                raise SecretInCassetteError(msg)

    def before_record_request(request: Any) -> Any:
        for name in SECRET_HEADERS:  # vcrpy's filter_headers did this; belt and braces
            if name in request.headers:
                request.headers[name] = FILTERED
        check(request.uri, "request URL")
        check(json.dumps(dict(request.headers)), "request headers")
        check(
            request.body.decode("utf-8", "replace")
            if isinstance(request.body, bytes)
            else str(request.body or ""),
            "request body",
        )
        return request

    def before_record_response(response: dict[str, Any]) -> dict[str, Any]:
        body = response.get("body", {}).get("string", b"")
        check(body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body), "response body")
        check(json.dumps(response.get("headers", {})), "response headers")
        return response

    return before_record_request, before_record_response


def cassette_vcr(record_mode: str, secrets: tuple[str, ...] = (), library: Path = CASSETTES) -> Any:
    """A vcrpy configuration with the filters and matchers above; ``secrets`` must never be written."""
    before_request, before_response = _checker((RECORDING_API_KEY, RECORDING_API_SECRET, *secrets))
    return vcr.VCR(
        cassette_library_dir=str(library),
        record_mode=record_mode,
        match_on=("method", "path", "query"),
        filter_headers=[(name, FILTERED) for name in SECRET_HEADERS],
        filter_query_parameters=[(name, FILTERED) for name in SECRET_PARAMETERS],
        before_record_request=before_request,
        before_record_response=before_response,
        decode_compressed_response=True,
    )


@contextmanager
def cassette(
    name: str,
    *,
    record_mode: str = "none",
    secrets: tuple[str, ...] = (),
    repeats: bool = False,
    library: Path = CASSETTES,
) -> Iterator[Any]:
    """Use ``<library>/<name>.yaml``: replayed only (``none``) unless a recording mode is given."""
    with cassette_vcr(record_mode, secrets, library).use_cassette(
        f"{name}.yaml", allow_playback_repeats=repeats
    ) as tape:
        yield tape


def build_adapter(
    base_url: str = REPLAY_BASE_URL,
    *,
    api_key: str | None = RECORDING_API_KEY,
    api_secret: str | None = RECORDING_API_SECRET,
    clock: FakeClock | None = None,
    max_attempts: int = 1,
) -> BinanceRestAdapter:
    """The real adapter on httpx's own transport; one attempt by default, so an error case sends one request.

    With ``clock`` the adapter's clock is that fake one (deterministic timestamps and ``as_of_ms``).
    """
    config: dict[str, object] = {"base_url": base_url}
    if api_key is not None:
        config["api_key"] = api_key
    if api_secret is not None:
        config["api_secret"] = api_secret
    settings = BinanceSettings.from_mapping(config)
    sync = ClockSync(wall_ms=clock.now_ms, monotonic=clock.monotonic) if clock is not None else None
    return BinanceRestAdapter(
        new_http_client(transport=httpx.AsyncHTTPTransport()),
        settings,
        clock=sync,
        retry=RetryPolicy.instant(max_attempts),
    )


def read_manifest() -> dict[str, Any]:
    """``cassettes/manifest.json``: for each cassette, the server it was recorded from and when."""
    data: dict[str, Any] = json.loads(MANIFEST.read_text(encoding="utf-8"))
    return data


# Anything that looks like key material: a long hex run (an HMAC signature is 64), a PEM block, an API key
# header with a value other than the placeholder, a key-length token, a signature or timestamp with a value.
_SUSPICIOUS = (
    re.compile(r"[0-9a-fA-F]{40,}"),
    re.compile(r"-----BEGIN [A-Z ]*KEY-----"),
    re.compile(r"(?i)x-mbx-apikey['\"]?\s*[:=]\s*(?:-\s+)?\[?\s*['\"]?(?!<filtered>)[A-Za-z0-9]"),
    re.compile(r"[A-Za-z0-9]{64,}"),  # a Binance API key is 64 letters and digits
    re.compile(r"(?i)signature=(?!%3Cfiltered%3E|<filtered>)[^&\s'\"]"),
    re.compile(r"(?i)timestamp=(?!%3Cfiltered%3E|<filtered>)[^&\s'\"]"),
)


def find_secrets(text: str, known: tuple[str, ...] = (RECORDING_API_KEY, RECORDING_API_SECRET)) -> list[str]:
    """What in ``text`` looks like a credential or a signature: known values, then suspicious patterns."""
    found = [f"known secret {value[:9]}..." for value in known if value and value in text]
    found += [
        f"{pattern.pattern} -> {m.group(0)[:12]}..."
        for pattern in _SUSPICIOUS
        for m in pattern.finditer(text)
    ]
    return found


@asynccontextmanager
async def adapter_on_cassette(name: str, *, clock: FakeClock) -> AsyncIterator[BinanceRestAdapter]:
    """The Binance adapter replaying ``cassettes/<name>.yaml``, on ``clock`` (the recording's instant).

    Replayed requests are the recorded ones only if the caller sends the same requests on every run: its
    instants must come from ``clock``. With ``BINANCE_GATEWAY_RECORD_CASSETTES=loopback`` the requests go to a
    loopback test exchange whose clock is ``clock`` too, and new ones are added to the cassette.
    """
    if os.environ.get(RECORD_ENV) == "loopback":
        async with LoopbackExchange(time_source=clock.now_ms) as exchange:
            exchange.add_hmac_key(RECORDING_API_KEY, RECORDING_API_SECRET)
            adapter = build_adapter(exchange.base_url, clock=clock)
            try:
                with cassette(name, record_mode="new_episodes", repeats=True):
                    yield adapter
            finally:
                await adapter.aclose()
        return
    adapter = build_adapter(clock=clock)
    try:
        with cassette(name, repeats=True):
            yield adapter
    finally:
        await adapter.aclose()
