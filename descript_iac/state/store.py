"""Where the state document lives: the interface, and the local-file backend.

`StateStore` is the small interface plan and apply use; a shared backend (an object store with
locking, say) can implement it later without touching them. `LocalStateStore` keeps:

    state/<workspace>.json           the document (canonical JSON, one project per line: codec.py)
    state/<workspace>.json.backup    the previous version
    state/<workspace>.json.journal   events of the run in progress (JSON lines, fsynced)
    state/<workspace>.json.lock      the lock (see lock.py)
"""

from __future__ import annotations

import abc
import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from descript_iac.errors import StateError
from descript_iac.failpoints import failpoint
from descript_iac.state import codec
from descript_iac.state.document import StateDocument
from descript_iac.state.events import Event, apply_event
from descript_iac.state.lock import FileLock, LockInfo


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

    # --- reading -----------------------------------------------------------------------

    def _load(self) -> StateDocument:
        if not self.path.exists():
            return StateDocument()
        try:
            raw = self.path.read_bytes()
        except OSError as exc:
            raise StateError(
                f"{self.path}: the state cannot be read ({exc.strerror}). It was not changed."
            ) from None
        return codec.decode(raw, str(self.path), self.backup.name)

    def _journal_events(self, doc: StateDocument) -> list[Event] | None:
        """Events of a journal that belongs to `doc`, or None when there is none to fold."""
        if not self.journal.exists():
            return None
        lines = self.journal.read_bytes().split(b"\n")
        records: list[Event] = []
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                records.append(json.loads(raw))
            except ValueError:
                if all(not rest.strip() for rest in lines[number:]):
                    break  # a torn last line: the write that was cut off never happened
                raise StateError(
                    f"{self.journal}:{number}: the journal is corrupt in the middle; it was not "
                    "folded. Move it aside to continue (its jobs can be found with "
                    "`descript-iac plan --refresh`)."
                ) from None
        if not records:
            return None
        header = records[0]
        if header.get("lineage") != doc.lineage or header.get("base_serial") != doc.serial:
            return None  # already folded (the document moved on) or from another state
        return records[1:]

    def read(self) -> StateDocument:
        doc = self._load()
        events = self._journal_events(doc)
        for event in events or []:
            apply_event(doc, event)
        return doc

    # --- writing (under the lock) ------------------------------------------------------

    def recover(self) -> StateDocument:
        doc = self._load()
        events = self._journal_events(doc)
        if events is not None:
            for event in events:
                apply_event(doc, event)
            self.commit(doc)
        elif self.journal.exists():
            self.journal.unlink()
        return doc

    def begin(self, doc: StateDocument) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            self._write_document(doc)  # a journal needs a document to belong to
        header = {"journal": 1, "lineage": doc.lineage, "base_serial": doc.serial}
        self._journal_file = open(self.journal, "ab", buffering=0)  # noqa: SIM115
        self._write_line(header)

    def _write_line(self, record: Event) -> None:
        data = json.dumps(record, sort_keys=True, separators=(",", ":")).encode() + b"\n"
        self._journal_file.write(data)
        os.fsync(self._journal_file.fileno())

    def append(self, event: Event) -> None:
        if self._journal_file is None:
            raise RuntimeError("append() before begin()")
        self._write_line(event)

    def commit(self, doc: StateDocument) -> None:
        failpoint("before_fold")
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

    def _write_document(self, doc: StateDocument) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = codec.encode(doc)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            if self.path.exists():
                shutil.copyfile(self.path, self.backup)
            os.replace(tmp, self.path)
        finally:
            if tmp.exists():
                tmp.unlink()
        _fsync_dir(self.path.parent)

    def lock(
        self, command: str, timeout: float = 0.0
    ) -> contextlib.AbstractContextManager[LockInfo]:
        return self._locked(command, timeout)

    @contextlib.contextmanager
    def _locked(self, command: str, timeout: float) -> Iterator[LockInfo]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        info = self._lock.acquire(command, timeout)
        try:
            yield info
        finally:
            if self._journal_file is not None:
                self._journal_file.close()
                self._journal_file = None
            self._lock.release(info)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
