"""The library facade: load, plan and apply a workspace, and edit its state, with plain calls.

The CLI only unpacks options and calls these functions; tests and other tools can do the same
(the README's "Python API" section has a runnable example).
"""

from __future__ import annotations

from descript_iac.apply import ApplyOptions, ApplyResult
from descript_iac.apply.reporting import CallbackReporter, Progress
from descript_iac.plan import Plan, PlanOptions
from descript_iac.workspace.adopting import RebuildOutcome, import_project, rebuild_state
from descript_iac.workspace.applying import ApplyOutcome, apply_workspace
from descript_iac.workspace.edits import (
    adopt_job,
    drop_intent,
    drop_job,
    edit_state,
    move_project,
    recover_state,
    remove_project,
)
from descript_iac.workspace.planning import PlanOutcome, plan_workspace
from descript_iac.workspace.saved import SavedPlan, is_local, load_saved_plan, save_plan
from descript_iac.workspace.settings import RunSettings, read_state
from descript_iac.workspace.showing import StateView, show_state
from descript_iac.workspace.transfer import pull_state, push_state

__all__ = [
    "ApplyOptions",
    "ApplyOutcome",
    "ApplyResult",
    "CallbackReporter",
    "Plan",
    "PlanOptions",
    "Progress",
    "PlanOutcome",
    "RebuildOutcome",
    "RunSettings",
    "SavedPlan",
    "StateView",
    "adopt_job",
    "apply_workspace",
    "drop_intent",
    "drop_job",
    "edit_state",
    "import_project",
    "is_local",
    "load_saved_plan",
    "move_project",
    "plan_workspace",
    "rebuild_state",
    "pull_state",
    "push_state",
    "read_state",
    "recover_state",
    "remove_project",
    "save_plan",
    "show_state",
]
