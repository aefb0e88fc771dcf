"""Every package states its public surface in `__all__`, and every name listed there exists."""

import importlib

import pytest

from tests.architecture._repo import PACKAGES, REPO_ROOT


def _packages() -> list[str]:
    return [
        ".".join(init.parent.relative_to(REPO_ROOT).parts)
        for package in PACKAGES
        for init in sorted((REPO_ROOT / package).rglob("__init__.py"))
    ]


def test_the_layer_packages_are_found() -> None:
    assert set(PACKAGES) <= set(_packages())


@pytest.mark.parametrize("name", _packages())
def test_package_declares_all_and_every_name_resolves(name: str) -> None:
    module = importlib.import_module(name)

    assert hasattr(module, "__all__"), f"{name}/__init__.py defines no __all__"
    exported = module.__all__
    assert all(isinstance(item, str) for item in exported)
    assert len(set(exported)) == len(exported), f"{name}.__all__ lists a name twice"
    unresolved = [item for item in exported if not hasattr(module, item)]
    assert unresolved == [], f"{name}.__all__ names what it does not define"
