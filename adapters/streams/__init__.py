"""Binance websocket market-stream adapter; empty until streams land."""

__all__: list[str] = []
