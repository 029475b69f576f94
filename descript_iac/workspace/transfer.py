"""`state push` and `state pull`: move a state between a local file and the configured backend.

The document is copied as it is (same lineage, same serial), so a push then a pull gives the file
back byte for byte. A copy that would replace another lineage, or a newer serial, is refused
unless forced; so is a source whose last run left a journal (fold it first), and a destination
with such a journal unless forced (then `state recover` folds that journal into the copy).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from descript_iac.errors import DescriptIacError, StateError
from descript_iac.state.document import StateDocument
from descript_iac.state.store import LocalStateStore, StateStore
from descript_iac.workspace.settings import RunSettings


def _configured(settings: RunSettings, file: Path) -> StateStore:
    """The workspace's own store (`--backend-url` or its `state:` block), not FILE."""
    store = dataclasses.replace(settings, state_path=None).store()
    if isinstance(store, LocalStateStore) and store.path.resolve() == file.resolve():
        raise DescriptIacError(
            f"{file} is the workspace's configured state itself; give the workspace a "
            "`state: {backend: postgresql, ...}` block or --backend-url to push to or pull from"
        )
    return store


def push_state(settings: RunSettings, file: Path, force: bool = False) -> str:
    """Copy the local state FILE to the workspace's configured backend."""
    return _copy(LocalStateStore(file), _configured(settings, file), settings, force, "push")


def pull_state(settings: RunSettings, file: Path, force: bool = False) -> str:
    """Copy the workspace's configured state to the local file FILE."""
    return _copy(_configured(settings, file), LocalStateStore(file), settings, force, "pull")


def _copy(
    source: StateStore, target: StateStore, settings: RunSettings, force: bool, verb: str
) -> str:
    if not source.exists():
        raise DescriptIacError(f"{source.location()}: there is no state to {verb}")
    command = f"state {verb}"
    with source.lock(command, settings.lock_timeout), target.lock(command, settings.lock_timeout):
        if source.leftover_journal() is not None:
            raise StateError(
                f"{source.location()}: a run left a journal that is not folded into the state "
                "yet; nothing was copied. Run `descript-iac apply` (or `descript-iac state "
                "recover`) on it first."
            )
        doc = source.read_document()
        what = f"{source.location()} (serial {doc.serial}, lineage {doc.lineage})"
        if not target.exists():
            target.overwrite(doc)
            return f"Copied {what} to {target.location()}, which had no state."
        current = target.read_document()
        journal = target.leftover_journal() is not None
        refusal = _refusal(doc, current, journal)
        if refusal == "same":
            return f"{target.location()} already holds {what}; nothing was written."
        if refusal and not force:
            raise StateError(
                f"refusing to {verb}: {refusal}. Nothing was changed; pass --force to replace "
                f"{target.location()} anyway."
            )
        target.overwrite(doc)
        replaced = f"serial {current.serial}, lineage {current.lineage}"
        after = (
            " It has a journal of a run that died: run "
            f"`descript-iac state recover{target.found_by}` to fold "
            "what that journal proves into the copy."
            if journal
            else ""
        )
        return f"Copied {what} to {target.location()}, replacing {replaced}.{after}"


def _refusal(doc: StateDocument, current: StateDocument, journal: bool) -> str | None:
    if current.lineage != doc.lineage:
        return (
            f"the destination holds another state (lineage {current.lineage}, this one is "
            f"{doc.lineage})"
        )
    if doc.serial < current.serial:
        return f"the destination is newer (serial {current.serial}, this copy is {doc.serial})"
    if journal:
        return "the destination has a journal of a run that died, not folded yet"
    if doc.serial == current.serial:
        if doc.to_json() == current.to_json():
            return "same"
        return f"both are at serial {doc.serial} but differ"
    return None
