"""The journal's events, a closed set, and the one reducer that folds them into the document.

During an apply every change is an event appended to the journal (O(1) per event); `apply_event`
folds events into the document in memory during the run, and from the journal after a run that
died. Events are facts ("this job was submitted"), so folding is deterministic. Each event is a
pydantic model; `Event` is their discriminated union and `parse_event` the only way in from JSON.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from descript_iac.errors import StateError
from descript_iac.state.document import (
    CompositionRecord,
    ExternalJob,
    ImportRecord,
    Intent,
    MediaRecord,
    OrphanRecord,
    ProjectState,
    PublishRecord,
    Quarantine,
    StateDocument,
    StepRecord,
    check_project,
    copied,
)
from descript_iac.timing import FINISHED_STATES


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    address: str

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


class IntentOpened(_Event):
    """A POST is about to be sent (write-ahead)."""

    type: Literal["intent_opened"] = "intent_opened"
    intent: Intent


class IntentSent(_Event):
    """The POST of an intent is about to go out again (after throttling or a retry): the job, if
    it is created, is created after `sent_at` (server time)."""

    type: Literal["intent_sent"] = "intent_sent"
    intent_id: str
    sent_at: float
    clock_error: float


class IntentUnknown(_Event):
    """The POST's reply did not prove whether its job was created."""

    type: Literal["intent_unknown"] = "intent_unknown"
    intent_id: str
    reason: str


class IntentDropped(_Event):
    """The intent's job certainly does not exist (or a person said so)."""

    type: Literal["intent_dropped"] = "intent_dropped"
    intent_id: str
    reason: str


class Quarantined(_Event):
    type: Literal["quarantined"] = "quarantined"
    quarantine: Quarantine


class JobSubmitted(_Event):
    """A POST returned (or its lost reply was found): the job of the intent."""

    type: Literal["job_submitted"] = "job_submitted"
    intent_id: str
    job_id: str
    project_id: str | None = None
    drive_id: str | None = None
    project_url: str | None = None
    adopted: bool = False


class JobUpdated(_Event):
    """A job's state or result, as last read from the API."""

    type: Literal["job_updated"] = "job_updated"
    job: dict[str, Any]

    @field_validator("job")
    @classmethod
    def _unsigned(cls, job: dict[str, Any]) -> dict[str, Any]:
        """A publish result's `download_url` is a signed, expiring link: never journaled."""
        result = job.get("result")
        if isinstance(result, dict) and ("download_url" in result):
            result = {k: v for k, v in result.items() if not k.startswith("download_url")}
            job = {**job, "result": result}
        return job


class JobAbandoned(_Event):
    """A recorded job whose outcome can no longer be read (past the 30-day history)."""

    type: Literal["job_abandoned"] = "job_abandoned"
    job_id: str
    reason: str


class ProjectForgotten(_Event):
    """The project is no longer managed (removed from the config, or `state rm`); it stays in
    Descript, and its records move to the state's `forgotten` history."""

    type: Literal["project_forgotten"] = "project_forgotten"


class ProjectImported(_Event):
    """A project made elsewhere is managed from now on (`import`, `state rebuild`): `project`
    holds what the API proved about it."""

    type: Literal["project_imported"] = "project_imported"
    project: ProjectState


class ProjectMoved(_Event):
    """The project of `address` is managed under the address `to` from now on (`state mv`, a
    `moved` block): nothing is replaced, every record moves with it."""

    type: Literal["project_moved"] = "project_moved"
    to: str


class DriftAccepted(_Event):
    """Differences found by a refresh that a person accepted (`apply --refresh`): jobs made
    outside descript-iac are recorded, and the other differences are not reported again."""

    type: Literal["drift_accepted"] = "drift_accepted"
    keys: list[str] = Field(default_factory=list)
    jobs: list[ExternalJob] = Field(default_factory=list)


class ProjectLinked(_Event):
    """An existing Descript project, made outside descript-iac, is recorded under `address`
    (a one-off agent job on it), with the compositions its details listed."""

    type: Literal["project_linked"] = "project_linked"
    project_id: str
    compositions: list[CompositionRecord] = Field(default_factory=list)


