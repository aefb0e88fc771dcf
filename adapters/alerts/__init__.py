"""Alert sink adapters."""

__all__: list[str] = []
