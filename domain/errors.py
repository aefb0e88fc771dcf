"""The one exception hierarchy of binance-gateway.

Every failure that crosses a port is one of these; no httpx, cattrs or driver exception leaks out.
Each class says whether retrying the same call can help (``retryable``) and which exit status the
command line uses for it (``exit_code``)::

    GatewayError                          base of everything raised on purpose
    ├── ConfigurationError                permanent  3  bad key format, refused URL, missing credential
    ├── InvalidInputError                 permanent  2  user input rejected before any request (ValueError)
    ├── DataValidationError               permanent  7  exchange data failed the domain validators
    ├── StorageError                      permanent  3  store refused: bad path or URL, failed write
    │   ├── SchemaVersionError            permanent  3  the database was written by a newer binance-gateway
    │   └── StorageUnavailableError       retryable  6  database locked too long, server unreachable
    └── BinanceAPIError                   (varies)      any exchange failure: code, http_status, endpoint
        ├── NetworkError                  retryable  6  connection refused/reset, DNS, TLS
        │   └── RequestTimeoutError       retryable  6  connect/read/pool timeout
        ├── ExchangeUnavailableError      retryable  6  5xx, -1001, -1006, -1007, -1008
        ├── RateLimitError                retryable  5  429 / -1003: wait ``retry_after`` seconds
        │   └── IPBannedError             permanent  5  418: banned until ``banned_until_ms``
        ├── ClockSkewError                retryable  4  -1021: timestamp rejected (resync, retry once)
        ├── AuthenticationError           permanent  4  401, -1002, -1022, -2014, -2015
        ├── AccessDeniedError             permanent  6  403 from the web application firewall
        ├── InvalidRequestError           permanent  2  -11xx parameter errors
        │   ├── InvalidSymbolError        permanent  2  -1121 unknown symbol
        │   └── InvalidIntervalError      permanent  2  -1120 unknown interval
        └── MalformedResponseError        permanent  6  non-JSON, truncated or unexpected body

``retryable`` describes the failure, not a promise: the HTTP adapter retries only idempotent requests.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from domain.validators import Violation

__all__ = [
    "AccessDeniedError",
    "AuthenticationError",
    "BinanceAPIError",
    "ClockSkewError",
    "ConfigurationError",
    "DataValidationError",
    "ExchangeUnavailableError",
    "GatewayError",
    "IPBannedError",
    "InvalidInputError",
    "InvalidIntervalError",
    "InvalidRequestError",
    "InvalidSymbolError",
    "MalformedResponseError",
    "NetworkError",
    "RateLimitError",
    "RequestTimeoutError",
    "SchemaVersionError",
    "StorageError",
    "StorageUnavailableError",
]


class GatewayError(Exception):
    """Base of every error binance-gateway raises on purpose."""

    retryable: ClassVar[bool] = False
    exit_code: ClassVar[int] = 1
    #: One short sentence a user can act on; the command line prints it after the message.
    hint: ClassVar[str] = ""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigurationError(GatewayError):
    """The gateway is configured in a way it refuses to run with (never echoes secret values)."""

    exit_code = 3
    hint = "fix the named setting in the environment, the .env file or the command-line option"


class InvalidInputError(GatewayError, ValueError):
    """Input from a caller (symbol text, interval, date range) is not acceptable; nothing was sent."""

    exit_code = 2
    hint = "correct the argument and run the command again"


class DataValidationError(GatewayError):
    """Data from the exchange broke a domain rule; it was not used or stored."""

    exit_code = 7
    hint = "the exchange sent data that failed validation; retry later or report the payload"

    def __init__(self, message: str, violations: Sequence[Violation] = ()) -> None:
        super().__init__(message)
        self.violations: tuple[Violation, ...] = tuple(violations)


class StorageError(GatewayError):
    """The market-data store failed or refused; the batch being written was not stored.

    ``location`` names the database (a file path, or a URL without its password).
    """

    exit_code = 3
    hint = "check the database named by --db or BINANCE_GATEWAY_DB (see docs/troubleshooting.md, Storage)"

    def __init__(self, message: str, *, location: str = "") -> None:
        super().__init__(message)
        self.location = location


class SchemaVersionError(StorageError):
    """The database carries a schema version newer than this binance-gateway knows; it is left untouched."""

    hint = "upgrade binance-gateway, or point --db at another database"


class StorageUnavailableError(StorageError):
    """The database could not be reached in time: locked by another writer, server down, connection lost."""

    retryable = True
    exit_code = 6
    hint = "retry; if it persists, check that the database server runs or which process holds the lock"


class BinanceAPIError(GatewayError):
    """Base of every exchange failure.

    ``code`` is the Binance error code (``None`` when the failure had none, e.g. a connection reset),
    ``http_status`` the HTTP status (``None`` when no response arrived) and ``endpoint`` the path that was
    called, never with its query string.
    """

    exit_code = 6

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        http_status: int | None = None,
        endpoint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.http_status = http_status
        self.endpoint = endpoint

    def __str__(self) -> str:
        details = []
        if self.code is not None:
            details.append(f"code {self.code}")
        if self.http_status is not None:
            details.append(f"HTTP {self.http_status}")
        if self.endpoint:
            details.append(self.endpoint)
        return f"{self.message} ({', '.join(details)})" if details else self.message


class NetworkError(BinanceAPIError):
    """The request did not complete: connection refused or reset, DNS or TLS failure."""

    retryable = True
    hint = "check the network and BINANCE_BASE_URL, then retry"


class RequestTimeoutError(NetworkError):
    """Connecting, sending or reading took longer than the configured timeout."""

    hint = "the exchange is slow or unreachable; retry later or raise the timeout"


class ExchangeUnavailableError(BinanceAPIError):
    """The exchange answered 5xx or a busy/unknown-status code; a read may be retried."""

    retryable = True
    hint = "the exchange is unavailable or overloaded; retry later"


class RateLimitError(BinanceAPIError):
    """Request weight or rate limit exceeded (HTTP 429, code -1003); wait ``retry_after`` seconds."""

    retryable = True
    exit_code = 5
    hint = "wait before sending more requests; lower the request rate or use fewer symbols"

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        code: int | None = -1003,
        http_status: int | None = 429,
        endpoint: str | None = None,
    ) -> None:
        super().__init__(message, code=code, http_status=http_status, endpoint=endpoint)
        self.retry_after = retry_after


class IPBannedError(RateLimitError):
    """The IP is banned (HTTP 418) until ``banned_until_ms``; nothing may be sent before then."""

    retryable = False
    hint = "the IP is banned for ignoring rate limits; wait until the ban ends"

    def __init__(
        self,
        message: str,
        *,
        banned_until_ms: int,
        retry_after: float | None = None,
        code: int | None = -1003,
        http_status: int | None = 418,
        endpoint: str | None = None,
    ) -> None:
        super().__init__(
            message, retry_after=retry_after, code=code, http_status=http_status, endpoint=endpoint
        )
        self.banned_until_ms = banned_until_ms

    @property
    def banned_until(self) -> datetime:
        """The end of the ban as an aware UTC datetime."""
        return datetime.fromtimestamp(self.banned_until_ms / 1000, tz=UTC)


class ClockSkewError(BinanceAPIError):
    """Timestamp rejected (-1021): the local clock and the server clock disagree beyond recvWindow."""

    retryable = True
    exit_code = 4
    hint = "synchronise the system clock (NTP) or raise recvWindow (at most 60000 ms)"


class AuthenticationError(BinanceAPIError):
    """The exchange rejected the credentials or the signature (401, -1002, -1022, -2014, -2015)."""

    exit_code = 4
    hint = (
        "check BINANCE_API_KEY and its secret or private key, that they belong to the chosen "
        "environment (testnet or production), and the key's IP whitelist and permissions"
    )


class AccessDeniedError(BinanceAPIError):
    """HTTP 403: the exchange's web application firewall blocked the request."""

    hint = "the exchange's firewall blocked the request; slow down and check the parameters"


class InvalidRequestError(BinanceAPIError):
    """The exchange rejected a parameter (-11xx); sending the same request again cannot help."""

    exit_code = 2
    hint = "correct the parameters of the request"


class InvalidSymbolError(InvalidRequestError):
    """The exchange does not know the symbol (-1121)."""

    hint = "check the symbol against the exchange's list (binance-gateway prices shows known pairs)"


class InvalidIntervalError(InvalidRequestError):
    """The exchange does not know the kline interval (-1120)."""

    hint = "use one of 1s 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M"


class MalformedResponseError(BinanceAPIError):
    """The response body was not the JSON the endpoint promises (truncated, HTML, wrong shape)."""

    hint = "the exchange or a proxy returned an unexpected body; retry later and check BINANCE_BASE_URL"
