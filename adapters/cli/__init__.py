"""The command line (typer and rich): the driving adapter people use. The entry point is ``app.main``."""

__all__: list[str] = []
