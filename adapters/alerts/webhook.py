"""The webhook alert sink: an HTTP POST of the alert as JSON, with a timeout and bounded retries.

The URL is configured with ``BINANCE_GATEWAY_ALERT_WEBHOOK``. Chat services put their token in the URL, so
the sink never logs more of it than the scheme, host and port.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)
from tenacity.wait import wait_base

from domain import Alert, ConfigurationError
from ports import AlertSink

__all__ = ["WebhookAlertSink", "alert_payload", "webhook_target"]

_log = logging.getLogger("binance_gateway.alerts.webhook")
_OK_CLASS = 2


class _TransientStatusError(Exception):
    """The receiver answered 429 or 5xx: worth another attempt."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


def webhook_target(url: str) -> str:
    """``scheme://host[:port]`` of ``url``: what may be logged of a URL that can carry a token."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}"


def alert_payload(alert: Alert, service: str) -> dict[str, Any]:
    """The JSON document posted for ``alert``; ``text`` suits chat webhooks that show one field."""
    at = datetime.fromtimestamp(alert.at_ms / 1000, tz=UTC)
    kind = "recovered" if alert.is_recovery else alert.current.value
    return {
        "service": service,
        "signal": alert.signal,
        "status": alert.current.value,
        "previous": alert.previous.value,
        "recovered": alert.is_recovery,
        "message": alert.message,
        "value": alert.value,
        "threshold": alert.threshold,
        "at": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "at_ms": alert.at_ms,
        "text": f"[{service}] {alert.signal} {kind} ({alert.title}): {alert.message}",
    }


class WebhookAlertSink(AlertSink):
    """POSTs each alert as JSON; retries connection failures, timeouts, 429 and 5xx, then gives up with a
    log line. Never raises into the health monitor.

    ``wait`` is the tenacity wait between attempts (jittered exponential by default; tests pass
    ``tenacity.wait_none()``). ``client`` is the shared HTTP client; without one, each alert opens its own.
    """

    def __init__(
        self,
        url: str,
        *,
        client: httpx.AsyncClient | None = None,
        timeout_s: float = 5.0,
        attempts: int = 3,
        max_elapsed_s: float = 30.0,
        wait: wait_base | None = None,
        service: str = "binance-gateway",
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            msg = "BINANCE_GATEWAY_ALERT_WEBHOOK must be an http:// or https:// URL"
            raise ConfigurationError(msg)
        self._url = url
        self._target = webhook_target(url)
        self._client = client
        self._timeout = httpx.Timeout(timeout_s)
        self._stop = stop_after_attempt(max(1, attempts)) | stop_after_delay(max_elapsed_s)
        self._wait = wait if wait is not None else wait_exponential_jitter(multiplier=0.5, max=5.0)
        self._service = service

    @property
    def target(self) -> str:
        return self._target

    async def send(self, alert: Alert) -> None:
        payload = alert_payload(alert, self._service)
        try:
            if self._client is not None:
                await self._deliver(self._client, payload)
            else:
                async with httpx.AsyncClient(timeout=self._timeout) as client:
                    await self._deliver(client, payload)
        except (httpx.HTTPError, _TransientStatusError) as exc:
            _log.error(
                "alert %s not delivered to %s after retries: %s",
                alert.title,
                self._target,
                _describe(exc),
                extra={"alert_signal": alert.signal, "webhook": self._target},
            )
        except Exception:  # a broken alert channel must never take the health check down
            _log.exception("alert %s not delivered to %s: unexpected failure", alert.title, self._target)

    async def _deliver(self, client: httpx.AsyncClient, payload: dict[str, Any]) -> None:
        retrying = AsyncRetrying(
            stop=self._stop,
            wait=self._wait,
            retry=retry_if_exception_type((httpx.TransportError, _TransientStatusError)),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                response = await client.post(self._url, json=payload, timeout=self._timeout)
                status = response.status_code
                if status == httpx.codes.TOO_MANY_REQUESTS or status >= httpx.codes.INTERNAL_SERVER_ERROR:
                    raise _TransientStatusError(status)
                if status // 100 != _OK_CLASS:
                    signal = payload["signal"]
                    _log.error("alert %s refused by %s: HTTP %d (not retried)", signal, self._target, status)
                    return
                _log.debug("alert %s delivered to %s", payload["signal"], self._target)


def _describe(exc: BaseException) -> str:
    # httpx error texts can quote the full URL; keep only the error's class and any status.
    if isinstance(exc, _TransientStatusError):
        return f"HTTP {exc.status}"
    return type(exc).__name__
