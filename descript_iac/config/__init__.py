"""The workspace format: load YAML, interpolate, validate, produce the desired state."""

from __future__ import annotations

from descript_iac.config.desired import DesiredProject, Workspace
from descript_iac.config.loader import load_workspace

__all__ = ["DesiredProject", "Workspace", "load_workspace"]
