"""The package list is written in several places; they must all name the same folders that exist on disk."""

from pathlib import Path
from typing import Any

from tests.architecture._repo import PACKAGES

NOT_SHIPPED = {"tests", "bench"}


def _packages_on_disk(repo_root: Path) -> set[str]:
    return {
        path.parent.name
        for path in repo_root.glob("*/__init__.py")
        if path.parent.name not in NOT_SHIPPED and not path.parent.name.startswith(".")
    }


def _wheel_packages(pyproject: dict[str, Any]) -> list[str]:
    packages: list[str] = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    return packages


def test_wheel_packages_are_the_four_layers(pyproject: dict[str, Any]) -> None:
    assert sorted(_wheel_packages(pyproject)) == sorted(PACKAGES)


def test_import_linter_root_packages_match_the_wheel(pyproject: dict[str, Any]) -> None:
    root_packages = pyproject["tool"]["importlinter"]["root_packages"]

    assert sorted(root_packages) == sorted(_wheel_packages(pyproject))


def test_top_level_packages_on_disk_match_the_wheel(pyproject: dict[str, Any], repo_root: Path) -> None:
    assert _packages_on_disk(repo_root) == set(_wheel_packages(pyproject))


def test_layers_contract_orders_every_root_package(pyproject: dict[str, Any]) -> None:
    contracts = {contract["id"]: contract for contract in pyproject["tool"]["importlinter"]["contracts"]}

    assert contracts["layers"]["type"] == "layers"
    assert contracts["layers"]["layers"] == ["adapters", "application", "ports", "domain"]


def test_type_checker_and_coverage_see_every_package(pyproject: dict[str, Any]) -> None:
    packages = set(_wheel_packages(pyproject))

    assert packages <= set(pyproject["tool"]["mypy"]["files"])
    assert set(pyproject["tool"]["coverage"]["run"]["source"]) == packages


def test_every_adapter_named_in_a_contract_exists(pyproject: dict[str, Any], repo_root: Path) -> None:
    named: set[str] = set()
    for contract in pyproject["tool"]["importlinter"]["contracts"]:
        for key in ("source_modules", "modules"):
            named.update(module for module in contract.get(key, []) if module.startswith("adapters."))

    missing = sorted(m for m in named if not (repo_root / m.replace(".", "/") / "__init__.py").exists())

    assert named
    assert missing == []
