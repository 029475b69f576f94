"""Journal events and how each one changes the state document.

During an apply every change is an event appended to the journal (O(1) per event); the same
function folds events into the document in memory during the run, and from the journal after a
run that died. Events are facts ("this job was submitted"), so folding is deterministic.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from descript_iac.errors import StateError
from descript_iac.state.document import (
    CompositionRecord,
    ImportRecord,
    Intent,
    MediaRecord,
    OrphanRecord,
    ProjectState,
    Quarantine,
    StateDocument,
    StepRecord,
)

Event = dict[str, Any]


def dropped(address: str, intent_id: str, reason: str) -> Event:
    """The event that closes an intent whose job certainly does not exist."""
    return {"type": "intent_dropped", "address": address, "intent_id": intent_id, "reason": reason}


def _now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def intent_opened(doc: StateDocument, event: Event) -> None:
    intent = Intent.model_validate(event["intent"])
    project = doc.project(event["address"])
    project.intents = [i for i in project.intents if i.intent_id != intent.intent_id] + [intent]


def intent_unknown(doc: StateDocument, event: Event) -> None:
    project = doc.project(event["address"])
    for intent in project.intents:
        if intent.intent_id == event["intent_id"]:
            intent.outcome = "unknown"
            intent.reason = event.get("reason")


def intent_dropped(doc: StateDocument, event: Event) -> None:
    project = doc.project(event["address"])
    project.intents = [i for i in project.intents if i.intent_id != event["intent_id"]]
    if project.quarantine and project.quarantine.intent_id == event["intent_id"]:
        project.quarantine = None
    _drop_if_empty(doc, event["address"])


def quarantined(doc: StateDocument, event: Event) -> None:
    doc.project(event["address"]).quarantine = Quarantine.model_validate(event["quarantine"])


def _retire(project: ProjectState, reason: str) -> None:
    """The current project is being replaced: keep it as an orphan (it stays in Descript)."""
    if project.project_id:
        project.orphans.append(
            OrphanRecord(
                project_id=project.project_id,
                project_url=project.project_url,
                replaced_at=_now_iso(),
                reason=reason,
                job_ids=sorted(project.job_ids() - {j for o in project.orphans for j in o.job_ids}),
            )
        )
    project.project_id = project.drive_id = project.project_url = None
    project.import_ = None
    project.steps = []
    project.tainted = None
    project.facets = None
    project.created_by = None


def job_submitted(doc: StateDocument, event: Event) -> None:
    """A POST returned (or its lost reply was found): record the job against its intent."""
    address = event["address"]
    project = doc.project(address)
    intent = next((i for i in project.intents if i.intent_id == event["intent_id"]), None)
    if intent is None:
        raise StateError(f"{address}: journal names intent {event['intent_id']} that is not open")
    job_id = event["job_id"]
    if intent.replaces or (intent.action == "create" and project.project_id):
        _retire(project, event.get("reason") or "replaced")
    if intent.action in ("create", "update") and intent.job_type == "import/project_media":
        if intent.action == "update" and project.import_ is not None:
            project.import_.updates.append(project.import_.job_id)
            current = project.import_
            current.job_id, current.job_state, current.status = job_id, "queued", None
            current.sent_at = intent.sent_at
            for name, identity in intent.media.items():
                current.media[name] = MediaRecord(identity=identity)
        else:
            project.import_ = ImportRecord(
                job_id=job_id,
                sent_at=intent.sent_at,
                media={n: MediaRecord(identity=i) for n, i in intent.media.items()},
            )
            project.created_by = "import"
        project.facets = intent.facets
    if intent.action == "step" or intent.job_type == "agent":
        assert intent.step_id is not None
        previous = project.step(intent.step_id)
        attempts = previous.attempts + 1 if previous else 1
        step = StepRecord(
            id=intent.step_id,
            digest=intent.step_digest or "",
            job_id=job_id,
            attempts=attempts,
            sent_at=intent.sent_at,
        )
        project.steps = [s for s in project.steps if s.id != intent.step_id] + [step]
        if intent.action == "create":
            project.created_by = "agent"
            project.facets = intent.facets
    if event.get("project_id"):
        project.project_id = event["project_id"]
        project.drive_id = event.get("drive_id") or project.drive_id
        project.project_url = event.get("project_url") or project.project_url
    project.intents = [i for i in project.intents if i.intent_id != intent.intent_id]
    if project.quarantine and project.quarantine.intent_id == intent.intent_id:
        project.quarantine = None


def job_updated(doc: StateDocument, event: Event) -> None:
    """A job's state or result, as last read from the API."""
    project = doc.project(event["address"])
    job = event["job"]
    job_id = job["job_id"]
    result = job.get("result") or {}
    if project.import_ is not None and project.import_.job_id == job_id:
        _update_import(project, job, result)
        return
    for step in project.steps:
        if step.job_id == job_id:
            _update_step(project, step, job, result)
            return


