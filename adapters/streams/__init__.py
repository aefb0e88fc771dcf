"""Binance websocket market-stream adapter."""

__all__: list[str] = []