Event = Annotated[
    Union[
        IntentOpened,
        IntentSent,
        IntentUnknown,
        IntentDropped,
        Quarantined,
        JobSubmitted,
        JobUpdated,
        JobAbandoned,
        ProjectForgotten,
        ProjectImported,
        ProjectMoved,
        DriftAccepted,
        ProjectLinked,
    ],
    Field(discriminator="type"),
]


@functools.cache
def _event_adapter() -> TypeAdapter[Event]:
    """Built on first use (every event model with it): a plan reads no journal."""
    return TypeAdapter(Event)


def parse_event(data: Any, found_by: str = "") -> Event:
    """An event from its JSON form; an unknown or malformed one is a `StateError`.

    `found_by`: the options that find the state, for the command the message suggests."""
    try:
        return _event_adapter().validate_python(data)
    except ValidationError as exc:
        kind = data.get("type") if isinstance(data, dict) else None
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise StateError(
            f"journal event {kind!r} is not valid ({where}: {first['msg']}); it may come from a "
            "newer descript-iac. Keep the journal: upgrade, or run "
            f"`descript-iac state recover{found_by}` to fold what the rest of it proves"
        ) from None


def adopted(address: str, intent_id: str, job: dict[str, Any]) -> list[Event]:
    """The events that record `job` (as listed by the API) as the one `intent_id` sent."""
    return [
        JobSubmitted(
            address=address,
            intent_id=intent_id,
            job_id=job["job_id"],
            project_id=job.get("project_id"),
            drive_id=job.get("drive_id"),
            project_url=job.get("project_url"),
            adopted=True,
        ),
        JobUpdated(address=address, job=job),
    ]


# --- the reducer -----------------------------------------------------------------------------


def _now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _intent(project: ProjectState, intent_id: str) -> Intent | None:
    return next((i for i in project.intents if i.intent_id == intent_id), None)


def _intent_opened(doc: StateDocument, event: IntentOpened) -> None:
    project = doc.project(event.address)
    intent = copied(event.intent)
    project.intents = [i for i in project.intents if i.intent_id != intent.intent_id] + [intent]


def _intent_sent(doc: StateDocument, event: IntentSent) -> None:
    intent = _intent(doc.project(event.address), event.intent_id)
    if intent is not None:
        intent.sent_at = event.sent_at
        intent.clock_error = event.clock_error
        intent.attempts += 1


def _intent_unknown(doc: StateDocument, event: IntentUnknown) -> None:
    intent = _intent(doc.project(event.address), event.intent_id)
    if intent is not None:
        intent.outcome = "unknown"
        intent.reason = event.reason


def _intent_dropped(doc: StateDocument, event: IntentDropped) -> None:
    project = doc.project(event.address)
    project.intents = [i for i in project.intents if i.intent_id != event.intent_id]
    if project.quarantine and project.quarantine.intent_id == event.intent_id:
        project.quarantine = None
    _drop_if_empty(doc, event.address)


def _quarantined(doc: StateDocument, event: Quarantined) -> None:
    doc.project(event.address).quarantine = copied(event.quarantine)


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
    project.publishes = {}  # the old project's share pages stay with it
    project.linked_compositions = []
    project.tainted = None
    project.facets = None
    project.created_by = None


def _job_submitted(doc: StateDocument, event: JobSubmitted) -> None:
    address = event.address
    project = doc.project(address)
    intent = _intent(project, event.intent_id)
    if intent is None:
        raise StateError(f"{address}: journal names intent {event.intent_id} that is not open")
    job_id = event.job_id
    if intent.replaces or (intent.action == "create" and project.project_id):
        _retire(project, "replaced")
    if intent.action in ("create", "update") and intent.job_type == "import/project_media":
        if intent.action == "update" and project.import_ is not None:
            current = project.import_
            current.updates.append(current.job_id)
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
    if intent.action == "publish":
        _publish_submitted(project, intent, job_id)
    elif intent.action == "step" or intent.job_type == "agent":
        assert intent.step_id is not None
        previous = project.step(intent.step_id)
        step = StepRecord(
            id=intent.step_id,
            digest=intent.step_digest or "",
            job_id=job_id,
            attempts=previous.attempts + 1 if previous else 1,
            earlier_job_ids=_earlier(previous),
            sent_at=intent.sent_at,
            prompt=intent.step_prompt,
            model=intent.step_model,
        )
        project.steps = [s for s in project.steps if s.id != intent.step_id] + [step]
        if intent.action == "create":
            project.created_by = "agent"
            project.facets = intent.facets
    # Only a create (or a replace) makes the address's project; any other job runs on the
    # project already recorded, and never moves the address to another one.
    if event.project_id and (intent.action == "create" or intent.replaces):
        project.project_id = event.project_id
        project.drive_id = event.drive_id or project.drive_id
        project.project_url = event.project_url or project.project_url
    project.intents = [i for i in project.intents if i.intent_id != intent.intent_id]
    if project.quarantine and project.quarantine.intent_id == intent.intent_id:
        project.quarantine = None


