"""Edits of the state by hand: adopt a job, drop an intent or a job, recover a journal, move
a project to another address, stop managing one."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from descript_iac.config.model import ADDRESS_PATTERN
from descript_iac.errors import DescriptIacError, StateError
from descript_iac.state.document import StateDocument
from descript_iac.state.events import (
    Event,
    IntentDropped,
    JobAbandoned,
    ProjectForgotten,
    ProjectMoved,
)
from descript_iac.state.recorder import Recorder
from descript_iac.state.recovery import merge_journal
from descript_iac.state.store import StateStore
from descript_iac.workspace.settings import RunSettings

T = TypeVar("T")


def edit_state(
    settings: RunSettings,
    command: str,
    change: Callable[[StateDocument, Callable[[Event], None]], T],
    create: bool = False,
    store: StateStore | None = None,
) -> T:
    """Run `change` on the state under the lock, journaled like an apply. A change that records
    nothing leaves the state as it was. `create`: a missing state starts empty. `store`: the
    store to use, when the caller needs it too (else the run's)."""
    store = store or settings.store()
    if not create and not store.exists():
        raise DescriptIacError(f"{store.location()}: no state here; check --state")
    with store.lock(command, settings.lock_timeout):
        doc = store.recover()
        store.begin(doc)
        record = Recorder(store, doc)

        try:
            result = change(doc, record)
        except BaseException:
            store.discard()
            raise
        if record.count:
            store.commit(doc)
        else:
            store.discard()
        return result


def move_project(settings: RunSettings, old: str, new: str) -> str:
    """Manage the project recorded under OLD as NEW: nothing is replaced or forgotten."""
    if not re.match(ADDRESS_PATTERN, new):
        raise DescriptIacError(
            f"{new}: not a valid address (lowercase letters, digits, '.', '_' and '-', starting "
            "with a letter or digit)"
        )

    def change(doc: StateDocument, record: Callable[[Event], None]) -> str:
        project = doc.projects.get(old)
        if project is None:
            known = ", ".join(sorted(doc.projects)) or "none"
            raise DescriptIacError(f"{old}: no such project in the state (known: {known})")
        if new in doc.projects:
            held = doc.projects[new].project_id or "no project yet"
            raise DescriptIacError(
                f"{new}: already in the state ({held}); a move never replaces a project. Stop "
                f"managing it first with `descript-iac state rm {new}` if it is stale"
            )
        record(ProjectMoved(address=old, to=new))
        jobs = len(project.job_ids())
        return (
            f"Moved {old} to {new}: project {project.project_id or '(not created yet)'} and its "
            f"{jobs} recorded job(s) are kept. Rename the project in the config too (or add a "
            f"moved block {{from: {old}, to: {new}}} instead of this command)."
        )

    return edit_state(settings, "state mv", change)


def remove_project(settings: RunSettings, address: str) -> str:
    """Stop managing ADDRESS; its project stays in Descript."""

    def change(doc: StateDocument, record: Callable[[Event], None]) -> str:
        project = doc.projects.get(address)
        if project is None:
            known = ", ".join(sorted(doc.projects)) or "none"
            raise DescriptIacError(f"{address}: no such project in the state (known: {known})")
        if project.intents:
            raise DescriptIacError(
                f"{address}: a job of it is in doubt (an open intent): its job may exist. Let "
                "`descript-iac apply` resolve it first, or close it with `state adopt` or "
                "`state drop-intent`"
            )
        record(ProjectForgotten(address=address))
        pid = project.project_id or "(none)"
        return (
            f"Stopped managing {address}: project {pid} stays in Descript. Its record moved to "
            "the state's forgotten history (its jobs are never adopted again). If "
            f"{address} is still in the config, the next plan creates a new project; "
            f"`descript-iac import {address} {pid}` manages this one again."
        )

    return edit_state(settings, "state rm", change)


def _open_intents(doc: StateDocument, address: str) -> list[str]:
    project = doc.projects.get(address)
    if project is None:
        raise DescriptIacError(f"{address}: no such project in the state")
    if not project.intents:
        raise DescriptIacError(f"{address}: no open intent; nothing to resolve")
    return [i.intent_id for i in project.intents]


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
            if not store.exists():
                raise DescriptIacError(
                    f"{store.location()}: no state and no journal here; nothing was recovered. "
                    "Name the state the journal was left beside: --workspace DIR (its `state:` "
                    "block or its name says where), or --state PATH"
                )
            return [f"No journal beside {store.location()} to recover; the state is as it was."]
        try:
            doc = store.recover()  # it belongs to the state after all: folded as usual
        except StateError:
            pass
        else:
            return [f"The journal belonged to the state and was folded (now serial {doc.serial})."]
        doc = store.read_document()
        notes = merge_journal(doc, found.events, found.header)
        store.retire_journal(doc)
        base = found.header.base_serial if found.header else "?"
        return [
            f"Folded what the journal (written for state serial {base}) proves into the state "
            f"(now serial {doc.serial}):",
            *notes,
            *(f"could not read {line}" for line in found.skipped),
        ]
