"""Drift: what happened to managed projects outside descript-iac (`--refresh`).

- Jobs in the history on a managed project that the state does not know (a prompt run by hand).
- With the projects API, projects changed outside: renamed, deleted, or missing media or
  compositions descript-iac imported. (Added media and compositions are not drift: agent steps
  make them too.)

Each difference has a key; accepting it (`apply --refresh`) records the key, or the job as an
external job, so it is not reported again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from descript_iac.api import DescriptClient
from descript_iac.api.capabilities import Feature
from descript_iac.api.errors import NotFound
from descript_iac.api.models import Job, ProjectSummary
from descript_iac.plan.digests import name_digest
from descript_iac.plan.model import Drift, DriftKind
from descript_iac.state.document import ExternalJob, ProjectState, StateDocument
from descript_iac.state.events import DriftAccepted
from descript_iac.timing import FINISHED_STATES

PAGE = 100


def job_drift(doc: StateDocument, history: Sequence[Job]) -> list[Drift]:
    managed = {p.project_id: a for a, p in doc.projects.items() if p.project_id}
    known = doc.known_job_ids()
    out = []
    for job in history:
        address = managed.get(job.project_id or "")
        if not address or job.job_id in known:
            continue
        when = job.created_at.strftime("%Y-%m-%d %H:%M:%SZ") if job.created_at else "?"
        status = job.result.status if job.result else job.job_state
        out.append(
            Drift(
                address=address,
                kind="job",
                detail=f"{job.job_type} job {job.job_id} ({when}, {status}) on the managed "
                "project is not in the state: it was run outside descript-iac",
                key=f"job:{job.job_id}",
                job_id=job.job_id,
            )
        )
    return out


def acceptance(drift: Sequence[Drift], history: Sequence[Job]) -> list[DriftAccepted]:
    """The events that record `drift` as accepted: jobs as external jobs, the rest by key."""
    jobs = {job.job_id: job for job in history}
    by_address: dict[str, DriftAccepted] = {}
    for item in drift:
        event = by_address.setdefault(item.address, DriftAccepted(address=item.address))
        if item.job_id and item.job_id in jobs:
            event.jobs.append(external_job(jobs[item.job_id]))
        else:
            event.keys.append(item.key)
    return list(by_address.values())


def external_job(job: Job) -> ExternalJob:
    return ExternalJob(
        job_id=job.job_id,
        job_type=job.job_type,
        created_at=job.created_at.isoformat() if job.created_at else None,
        status=job.result.status if job.result else job.job_state,
    )


def _settled(project: ProjectState) -> bool:
    """A project whose contents descript-iac knows: nothing of it is running or in doubt."""
    if project.project_id is None or project.facets is None or project.intents:
        return False
    if project.tainted or project.quarantine:
        return False
    states = [s.job_state for s in project.steps]
    if project.import_ is not None:
        states.append(project.import_.job_state)
    return all(state in FINISHED_STATES for state in states)


def differences(
    address: str,
    project: ProjectState,
    salt: str,
    name: str | None,
    media: set[str] | None,
    compositions: set[str] | None,
) -> list[Drift]:
    """How the project Descript shows (None: gone) differs from what the state records."""
    assert project.facets is not None
    out: list[Drift] = []

    def add(kind: DriftKind, detail: str, key: str) -> None:
        if key not in project.accepted_drift:
            out.append(Drift(address=address, kind=kind, detail=detail, key=key))

    if name is None:
        add(
            "deleted",
            f"project {project.project_id} is no longer in Descript (deleted outside "
            "descript-iac?); `descript-iac state rm` stops managing it",
            "deleted",
        )
        return out
    digest = name_digest(salt, name)
    if digest != project.facets.name:
        add("renamed", f"renamed in Descript to '{name}'", f"renamed:{digest}")
    imported = project.import_.media.items() if project.import_ else []
    failed = {n for n, m in imported if m.status not in (None, "success")}
    if media is not None:
        for gone in sorted(set(project.facets.media) - failed - media):
            add("media_removed", f"media '{gone}' is no longer in the project", f"media:{gone}")
    if compositions is not None:
        for gone in sorted(set(project.facets.compositions) - compositions):
            add(
                "composition_removed",
                f"composition '{gone}' is no longer in the project",
                f"composition:{gone}",
            )
    return out


def _timestamp(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _last_activity(project: ProjectState) -> float | None:
    stops = [_timestamp(r.stopped_at) for r in [project.import_, *project.steps] if r is not None]
    known = [s for s in stops if s is not None]
    return max(known) if known else None


def project_drift(client: DescriptClient, doc: StateDocument) -> list[Drift]:
    """Projects changed outside descript-iac (projects API only; none on the seed level)."""
    if not client.capabilities().has(Feature.PROJECTS):
        return []
    managed = {p.project_id: (a, p) for a, p in doc.projects.items() if _settled(p)}
    if not managed:
        return []
    listed: dict[str, ProjectSummary] = {}
    cursor = None
    while len(listed) < len(managed):
        page = client.list_projects(cursor=cursor, limit=PAGE)
        listed.update((s.id, s) for s in page.data if s.id in managed)
        cursor = page.pagination.next_cursor
        if not cursor:
            break
    out: list[Drift] = []
    for project_id, (address, project) in sorted(managed.items(), key=lambda kv: kv[1][0]):
        assert project_id is not None
        summary = listed.get(project_id)
        last = _last_activity(project)
        updated = summary.updated_at.timestamp() if summary and summary.updated_at else None
        if summary is not None and last is not None and updated is not None and updated <= last:
            out += differences(address, project, doc.salt, summary.name, None, None)
            continue  # not changed since descript-iac's last job: its contents are as recorded
        try:
            details = client.get_project(project_id)
        except NotFound:
            out += differences(address, project, doc.salt, None, None, None)
            continue
        out += differences(
            address,
            project,
            doc.salt,
            details.name,
            set(details.media_files),
            {c.name for c in details.compositions},
        )
    return out
