"""`import` and `state rebuild`: manage projects made elsewhere, or lost from the state.

Both read only what the API proves (adoption/records.py, adoption/rebuild.py), call `GET /status`
first (a wrong token fails once, before anything else), and record under the state lock.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from descript_iac.adoption.rebuild import Rebuilder, RebuildReport
from descript_iac.adoption.records import adopted_record, read_project
from descript_iac.config import load_workspace
from descript_iac.config.desired import DesiredProject
from descript_iac.config.model import AgentStep
from descript_iac.errors import DescriptIacError
from descript_iac.session import open_client, open_registry
from descript_iac.state.document import ProjectState, StateDocument
from descript_iac.state.events import Event, ProjectImported
from descript_iac.workspace.edits import edit_state
from descript_iac.workspace.settings import RunSettings


def _marked_steps(desired: DesiredProject, mark_applied: Sequence[str]) -> int:
    """How many of the project's first steps are marked applied (they must lead, in order)."""
    ids = [s.id for s in desired.spec.steps]
    for step_id in mark_applied:
        if step_id not in ids:
            raise DescriptIacError(
                f"--mark-applied {step_id}: {desired.address} has no such step (its steps: "
                f"{', '.join(ids) or 'none'})"
            )
    count = len(mark_applied)
    if list(mark_applied) != ids[:count]:
        raise DescriptIacError(
            f"--mark-applied must name the first steps of {desired.address} in order "
            f"({', '.join(ids[:count])}): applied steps are a log, and a step marked applied "
            "after one that is not would never run"
        )
    return count


def import_project(
    settings: RunSettings,
    address: str,
    project_id: str,
    mark_applied: Sequence[str] = (),
    force: bool = False,
) -> list[str]:
    """Manage PROJECT_ID (made elsewhere) as ADDRESS, recording what the API proves of it.

    A project the API shows nothing of (no projects API, no job in the 30-day history) is
    refused unless `force`: a mistyped id would otherwise be recorded and block every plan."""
    workspace = load_workspace(settings.root)
    desired = workspace.projects.get(address)
    if desired is None:
        known = ", ".join(workspace.projects) or "none"
        raise DescriptIacError(
            f"{address}: no such project in {settings.root} (declared: {known}); declare it "
            "first, then import"
        )
    marked = desired.spec.steps[: _marked_steps(desired, mark_applied)]
    store = settings.store(workspace.state)

    def change(doc: StateDocument, record: Callable[[Event], None]) -> list[str]:
        current = doc.projects.get(address)
        if current is not None and (current.project_id or current.intents):
            raise DescriptIacError(
                f"{address}: already manages project {current.project_id or '(being created)'}; "
                f"`descript-iac state rm {address}` first to manage another one"
            )
        other = next((a for a, p in doc.projects.items() if p.project_id == project_id), None)
        if other is not None:
            raise DescriptIacError(
                f"project {project_id} is already managed as {other}; to rename it run "
                f"`descript-iac state mv {other} {address}`"
            )
        with open_client(settings.api) as client:
            client.status()
            evidence = read_project(client, project_id)
            if evidence.details is None and not evidence.jobs and not force:
                raise DescriptIacError(_unseen(address, project_id))
            if evidence.running:
                job = evidence.running[0]
                raise DescriptIacError(
                    f"project {project_id}: {job.job_type} job {job.job_id} is still "
                    f"{job.job_state}; import once it stopped (`descript-iac jobs wait "
                    f"{job.job_id}`)"
                )
            agent = [j for j in evidence.agent_jobs if j.result and j.result.status == "success"]
            assigned = (
                [(s, [j]) for s, j in zip(marked, agent, strict=True)]
                if len(agent) == len(marked)
                else []
            )
            project = adopted_record(
                desired, evidence, doc.salt, assigned, () if assigned else marked, "import"
            )
            _check_unrecorded(doc, project_id, project)
            record(ProjectImported(address=address, project=project))
            registry = open_registry(settings.api, client, store)
            try:
                registry.record_jobs(project.job_ids())
            finally:
                registry.close()
        return _import_notes(desired, evidence.details is not None, project, project_id, marked)

    return edit_state(settings, "import", change, create=True, store=store)


