"""The lock files pin every declared dependency exactly, and hold nothing that ties them to one machine."""

from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.architecture._repo import REPO_ROOT

LOCKS = ("requirements.lock", "requirements-bench.lock")


def _pins(lock: str) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (REPO_ROOT / lock).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        requirement = Requirement(line)
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", f"{lock}: {line!r} is not an exact pin"
        pins.setdefault(canonicalize_name(requirement.name), specifier.version)
    return pins


def _declared(pyproject: dict[str, Any], *extras: str) -> set[str]:
    project = pyproject["project"]
    names = [*project["dependencies"], *pyproject["dependency-groups"]["dev"]]
    for extra in extras:
        names.extend(project["optional-dependencies"][extra])
    return {canonicalize_name(Requirement(name).name) for name in names}


def test_main_lock_pins_runtime_dev_and_otlp_dependencies(pyproject: dict[str, Any]) -> None:
    missing = _declared(pyproject, "otlp") - set(_pins("requirements.lock"))

    assert missing == set(), "run `make lock` after changing pyproject.toml"


def test_main_lock_leaves_the_benchmark_clients_out(pyproject: dict[str, Any]) -> None:
    bench = pyproject["project"]["optional-dependencies"]["bench"]
    names = {canonicalize_name(Requirement(requirement).name) for requirement in bench}

    assert names.isdisjoint(_pins("requirements.lock"))


def test_bench_lock_adds_the_benchmark_clients_without_moving_a_pin(pyproject: dict[str, Any]) -> None:
    main, bench = _pins("requirements.lock"), _pins("requirements-bench.lock")

    assert _declared(pyproject, "otlp", "bench") <= set(bench)
    assert {name: version for name, version in bench.items() if name in main} == main


@pytest.mark.parametrize("lock", LOCKS)
def test_lock_holds_no_local_path_index_or_editable_install(lock: str) -> None:
    text = (REPO_ROOT / lock).read_text(encoding="utf-8")

    for marker in ("file:", "--index-url", "--extra-index-url", "--find-links", "-e ", "http://", "https://"):
        assert marker not in text
    assert str(Path.home()) not in text
    assert str(REPO_ROOT) not in text
