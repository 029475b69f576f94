"""The workspace format: load YAML, interpolate, validate, produce the desired state."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from descript_iac.config.desired import DesiredProject, Workspace
    from descript_iac.config.loader import load_workspace

__all__ = ["DesiredProject", "Workspace", "load_workspace"]

# Imported on first use: a `validate` answered from the workspace cache builds no pydantic model.
_MODULES = {"DesiredProject": "desired", "Workspace": "desired", "load_workspace": "loader"}


def __getattr__(name: str) -> Any:
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{_MODULES[name]}"), name)
    globals()[name] = value
    return value