def _earlier(previous: StepRecord | None) -> list[str]:
    if previous is None:
        return []
    return [*previous.earlier_job_ids, *([previous.job_id] if previous.job_id else [])]


def _publish_submitted(project: ProjectState, intent: Intent, job_id: str) -> None:
    assert intent.composition is not None and intent.publish is not None
    previous = project.publishes.get(intent.composition)
    earlier = [*previous.earlier_job_ids, previous.job_id] if previous else []
    project.publishes[intent.composition] = PublishRecord(
        composition=intent.composition,
        composition_id=intent.composition_id,
        settings=intent.publish,
        job_id=job_id,
        share_url=previous.share_url if previous else None,  # a republish keeps its page
        content=project.content(),
        earlier_job_ids=earlier,
        sent_at=intent.sent_at,
    )


def _job_updated(doc: StateDocument, event: JobUpdated) -> None:
    project = doc.project(event.address)
    job = event.job
    job_id = job["job_id"]
    result = job.get("result") or {}
    if project.import_ is not None and project.import_.job_id == job_id:
        _update_import(project, job, result)
        return
    for step in project.steps:
        if step.job_id == job_id:
            _update_step(project, step, job, result)
            return
    for publish in project.publishes.values():
        if publish.job_id == job_id:
            _update_publish(publish, job, result)
            return


def _newly_stopped(
    record: ImportRecord | StepRecord | PublishRecord,
    job: dict[str, Any],
    result: dict[str, Any],
    status: str | None,
) -> bool:
    """Note the job's state and creation time on its record; True when this view is the first
    to show it finished (its end, status and message are then noted too, `status` when the
    result has none). A record's result is written once."""
    was_stopped = record.status is not None
    record.job_state = job["job_state"]
    record.created_at = job.get("created_at") or record.created_at
    if job["job_state"] not in FINISHED_STATES or was_stopped:
        return False
    record.stopped_at = job.get("stopped_at")
    record.status = result.get("status") or status
    record.error_message = result.get("error_message")
    return True


def _update_publish(record: PublishRecord, job: dict[str, Any], result: dict[str, Any]) -> None:
    if not _newly_stopped(record, job, result, "error"):
        return
    record.composition_id = result.get("composition_id") or record.composition_id
    # The share page's address is kept; the signed, expiring download_url never is.
    record.share_url = result.get("share_url") or record.share_url


def _update_import(project: ProjectState, job: dict[str, Any], result: dict[str, Any]) -> None:
    record = project.import_
    assert record is not None
    cancelled = "error" if job["job_state"] == "cancelled" else None
    if not _newly_stopped(record, job, result, cancelled):
        return
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
    if "media_seconds_used" in (result.get("refused_numbers") or []):
        record.media_seconds_used = None  # unknown, never 0 (issue #27)
        project.totals.unknown += 1
    else:
        used = float(result.get("media_seconds_used") or 0)
        if record.media_seconds_used is not None:
            record.media_seconds_used += used
        project.totals.media_seconds += used
    # The root cause is in each failed media's own message ("Unsupported file type", a 403).
    failed = "; ".join(
        f"{n}: {m.error_message or 'failed'}"
        for n, m in sorted(record.media.items())
        if m.status == "failed"
    )
    if record.status == "error":
        cause = f" ({failed})" if failed else ""
        project.tainted = f"the import failed: {record.error_message or 'no message'}{cause}"
    elif record.status == "partial":
        project.tainted = f"the import was partial: {failed}"
    elif record.status != "success":
        project.tainted = f"the import ended as {record.status or job['job_state']}"


