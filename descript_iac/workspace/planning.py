"""`plan`: the desired workspace against the recorded state (and, on request, the job history)."""

from __future__ import annotations

from dataclasses import dataclass, field

from descript_iac.config import Workspace, load_workspace
from descript_iac.plan import Plan, PlanOptions, compute_plan
from descript_iac.session import open_client, open_registry
from descript_iac.state.document import StateDocument
from descript_iac.state.drive import ReadOnlyDriveRegistry
from descript_iac.state.events import Event, apply_event
from descript_iac.workspace.settings import RunSettings


@dataclass
class PlanOutcome:
    workspace: Workspace
    doc: StateDocument
    plan: Plan
    notes: list[str] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)


def plan_workspace(
    settings: RunSettings, options: PlanOptions, refresh: bool = False
) -> PlanOutcome:
    """Compute the plan; with `refresh`, read the job history first (no state is written)."""
    workspace = load_workspace(settings.root, cache_dir=settings.workspace_cache)
    doc = settings.store().read()
    notes: list[str] = []
    drift: list[str] = []
    if refresh:
        from descript_iac.apply import reconcile  # the API client and httpx: only to refresh
        from descript_iac.apply.evidence import desired_names

        def record(event: Event) -> None:
            apply_event(doc, event)

        with open_client(settings.api) as client:
            registry = ReadOnlyDriveRegistry(open_registry(settings.api, client))
            try:
                found = reconcile(
                    client,
                    doc,
                    record,
                    registry,
                    settings.timing,
                    name_of=desired_names(workspace, doc),
                    drift=True,
                )
            finally:
                registry.close()
        notes, drift = found.notes, found.drift
    plan = compute_plan(workspace.projects, doc, options)
    return PlanOutcome(workspace, doc, plan, notes, drift)
