"""Fixtures shared by every test: the loopback test exchange (tests/loopback/fixtures.py)."""

pytest_plugins = ["tests.loopback.fixtures"]
