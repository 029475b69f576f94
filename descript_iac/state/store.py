"""Where the state document lives: the interface, and the local-file backend.

`StateStore` is the small interface plan and apply use; a shared backend (an object store with
locking, say) can implement it later without touching them. `LocalStateStore` keeps:

    state/<workspace>.json           the document (canonical JSON: sorted keys, 2-space indent)
    state/<workspace>.json.backup    the previous version
    state/<workspace>.json.journal   events of the run in progress (JSON lines, fsynced)
    state/<workspace>.json.lock      the lock (see lock.py)
"""

from __future__ import annotations

import abc
import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from descript_iac.errors import file_error
from descript_iac.failpoints import failpoint
from descript_iac.redact import scrub
from descript_iac.state.atomic import write_atomically
from descript_iac.state.document import StateDocument
from descript_iac.state.events import Event
from descript_iac.state.lock import FileLock, LockInfo
from descript_iac.state.reader import fold_journal, read_document, read_journal


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


class StateStore(abc.ABC):
    """What plan and apply need from a state backend."""

    @abc.abstractmethod
    def read(self) -> StateDocument:
        """The document with any journal of a run that died folded in (in memory)."""

    @abc.abstractmethod
    def recover(self) -> StateDocument:
        """Fold a leftover journal into the stored document (needs the lock); return it."""

    @abc.abstractmethod
    def begin(self, doc: StateDocument) -> None:
        """Start a journal for changes to `doc` (needs the lock)."""

    @abc.abstractmethod
    def append(self, event: Event) -> None:
        """Durably record one event; O(1) whatever the size of the state."""

    @abc.abstractmethod
    def commit(self, doc: StateDocument) -> None:
        """Write `doc` (serial + 1) atomically and retire the journal."""

    @abc.abstractmethod
    def discard(self) -> None:
        """End a journal that recorded nothing, leaving the document untouched."""

    @abc.abstractmethod
    def lock(
        self, command: str, timeout: float = 0.0
    ) -> contextlib.AbstractContextManager[LockInfo]:
        """Hold the write lock."""


class LocalStateStore(StateStore):
    def __init__(self, path: Path) -> None:
        self.path = path
        self.backup = path.with_name(path.name + ".backup")
        self.journal = path.with_name(path.name + ".journal")
        self._lock = FileLock(path.with_name(path.name + ".lock"))
        self._journal_file: Any = None
        self._created = False

    # --- reading -----------------------------------------------------------------------

    def _load(self) -> StateDocument:
        return read_document(self.path, self.backup)

    def _journal_events(self, doc: StateDocument) -> list[tuple[int, Event]] | None:
        """Events (with their lines) of a journal that belongs to `doc`, or None."""
        return read_journal(self.journal, doc)

    def read(self) -> StateDocument:
        doc = self._load()
        fold_journal(doc, self.journal, self._journal_events(doc) or [])
        return doc

    # --- writing (under the lock) ------------------------------------------------------

    def recover(self) -> StateDocument:
        doc = self._load()
        events = self._journal_events(doc)
        if events is not None:
            fold_journal(doc, self.journal, events)
            self.commit(doc)
        elif self.journal.exists():
            self.journal.unlink()
        return doc

    def begin(self, doc: StateDocument) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            self._write_document(doc)  # a journal needs a document to belong to
            self._created = True  # ... and goes again if nothing is recorded (discard)
        header = {"journal": 1, "lineage": doc.lineage, "base_serial": doc.serial}
        try:
            self._journal_file = open(self.journal, "ab", buffering=0)  # noqa: SIM115
        except OSError as exc:
            raise file_error(exc, "write the journal", self.journal) from None
        self._write_line(header)

    def _write_line(self, record: Event) -> None:
        data = json.dumps(scrub(record), sort_keys=True, separators=(",", ":")).encode() + b"\n"
        try:
            self._journal_file.write(data)
            os.fsync(self._journal_file.fileno())
        except OSError as exc:
            raise file_error(exc, "write the journal", self.journal) from None

    def append(self, event: Event) -> None:
        if self._journal_file is None:
            raise RuntimeError("append() before begin()")
        self._write_line(event)

    def commit(self, doc: StateDocument) -> None:
        failpoint("before_fold")
        self._created = False
        doc.serial += 1
        self._write_document(doc)
        failpoint("after_fold_write")
        if self._journal_file is not None:
            self._journal_file.close()
            self._journal_file = None
        if self.journal.exists():
            self.journal.unlink()

    def discard(self) -> None:
        if self._journal_file is not None:
            self._journal_file.close()
            self._journal_file = None
        if self.journal.exists():
            self.journal.unlink()
        if self._created:
            # begin() wrote an empty document for the journal to belong to: nothing was
            # recorded, so leave no state behind (a saved plan for a new state stays usable).
            self.path.unlink(missing_ok=True)
            self._created = False

    def _write_document(self, doc: StateDocument) -> None:
        text = canonical_json(scrub(doc.to_json()))
        write_atomically(self.path, text, what="the state", backup=self.backup, make_parents=True)

    def lock(
        self, command: str, timeout: float = 0.0
    ) -> contextlib.AbstractContextManager[LockInfo]:
        return self._locked(command, timeout)

    @contextlib.contextmanager
    def _locked(self, command: str, timeout: float) -> Iterator[LockInfo]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise file_error(exc, "create the state directory", self.path.parent) from None
        info = self._lock.acquire(command, timeout)
        try:
            yield info
        finally:
            if self._journal_file is not None:
                self._journal_file.close()
                self._journal_file = None
            self._lock.release(info)