def _update_step(
    project: ProjectState, step: StepRecord, job: dict[str, Any], result: dict[str, Any]
) -> None:
    if not _newly_stopped(step, job, result, "error"):
        return
    step.agent_response = result.get("agent_response")
    refused = result.get("refused_numbers") or []
    credits = None if "ai_credits_used" in refused else float(result.get("ai_credits_used") or 0)
    media = (
        None if "media_seconds_used" in refused else float(result.get("media_seconds_used") or 0)
    )
    step.ai_credits_used, step.media_seconds_used = credits, media  # None: unknown, never 0
    project.totals.ai_credits += credits or 0.0
    project.totals.media_seconds += media or 0.0
    if credits is None or media is None:
        project.totals.unknown += 1


def _job_abandoned(doc: StateDocument, event: JobAbandoned) -> None:
    """Its outcome cannot be read any more: it counts as done, with an unknown result."""
    project = doc.project(event.address)
    records: list[ImportRecord | StepRecord | PublishRecord] = [*project.steps]
    records += list(project.publishes.values())
    if project.import_ is not None:
        records.append(project.import_)
    for record in records:
        if record.job_id == event.job_id and record.job_state not in FINISHED_STATES:
            record.job_state = "stopped"
            record.status = "unknown"
            record.error_message = event.reason


def _project_forgotten(doc: StateDocument, event: ProjectForgotten) -> None:
    project = doc.projects.pop(event.address, None)
    if project is not None:
        doc.forgotten.setdefault(event.address, []).append(project)


def _project_imported(doc: StateDocument, event: ProjectImported) -> None:
    current = doc.projects.get(event.address)
    if current is not None and current.project_id:
        raise StateError(
            f"{event.address}: already manages project {current.project_id}; an import cannot "
            "replace it"
        )
    project = copied(event.project)
    # A project managed again after `state rm` is no longer forgotten (its jobs are one owner's).
    for address in list(doc.forgotten):
        kept = [p for p in doc.forgotten[address] if p.project_id != project.project_id]
        if kept:
            doc.forgotten[address] = kept
        else:
            del doc.forgotten[address]
    doc.projects[event.address] = project


def _project_moved(doc: StateDocument, event: ProjectMoved) -> None:
    if event.address not in doc.projects:
        raise StateError(f"{event.address}: no project in the state to move to {event.to}")
    if event.to in doc.projects:
        raise StateError(f"{event.to}: already in the state; {event.address} cannot move there")
    doc.projects[event.to] = doc.projects.pop(event.address)


def _drift_accepted(doc: StateDocument, event: DriftAccepted) -> None:
    project = doc.project(event.address)
    project.accepted_drift = sorted({*project.accepted_drift, *event.keys})
    known = project.job_ids()
    project.external_jobs += [copied(j) for j in event.jobs if j.job_id not in known]


def _project_linked(doc: StateDocument, event: ProjectLinked) -> None:
    project = doc.project(event.address)
    project.project_id = event.project_id
    project.linked_compositions = [copied(c) for c in event.compositions]


def _drop_if_empty(doc: StateDocument, address: str) -> None:
    project = doc.projects.get(address)
    if project is not None and project == ProjectState():
        del doc.projects[address]


_HANDLERS: dict[type[BaseModel], Callable[[StateDocument, Any], None]] = {
    IntentOpened: _intent_opened,
    IntentSent: _intent_sent,
    IntentUnknown: _intent_unknown,
    IntentDropped: _intent_dropped,
    Quarantined: _quarantined,
    JobSubmitted: _job_submitted,
    JobUpdated: _job_updated,
    JobAbandoned: _job_abandoned,
    ProjectForgotten: _project_forgotten,
    ProjectImported: _project_imported,
    ProjectMoved: _project_moved,
    DriftAccepted: _drift_accepted,
    ProjectLinked: _project_linked,
}


def apply_event(doc: StateDocument, event: Event) -> None:
    """Fold one event into `doc` (the only code that changes a document's projects)."""
    handler = _HANDLERS.get(type(event))
    if handler is None:  # pragma: no cover - the union and the table are kept together
        raise StateError(f"no handler for journal event {type(event).__name__}")
    handler(doc, event)
    # Records do not check assignments: the project the event changed is checked here (O(1)
    # per event), so a job's value of the wrong type is refused with the event that holds it.
    for address in (event.address, getattr(event, "to", "")):
        project = doc.projects.get(address)
        if project is not None:
            check_project(address, project)
