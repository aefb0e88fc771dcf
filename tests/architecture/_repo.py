"""Where the repository is, which packages it ships, and how to find its installed tools."""

import shutil
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("domain", "ports", "application", "adapters")


def venv_tool(name: str) -> str:
    """Path of a console script installed beside the running interpreter, else the one on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed; run `make install`")
    return found
