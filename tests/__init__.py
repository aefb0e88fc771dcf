"""Tests of binance-gateway; `tests.loopback` is the loopback test exchange."""
