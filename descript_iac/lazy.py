"""Package attributes imported on first use: a command that needs none of a package's heavy
modules (httpx, pydantic models) never pays for importing them."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_attributes(namespace: dict[str, Any], modules: dict[str, str]) -> Callable[[str], Any]:
    """A module `__getattr__` for the package whose globals are `namespace`: each name of
    `modules` (name -> module path, absolute or relative to the package) is imported from its
    module on first use and kept in `namespace`."""
    package = namespace["__name__"]

    def __getattr__(name: str) -> Any:
        if name not in modules:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(modules[name], package), name)
        namespace[name] = value
        return value

    return __getattr__
