"""`state recover`: fold into a state what a journal that does not belong to it proves.

A journal is left beside a document it does not extend when the document was replaced while a
run had unrecorded jobs (a teammate's state pulled from git, a restored backup). Its events are
facts about jobs that exist in Descript, so they are folded in anyway, with care: a job the state
already records is skipped; a job that would displace a record the state has (a second project for
one address, a step run twice) is kept aside on the project, never dropped, so it is never adopted
for another intent nor sent again. Once a project the journal created is kept aside, every later
job of the journal on that project is kept aside with it. The state's digests are salted: a job
recorded from a journal written for a state with another salt has its digests recomputed from the
plain values its intent kept (checked against the journal's salt), or the recovery is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from descript_iac.errors import StateError
from descript_iac.state import salting
from descript_iac.state.document import Intent, OrphanRecord, StateDocument
from descript_iac.state.events import (
    Event,
    IntentDropped,
    IntentOpened,
    IntentSent,
    IntentUnknown,
    JobSubmitted,
    JobUpdated,
    ProjectForgotten,
    Quarantined,
    apply_event,
)
from descript_iac.state.journal import JournalHeader


@dataclass
class _Aside:
    """What this recovery keeps aside: projects (by address) and the intents and jobs on them."""

    projects: dict[str, set[str]] = field(default_factory=dict)
    intents: set[str] = field(default_factory=set)
    jobs: set[str] = field(default_factory=set)

    def on_project(self, address: str, project_id: str | None) -> bool:
        return project_id is not None and project_id in self.projects.get(address, set())


def merge_journal(
    doc: StateDocument, events: list[Event], header: JournalHeader | None = None
) -> list[str]:
    """Fold `events` into `doc` as far as they can be proven; return what was done, per line.

    Raises `StateError`, with `doc` possibly half changed (write nothing), when a job must be
    recorded with digests that cannot be recomputed for `doc`'s salt."""
    notes: list[str] = []
    aside = _Aside()
    opened = {e.intent.intent_id: e for e in events if isinstance(e, IntentOpened)}
    for event in events:
        project = doc.projects.get(event.address)
        if isinstance(event, ProjectForgotten) and project is None:
            continue
        if _follows_aside(event, aside):
            continue
        if isinstance(event, IntentOpened):
            why = _not_carried(doc, event.intent, aside, event.address)
            if why:
                aside.intents.add(event.intent.intent_id)
                notes.append(f"{event.address}: {why}")
                continue
            # Carried: its digests (recorded with its job, once known) must fit doc's salt.
            _resalt(doc, event.address, event.intent, header)
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
            if (
                intent is None
                or aside.on_project(event.address, event.project_id)
                or _displaces(doc, event, intent)
            ):
                _keep_aside(doc, event, opened.get(event.intent_id), aside)
                notes.append(
                    f"{event.address}: job {event.job_id} was made by the run that left the "
                    "journal, but the state already records another job or project in its "
                    "place; it is kept aside (never sent again, never adopted): check the "
                    "project in Descript"
                )
                if project is not None and intent is not None:
                    project.intents.remove(intent)
                continue
            apply_event(doc, event)  # its intent's digests were fitted when it was opened
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


def _follows_aside(event: Event, aside: _Aside) -> bool:
    """Is `event` about an intent or a job this recovery kept aside?"""
    if isinstance(event, (IntentSent, IntentUnknown, IntentDropped)):
        return event.intent_id in aside.intents
    if isinstance(event, Quarantined):
        return event.quarantine.intent_id in aside.intents
    if isinstance(event, JobUpdated):
        return event.job.get("job_id") in aside.jobs
    return False


