"""Adapters: the technologies behind the ports, the composition root and the command line."""

__all__: list[str] = []
