"""Alert sink adapters; empty until alerting lands."""

__all__: list[str] = []
