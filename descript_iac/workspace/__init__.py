"""The library facade: load, plan and apply a workspace, and edit its state, with plain calls.

The CLI only unpacks options and calls these functions; tests and other tools can do the same
(the README's "Python API" section has a runnable example).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from descript_iac.lazy import lazy_attributes

if TYPE_CHECKING:
    from descript_iac.apply import ApplyOptions, ApplyResult
    from descript_iac.apply.reporting import CallbackReporter, Progress
    from descript_iac.plan import Plan, PlanOptions
    from descript_iac.workspace.adopting import RebuildOutcome, import_project, rebuild_state
    from descript_iac.workspace.applying import ApplyOutcome, apply_workspace
    from descript_iac.workspace.edits import (
        drop_intent,
        drop_job,
        edit_state,
        move_project,
        recover_state,
        remove_project,
    )
    from descript_iac.workspace.job_adoption import adopt_job
    from descript_iac.workspace.planning import PlanOutcome, plan_workspace
    from descript_iac.workspace.saved import SavedPlan, is_local, load_saved_plan, save_plan
    from descript_iac.workspace.settings import RunSettings, read_state
    from descript_iac.workspace.showing import StateView, show_state
    from descript_iac.workspace.transfer import pull_state, push_state

# Each name is imported from its module on first use: `plan` and `validate` start without the
# apply engine and the API client (httpx) that `applying` and `edits` bring in.
_MODULES = {
    "ApplyOptions": "descript_iac.apply",
    "ApplyResult": "descript_iac.apply",
    "CallbackReporter": "descript_iac.apply.reporting",
    "Progress": "descript_iac.apply.reporting",
    "Plan": "descript_iac.plan",
    "PlanOptions": "descript_iac.plan",
    "RebuildOutcome": "descript_iac.workspace.adopting",
    "import_project": "descript_iac.workspace.adopting",
    "rebuild_state": "descript_iac.workspace.adopting",
    "ApplyOutcome": "descript_iac.workspace.applying",
    "apply_workspace": "descript_iac.workspace.applying",
    "adopt_job": "descript_iac.workspace.job_adoption",
    "drop_intent": "descript_iac.workspace.edits",
    "drop_job": "descript_iac.workspace.edits",
    "edit_state": "descript_iac.workspace.edits",
    "move_project": "descript_iac.workspace.edits",
    "recover_state": "descript_iac.workspace.edits",
    "remove_project": "descript_iac.workspace.edits",
    "PlanOutcome": "descript_iac.workspace.planning",
    "plan_workspace": "descript_iac.workspace.planning",
    "SavedPlan": "descript_iac.workspace.saved",
    "is_local": "descript_iac.workspace.saved",
    "load_saved_plan": "descript_iac.workspace.saved",
    "save_plan": "descript_iac.workspace.saved",
    "RunSettings": "descript_iac.workspace.settings",
    "read_state": "descript_iac.workspace.settings",
    "StateView": "descript_iac.workspace.showing",
    "show_state": "descript_iac.workspace.showing",
    "pull_state": "descript_iac.workspace.transfer",
    "push_state": "descript_iac.workspace.transfer",
}


__getattr__ = lazy_attributes(globals(), _MODULES)


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
