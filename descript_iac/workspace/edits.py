"""Edits of the state by hand: adopt a job, drop an intent or a job, recover a journal."""

from __future__ import annotations

from collections.abc import Callable

from descript_iac.errors import DescriptIacError, StateError
from descript_iac.session import open_client
from descript_iac.state.document import StateDocument
from descript_iac.state.events import Event, IntentDropped, JobAbandoned, adopted, apply_event
from descript_iac.state.recovery import merge_journal
from descript_iac.workspace.settings import RunSettings


def edit_state(
    settings: RunSettings,
    command: str,
    change: Callable[[StateDocument, Callable[[Event], None]], str],
) -> str:
    """Run `change` on the state under the lock, journaled like an apply."""
    store = settings.store()
    if not store.exists():
        raise DescriptIacError(f"{store.location()}: no state here; check --state")
    with store.lock(command, settings.lock_timeout):
        doc = store.recover()
        store.begin(doc)

        def record(event: Event) -> None:
            store.append(event)
            apply_event(doc, event)

        try:
            message = change(doc, record)
        except BaseException:
            store.discard()
            raise
        store.commit(doc)
        return message


def _open_intents(doc: StateDocument, address: str) -> list[str]:
    project = doc.projects.get(address)
    if project is None:
        raise DescriptIacError(f"{address}: no such project in the state")
    if not project.intents:
        raise DescriptIacError(f"{address}: no open intent; nothing to resolve")
    return [i.intent_id for i in project.intents]


def adopt_job(settings: RunSettings, address: str, job_id: str) -> str:
    """Record JOB_ID as the job an open intent of ADDRESS sent (ends a quarantine)."""

    def change(doc: StateDocument, record: Callable[[Event], None]) -> str:
        intents = _open_intents(doc, address)
        intent = doc.projects[address].intents[0]
        if job_id in doc.known_job_ids():
            raise DescriptIacError(f"job {job_id} is already recorded in the state")
        with open_client(settings.api) as client:
            job = client.get_job(job_id)
        if job.job_type != intent.job_type:
            raise DescriptIacError(
                f"job {job_id} is a {job.job_type} job; the open intent of {address} sent a "
                f"{intent.job_type} job"
            )
        for event in adopted(address, intents[0], job.model_dump(mode="json", exclude_none=True)):
            record(event)
        return f"{address}: adopted job {job_id} ({job.job_type}, {job.job_state})."

    return edit_state(settings, "state adopt", change)


def drop_intent(settings: RunSettings, address: str) -> str:
    """Close ADDRESS's open intents: the next apply sends their jobs again."""

    def change(doc: StateDocument, record: Callable[[Event], None]) -> str:
        for intent_id in _open_intents(doc, address):
            reason = "dropped by hand (descript-iac state drop-intent)"
            record(IntentDropped(address=address, intent_id=intent_id, reason=reason))
        return (
            f"{address}: open intent dropped. The next apply sends that job again; if it had "
            "been created, that makes a second one."
        )

    return edit_state(settings, "state drop-intent", change)


def drop_job(settings: RunSettings, address: str, job_id: str) -> str:
    """Record a job whose outcome can no longer be read as done, with an unknown result."""

    def change(doc: StateDocument, record: Callable[[Event], None]) -> str:
        project = doc.projects.get(address)
        if project is None or job_id not in project.job_ids():
            raise DescriptIacError(f"{address}: job {job_id} is not recorded for this project")
        reason = "its outcome could not be read (descript-iac state drop-job)"
        record(JobAbandoned(address=address, job_id=job_id, reason=reason))
        return (
            f"{address}: job {job_id} is recorded as done with an unknown result; it will not be "
            "sent again. Check the project in Descript."
        )

    return edit_state(settings, "state drop-job", change)


def recover_state(settings: RunSettings) -> list[str]:
    """Fold a journal that does not match the state into it, as far as it proves anything."""
    store = settings.store()
    with store.lock("state recover", settings.lock_timeout):
        found = store.leftover_journal()
        if found is None:
            return ["No journal to recover; the state is as it was."]
        try:
            doc = store.recover()  # it belongs to the state after all: folded as usual
        except StateError:
            pass
        else:
            return [f"The journal belonged to the state and was folded (now serial {doc.serial})."]
        doc = store.read_document()
        notes = merge_journal(doc, found.events)
        store.retire_journal(doc)
        base = found.header.base_serial if found.header else "?"
        return [
            f"Folded what the journal (written for state serial {base}) proves into the state "
            f"(now serial {doc.serial}):",
            *notes,
            *(f"could not read {line}" for line in found.skipped),
        ]
