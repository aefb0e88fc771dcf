"""Fixtures shared by the architecture tests."""

import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.architecture._repo import REPO_ROOT


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def pyproject() -> dict[str, Any]:
    with (REPO_ROOT / "pyproject.toml").open("rb") as handle:
        return tomllib.load(handle)
