"""Bring the recorded state up to date with the job history before planning.

- open intents (POSTs whose outcome is unknown) are resolved where the evidence allows: adopted,
  re-issued, or quarantined; the others wait (apply goes on with the rest and resolves them as
  the evidence comes in);
- jobs recorded as still running are refreshed (a `--no-wait` apply, or a run that died); a job
  the API no longer knows (past 30 days) is reported, not fatal;
- drift is reported (drift.py): jobs on managed projects that the state does not know (a prompt
  run by hand), and, with the projects API, projects changed outside descript-iac.

Every change is an event handed to `record`, so `plan --refresh` can apply them in memory only
while `apply` also journals them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from descript_iac.api import BatchPoller, DescriptClient, InFlight
from descript_iac.api.models import Job
from descript_iac.apply.drift import acceptance, job_drift, project_drift
from descript_iac.apply.evidence import (
    EvidenceReader,
    NameOf,
    history_since,
    in_force,
    recorded_jobs,
)
from descript_iac.apply.resolve import window
from descript_iac.plan.model import Drift
from descript_iac.state.document import Quarantine, StateDocument
from descript_iac.state.drive import DriveRegistry, gate_key
from descript_iac.state.events import (
    DriftAccepted,
    Event,
    IntentDropped,
    JobUpdated,
    Quarantined,
    adopted,
)
from descript_iac.timing import FINISHED_STATES, UNSYNCED_ERROR, Timing


@dataclass
class Reconciled:
    notes: list[str] = field(default_factory=list)
    drift: list[Drift] = field(default_factory=list)
    accept: list[DriftAccepted] = field(default_factory=list)  # events that would accept it
    waiting: int = 0  # intents not decidable yet
    gone: list[str] = field(default_factory=list)  # recorded jobs the API no longer knows


def gone_message(address: str, job_id: str) -> str:
    """What to tell a person about a recorded job the API no longer knows."""
    return (
        f"{address}: job {job_id} is no longer in the job history (the API keeps 30 days), so "
        f"its outcome cannot be read; `descript-iac state drop-job {address} {job_id}` records "
        "it as done with an unknown result"
    )


def job_event(address: str, job: Job) -> JobUpdated:
    return JobUpdated(address=address, job=job.model_dump(mode="json", exclude_none=True))


def reconcile(
    client: DescriptClient,
    doc: StateDocument,
    record: Callable[[Event], None],
    registry: DriveRegistry,
    timing: Timing,
    *,
    name_of: NameOf | None = None,
    drift: bool = False,
) -> Reconciled:
    result = Reconciled()
    # The listing must reach each window as widened for the job clock's offset (the bound, as
    # nothing of this run was measured yet) and for a lag seen past the setting.
    timing = in_force(timing, client.clock)
    intents = [(a, i) for a, p in doc.projects.items() for i in p.intents if not p.quarantine]
    running = {
        job_id: (address, job_type, sent_at)
        for address, p in doc.projects.items()
        for job_id, job_type, sent_at, state in recorded_jobs(p)
        if state not in FINISHED_STATES
    }
    times = [window(i, timing)[0] for _, i in intents]
    times += [t - UNSYNCED_ERROR for _, _, t in running.values()]
    if drift:
        managed = [p for p in doc.projects.values() if p.project_id]
        times += [t - UNSYNCED_ERROR for p in managed for *_, t, _s in recorded_jobs(p)]
        if any(not recorded_jobs(p) for p in managed):
            times.append(0.0)  # an imported project without a job: the whole 30 days
    if not times:
        return result
    # The listing is complete up to the time before its first page is read, not after its last.
    as_of = client.clock.earliest()
    history = history_since(client, min(times))
    by_id = {job.job_id: job for job in history}

    reader = EvidenceReader(client, registry, timing, name_of or (lambda a, i: None))
    verdicts = reader.verdicts(doc, intents, history, as_of)
    for address, intent in intents:
        verdict = verdicts[intent.intent_id]
        what = f"{address}: the {intent.action}{' ' + intent.step_id if intent.step_id else ''} job"
        key = gate_key(intent.job_type, intent.project_id)
        if verdict.kind == "adopt" and verdict.job is not None:
            found = verdict.job.model_dump(mode="json", exclude_none=True)
            for event in adopted(address, intent.intent_id, found):
                record(event)
            registry.record_jobs({found["job_id"]})
            result.notes.append(f"{what} is {found['job_id']}: {verdict.reason}; adopted")
        elif verdict.kind == "reissue":
            record(
                IntentDropped(address=address, intent_id=intent.intent_id, reason=verdict.reason)
            )
            result.notes.append(f"{what} was never created ({verdict.reason}): it will be sent")
        elif verdict.kind == "quarantine":
            quarantine = Quarantine(
                reason=verdict.reason,
                candidates=list(verdict.candidates),
                intent_id=intent.intent_id,
            )
            record(Quarantined(address=address, quarantine=quarantine))
            result.notes.append(f"{what} is ambiguous: {verdict.reason}; project quarantined")
        else:
            result.waiting += 1
            until = ""
            if verdict.until is not None:
                local = verdict.until - client.clock.offset
                until = f" until {datetime.fromtimestamp(local).strftime('%H:%M:%S')}"
            result.notes.append(f"{what}: waiting for evidence{until} ({verdict.reason})")
            continue
        registry.settle(key, intent.intent_id)

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
        poller = BatchPoller(client)
        for job_id, job in poller.refresh(missing).items():
            record(job_event(owner[job_id], job))
        result.gone += [gone_message(owner[job_id], job_id) for job_id in sorted(poller.gone)]
    result.notes += result.gone

    if drift:
        result.drift = job_drift(doc, history) + project_drift(client, doc)
        result.accept = acceptance(result.drift, history)
    return result


def _status(job: Job) -> str:
    return job.result.status if job.result else job.job_state
