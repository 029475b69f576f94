"""Where the state document lives: the interface, and the local-file backend.

`StateStore` is the small interface plan and apply use; the PostgreSQL backend implements it too.
`LocalStateStore` keeps:

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
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from descript_iac.errors import StateError, file_error
from descript_iac.failpoints import failpoint
from descript_iac.redact import scrub
from descript_iac.state import codec
from descript_iac.state.atomic import fsync_dir as _fsync_dir
from descript_iac.state.atomic import write_atomically
from descript_iac.state.document import StateDocument
from descript_iac.state.lock import FileLock, LockInfo

# The journal and its events (pydantic models) are imported when a journal is read or written:
# a plan from the workspace cache reads neither.
if TYPE_CHECKING:
    from descript_iac.state.events import Event
    from descript_iac.state.journal import Journal


class StateStore(abc.ABC):
    """What plan and apply need from a state backend."""

    backend: str = "local"  # or "postgresql": the drive registry follows the state (session.py)
    # The options that find this state again (" --workspace ws", " --state PATH"), for the
    # commands its messages suggest; set by `RunSettings.store`, never a secret.
    found_by: str = ""

    @abc.abstractmethod
    def exists(self) -> bool:
        """Whether a document is stored (a new workspace has none yet)."""

    @abc.abstractmethod
    def location(self) -> str:
        """Where the state lives, for messages (never a secret: no password, no URL query)."""

    @abc.abstractmethod
    def read(self) -> StateDocument:
        """The document with any journal of a run that died folded in (in memory)."""

    @abc.abstractmethod
    def recover(self) -> StateDocument:
        """Fold a leftover journal into the stored document (needs the lock); return it.

        A journal that does not belong to the document (another lineage or serial: a state
        pulled from git, a restored backup) is never dropped: `JournalMismatch` is raised."""

    @abc.abstractmethod
    def read_document(self) -> StateDocument:
        """The stored document alone, without any journal folded in (for `state recover`)."""

    @abc.abstractmethod
    def leftover_journal(self) -> Journal | None:
        """The journal a run left behind, whatever document it belongs to, read as far as it
        can be (for `state recover`)."""

    @abc.abstractmethod
    def retire_journal(self, doc: StateDocument) -> None:
        """Write `doc` (which has the leftover journal folded in by hand) and retire the journal."""

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
    def overwrite(self, doc: StateDocument) -> None:
        """Store `doc` as it is, serial unchanged (`state push` and `state pull`; needs the
        lock and no journal)."""

    @abc.abstractmethod
    def lock(
        self, command: str, timeout: float = 0.0
    ) -> contextlib.AbstractContextManager[LockInfo]:
        """Hold the write lock; a held lock names its holder in the `LockError`."""

    @abc.abstractmethod
    def force_unlock(self, lock_id: str) -> str:
        """End the lock LOCK_ID of a run that is gone or hung; say what was done."""


def refuse_link(path: Path, what: str = "the state file") -> None:
    """Refuse a state file (or its journal, backup or lock) that is a symbolic link.

    Deliberately not followed: the state is written by replacing the file, which would turn
    the link into a plain file and leave its target behind (and a journal is appended to,
    which would write wherever the link points: a workspace from a pull request could aim it
    anywhere). A state elsewhere is named by its own path (`state:` block or `--state`)."""
    if not path.is_symlink():
        return
    try:
        target = os.readlink(path)
    except OSError:
        target = "?"
    raise StateError(
        f"{path}: {what} is a symbolic link (to {target}); descript-iac does not follow links "
        f"for the state. Give the file's own path instead (the state: block's path, or "
        f"--state), or replace the link with the file it points to"
    )


class LocalStateStore(StateStore):
    def __init__(self, path: Path, found_by: str = "", declared_at: str = "") -> None:
        self.path = path
        self.found_by = found_by
        # file:line:col of the `state:` block's path that named this file ("" for --state or
        # the default): errors reading the file say where it was named.
        self.declared_at = declared_at
        self.backup = path.with_name(path.name + ".backup")
        self.journal = path.with_name(path.name + ".journal")
        self._lock = FileLock(path.with_name(path.name + ".lock"), found_by)
        self._journal_file: Any = None
        self._journal_id = ""
        self._created = False

    def exists(self) -> bool:
        return self.path.exists()

    def location(self) -> str:
        return str(self.path)

    # --- reading -----------------------------------------------------------------------

    def _refuse_links(self) -> None:
        refuse_link(self.path)
        refuse_link(self.journal, "its journal")
        refuse_link(self.backup, "its backup")
        refuse_link(self._lock.path, "its lock file")

    def _load(self) -> StateDocument:
        try:
            self._refuse_links()
            from descript_iac.state.reader import read_document

            return read_document(self.path, self.backup)
        except StateError as exc:
            if not self.declared_at:
                raise
            raise StateError(
                f"{self.declared_at}: the state: block names {self.path}, which cannot be read "
                f"as the state: {exc}"
            ) from None

    def _read_journal(self, tolerant: bool = False) -> Journal | None:
        if not self.journal.exists():
            return None
        try:
            lines = self.journal.read_bytes().split(b"\n")
        except OSError as exc:
            raise file_error(exc, "read the journal", self.journal) from None
        from descript_iac.state.journal import parse_journal

        return parse_journal(lines, str(self.journal), tolerant, self.found_by)

    def _journal_events(self, doc: StateDocument) -> list[Event] | None:
        """Events of the journal that belongs to `doc`; None when there is none to fold."""
        from descript_iac.state.journal import check_header

        found = self._read_journal()
        if found is None:
            return None
        assert found.header is not None  # a strict read has one
        if check_header(found.header, doc, str(self.journal), self.found_by) == "folded":
            return None
        return found.events

    def read(self) -> StateDocument:
        from descript_iac.state.reader import fold_events

        doc = self._load()
        fold_events(doc, self._journal_events(doc) or [], self.journal, self.found_by)
        return doc

    def read_document(self) -> StateDocument:
        return self._load()

    def leftover_journal(self) -> Journal | None:
        return self._read_journal(tolerant=True)

    # --- writing (under the lock) ------------------------------------------------------

    def recover(self) -> StateDocument:
        from descript_iac.state.journal import check_header
        from descript_iac.state.reader import fold_events

        doc = self._load()
        found = self._read_journal()
        if found is None:
            if self.journal.exists():
                self._remove_journal()  # empty, or a torn header: no event to lose
            return doc
        assert found.header is not None  # a strict read has one
        if check_header(found.header, doc, str(self.journal), self.found_by) == "folded":
            self._remove_journal()  # folded by a run that died before removing it
            return doc
        fold_events(doc, found.events, self.journal, self.found_by)
        doc.folded_journal = found.header.journal_id
        self.commit(doc)
        return doc

    def retire_journal(self, doc: StateDocument) -> None:
        found = self._read_journal(tolerant=True)
        if found is not None and found.header is not None:
            doc.folded_journal = found.header.journal_id
        self.commit(doc)

    def _remove_journal(self) -> None:
        if self.journal.exists():
            self.journal.unlink()
            _fsync_dir(self.journal.parent)

    def begin(self, doc: StateDocument) -> None:
        self._refuse_links()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            self._write_document(doc)  # a journal needs a document to belong to
            self._created = True  # ... and goes again if nothing is recorded (discard)
        if self.journal.exists():
            raise StateError(
                f"{self.journal}: a journal is already there; run "
                f"`descript-iac state recover{self.found_by}`"
            )
        self._journal_id = str(uuid.uuid4())
        from descript_iac.state.journal import JournalHeader

        header = JournalHeader(
            journal_id=self._journal_id, lineage=doc.lineage, base_serial=doc.serial, salt=doc.salt
        )
        try:
            self._journal_file = open(self.journal, "ab", buffering=0)  # noqa: SIM115
        except OSError as exc:
            raise file_error(exc, "write the journal", self.journal) from None
        self._write_line(header.model_dump(mode="json"))
        _fsync_dir(self.journal.parent)  # the journal's name must survive a power cut too

    def _write_line(self, record: dict[str, Any]) -> None:
        data = json.dumps(scrub(record), sort_keys=True, separators=(",", ":")).encode() + b"\n"
        try:
            self._journal_file.write(data)
            os.fsync(self._journal_file.fileno())
        except OSError as exc:
            raise file_error(exc, "write the journal", self.journal) from None

    def append(self, event: Event) -> None:
        if self._journal_file is None:
            raise RuntimeError("append() before begin()")
        self._write_line(event.to_json())

    def commit(self, doc: StateDocument) -> None:
        failpoint("before_fold")
        self._created = False
        if self._journal_file is not None:
            doc.folded_journal = self._journal_id
        doc.serial += 1
        self._write_document(doc)
        failpoint("after_fold_write")
        self._close_journal()
        self._remove_journal()

    def discard(self) -> None:
        self._close_journal()
        self._remove_journal()
        if self._created:
            # begin() wrote an empty document for the journal to belong to: nothing was
            # recorded, so leave no state behind (a saved plan for a new state stays usable).
            self.path.unlink(missing_ok=True)
            self._created = False

    def overwrite(self, doc: StateDocument) -> None:
        self._write_document(doc)

    def _close_journal(self) -> None:
        if self._journal_file is not None:
            self._journal_file.close()
            self._journal_file = None

    def _write_document(self, doc: StateDocument) -> None:
        self._refuse_links()
        data = codec.encode_document(doc)  # scrubbed
        write_atomically(self.path, data, what="the state", backup=self.backup, make_parents=True)

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
            self._close_journal()
            self._lock.release(info)

    def force_unlock(self, lock_id: str) -> str:
        holder = self._lock.force_unlock(lock_id)
        return f"Removed the lock held by {holder.describe()}."
