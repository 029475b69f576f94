"""`apply`: under the lock, resolve what earlier runs left, plan, confirm, execute, record."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

import msgspec

from descript_iac.api import DescriptClient
from descript_iac.apply import ApplyOptions, ApplyResult, Engine, reconcile
from descript_iac.apply.evidence import desired_names
from descript_iac.apply.reporting import Reporter
from descript_iac.apply.stale import stale_state
from descript_iac.config import Workspace, load_workspace
from descript_iac.errors import DescriptIacError, LockLost, PlanError
from descript_iac.plan import Plan, PlanOptions
from descript_iac.plan.forecast import over_budget
from descript_iac.plan.forecast import text_lines as forecast_text
from descript_iac.plan.render import blocked_lines
from descript_iac.plan.samples import step_samples
from descript_iac.session import clock_figures, open_client, open_registry
from descript_iac.state.clock_figures import ClockFigure
from descript_iac.state.document import StateDocument
from descript_iac.state.drive import DriveRegistry
from descript_iac.state.events import ProjectImported
from descript_iac.state.recorder import Recorder
from descript_iac.state.whereabouts import (
    applied_here,
    elsewhere,
    new_state_problem,
    remember_store,
    replaced_here,
)
from descript_iac.workspace.existing import check_existing, lost_or_rebuilt
from descript_iac.workspace.exports import ExportResult, refresh_exports
from descript_iac.workspace.features import checked_plan
from descript_iac.workspace.forecasting import forecast_plan, workspace_budget
from descript_iac.workspace.saved import SavedPlan, check_fresh, check_same, only_reviewed
from descript_iac.workspace.settings import RunSettings
from descript_iac.workspace.stale import stale_jobs


@dataclass
class ApplyOutcome:
    plan: Plan
    result: ApplyResult | None
    notes: list[str] = field(default_factory=list)
    exports: list[ExportResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        jobs_ok = self.result is None or self.result.ok
        return jobs_ok and not any(e.error for e in self.exports)


def apply_workspace(
    settings: RunSettings,
    options: PlanOptions,
    apply_options: ApplyOptions,
    reporter: Reporter,
    confirm: Callable[[Plan], bool],
    saved: SavedPlan | None = None,
    on_client: Callable[[DescriptClient], None] | None = None,
    refresh: bool = False,
    new_state: bool = False,
    costs: Costs | None = None,
    adopt_existing: bool = False,
) -> ApplyOutcome:
    """Resolve what an earlier run left in doubt, plan, confirm, execute, record.

    With `refresh`, drift is read too, shown with the plan and, once confirmed, recorded as
    accepted (jobs made outside descript-iac become external jobs of their project).

    A new, empty state is refused while this machine remembers the workspace's state elsewhere
    (it was applied from another working directory), unless `new_state`.

    Before any project the state does not know is created, the drive is asked whether it exists
    (workspace/existing.py): if it may, nothing is sent, unless `new_state` (make them again)
    or `adopt_existing` (adopt every unambiguous match, then run only what is missing).

    With `costs`, the plan's cost is forecast and shown; an apply whose forecast passes the
    budget (the options', else the workspace's `budget:`) refuses to start, and the engine sends
    nothing that would pass it."""
    workspace = load_workspace(settings.root, cache_dir=settings.workspace_cache)
    store = settings.store(workspace.state)
    with store.lock("apply", settings.lock_timeout):
        existed = store.exists()
        if existed:
            remember_store(settings.root, store)
        elif not new_state and (last := elsewhere(settings.root, store)) is not None:
            raise DescriptIacError(
                new_state_problem(settings.root, store, last) + "; --new-state starts one anyway"
            )
        doc = store.recover()
        if saved is not None:
            check_fresh(saved, doc, store)
            if saved.new_state and not existed:
                doc.lineage, doc.salt = saved.new_state.lineage, saved.new_state.salt
        record = Recorder(store, doc)

        with open_client(settings.api) as client:
            if on_client:
                on_client(client)
            client.status()  # the token works, and the server's clock is known, before anything
            registry = open_registry(settings.api, client, store)
            registry.record_jobs(doc.known_job_ids())
            store.begin(doc)
            lost = False
            # A saved plan made with --refresh: the drift it showed is what its approval
            # accepts, and only that (drift found since is left for the next review).
            reviewed = {d.key for d in saved.plan.drift} if saved is not None else None
            try:
                found = reconcile(
                    client,
                    doc,
                    record,
                    registry,
                    settings.timing,
                    name_of=desired_names(workspace, doc),
                    drift=refresh or bool(reviewed),
                )
                for note in found.notes:
                    reporter.note(note)
                if reviewed is not None:
                    for note in only_reviewed(found, reviewed):
                        reporter.note(note)
                plan = checked_plan(workspace.projects, doc, options, client, workspace.moves)
                if found.drift:
                    plan = msgspec.structs.replace(plan, drift=tuple(found.drift))
                if saved is not None:
                    check_same(saved, plan)
                if not new_state:
                    plan = _existing(
                        client, doc, workspace, plan, settings, record, registry, reporter,
                        adopt_existing, lambda: checked_plan(
                            workspace.projects, doc, options, client, workspace.moves
                        ),
                    )  # fmt: skip
                if not refresh and (stale := stale_jobs(client, plan, doc, reviewed)):
                    raise DescriptIacError(stale_state(stale))
                if plan.blocked:
                    lines = "\n".join(blocked_lines(plan))
                    raise PlanError(f"the plan is blocked; nothing was applied:\n{lines}")
                targets = list(options.targets) or None
                if not plan.has_changes and not plan.drift:
                    exported = _exports(client, workspace, doc, targets, reporter)
                    return ApplyOutcome(plan, None, found.notes, exported)
                apply_options = _forecast(costs, workspace, plan, doc, reporter, apply_options)
                if not confirm(plan):
                    raise DescriptIacError("Apply cancelled; nothing was sent.")
                for event in found.accept:
                    record(event)
                    reporter.note(f"{event.address}: drift accepted and recorded")
                if not plan.has_changes:
                    return ApplyOutcome(plan, None, found.notes)
                engine = Engine(
                    client, doc, workspace, plan, reporter, record, apply_options, registry
                )
                result = engine.run()
                exported = _exports(client, workspace, doc, targets, reporter)
                return ApplyOutcome(plan, result, found.notes, exported)
            except LockLost:
                # Nothing more can be written (the engine stopped at the first event it could
                # not journal, before any POST it would have announced): the journal is the
                # record, and the next run folds it.
                lost = True
                raise
            finally:
                registry.close()
                _keep_figures(settings, client)
                if lost:
                    pass
                elif record.count:
                    store.commit(doc)
                    remember_store(settings.root, store, doc.lineage)
                else:
                    store.discard()


def _keep_figures(settings: RunSettings, client: DescriptClient) -> None:
    """What this run measured of the API's clocks and lag, for `doctor` (nothing to keep when
    it saw no job of its own and no lag)."""
    offset, lag = client.clock.measured_offset, client.clock.history_lag_seen
    if offset is None and not lag:
        return
    with contextlib.suppress(OSError):  # figures to show: never worth failing a run for
        clock_figures(settings.api, client).add(ClockFigure(client.clock.now(), offset, lag))


def _existing(
    client: DescriptClient,
    doc: StateDocument,
    workspace: Workspace,
    plan: Plan,
    settings: RunSettings,
    record: Recorder,
    registry: DriveRegistry,
    reporter: Reporter,
    adopt: bool,
    replan: Callable[[], Plan],
) -> Plan:
    """The plan once what already exists is known: with `adopt`, every unambiguous match is
    recorded (as `state rebuild` records it) and the plan made again; anything that may exist
    and is not adopted stops the apply before anything is sent."""
    lost_here = applied_here(settings.root) and (
        lost_or_rebuilt(doc) or replaced_here(settings.root, doc.lineage)
    )
    others = frozenset() if lost_here else registry.recorded_jobs()
    existing = check_existing(client, doc, workspace, plan, settings.timing, others)
    if not existing.blocking:
        return plan
    if adopt and existing.matched:
        jobs: set[str] = set()
        for finding in existing.matched:
            assert finding.record is not None
            record(ProjectImported(address=finding.address, project=finding.record))
            jobs |= finding.record.job_ids()
            reporter.note(f"{finding.address}: adopted the existing {finding.detail}")
        registry.record_jobs(jobs)
        existing.matched = []
        plan = replan()
    if existing.blocking:
        raise DescriptIacError(existing.message())
    return plan


@dataclass(frozen=True)
class Costs:
    """How an apply forecasts its cost and what it may spend (options override `budget:`)."""

    forecast: bool = True
    max_credits: float | None = None
    max_media_seconds: float | None = None


def _forecast(
    costs: Costs | None,
    workspace: Workspace,
    plan: Plan,
    doc: StateDocument,
    reporter: Reporter,
    apply_options: ApplyOptions,
) -> ApplyOptions:
    """The forecast shown, the budget checked against it (nothing sent when it is passed), and
    both handed to the engine."""
    if costs is None or not plan.has_changes:
        return apply_options
    budget = workspace_budget(workspace, costs.max_credits, costs.max_media_seconds)
    if not costs.forecast:
        if budget.set:
            raise DescriptIacError(
                "a budget is set but the forecast is off: nothing was sent. Drop --forecast off, "
                "or the budget"
            )
        return apply_options
    found = forecast_plan(workspace, plan, step_samples(doc))
    for line in forecast_text(found, budget):
        reporter.note(line)
    problems = over_budget(found, budget)
    if problems:
        raise DescriptIacError(
            "the forecast passes the budget; nothing was sent:\n  "
            + "\n  ".join(problems)
            + "\nRaise the budget (--max-credits, --max-media-seconds, the workspace's "
            "`budget:` or the project's), or apply fewer projects (--target)."
        )
    return dataclasses.replace(apply_options, budget=budget, forecast=found)


def _exports(
    client: DescriptClient,
    workspace: Workspace,
    doc: StateDocument,
    targets: list[str] | None,
    reporter: Reporter,
) -> list[ExportResult]:
    """Refresh the workspace's exports (after the jobs), reporting each."""
    results = refresh_exports(client, workspace, doc, targets)
    for result in results:
        reporter.note(result.describe())
    return results
