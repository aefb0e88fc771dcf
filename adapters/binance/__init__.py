"""Binance Spot REST adapter (httpx): implements MarketDataPort and AccountPort against the real exchange."""

__all__: list[str] = []
