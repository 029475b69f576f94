"""Adopt a project made elsewhere, or lost from the state: its record, from what the API proves.

`import` and `state rebuild` read a project's evidence (evidence of its own: the projects API's
details where the server has them, and its jobs in the 30-day history) and build the record apply
would have written. The jobs are replayed through the journal's own reducer on a scratch
document, so an adopted record is exactly what apply records (taint of a failed import, totals,
attempts of a step); only what is proven goes in:

- media and compositions: the names the project shows (projects API) or its imports created;
  each is recorded with the desired identity, since a name is all the API shows. A desired item
  the project lacks is not recorded, so the next plan shows it as missing;
- the name: what the projects API shows; without it, the desired name (not verifiable);
- steps: the jobs assigned to them by the caller; every other job on the project is recorded as
  external (never adopted, never reported as drift).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import msgspec

from descript_iac.api import DescriptClient
from descript_iac.api.capabilities import Feature
from descript_iac.api.errors import NotFound
from descript_iac.api.models import AGENT_JOB, IMPORT_JOB, Job, ProjectDetails
from descript_iac.apply.evidence import job_order
from descript_iac.config.desired import DesiredProject
from descript_iac.config.model import AgentStep
from descript_iac.errors import DescriptIacError
from descript_iac.plan import digests, shown
from descript_iac.redact import redact
from descript_iac.state.document import (
    ExternalJob,
    ImportFacets,
    Intent,
    ProjectState,
    ShownFacets,
    StateDocument,
    StepOrigin,
    StepRecord,
)
from descript_iac.state.events import IntentOpened, JobSubmitted, JobUpdated, apply_event
from descript_iac.timing import FINISHED_STATES, history_floor


@dataclass(frozen=True)
class ProjectEvidence:
    """What the API shows of one project."""

    project_id: str
    details: ProjectDetails | None  # the projects API's view; None on the seed-level API
    jobs: tuple[Job, ...]  # its jobs in the 30-day history, oldest first

    @property
    def import_jobs(self) -> list[Job]:
        return [j for j in self.jobs if j.job_type == IMPORT_JOB]

    @property
    def agent_jobs(self) -> list[Job]:
        return [j for j in self.jobs if j.job_type == AGENT_JOB]

    @property
    def running(self) -> list[Job]:
        return [j for j in self.jobs if j.job_state not in FINISHED_STATES]

    def media_names(self) -> set[str]:
        if self.details is not None:
            return set(self.details.media_files)
        names: set[str] = set()
        for job in self.import_jobs:
            result = job.import_result
            if result is not None:
                names |= {n for n, m in result.media_status.items() if m.status == "success"}
        return names

    def composition_names(self) -> set[str]:
        if self.details is not None:
            return {c.name for c in self.details.compositions}
        names: set[str] = set()
        for job in self.import_jobs:
            result = job.import_result
            if result is not None:
                names |= {c.name for c in result.created_compositions if c.name}
        return names

    def reaches_creation(self, tolerance: float) -> bool:
        """Whether the history still shows the job that made the project."""
        if not self.jobs or self.jobs[0].created_at is None:
            return False
        first = self.jobs[0].created_at.timestamp()
        if self.details is not None and self.details.created_at is not None:
            return abs(self.details.created_at.timestamp() - first) <= tolerance
        return True  # the seed-level API cannot tell: its oldest visible job is taken as such


def proven_facets(want: ImportFacets, evidence: ProjectEvidence, salt: str) -> ImportFacets:
    """The desired facets, restricted to what the project is proven to hold."""
    media, compositions = evidence.media_names(), evidence.composition_names()
    values = want.shown or ShownFacets()
    name, shown_name = want.name, values.name
    actual = evidence.details.name if evidence.details is not None else None
    if actual is not None and digests.name_digest(salt, actual) != want.name:
        name, shown_name = digests.name_digest(salt, actual), redact(actual)
    return ImportFacets(
        name=name,
        team_access=want.team_access,
        media={n: d for n, d in want.media.items() if n in media},
        compositions={n: d for n, d in want.compositions.items() if n in compositions},
        shown=msgspec.structs.replace(
            values,
            name=shown_name,
            media={n: v for n, v in values.media.items() if n in media},
            compositions={n: v for n, v in values.compositions.items() if n in compositions},
        ),
    )


def _sent(job: Job) -> float:
    return job.created_at.timestamp() if job.created_at else 0.0


def adopted_record(
    desired: DesiredProject,
    evidence: ProjectEvidence,
    salt: str,
    assigned: Sequence[tuple[AgentStep, Sequence[Job]]],
    marked: Sequence[AgentStep] = (),
    origin: StepOrigin = "import",
) -> ProjectState:
    """The record of `desired` managing `evidence`'s project.

    `assigned`: steps with the jobs that ran them (attempts, oldest first); `marked`: steps a
    person declared applied without a job to show for it."""
    address = desired.address
    want = digests.recorded_facets(salt, desired)
    facets = proven_facets(want, evidence, salt)
    scratch = StateDocument(salt=salt)
    used: set[str] = set()

    def replay(intent: Intent, job: Job) -> None:
        apply_event(scratch, IntentOpened(address=address, intent=intent))
        apply_event(
            scratch,
            JobSubmitted(
                address=address,
                intent_id=intent.intent_id,
                job_id=job.job_id,
                project_id=evidence.project_id,
                drive_id=job.drive_id,
                project_url=job.project_url,
                adopted=True,
            ),
        )
        apply_event(
            scratch, JobUpdated(address=address, job=job.model_dump(mode="json", exclude_none=True))
        )
        used.add(job.job_id)

    for index, job in enumerate(evidence.import_jobs):
        names = set(job.import_result.media_status) if job.import_result else set()
        intent = Intent(
            intent_id=f"{origin}-import-{index}",
            action="create" if index == 0 else "update",
            fingerprint="",
            sent_at=_sent(job),
            clock_error=0.0,
            job_type=IMPORT_JOB,
            facets=facets,
            media={n: want.media[n] for n in sorted(names) if n in facets.media},
        )
        replay(intent, job)
    creates = not evidence.import_jobs
    for number, (step, jobs) in enumerate(assigned):
        for attempt, job in enumerate(jobs):
            intent = Intent(
                intent_id=f"{origin}-step-{step.id}-{attempt}",
                action="create" if creates and number == 0 else "step",
                step_id=step.id,
                fingerprint="",
                sent_at=_sent(job),
                clock_error=0.0,
                job_type=AGENT_JOB,
                facets=facets,
                step_digest=digests.step_digest(salt, desired, step),
                step_prompt=shown.step_prompt(desired, step),
                step_model=shown.step_model(desired, step),
            )
            replay(intent, job)
    record = scratch.projects.get(address) or ProjectState()
    record.project_id = evidence.project_id
    record.drive_id = record.drive_id or (evidence.details.drive_id if evidence.details else None)
    record.facets = facets
    for step in marked:
        record.steps.append(
            StepRecord(
                id=step.id,
                digest=digests.step_digest(salt, desired, step),
                job_id=None,
                job_state="stopped",
                status="success",
                prompt=shown.step_prompt(desired, step),
                model=shown.step_model(desired, step),
            )
        )
    for step_record in record.steps:
        step_record.origin = origin
    record.external_jobs = [
        ExternalJob(
            job_id=job.job_id,
            job_type=job.job_type,
            created_at=job.created_at.isoformat() if job.created_at else None,
            status=job.result.status if job.result else job.job_state,
        )
        for job in evidence.jobs
        if job.job_id not in used
    ]
    return record


def read_project(client: DescriptClient, project_id: str) -> ProjectEvidence:
    """Everything the API shows of one project: its details (projects API) and its jobs."""
    details = None
    if client.capabilities().has(Feature.PROJECTS):
        try:
            details = client.get_project(project_id)
        except NotFound:
            raise DescriptIacError(
                f"project {project_id} does not exist for this token's drive (GET "
                "/v1/projects/{id} answered 404); check the id in the project's URL"
            ) from None
    after = history_floor(client.clock.now())
    jobs = list(client.iter_jobs(project_id=project_id, limit=100, created_after=after))
    return ProjectEvidence(project_id, details, tuple(sorted(jobs, key=job_order)))
