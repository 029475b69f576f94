"""`show`: what the state records, per managed project, in the user's words (no API call).

The same report backs `show DIR`, `show --json` and `state show ADDRESS`; the CLI formats it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from descript_iac.plan.shown import shown
from descript_iac.state.document import ProjectState, StateDocument
from descript_iac.workspace.settings import RunSettings


class _View(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MediaView(_View):
    name: str
    source: str | None  # URL without its query string, or tracks; None: not recorded
    status: str | None
    duration_seconds: float | None
    error_message: str | None


class StepView(_View):
    id: str
    status: str | None
    job_id: str | None
    job_state: str
    prompt: str | None
    model: str | None
    agent_response: str | None
    ai_credits_used: float | None  # None: unknown (the API's number was not sane)
    attempts: int
    origin: str


class ProjectView(_View):
    address: str
    project_id: str | None
    project_url: str | None
    name: str | None
    created_by: str | None
    import_job_id: str | None
    import_status: str | None
    media: list[MediaView]
    compositions: list[str]
    steps: list[StepView]
    media_seconds: float
    ai_credits: float
    unknown: int  # jobs whose spend is unknown, not counted in the two above
    tainted: str | None
    quarantine: str | None
    open_intents: list[str]
    orphans: list[str]  # projects replaced by this one: they stay in Descript
    external_jobs: list[str]


class StateView(_View):
    location: str
    serial: int
    lineage: str
    projects: list[ProjectView]
    forgotten: dict[str, list[str]]  # address -> project ids no longer managed
    media_seconds: float
    ai_credits: float
    unknown: int


def project_view(address: str, project: ProjectState) -> ProjectView:
    facets = project.facets
    values = facets.shown if facets else None
    record = project.import_
    names = sorted(set(record.media) if record else set()) or sorted(facets.media if facets else [])
    media = []
    for name in names:
        item = record.media.get(name) if record else None
        media.append(
            MediaView(
                name=name,
                source=shown(values.media.get(name)) if values and name in values.media else None,
                status=item.status if item else None,
                duration_seconds=item.duration_seconds if item else None,
                error_message=item.error_message if item else None,
            )
        )
    compositions = [c.name for c in record.compositions] if record else []
    return ProjectView(
        address=address,
        project_id=project.project_id,
        project_url=project.project_url,
        name=shown(values.name) if values else None,
        created_by=project.created_by,
        import_job_id=record.job_id if record else None,
        import_status=(record.status or record.job_state) if record else None,
        media=media,
        compositions=compositions or sorted(facets.compositions if facets else []),
        steps=[
            StepView(
                id=s.id,
                status=s.status,
                job_id=s.job_id,
                job_state=s.job_state,
                prompt=s.prompt,
                model=s.model,
                agent_response=s.agent_response,
                ai_credits_used=s.ai_credits_used,
                attempts=s.attempts,
                origin=s.origin,
            )
            for s in project.steps
        ],
        media_seconds=project.totals.media_seconds,
        ai_credits=project.totals.ai_credits,
        unknown=project.totals.unknown,
        tainted=project.tainted,
        quarantine=project.quarantine.reason if project.quarantine else None,
        open_intents=[
            f"{i.action} {i.step_id or i.job_type} ({i.outcome})" for i in project.intents
        ],
        orphans=[f"{o.project_id} ({o.reason})" for o in project.orphans],
        external_jobs=[f"{j.job_type} {j.job_id} ({j.status})" for j in project.external_jobs],
    )


def state_view(location: str, doc: StateDocument) -> StateView:
    projects = [project_view(a, p) for a, p in sorted(doc.projects.items())]
    return StateView(
        location=location,
        serial=doc.serial,
        lineage=doc.lineage,
        projects=projects,
        forgotten={
            address: [p.project_id or "(none)" for p in history]
            for address, history in sorted(doc.forgotten.items())
        },
        media_seconds=sum(p.media_seconds for p in projects),
        ai_credits=sum(p.ai_credits for p in projects),
        unknown=sum(p.unknown for p in projects),
    )


def show_state(settings: RunSettings) -> StateView:
    """The state of the workspace, as `show` presents it."""
    store = settings.store()
    return state_view(store.location(), store.read())
