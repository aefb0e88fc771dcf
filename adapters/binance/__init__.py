"""Binance Spot REST adapter (httpx); empty until the Binance adapter lands."""

__all__: list[str] = []
