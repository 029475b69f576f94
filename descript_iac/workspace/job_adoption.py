"""`state adopt ADDRESS JOB_ID`: record a job by hand as the one an open intent sent.

A person ends a quarantine with it, so the job must be one the intent could have made: among the
quarantine's candidates, created in the intent's window (on the intent's project, for a job on an
existing project), and recorded by no other workspace of the drive. Anything else is refused
unless forced. What is adopted is shown (project, creation time, the start of an agent's reply)
so a person can see it is theirs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

from descript_iac.api.models import AgentResult, Job
from descript_iac.apply.resolve import window
from descript_iac.errors import DescriptIacError
from descript_iac.redact import redact
from descript_iac.session import open_client, open_registry
from descript_iac.state.document import Intent, ProjectState, StateDocument
from descript_iac.state.events import Event, adopted
from descript_iac.timing import Timing
from descript_iac.workspace.edits import edit_state
from descript_iac.workspace.settings import RunSettings

RESPONSE_SHOWN = 160  # characters of an agent's reply shown before it is adopted


def adopt_job(settings: RunSettings, address: str, job_id: str, force: bool = False) -> str:
    """Record JOB_ID as the job an open intent of ADDRESS sent (ends a quarantine)."""
    store = settings.store()

    def change(doc: StateDocument, record: Callable[[Event], None]) -> str:
        project = doc.projects.get(address)
        if project is None:
            raise DescriptIacError(f"{address}: no such project in the state")
        if not project.intents:
            raise DescriptIacError(f"{address}: no open intent; nothing to resolve")
        intent = project.intents[0]
        if job_id in doc.known_job_ids():
            raise DescriptIacError(f"job {job_id} is already recorded in the state")
        with open_client(settings.api) as client:
            job = client.get_job(job_id)
            registry = open_registry(settings.api, client, store)
            try:
                elsewhere = job_id in registry.recorded_jobs()
            finally:
                registry.close()
        if job.job_type != intent.job_type:
            raise DescriptIacError(
                f"job {job_id} is a {job.job_type} job; the open intent of {address} sent a "
                f"{intent.job_type} job"
            )
        shown = describe_job(job)
        doubts = _doubts(project, intent, job, settings.timing, elsewhere)
        if doubts and not force:
            raise DescriptIacError(
                f"{address}: job {job_id} is not one the open intent could have made: "
                f"{'; '.join(doubts)}. Nothing was recorded. The job: {shown}. Adopt one of the "
                "quarantine's candidates (`descript-iac plan` lists them), or pass --force if "
                "you have checked in Descript that this job is the intent's."
            )
        seen = job.model_dump(mode="json", exclude_none=True)
        for event in adopted(address, intent.intent_id, seen):
            record(event)
        forced = f" (forced past: {'; '.join(doubts)})" if doubts else ""
        return (
            f"{address}: job {job_id}: {shown}.\n"
            f"{address}: adopted job {job_id} ({job.job_type}, {job.job_state}){forced}."
        )

    return edit_state(settings, "state adopt", change, store=store)


def _doubts(
    project: ProjectState, intent: Intent, job: Job, timing: Timing, elsewhere: bool
) -> list[str]:
    """Why `job` cannot be the job `intent` made (empty: it can)."""
    doubts = []
    quarantine = project.quarantine
    candidates = (
        quarantine.candidates if quarantine and quarantine.intent_id == intent.intent_id else []
    )
    if candidates and job.job_id not in candidates:
        doubts.append(f"it is not among the quarantine's candidates ({', '.join(candidates)})")
    start, end = window(intent, timing)
    created = job.created_at.timestamp() if job.created_at else None
    if created is None or not start <= created <= end:
        doubts.append(
            f"it was created {_when(created)}, outside the intent's window "
            f"({_when(start)} to {_when(end)})"
        )
    if intent.project_id is not None and job.project_id != intent.project_id:
        doubts.append(
            f"it ran on project {job.project_id or '(none)'}, the intent on {intent.project_id}"
        )
    if elsewhere:
        doubts.append("another workspace of this drive recorded it as its own")
    return doubts


def describe_job(job: Job) -> str:
    """What a person checks before adopting: project, creation time, an agent's reply."""
    parts = [f"project {job.project_id or '(none)'}", f"created {_when(job.created_at)}"]
    if isinstance(job.result, AgentResult) and job.result.agent_response:
        reply = " ".join(redact(job.result.agent_response).split())
        cut = reply[:RESPONSE_SHOWN] + ("..." if len(reply) > RESPONSE_SHOWN else "")
        parts.append(f"response {cut!r}")
    return ", ".join(parts)


def _when(moment: datetime | float | None) -> str:
    if moment is None:
        return "(unknown time)"
    if isinstance(moment, float):
        moment = datetime.fromtimestamp(moment, tz=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
