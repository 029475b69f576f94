"""Evidence before any create: the I/O around the pure verdict (apply/existing.py).

Only a plan that proposes to create a project the state does not know reads anything: the job
history once (30 days, through the job cache) and, at the 2026 level, one projects lookup per
such name (`created_by=me`). A plan with nothing to create makes no call.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from descript_iac.api import DescriptClient
from descript_iac.api.capabilities import Feature
from descript_iac.api.models import AGENT_JOB, Job, ProjectSummary
from descript_iac.apply.evidence import history_since, known_projects
from descript_iac.apply.existing import (
    Declared,
    DriveView,
    Existing,
    Unrecorded,
    blocking,
    existing,
    unrecorded,
)
from descript_iac.config.desired import Workspace
from descript_iac.plan import Plan
from descript_iac.plan.model import ActionKind
from descript_iac.state.document import ProjectState, StateDocument


def unknown_creates(plan: Plan, doc: StateDocument) -> list[str]:
    """Addresses the plan creates that the state does not know at all."""
    return [
        p.address
        for p in plan.projects
        if p.address not in doc.projects and any(a.kind is ActionKind.CREATE for a in p.actions)
    ]


def _created(at: str | None, sent_at: float) -> float:
    """When a recorded job was made, in the server's own time (its `created_at`, comparable to
    the history's); the send time when the record has none."""
    if at:
        try:
            return datetime.fromisoformat(at).timestamp()
        except ValueError:
            pass
    return sent_at


def _newest(project: ProjectState) -> float:
    """When the newest job the state records on `project` was made (0.0: none)."""
    times = [0.0, *(_created(s.created_at, s.sent_at) for s in project.steps)]
    times += [_created(p.created_at, p.sent_at) for p in project.publishes.values()]
    if project.import_:
        times.append(_created(project.import_.created_at, project.import_.sent_at))
    return max(times)


def newest_sent(doc: StateDocument) -> float:
    """When the newest job the state records was sent (server seconds; 0.0: none)."""
    return max([0.0, *(_newest(p) for p in doc.projects.values())])


def unproven_after(doc: StateDocument, existed: bool) -> float:
    """From when the history's agent-made projects are candidates for a prompt-only create the
    state lacks: all of them for a missing, new or rebuilt state (only what `import`/`state
    rebuild` recovered), else those made after the newest job the state records."""
    if not existed or doc.serial == 0:
        return 0.0
    steps = [s for p in doc.projects.values() for s in p.steps]
    if steps and all(s.origin != "apply" for s in steps):
        return 0.0
    return newest_sent(doc)


def _named(client: DescriptClient, name: str) -> list[ProjectSummary]:
    found: list[ProjectSummary] = []
    cursor: str | None = None
    while True:
        page = client.list_projects(name=name, created_by="me", cursor=cursor)
        found += [p for p in page.data if p.name == name]
        cursor = page.pagination.next_cursor
        if not cursor:
            return found


def drive_verdicts(
    client: DescriptClient,
    workspace: Workspace,
    doc: StateDocument,
    addresses: Iterable[str],
    existed: bool,
) -> list[Existing]:
    """The creates the drive argues against (empty: every create is safe to send)."""
    wanted = [workspace.projects[a] for a in addresses if a in workspace.projects]
    if not wanted:
        return []
    declared = [
        Declared(
            d.address,
            d.name,
            frozenset(d.spec.media),
            frozenset(c.name for c in d.spec.compositions),
        )
        for d in wanted
    ]
    named = None
    if client.capabilities().has(Feature.PROJECTS):
        named = {d.address: _named(client, d.name) for d in declared}
    view = DriveView(
        history=history_since(client, 0.0),
        known_projects=known_projects(doc),
        named=named,
        unproven_after=unproven_after(doc, existed),
    )
    return blocking(existing(declared, view))


def stale_jobs(
    client: DescriptClient, plan: Plan, doc: StateDocument, history: list[Job] | None = None
) -> list[Unrecorded]:
    """Agent jobs the state lacks on managed projects the plan would run steps on."""
    running = {a.address for a in plan.actions if a.kind is ActionKind.RUN}
    managed = {
        address: (p.project_id, _newest(p))
        for address, p in doc.projects.items()
        if address in running and p.project_id
    }
    if not managed:
        return []
    since = min(newest for _, newest in managed.values())
    jobs = history if history is not None else history_since(client, since - 1, AGENT_JOB)
    return unrecorded(jobs, managed, frozenset(doc.known_job_ids()))


def with_evidence(plan: Plan, stops: list[Existing]) -> Plan:
    """The plan with each create the drive argues against shown as blocked, with its evidence
    and the way on (text, Markdown and JSON render blocked actions with their reason)."""
    if not stops:
        return plan
    by_address = {v.address: v for v in stops}
    projects = []
    for project in plan.projects:
        verdict = by_address.get(project.address)
        if verdict is None:
            projects.append(project)
            continue
        first = project.actions[0]
        blocked = first.model_copy(
            update={"kind": ActionKind.BLOCKED, "reason": reason(verdict), "job_type": None}
        )
        projects.append(project.model_copy(update={"actions": (blocked,)}))
    return plan.model_copy(update={"projects": tuple(projects)})


def reason(verdict: Existing) -> str:
    if verdict.kind == "exists":
        found = verdict.found[0]
        return (
            f"<= exists in Descript: {found.describe()}; not created again: run "
            f"`descript-iac import {verdict.address} {found.project_id}`, or apply --new-state "
            "to make it again"
        )
    shown = "; ".join(f.describe() for f in verdict.found)
    return (
        f"? {len(verdict.found)} unproven candidate(s) in the job history: {shown}; not created "
        f"until you adopt one (`descript-iac import {verdict.address} PROJECT_ID`) or apply "
        "--new-state to make it again"
    )
