"""What only the PostgreSQL store does: its URL, kept out of messages, and an unreachable server named."""

from __future__ import annotations

import socket

import pytest

from adapters.postgres import PostgresMarketDataStore, redact_url
from domain import ConfigurationError, StorageError, StorageUnavailableError
from tests.contract.storage._pg_server import PostgresServer


def test_the_printable_location_never_holds_the_password() -> None:
    url = "postgresql://collector:s3cr3t-pa55@db.example.net:5433/market?sslmode=require"

    assert redact_url(url) == "postgresql://collector@db.example.net:5433/market"


def test_a_unix_socket_location_names_the_folder() -> None:
    assert (
        redact_url("postgresql:///market?host=/run/postgresql") == "postgresql:///market?host=/run/postgresql"
    )


def test_a_malformed_url_is_a_configuration_error_that_does_not_echo_it() -> None:
    with pytest.raises(ConfigurationError, match="not a valid PostgreSQL URL") as caught:
        PostgresMarketDataStore("postgresql://collector:s3cr3t@db.example.net:notaport/market?x=%")

    assert "s3cr3t" not in str(caught.value)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_an_unreachable_server_is_a_retryable_error_without_the_password() -> None:
    url = f"postgresql://collector:s3cr3t@127.0.0.1:{_closed_port()}/market"

    with pytest.raises(StorageUnavailableError, match="cannot connect") as caught:
        await PostgresMarketDataStore.open(url, connect_timeout_s=2)

    assert caught.value.retryable
    assert "s3cr3t" not in str(caught.value)
    assert caught.value.location.startswith("postgresql://collector@127.0.0.1:")


@pytest.mark.postgres
async def test_a_database_that_does_not_exist_is_refused_not_retried(postgres_server: PostgresServer) -> None:
    url = postgres_server.url.rsplit("/", 1)[0] + "/no_such_database"

    with pytest.raises(StorageError, match="does not exist") as caught:
        await PostgresMarketDataStore.open(url)

    assert not caught.value.retryable