def _not_carried(doc: StateDocument, intent: Intent, aside: _Aside, address: str) -> str | None:
    """Why an intent of the journal must not be opened in `doc` (None: it may)."""
    if aside.on_project(address, intent.project_id):
        return (
            f"an intent to send the {intent.step_id or intent.job_type} job on project "
            f"{intent.project_id} (kept aside) is not carried over; if its job was made, it is on "
            "that project"
        )
    project = doc.projects.get(address)
    if intent.action == "create" and not intent.replaces and project and project.project_id:
        return (
            f"an intent to create a project is not carried over: the state already records "
            f"project {project.project_id}; a project that run may have made is not recorded: "
            "check Descript"
        )
    if intent.project_id and project and project.project_id != intent.project_id:
        return (
            f"an intent to send the {intent.step_id or intent.job_type} job on project "
            f"{intent.project_id} is not carried over: the state records project "
            f"{project.project_id or '(none)'} here"
        )
    return None


def _displaces(doc: StateDocument, event: JobSubmitted, intent: Intent) -> bool:
    """Would recording `event` overwrite a record of another job or project?"""
    project = doc.projects[event.address]
    if intent.action == "create" or intent.replaces:
        return project.project_id is not None and project.project_id != event.project_id
    if event.project_id and event.project_id != project.project_id:
        return True  # a job on another project than the one recorded here
    if intent.step_id is not None:
        step = project.step(intent.step_id)
        return step is not None and step.status != "error" and step.job_id != event.job_id
    return False


def _keep_aside(
    doc: StateDocument, event: JobSubmitted, opened: IntentOpened | None, aside: _Aside
) -> None:
    project = doc.project(event.address)
    aside.jobs.add(event.job_id)
    aside.intents.add(event.intent_id)
    if not event.project_id or event.project_id == project.project_id:
        project.recovered_job_ids.append(event.job_id)
        return
    aside.projects.setdefault(event.address, set()).add(event.project_id)
    orphan = next((o for o in project.orphans if o.project_id == event.project_id), None)
    if orphan is None:
        orphan = OrphanRecord(
            project_id=event.project_id,
            project_url=event.project_url,
            replaced_at="recovered",
            reason="made by a run whose journal did not match the state (state recover)",
        )
        project.orphans.append(orphan)
    orphan.job_ids = [*orphan.job_ids, event.job_id]


def _resalt(doc: StateDocument, address: str, intent: Intent, header: JournalHeader | None) -> None:
    """Make the digests `intent` will record with its job fit `doc`'s salt, or refuse."""
    same = header is None or (
        header.salt == doc.salt if header.salt is not None else header.lineage == doc.lineage
    )
    if same:
        return
    records_facets = intent.job_type == "import/project_media" or (
        intent.action == "create" and intent.job_type == "agent"
    )
    if records_facets or intent.media:
        _refuse(address, intent, header, "its project's media, compositions and name")
    if intent.step_digest is None:
        return
    prompt, model = intent.step_prompt, intent.step_model or ""
    journal_salt = header.salt if header else None
    if (
        prompt is None
        or journal_salt is None
        or salting.step_digest_of(journal_salt, prompt, model, intent.composition)
        != intent.step_digest
    ):
        _refuse(address, intent, header, f"step {intent.step_id}'s prompt and model")
    assert prompt is not None
    intent.step_digest = salting.step_digest_of(doc.salt, prompt, model, intent.composition)


def _refuse(address: str, intent: Intent, header: JournalHeader | None, what: str) -> None:
    lineage = header.lineage if header else "?"
    serial = header.base_serial if header else "?"
    job = f"the {intent.step_id or intent.job_type} job"
    raise StateError(
        f"{address}: {job} of the journal must be recorded with digests of "
        f"{what}, salted for the state the journal was written for (lineage {lineage}), and the "
        "journal does not hold the plain values to recompute them for this state's salt. "
        "Nothing was changed and the journal is kept. Put back the state the journal was "
        f"written for (lineage {lineage}, serial {serial}: from version control or a backup) "
        "and run `descript-iac apply` to fold the journal into it, then bring in the other "
        "state's changes (`descript-iac import` for its projects)."
    )
