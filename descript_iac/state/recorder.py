"""What a run records: each event journaled (fsynced) before it changes the document in memory."""

from __future__ import annotations

from descript_iac.state.document import StateDocument
from descript_iac.state.events import Event, apply_event
from descript_iac.state.store import StateStore


class Recorder:
    """Called with each event a run decides on: the store's journal first, then the document.
    `count` says whether anything was recorded (a run that recorded nothing commits nothing)."""

    def __init__(self, store: StateStore, doc: StateDocument) -> None:
        self.store = store
        self.doc = doc
        self.count = 0

    def __call__(self, event: Event) -> None:
        self.store.append(event)
        apply_event(self.doc, event)
        self.count += 1
