"""One-off jobs (`import-media`, `agent`): the Descript CLI's commands, exactly once.

Each one-off is a project at a fresh address in a small state of its own
(`~/.local/state/descript-iac/oneoff.json`, with its journal and lock), applied by the same
engine as a workspace: write-ahead intent, drive gate, a lost reply looked up in the job history,
polling. An earlier one-off left in doubt is resolved before anything new is sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from descript_iac.api import DescriptClient, fingerprint
from descript_iac.api.capabilities import Feature
from descript_iac.apply import ApplyOptions, ApplyResult, Engine, reconcile
from descript_iac.apply.reporting import Reporter
from descript_iac.apply.requests import agent_request, import_request
from descript_iac.config.desired import DesiredProject, Workspace
from descript_iac.errors import PlanError
from descript_iac.plan import PlanOptions, compute_plan
from descript_iac.plan.render import blocked_lines
from descript_iac.session import ApiTarget, open_client, open_registry
from descript_iac.state.document import CompositionRecord, ProjectState, StateDocument, copied
from descript_iac.state.events import ProjectLinked
from descript_iac.state.recorder import Recorder
from descript_iac.state.store import LocalStateStore
from descript_iac.timing import Timing
from descript_iac.userdirs import state_root
from descript_iac.workspace.features import checked_plan
from descript_iac.workspace.oneoff_requests import (
    AgentPrompt,
    MediaImport,
    agent_project,
    import_project,
    slug,
)


def oneoff_state_path() -> Path:
    """Where one-off jobs are recorded (`userdirs.state_root()`: XDG_STATE_HOME, default
    ~/.local/state, on Linux)."""
    return state_root() / "oneoff.json"


@dataclass(frozen=True)
class OneOffSettings:
    api: ApiTarget = field(default_factory=ApiTarget)
    state_path: Path = field(default_factory=oneoff_state_path)
    lock_timeout: float = 0.0
    timing: Timing = field(default_factory=Timing)
    wait: bool = True
    poll_interval: float = 2.0


@dataclass
class OneOffOutcome:
    address: str
    project: ProjectState  # what the state recorded of it
    result: ApplyResult
    notes: list[str] = field(default_factory=list)
    # The one-off that made the project, when a one-off did: its address names it best.
    made_by: str | None = None

    @property
    def job_id(self) -> str | None:
        if self.project.steps:
            return self.project.steps[-1].job_id
        return self.project.import_.job_id if self.project.import_ else None

    @property
    def manage_hint(self) -> str | None:
        """How to bring the project under management (a workspace with this address)."""
        if not self.project.project_id:
            return None
        return f"descript-iac import {self.made_by or self.address} {self.project.project_id}"


def _address(doc: StateDocument, base: str) -> str:
    """`base`, or `base-2`, `base-3`, ... : an address no earlier one-off used."""
    taken = set(doc.projects) | set(doc.forgotten)
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _linked_compositions(
    client: DescriptClient, project_id: str, wanted: str | None
) -> list[CompositionRecord]:
    """The composition an agent job on an existing project aims at: by name or id from the
    project's details; any other form the API accepts (short id, URL) is passed as given."""
    if wanted is None:
        return []
    for composition in client.get_project(project_id).compositions:
        if wanted in (composition.id, composition.name):
            return [CompositionRecord(id=composition.id, name=wanted)]
    return [CompositionRecord(id=wanted, name=wanted)]


def import_media(
    settings: OneOffSettings, request: MediaImport, reporter: Reporter
) -> OneOffOutcome:
    """`import-media`: a new project from media URLs."""
    import_project("check", request)  # refuse bad options before taking any lock
    return _run(settings, "import-media", slug(request.name), request, reporter)


def agent(settings: OneOffSettings, request: AgentPrompt, reporter: Reporter) -> OneOffOutcome:
    """`agent`: one prompt on an existing project, or on a new one (`agent --new`)."""
    agent_project("check", request)
    base = slug(request.name) if request.name else f"agent-{slug(request.project_id or '')[:8]}"
    return _run(settings, "agent", base, request, reporter)


