"""`state recover`: fold into a state what a journal that does not belong to it proves.

A journal is left beside a document it does not extend when the document was replaced while a
run had unrecorded jobs (a teammate's state pulled from git, a restored backup). Its events are
facts about jobs that exist in Descript, so they are folded in anyway, with care: a job the state
already records is skipped; a job that would displace a record the state has (a second project for
one address, a step run twice) is kept aside on the project, never dropped, so it is never adopted
for another intent nor sent again.
"""

from __future__ import annotations

from descript_iac.state.document import OrphanRecord, StateDocument
from descript_iac.state.events import (
    Event,
    IntentOpened,
    JobSubmitted,
    ProjectForgotten,
    apply_event,
)


def merge_journal(doc: StateDocument, events: list[Event]) -> list[str]:
    """Fold `events` into `doc` as far as they can be proven; return what was done, per line."""
    notes: list[str] = []
    opened = {e.intent.intent_id: e for e in events if isinstance(e, IntentOpened)}
    for event in events:
        project = doc.projects.get(event.address)
        if isinstance(event, ProjectForgotten) and project is None:
            continue
        if isinstance(event, JobSubmitted):
            intent = next(
                (i for i in (project.intents if project else []) if i.intent_id == event.intent_id),
                None,
            )
            if event.job_id in doc.known_job_ids():
                if project is not None and intent is not None:
                    project.intents.remove(intent)
                notes.append(f"{event.address}: job {event.job_id} is already recorded")
                continue
            if intent is None or _displaces(doc, event):
                _keep_aside(doc, event, opened.get(event.intent_id))
                notes.append(
                    f"{event.address}: job {event.job_id} was made by the run that left the "
                    "journal, but the state already records another job in its place; it is kept "
                    "aside (never sent again, never adopted): check the project in Descript"
                )
                if project is not None and intent is not None:
                    project.intents.remove(intent)
                continue
            apply_event(doc, event)
            notes.append(f"{event.address}: recorded job {event.job_id} from the journal")
            continue
        apply_event(doc, event)
    left = [(a, i) for a, p in doc.projects.items() for i in p.intents]
    for address, intent in left:
        notes.append(
            f"{address}: an intent to send the {intent.action} "
            f"{intent.step_id or intent.job_type} job is open: the next apply looks for its job "
            "in the history before sending anything"
        )
    return notes


def _displaces(doc: StateDocument, event: JobSubmitted) -> bool:
    """Would recording `event` overwrite a record of another job?"""
    project = doc.projects[event.address]
    intent = next(i for i in project.intents if i.intent_id == event.intent_id)
    if intent.action == "create" or intent.replaces:
        return project.project_id is not None and project.project_id != event.project_id
    if intent.step_id is not None:
        step = project.step(intent.step_id)
        return step is not None and step.status != "error" and step.job_id != event.job_id
    return False


def _keep_aside(doc: StateDocument, event: JobSubmitted, opened: IntentOpened | None) -> None:
    project = doc.project(event.address)
    if event.project_id and event.project_id != project.project_id:
        project.orphans.append(
            OrphanRecord(
                project_id=event.project_id,
                project_url=event.project_url,
                replaced_at="recovered",
                reason="made by a run whose journal did not match the state (state recover)",
                job_ids=[event.job_id],
            )
        )
    else:
        project.recovered_job_ids.append(event.job_id)
