"""The wheel is an application artefact: exactly the four layer packages and their metadata, nothing else."""

import subprocess
import sys
import zipfile
from collections.abc import Iterator

import pytest

from tests.architecture._repo import PACKAGES, REPO_ROOT

pytestmark = pytest.mark.slow  # one wheel build (about a second), shared by every test in this module


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[zipfile.ZipFile]:
    out_dir = tmp_path_factory.mktemp("wheel")
    result = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out_dir)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"wheel build failed:\n{result.stdout}\n{result.stderr}"
    (path,) = out_dir.glob("*.whl")
    with zipfile.ZipFile(path) as archive:
        yield archive


@pytest.fixture(scope="module")
def names(wheel: zipfile.ZipFile) -> list[str]:
    return wheel.namelist()


def _dist_info(names: list[str]) -> str:
    (dist_info,) = {name.split("/", 1)[0] for name in names if ".dist-info/" in name}
    return dist_info


def test_wheel_holds_exactly_the_four_packages_and_its_metadata(names: list[str]) -> None:
    top_level = {name.split("/", 1)[0] for name in names}

    assert top_level == {*PACKAGES, _dist_info(names)}
    assert _dist_info(names) == "binance_gateway-0.1.0.dist-info"


def test_every_package_in_the_wheel_is_a_regular_package(names: list[str]) -> None:
    missing = [package for package in PACKAGES if f"{package}/__init__.py" not in names]

    assert missing == []


UNWANTED = ["tests/", "cassettes/", "bench/", "docs/", "__pycache__/", ".pyc", ".env"]


@pytest.mark.parametrize("unwanted", UNWANTED)
def test_wheel_ships_no_tests_cassettes_benchmarks_or_bytecode(names: list[str], unwanted: str) -> None:
    assert [name for name in names if unwanted in name] == []


def test_wheel_declares_the_console_script(wheel: zipfile.ZipFile, names: list[str]) -> None:
    entry_points = wheel.read(f"{_dist_info(names)}/entry_points.txt").decode()

    assert "binance-gateway = adapters.cli.app:main" in entry_points


def test_wheel_metadata_requires_python_311(wheel: zipfile.ZipFile, names: list[str]) -> None:
    metadata = wheel.read(f"{_dist_info(names)}/METADATA").decode()

    assert "Requires-Python: >=3.11" in metadata.splitlines()

