"""A package's names imported from their modules on first use (PEP 562), so that a function
which needs one module of a package does not pay at its cold start for the others."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any


def lazy_exports(package: str, where: dict[str, str]) -> Callable[[str], Any]:
    """The package's `__getattr__`: `where` maps each exported name to its module."""
    namespace = import_module(package).__dict__

    def getattr_(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(where[name]), name)
        namespace[name] = value  # found directly from now on
        return value

    return getattr_