def _run(
    settings: OneOffSettings,
    command: str,
    base: str,
    request: MediaImport | AgentPrompt,
    reporter: Reporter,
) -> OneOffOutcome:
    store = LocalStateStore(settings.state_path)
    with store.lock(command, settings.lock_timeout), open_client(settings.api) as client:
        client.status()  # the token works, and the server's clock is known
        _require(client, request)  # before anything is journaled or sent
        doc = store.recover()
        registry = open_registry(settings.api, client)
        registry.record_jobs(doc.known_job_ids())
        store.begin(doc)
        record = Recorder(store, doc)

        try:
            linked: list[CompositionRecord] = []
            if isinstance(request, AgentPrompt) and request.project_id:
                linked = _linked_compositions(client, request.project_id, request.composition)
            # Before anything is resolved: is this a run again of a one-off left in doubt?
            retried = _retry_of(doc, _fingerprint(_desired(base, request), request, linked))
            found = reconcile(client, doc, record, registry, settings.timing)
            for note in found.notes:
                reporter.note(note)
            address = retried or _address(doc, base)
            desired = _desired(address, request)
            if retried is not None:
                reporter.note(
                    f"{address}: the same request was left in doubt by an earlier run; it is "
                    "looked up in the job history, and sent only if it was never created"
                )
            elif isinstance(request, AgentPrompt) and request.project_id:
                record(
                    ProjectLinked(
                        address=address, project_id=request.project_id, compositions=linked
                    )
                )
            workspace = Workspace(root=Path.cwd(), projects={address: desired}, files=())
            options = PlanOptions(targets=(address,))
            plan = checked_plan(workspace.projects, doc, options, client)
            if plan.blocked:
                where = (
                    f"(the one-off state: `descript-iac --state {settings.state_path} state ...`)"
                )
                raise PlanError("\n".join(["nothing was sent:", *blocked_lines(plan), where]))
            apply_options = ApplyOptions(
                parallelism=1,
                wait=settings.wait,
                poll_interval=settings.poll_interval,
                timing=settings.timing,
            )
            engine = Engine(client, doc, workspace, plan, reporter, record, apply_options, registry)
            result = engine.run()
            project = doc.projects.get(address, ProjectState())
            made_by = next(
                (
                    a
                    for a, p in doc.projects.items()
                    if p.created_by and p.project_id and p.project_id == project.project_id
                ),
                None,
            )
            copy = copied(project)
            return OneOffOutcome(address, copy, result, found.notes, made_by)
        finally:
            registry.close()
            if record.count:
                store.commit(doc)
            else:
                store.discard()


def _fingerprint(
    desired: DesiredProject, request: MediaImport | AgentPrompt, linked: list[CompositionRecord]
) -> str:
    """The fingerprint of the POST this one-off sends (as the engine builds it)."""
    if isinstance(request, MediaImport):
        action = compute_plan({desired.address: desired}, StateDocument(), PlanOptions()).actions[0]
        body = import_request(desired, action).body()
        return fingerprint("POST", "jobs/import/project_media", body)
    step = desired.spec.steps[0]
    target = next((c.id for c in linked if c.name == step.composition), None)
    body = agent_request(desired, step, request.project_id, target).body()
    return fingerprint("POST", "jobs/agent", body)


def _retry_of(doc: StateDocument, sent: str) -> str | None:
    """The address of an earlier one-off whose identical POST is still in doubt: running the
    command again after a crash must not make a second job when the first one exists."""
    for address, project in sorted(doc.projects.items()):
        if any(i.fingerprint == sent for i in project.intents):
            return address
    return None


def _desired(address: str, request: MediaImport | AgentPrompt) -> DesiredProject:
    if isinstance(request, MediaImport):
        return import_project(address, request)
    return agent_project(address, request)


def _require(client: DescriptClient, request: MediaImport | AgentPrompt) -> None:
    if isinstance(request, MediaImport) and request.folder is not None:
        client.require(Feature.FOLDERS, "--folder (folder_name on imports)")
    if isinstance(request, AgentPrompt) and request.composition is not None:
        client.require(Feature.COMPOSITION_TARGET, "--composition (composition_id on agent jobs)")
