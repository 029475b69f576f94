"""The workspace format: load YAML, interpolate, validate, produce the desired state."""

from __future__ import annotations

from typing import TYPE_CHECKING

from descript_iac.lazy import lazy_attributes

if TYPE_CHECKING:
    from descript_iac.config.desired import DesiredProject, Workspace
    from descript_iac.config.loader import load_workspace

__all__ = ["DesiredProject", "Workspace", "load_workspace"]

# Imported on first use: a `validate` answered from the workspace cache builds no pydantic model.
_MODULES = {"DesiredProject": ".desired", "Workspace": ".desired", "load_workspace": ".loader"}


__getattr__ = lazy_attributes(globals(), _MODULES)
