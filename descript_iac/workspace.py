"""The library facade: load, plan and apply a workspace with plain Python calls.

The CLI only unpacks options and calls these functions; tests and other tools can do the same.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, ValidationError

from descript_iac.config import Workspace, load_workspace
from descript_iac.config.cache import default_workspace_cache
from descript_iac.errors import DescriptIacError, PlanError
from descript_iac.plan import Plan, PlanOptions, compute_plan
from descript_iac.plan.model import ActionKind
from descript_iac.plan.render import blocked_lines
from descript_iac.session import ApiTarget, open_client
from descript_iac.state.document import StateDocument
from descript_iac.state.events import Event, apply_event, dropped
from descript_iac.state.store import LocalStateStore

if TYPE_CHECKING:
    from descript_iac.api import DescriptClient
    from descript_iac.apply import ApplyOptions, ApplyResult
    from descript_iac.apply.progress import Reporter

# The API client and the apply engine (httpx and all) are imported where a command talks to the
# API, not here: `plan` without --refresh and `validate` start without them.

PLAN_FILE_KIND = "descript-iac-plan"
GRACE_VAR = "DESCRIPT_IAC_INTENT_GRACE"


def intent_grace() -> float:
    from descript_iac.apply.resolve import DEFAULT_GRACE

    raw = os.environ.get(GRACE_VAR)
    try:
        return float(raw) if raw else DEFAULT_GRACE
    except ValueError:
        raise DescriptIacError(f"{GRACE_VAR}={raw!r}: give a number of seconds") from None


@dataclass(frozen=True)
class RunSettings:
    root: Path
    state_path: Path
    api: ApiTarget = field(default_factory=ApiTarget)
    lock_timeout: float = 0.0
    # Parsed, validated files by content digest (config/cache.py); None turns it off.
    workspace_cache: Path | None = field(default_factory=default_workspace_cache)


@dataclass
class PlanOutcome:
    workspace: Workspace
    doc: StateDocument
    plan: Plan
    notes: list[str] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)


class NewState(BaseModel):
    lineage: str
    salt: str


class SavedPlan(BaseModel):
    """A plan saved with `plan --out`; `apply FILE` refuses it once the state moved on."""

    model_config = ConfigDict(extra="forbid")

    kind: str = PLAN_FILE_KIND
    workspace: str
    state: str
    new_state: NewState | None = None
    plan: Plan


def plan_workspace(
    settings: RunSettings, options: PlanOptions, refresh: bool = False
) -> PlanOutcome:
    """Compute the plan; with `refresh`, read the job history first (no state is written)."""
    workspace = load_workspace(settings.root, cache_dir=settings.workspace_cache)
    doc = LocalStateStore(settings.state_path).read()
    notes: list[str] = []
    drift: list[str] = []
    if refresh:
        from descript_iac.apply import reconcile

        with open_client(settings.api) as client:
            found = reconcile(
                client, doc, lambda e: apply_event(doc, e), drift=True, grace=intent_grace()
            )
        notes, drift = found.notes, found.drift
    plan = compute_plan(workspace.projects, doc, options)
    return PlanOutcome(workspace, doc, plan, notes, drift)


def save_plan(outcome: PlanOutcome, settings: RunSettings, path: Path) -> None:
    new = None
    if not settings.state_path.exists():
        new = NewState(lineage=outcome.doc.lineage, salt=outcome.doc.salt)
    saved = SavedPlan(
        workspace=str(settings.root),
        state=str(settings.state_path),
        new_state=new,
        plan=outcome.plan,
    )
    path.write_text(saved.model_dump_json(indent=2) + "\n")


def load_saved_plan(path: Path) -> SavedPlan:
    try:
        saved = SavedPlan.model_validate_json(path.read_text())
    except (OSError, ValidationError, ValueError) as exc:
        raise PlanError(
            f"{path}: not a descript-iac plan file ({str(exc).splitlines()[0]})"
        ) from None
    if saved.kind != PLAN_FILE_KIND:
        raise PlanError(f"{path}: not a descript-iac plan file")
    return saved


def _job_actions(plan: Plan) -> list[tuple[str, str, str | None]]:
    skip = (ActionKind.AWAIT, ActionKind.RESOLVE)
    return [(a.address, a.kind.value, a.step_id) for a in plan.actions if a.kind not in skip]


@dataclass
class ApplyOutcome:
    plan: Plan
    result: ApplyResult | None
    notes: list[str] = field(default_factory=list)


def apply_workspace(
    settings: RunSettings,
    options: PlanOptions,
    apply_options: ApplyOptions,
    reporter: Reporter,
    confirm: Callable[[Plan], bool],
    saved: SavedPlan | None = None,
    on_client: Callable[[DescriptClient], None] | None = None,
) -> ApplyOutcome:
    """Resolve what an earlier run left in doubt, plan, confirm, execute, record."""
    from descript_iac.apply import Engine

    workspace = load_workspace(settings.root, cache_dir=settings.workspace_cache)
    store = LocalStateStore(settings.state_path)
    with store.lock("apply", settings.lock_timeout):
        doc = store.recover()
        if saved is not None:
            _check_fresh(saved, doc, settings)
            if saved.new_state and not settings.state_path.exists():
                doc.lineage, doc.salt = saved.new_state.lineage, saved.new_state.salt
        recorded = 0

        def record(event: Event) -> None:
            nonlocal recorded
            store.append(event)
            apply_event(doc, event)
            recorded += 1

        with open_client(settings.api) as client:
            if on_client:
                on_client(client)
            store.begin(doc)
            try:
                notes = _settle(client, doc, record)
                for note in notes:
                    reporter.note(note)
                plan = compute_plan(workspace.projects, doc, options)
                if saved is not None:
                    _check_same(saved, plan, doc)
                if plan.blocked:
                    lines = "\n".join(blocked_lines(plan))
                    raise PlanError(f"the plan is blocked; nothing was applied:\n{lines}")
                if not plan.has_changes:
                    return ApplyOutcome(plan, None, notes)
                if not confirm(plan):
                    raise DescriptIacError("Apply cancelled; nothing was sent.")
                engine = Engine(client, doc, workspace, plan, reporter, record, apply_options)
                result = engine.run()
                return ApplyOutcome(plan, result, notes)
            finally:
                if recorded:
                    store.commit(doc)
                else:
                    store.discard()


def _settle(
    client: DescriptClient, doc: StateDocument, record: Callable[[Event], None]
) -> list[str]:
    """Reconcile until no intent is left undecided (bounded by the grace period)."""
    from descript_iac.apply import reconcile

    grace = intent_grace()
    found = reconcile(client, doc, record, grace=grace)
    notes = list(found.notes)
    while found.waiting:
        time.sleep(min(2.0, max(grace / 10, 0.1)))
        found = reconcile(client, doc, record, grace=grace)
        notes += [n for n in found.notes if n not in notes]
    return notes


def _check_fresh(saved: SavedPlan, doc: StateDocument, settings: RunSettings) -> None:
    again = "run `descript-iac plan --out FILE` again"
    if not settings.state_path.exists():
        if saved.new_state is None:
            raise PlanError(
                f"the state {settings.state_path} the plan was made for is gone; {again}"
            )
        return
    lineage = saved.new_state.lineage if saved.new_state else saved.plan.lineage
    if doc.lineage != lineage:
        raise PlanError(
            f"the saved plan was made for another state (lineage {lineage}, this state is "
            f"{doc.lineage}); {again}"
        )
    if doc.serial != saved.plan.serial or saved.new_state is not None:
        raise PlanError(
            f"the saved plan is stale: it was made at state serial {saved.plan.serial} and the "
            f"state is now at serial {doc.serial}; {again}"
        )


def _check_same(saved: SavedPlan, plan: Plan, doc: StateDocument) -> None:
    if plan.config_digest != saved.plan.config_digest:
        raise PlanError(
            "the configuration changed since the plan was saved; run `descript-iac plan --out "
            "FILE` again"
        )
    if _job_actions(plan) != _job_actions(saved.plan):
        raise PlanError(
            "after picking up earlier jobs the plan differs from the saved one; run "
            "`descript-iac plan --out FILE` again"
        )


def _edit_state(
    settings: RunSettings,
    command: str,
    change: Callable[[StateDocument, Callable[[Event], None]], str],
) -> str:
    store = LocalStateStore(settings.state_path)
    if not settings.state_path.exists():
        raise DescriptIacError(f"{settings.state_path}: no state here; check --state")
    with store.lock(command, settings.lock_timeout):
        doc = store.recover()
        store.begin(doc)

        def record(event: Event) -> None:
            store.append(event)
            apply_event(doc, event)

        try:
            message = change(doc, record)
        except BaseException:
            store.discard()
            raise
        store.commit(doc)
        return message


def _open_intent_of(doc: StateDocument, address: str) -> list[str]:
    project = doc.projects.get(address)
    if project is None:
        raise DescriptIacError(f"{address}: no such project in the state")
    if not project.intents:
        raise DescriptIacError(f"{address}: no open intent; nothing to resolve")
    return [i.intent_id for i in project.intents]


def adopt_job(settings: RunSettings, address: str, job_id: str) -> str:
    """Record JOB_ID as the job an open intent of ADDRESS sent (ends a quarantine)."""

    from descript_iac.apply.reconcile import adopted

    def change(doc: StateDocument, record: Callable[[Event], None]) -> str:
        intents = _open_intent_of(doc, address)
        project = doc.projects[address]
        intent = project.intents[0]
        if job_id in doc.known_job_ids():
            raise DescriptIacError(f"job {job_id} is already recorded in the state")
        with open_client(settings.api) as client:
            job = client.get_job(job_id)
        if job.job_type != intent.job_type:
            raise DescriptIacError(
                f"job {job_id} is a {job.job_type} job; the open intent of {address} sent a "
                f"{intent.job_type} job"
            )
        for event in adopted(address, intents[0], job):
            record(event)
        return f"{address}: adopted job {job_id} ({job.job_type}, {job.job_state})."

    return _edit_state(settings, "state adopt", change)


def drop_intent(settings: RunSettings, address: str) -> str:
    """Close ADDRESS's open intents: the next apply sends their jobs again."""

    def change(doc: StateDocument, record: Callable[[Event], None]) -> str:
        for intent_id in _open_intent_of(doc, address):
            record(dropped(address, intent_id, "dropped by hand (descript-iac state drop-intent)"))
        return (
            f"{address}: open intent dropped. The next apply sends that job again; if it had "
            "been created, that makes a second one."
        )

    return _edit_state(settings, "state drop-intent", change)
