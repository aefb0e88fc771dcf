"""The dependency rule (domain <- ports <- application <- adapters) holds, and its enforcement really bites.

`lint-imports` checks the contracts in pyproject.toml against the real tree; the same contracts are then run
against a throwaway skeleton with one deliberate violation each, to show that every contract catches what it
is meant to catch. The OpenTelemetry SDK ban is ruff's TID251, checked the same way.
"""

import ast
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

from tests.architecture._repo import PACKAGES, REPO_ROOT, venv_tool

SKELETON = (
    *PACKAGES,
    "adapters/memory",
    "adapters/binance",
    "adapters/sqlite",
    "adapters/postgres",
    "adapters/streams",
    "adapters/telemetry",
    "adapters/alerts",
    "adapters/cli",
    "adapters/_sql",
)
SDK_ALLOWED = ("adapters/container.py", "adapters/telemetry/")


def _lint_imports(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # lint-imports must run from the root of the tree it checks: it puts the current folder on sys.path.
    return subprocess.run(
        [venv_tool("lint-imports"), "--no-cache", *args], cwd=cwd, capture_output=True, text=True, check=False
    )


def test_import_contracts_are_kept_by_the_code_base() -> None:
    result = _lint_imports(REPO_ROOT)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.fixture
def skeleton(tmp_path: Path) -> Path:
    """An empty tree with every package the contracts name, and this repository's contracts."""
    (tmp_path / "pyproject.toml").write_bytes((REPO_ROOT / "pyproject.toml").read_bytes())
    for package in SKELETON:
        (tmp_path / package).mkdir(parents=True, exist_ok=True)
        (tmp_path / package / "__init__.py").write_text('"""Empty."""\n')
    return tmp_path


def test_contracts_are_kept_by_an_empty_skeleton(skeleton: Path) -> None:
    result = _lint_imports(skeleton)

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("module", "statement", "contract"),
    [
        ("domain", "import httpx", "pure-domain"),
        ("domain", "import pandas", "pure-domain"),
        ("domain", "import opentelemetry.trace", "pure-domain"),
        ("domain", "import ports", "pure-domain"),
        ("domain", "import application", "layers"),
        ("ports", "import cattrs", "technology-free-core"),
        ("application", "import dependency_injector", "technology-free-core"),
        ("application", "import httpx", "technology-free-core"),
        ("application", "import adapters", "layers"),
        ("ports", "import application", "layers"),
        ("adapters/memory", "import application", "driven-adapters"),
        ("adapters/telemetry", "import application", "driven-adapters"),
        ("adapters/binance", "import adapters.memory", "independent-adapters"),
        ("adapters/sqlite", "import adapters.postgres", "independent-adapters"),
        ("adapters/_sql", "import adapters.sqlite", "neutral-sql"),
        ("adapters/_sql", "import psycopg", "neutral-sql"),
    ],
)
def test_each_contract_catches_its_violation(
    skeleton: Path, module: str, statement: str, contract: str
) -> None:
    (skeleton / module / "__init__.py").write_text(f"{statement}\n")

    result = _lint_imports(skeleton, "--contract", contract)

    assert result.returncode != 0, result.stdout + result.stderr
    assert "1 broken" in result.stdout


def test_domain_imports_only_the_standard_library_and_attrs() -> None:
    graph = grimp.build_graph("domain", include_external_packages=True, cache_dir=None)

    third_party = {
        module
        for module in graph.modules
        if module.split(".")[0] != "domain" and module.split(".")[0] not in sys.stdlib_module_names
    }

    assert third_party <= {"attrs"}


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_only_the_composition_root_and_telemetry_adapter_import_the_opentelemetry_sdk() -> None:
    offenders = []
    for package in PACKAGES:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            relative = path.relative_to(REPO_ROOT).as_posix()
            if relative.startswith(SDK_ALLOWED):
                continue
            imports = _imported_modules(path)
            if any(name == "opentelemetry.sdk" or name.startswith("opentelemetry.sdk.") for name in imports):
                offenders.append(relative)

    assert offenders == []


def _ruff_codes(filename: str, source: str) -> str:
    result = subprocess.run(
        [
            *(venv_tool("ruff"), "check", "--no-cache", "--select", "TID251"),
            *("--output-format", "concise", "--stdin-filename", filename, "-"),
        ],
        cwd=REPO_ROOT,
        input=source,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout + result.stderr


@pytest.mark.parametrize("filename", ["application/snapshot.py", "adapters/binance/client.py", "domain/x.py"])
def test_ruff_bans_the_opentelemetry_sdk_outside_the_composition_root(filename: str) -> None:
    output = _ruff_codes(filename, "from opentelemetry.sdk.trace import TracerProvider\n")

    assert "TID251" in output


@pytest.mark.parametrize(
    "filename",
    ["adapters/container.py", "adapters/telemetry/setup.py", "tests/unit/test_x.py", "bench/run.py"],
)
def test_ruff_allows_the_opentelemetry_sdk_in_the_composition_root(filename: str) -> None:
    output = _ruff_codes(filename, "from opentelemetry.sdk.trace import TracerProvider\n")

    assert "TID251" not in output


def test_ruff_allows_the_opentelemetry_api_everywhere() -> None:
    output = _ruff_codes("application/snapshot.py", "from opentelemetry import trace\n")

    assert "TID251" not in output