def _update_import(project: ProjectState, job: dict[str, Any], result: dict[str, Any]) -> None:
    record = project.import_
    assert record is not None
    was_stopped = record.status is not None
    record.job_state = job["job_state"]
    record.created_at = job.get("created_at") or record.created_at
    if job["job_state"] not in ("stopped", "cancelled") or was_stopped:
        return
    record.stopped_at = job.get("stopped_at")
    record.status = result.get("status") or ("error" if job["job_state"] == "cancelled" else None)
    record.error_message = result.get("error_message")
    for name, status in (result.get("media_status") or {}).items():
        media = record.media.get(name)
        if media is None:
            continue
        media.status = status.get("status")
        media.duration_seconds = status.get("duration_seconds")
        media.error_message = status.get("error_message")
    record.compositions += [
        CompositionRecord(id=c["id"], name=c.get("name") or "")
        for c in result.get("created_compositions") or []
    ]
    used = float(result.get("media_seconds_used") or 0)
    record.media_seconds_used += used
    project.totals.media_seconds += used
    if record.status == "error":
        project.tainted = f"the import failed: {record.error_message or 'no message'}"
    elif record.status == "partial":
        failed = sorted(n for n, m in record.media.items() if m.status == "failed")
        project.tainted = f"the import was partial: {', '.join(failed)} failed"
    elif record.status != "success":
        project.tainted = f"the import ended as {record.status or job['job_state']}"


def _update_step(
    project: ProjectState, step: StepRecord, job: dict[str, Any], result: dict[str, Any]
) -> None:
    was_stopped = step.status is not None
    step.job_state = job["job_state"]
    step.created_at = job.get("created_at") or step.created_at
    if job["job_state"] not in ("stopped", "cancelled") or was_stopped:
        return
    step.stopped_at = job.get("stopped_at")
    step.status = result.get("status") or "error"
    step.error_message = result.get("error_message")
    step.agent_response = result.get("agent_response")
    step.ai_credits_used = float(result.get("ai_credits_used") or 0)
    step.media_seconds_used = float(result.get("media_seconds_used") or 0)
    project.totals.ai_credits += step.ai_credits_used
    project.totals.media_seconds += step.media_seconds_used


def project_forgotten(doc: StateDocument, event: Event) -> None:
    address = event["address"]
    project = doc.projects.pop(address, None)
    if project is not None:
        doc.forgotten.setdefault(address, []).append(project)


def _drop_if_empty(doc: StateDocument, address: str) -> None:
    project = doc.projects.get(address)
    if project is not None and project == ProjectState():
        del doc.projects[address]


HANDLERS: dict[str, Callable[[StateDocument, Event], None]] = {
    "intent_opened": intent_opened,
    "intent_unknown": intent_unknown,
    "intent_dropped": intent_dropped,
    "quarantined": quarantined,
    "job_submitted": job_submitted,
    "job_updated": job_updated,
    "project_forgotten": project_forgotten,
}


def apply_event(doc: StateDocument, event: Event) -> None:
    handler = HANDLERS.get(event.get("type", ""))
    if handler is None:
        raise StateError(f"unknown journal event {event.get('type')!r}; upgrade descript-iac")
    handler(doc, event)
