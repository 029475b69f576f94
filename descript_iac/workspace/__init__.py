"""The library facade: load, plan and apply a workspace, and edit its state, with plain calls.

The CLI only unpacks options and calls these functions; tests and other tools can do the same.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from descript_iac.workspace.applying import ApplyOutcome, apply_workspace
    from descript_iac.workspace.edits import (
        adopt_job,
        drop_intent,
        drop_job,
        edit_state,
        recover_state,
    )
    from descript_iac.workspace.planning import PlanOutcome, plan_workspace
    from descript_iac.workspace.saved import SavedPlan, is_local, load_saved_plan, save_plan
    from descript_iac.workspace.settings import RunSettings
    from descript_iac.workspace.transfer import pull_state, push_state

# Each name is imported from its module on first use: `plan` and `validate` start without the
# apply engine and the API client (httpx) that `applying` and `edits` bring in.
_MODULES = {
    "ApplyOutcome": "applying",
    "apply_workspace": "applying",
    "adopt_job": "edits",
    "drop_intent": "edits",
    "drop_job": "edits",
    "edit_state": "edits",
    "recover_state": "edits",
    "PlanOutcome": "planning",
    "plan_workspace": "planning",
    "SavedPlan": "saved",
    "is_local": "saved",
    "load_saved_plan": "saved",
    "save_plan": "saved",
    "RunSettings": "settings",
    "pull_state": "transfer",
    "push_state": "transfer",
}


def __getattr__(name: str) -> Any:
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{_MODULES[name]}"), name)
    globals()[name] = value
    return value


__all__ = [
    "ApplyOutcome",
    "PlanOutcome",
    "RunSettings",
    "SavedPlan",
    "adopt_job",
    "apply_workspace",
    "drop_intent",
    "drop_job",
    "edit_state",
    "is_local",
    "load_saved_plan",
    "plan_workspace",
    "pull_state",
    "push_state",
    "recover_state",
    "save_plan",
]
