"""Bring the recorded state up to date with the job history before planning.

- open intents (POSTs whose outcome is unknown) are resolved: adopted, re-issued, or quarantined;
- jobs recorded as still running are refreshed (a `--no-wait` apply, or a run that died);
- drift is reported: jobs on managed projects that the state does not know (a prompt run by hand).

Every change is an event handed to `record`, so `plan --refresh` can apply them in memory only
while `apply` also journals them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from descript_iac.api import BatchPoller, DescriptClient, InFlight
from descript_iac.api.models import Job
from descript_iac.apply.resolve import DEFAULT_GRACE, SKEW, resolve_intent
from descript_iac.state.document import ProjectState, StateDocument
from descript_iac.state.events import Event, dropped

LOOKBACK = 30 * 86_400.0 - 3600.0
PAGE = 100
FINISHED = ("stopped", "cancelled")


@dataclass
class Reconciled:
    notes: list[str] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)
    waiting: int = 0  # intents not decidable yet


def job_event(address: str, job: Job) -> Event:
    return {
        "type": "job_updated",
        "address": address,
        "job": job.model_dump(mode="json", exclude_none=True),
    }


def adopted(address: str, intent_id: str, job: Job) -> list[Event]:
    """The events that record `job` as the one `intent_id` sent, with its current status."""
    submitted: Event = {
        "type": "job_submitted",
        "address": address,
        "intent_id": intent_id,
        "job_id": job.job_id,
        "project_id": job.project_id,
        "drive_id": job.drive_id,
        "project_url": job.project_url,
        "adopted": True,
    }
    return [submitted, job_event(address, job)]


def history_since(
    client: DescriptClient, since: float, now: float, cached: bool = False
) -> list[Job]:
    """Every job created since `since` (within the API's 30-day lookback), newest first."""
    after = max(since, now - LOOKBACK)
    return list(client.iter_jobs(limit=PAGE, created_after=after, cached=cached))


def reconcile(
    client: DescriptClient,
    doc: StateDocument,
    record: Callable[[Event], None],
    *,
    drift: bool = False,
    grace: float = DEFAULT_GRACE,
    now: Callable[[], float] = time.time,
) -> Reconciled:
    result = Reconciled()
    intents = [(a, i) for a, p in doc.projects.items() for i in p.intents]
    running = {
        job_id: (address, job_type, sent_at)
        for address, p in doc.projects.items()
        for job_id, job_type, sent_at, state in _recorded_jobs(p)
        if state not in FINISHED
    }
    times = [i.sent_at for _, i in intents] + [t for _, _, t in running.values()]
    if drift:
        times += [t for p in doc.projects.values() for *_, t, _s in _recorded_jobs(p)]
    if not times:
        return result
    # A read-only refresh (no intent to resolve) may use a page read a few seconds ago.
    history = history_since(client, min(times) - SKEW, now(), cached=drift and not intents)
    by_id = {job.job_id: job for job in history}

    for address, intent in intents:
        known_jobs = doc.known_job_ids()
        known_projects = {p.project_id for p in doc.projects.values() if p.project_id}
        verdict = resolve_intent(intent, history, known_jobs, known_projects, now(), grace)
        what = f"{address}: the {intent.action}{' ' + intent.step_id if intent.step_id else ''} job"
        if verdict.verdict == "adopt" and verdict.job is not None:
            job = verdict.job
            for event in adopted(address, intent.intent_id, job):
                record(event)
            result.notes.append(f"{what} was found in the job history ({job.job_id}): adopted")
        elif verdict.verdict == "reissue":
            record(dropped(address, intent.intent_id, verdict.reason))
            result.notes.append(f"{what} was never created ({verdict.reason}): it will be sent")
        elif verdict.verdict == "quarantine":
            record(
                {
                    "type": "quarantined",
                    "address": address,
                    "quarantine": {
                        "reason": verdict.reason,
                        "candidates": list(verdict.candidates),
                        "intent_id": intent.intent_id,
                    },
                }
            )
            result.notes.append(f"{what} is ambiguous: {verdict.reason}; project quarantined")
        else:
            result.waiting += 1
            result.notes.append(f"{what} is {verdict.reason}; waiting")

    missing: dict[str, InFlight] = {}
    for job_id, (address, job_type, sent_at) in running.items():
        listed = by_id.get(job_id)
        if listed is None:
            missing[job_id] = InFlight(job_id, job_type, sent_at)
            continue
        record(job_event(address, listed))
        if listed.finished:
            result.notes.append(f"{address}: job {job_id} finished ({_status(listed)}); recorded")
    if missing:
        owner = {job_id: running[job_id][0] for job_id in missing}
        for job_id, job in BatchPoller(client).refresh(missing).items():
            record(job_event(owner[job_id], job))

    if drift:
        _report_drift(doc, history, result)
    return result


def _status(job: Job) -> str:
    return job.result.status if job.result else job.job_state


def _recorded_jobs(project: ProjectState) -> list[tuple[str, str, float, str]]:
    out = []
    if project.import_ is not None:
        record = project.import_
        out.append((record.job_id, "import/project_media", record.sent_at, record.job_state))
    for step in project.steps:
        out.append((step.job_id, "agent", step.sent_at, step.job_state))
    return out


def _report_drift(doc: StateDocument, history: list[Job], result: Reconciled) -> None:
    managed = {p.project_id: a for a, p in doc.projects.items() if p.project_id}
    known = doc.known_job_ids()
    for job in history:
        address = managed.get(job.project_id or "")
        if address and job.job_id not in known:
            when = job.created_at.isoformat() if job.created_at else "?"
            result.drift.append(
                f"{address}: {job.job_type} job {job.job_id} ({when}, {job.job_state}) on the "
                "managed project is not in the state; someone ran it outside descript-iac"
            )
