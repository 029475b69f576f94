"""`plan`: the desired workspace against the recorded state (and, on request, the job history)."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING

import msgspec

from descript_iac.config import Workspace, load_workspace
from descript_iac.plan import Plan, PlanOptions
from descript_iac.plan.diff import plan_and_digests
from descript_iac.plan.model import Drift
from descript_iac.plan.samples import StepSample, step_samples
from descript_iac.state.document import StateDocument
from descript_iac.state.store import StateStore
from descript_iac.state.whereabouts import (
    applied_here,
    elsewhere,
    new_state_problem,
    replaced_here,
)
from descript_iac.workspace.existing import Existing, check_existing, creates, lost_or_rebuilt
from descript_iac.workspace.features import checked_plan
from descript_iac.workspace.incremental import (
    Incremental,
    plan_incrementally,
    remember_full,
    state_identity,
)
from descript_iac.workspace.settings import RunSettings
from descript_iac.workspace.streaming import plan_streaming

if TYPE_CHECKING:
    from descript_iac.api import DescriptClient
    from descript_iac.state.drive import DriveRegistry


class PlanOutcome(msgspec.Struct, dict=True):
    workspace: Workspace
    read_doc: Callable[[], StateDocument]  # an incremental plan reads the state only if asked
    plan: Plan
    notes: list[str] = msgspec.field(default_factory=list)
    warnings: list[str] = msgspec.field(default_factory=list)
    # What exists in Descript of the projects the plan creates (with --refresh; see
    # workspace/existing.py): apply will not create those.
    existing: Existing = msgspec.field(default_factory=Existing)
    # What the state's recorded steps cost, for a forecast: collected by a streaming plan as it
    # read the state (None: from `doc`, which reads the state in full).
    samples: list[StepSample] | None = None
    # The state's header (lineage, serial, salt; no project), when the plan knows it without
    # reading the whole state (None: `doc`).
    header: StateDocument | None = None

    @cached_property
    def doc(self) -> StateDocument:
        return self.read_doc()

    def stored_header(self) -> StateDocument:
        """The state the plan was made against, as much as a saved plan records of it."""
        return self.doc if self.header is None else self.header

    def step_samples(self) -> list[StepSample]:
        return step_samples(self.doc) if self.samples is None else self.samples


def plan_workspace(
    settings: RunSettings, options: PlanOptions, refresh: bool = False
) -> PlanOutcome:
    """Compute the plan; with `refresh`, read the job history first (no state is written): pick
    up what earlier runs left, and report drift in the plan.

    Without `refresh` this reads the state once (one query on PostgreSQL) and calls no API,
    and the plan is incremental when it can be (workspace/incremental.py)."""
    started = time.time_ns()
    if not refresh:
        quick = plan_incrementally(
            settings.root, lambda: settings.store(None), options, settings.workspace_cache
        )
        if quick is not None:
            return _outcome_of(quick)
        if settings.workspace_cache is not None:
            streamed = plan_streaming(
                settings.root, settings.store(None), options, settings.workspace_cache, started
            )
            if streamed is not None:
                return _outcome_of(streamed)
    workspace = load_workspace(settings.root, cache_dir=settings.workspace_cache)
    store = settings.store(workspace.state)
    seen = None if refresh else state_identity(store)
    doc = store.read()
    notes: list[str] = []
    drift: list[Drift] = []
    existing = Existing()
    warnings: list[str] = []
    if doc.serial == 0 and (last := elsewhere(settings.root, store)) is not None:
        warnings.append(new_state_problem(settings.root, store, last))
    if refresh:
        from descript_iac.apply import reconcile  # the API client and httpx: only to refresh
        from descript_iac.apply.evidence import desired_names
        from descript_iac.session import open_client, open_registry
        from descript_iac.state.drive import ReadOnlyDriveRegistry
        from descript_iac.state.events import Event, apply_event

        def record(event: Event) -> None:
            apply_event(doc, event)

        with open_client(settings.api) as client:
            client.status()  # a wrong token fails here, once, before anything else
            registry = ReadOnlyDriveRegistry(open_registry(settings.api, client, store))
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
                if not store.exists():
                    warnings += new_state_warning(client, registry, store)
                plan = checked_plan(workspace.projects, doc, options, client, workspace.moves)
                lost_here = applied_here(settings.root) and (
                    lost_or_rebuilt(doc) or replaced_here(settings.root, doc.lineage)
                )
                known = frozenset() if lost_here else registry.recorded_jobs()
                existing = check_existing(client, doc, workspace, plan, settings.timing, known)
            finally:
                registry.close()
        notes, drift = found.notes, found.drift
    else:
        plan, parts = plan_and_digests(workspace.projects, doc, options, workspace.moves)
        if creates(plan, doc):
            notes.append(_CREATES)
        if not warnings:
            remember_full(
                settings.workspace_cache, store, workspace, doc, plan, parts, started, seen
            )
    if drift:
        plan = msgspec.structs.replace(plan, drift=tuple(drift))
    if existing.blocking:
        plan = msgspec.structs.replace(plan, existing=existing.shown())
    return PlanOutcome(workspace, lambda: doc, plan, notes, warnings, existing)


_CREATES = (
    "the projects this plan creates are checked against what exists in Descript when it is "
    "applied (nothing is created twice); `descript-iac plan --refresh` checks now"
)


def _outcome_of(done: Incremental) -> PlanOutcome:
    """The outcome of a plan that read only what it needed (incremental or streamed)."""
    said = [_CREATES] if done.creates else []
    return PlanOutcome(
        done.workspace, done.read_doc, done.plan, said, samples=done.samples, header=done.header
    )


def new_state_warning(
    client: DescriptClient, registry: DriveRegistry, store: StateStore
) -> list[str]:
    """A new, empty state while the account's job history has jobs: if the workspace was
    applied before, its state is elsewhere, and applying would make every project again."""
    from descript_iac.apply.evidence import history_since

    jobs = history_since(client, 0.0)
    if not jobs:
        return []
    recorded = registry.recorded_jobs()
    others = sum(1 for job in jobs if job.job_id in recorded)
    of_which = f" ({others} of them recorded by other states on this drive)" if others else ""
    return [
        f"{store.location()} holds no state yet, so this plan creates every project anew, but the "
        f"job history of this Descript account has {len(jobs)} job(s) from the last 30 days"
        f"{of_which}. If this workspace was applied before, its state is elsewhere: check the "
        "workspace's `state:` block, --state or --backend-url (or the working directory, for "
        "the default state/<workspace>.json) before you apply; if it was lost, `descript-iac "
        "state rebuild` recovers it from the job history."
    ]