def _unseen(address: str, project_id: str) -> str:
    return (
        f"{address}: project {project_id} is not shown by the API: the job history (30 days) "
        "has no job on it, and this API has no projects API to look it up by id (GET "
        "/v1/projects/{id}, 2026 level). Nothing was imported. Check the id in the project's URL "
        "(https://web.descript.com/PROJECT_ID); if it is right and the project's jobs are older "
        "than 30 days, run the import again with --force (the state then records the project "
        "with nothing proven about it)."
    )


def _import_notes(
    desired: DesiredProject,
    projects_api: bool,
    project: ProjectState,
    project_id: str,
    marked: Sequence[AgentStep],
) -> list[str]:
    assert project.facets is not None
    facets = project.facets
    source = "the projects API" if projects_api else "the job history"
    lines = [f"Imported project {project_id} as {desired.address}."]
    if projects_api:
        shown = facets.shown.name if facets.shown else None
        lines.append(f"  name: {shown or '***'} (read from the projects API)")
    else:
        lines.append(
            "  name and team access: as configured (the API shows neither without its projects "
            "endpoints)"
        )
    have = [n for n in desired.spec.media if n in facets.media]
    lack = [n for n in desired.spec.media if n not in facets.media]
    if desired.spec.media:
        lines.append(f"  media found ({source}): {', '.join(have) or 'none'}")
        if lack:
            lines.append(f"  media missing: {', '.join(lack)} (the next plan shows them)")
    comps = [c.name for c in desired.spec.compositions]
    if comps:
        found = [c for c in comps if c in facets.compositions]
        lines.append(f"  compositions found: {', '.join(found) or 'none'}")
    for step in project.steps:
        lines.append(f"  step {step.id}: marked applied (job {step.job_id or 'not identified'})")
    if not marked and desired.spec.steps:
        lines.append(
            "  no step marked applied: the next apply runs every step (use --mark-applied "
            "STEP_ID for steps that already ran)"
        )
    if project.external_jobs:
        lines.append(
            f"  {len(project.external_jobs)} other job(s) on the project recorded as external "
            "(never adopted, not drift)"
        )
    lines.append("Run `descript-iac plan` to see what is still missing.")
    return lines


def _check_unrecorded(doc: StateDocument, project_id: str, project: ProjectState) -> None:
    """Refuse to record a job twice (a forgotten project imported again is taken back)."""
    for owner, current in doc.projects.items():
        if any(o.project_id == project_id for o in current.orphans):
            raise DescriptIacError(
                f"project {project_id} is recorded as an orphan of {owner} (it was replaced by "
                "a newer project); it cannot be managed a second time"
            )
    forgotten = {
        job
        for history in doc.forgotten.values()
        for old in history
        if old.project_id == project_id
        for job in old.job_ids()
    }
    clash = project.job_ids() & (doc.known_job_ids() - forgotten)
    if clash:
        raise DescriptIacError(
            f"project {project_id}: job {min(clash)} is already recorded in the state under "
            "another project; a job belongs to one project"
        )


@dataclass
class RebuildOutcome:
    report: RebuildReport
    written: bool = False
    notes: list[str] = field(default_factory=list)


def rebuild_state(
    settings: RunSettings, confirm: Callable[[RebuildReport], bool]
) -> RebuildOutcome:
    """Recover the records of configured projects the state lacks from the job history (and
    the projects API when present); nothing is written unless `confirm` agrees."""
    workspace = load_workspace(settings.root)
    store = settings.store(workspace.state)

    def change(doc: StateDocument, record: Callable[[Event], None]) -> RebuildOutcome:
        with open_client(settings.api) as client:
            client.status()
            report = Rebuilder(client, doc, settings.timing).run(workspace)
            outcome = RebuildOutcome(report)
            matched = report.of("matched")
            if not matched or not confirm(report):
                return outcome
            jobs: set[str] = set()
            for finding in matched:
                assert finding.record is not None
                record(ProjectImported(address=finding.address, project=finding.record))
                jobs |= finding.record.job_ids()
            registry = open_registry(settings.api, client, store)
            try:
                registry.record_jobs(jobs)
            finally:
                registry.close()
        outcome.written = True
        return outcome

    return edit_state(settings, "state rebuild", change, create=True, store=store)
