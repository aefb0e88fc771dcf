"""Undoing the run's logging set-up (the container's ``logging_handler`` installs it) when the run ends."""

from __future__ import annotations

import logging

__all__ = ["remove_logging"]


def remove_logging(handler: logging.Handler) -> None:
    """Take ``handler`` off the root logger and close it: nothing may write to a finished run's stderr."""
    logging.getLogger().removeHandler(handler)
    handler.close()
