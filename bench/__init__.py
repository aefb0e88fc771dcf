"""Benchmarks against other Binance clients; empty until the benchmarks land (`make bench` says so)."""
