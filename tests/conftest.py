"""Fixtures shared by every test: the loopback test exchange (tests/loopback/fixtures.py) and a throwaway
PostgreSQL server for the storage tests (tests/contract/storage/_pg_server.py)."""

pytest_plugins = ["tests.loopback.fixtures", "tests.contract.storage._pg_server"]
