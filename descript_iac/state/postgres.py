"""The state on PostgreSQL: the same `StateStore` as the local file, for teams and CI.

- The document is one row of `states` (jsonb), with its lineage and serial beside it.
- The journal is a header row in `journals` and one committed row per event in
  `journal_events`, written before the POST it announces (autocommit: the row is committed when
  `append` returns). `commit` writes the folded document, bumps the serial and deletes the
  journal in ONE transaction, so a journal is never folded twice; the header check of the local
  store (journal.py) is kept all the same, for a document replaced under a journal (a forced push).
- The lock is a session-level advisory lock on (the schema's oid, the state's id), two-key form:
  two schemas or two names never share one. PostgreSQL releases it when the holder's connection
  ends, so a run that died never leaves a lock behind; `holders` names who holds it.
- A plan without --refresh reads the document and any journal in ONE statement.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from typing import Any

from psycopg.types.json import Jsonb

from descript_iac.errors import LockError, LockLost, StateError
from descript_iac.failpoints import failpoint
from descript_iac.redact import scrub
from descript_iac.state import codec
from descript_iac.state.document import StateDocument, document_from_json
from descript_iac.state.events import Event, parse_event
from descript_iac.state.journal import Journal, JournalHeader, check_header
from descript_iac.state.lock import LockInfo
from descript_iac.state.pgdatabase import DEFAULT_SCHEMA, Database, SchemaMissing
from descript_iac.state.pglock import AdvisoryLock
from descript_iac.state.pgschema import check_version
from descript_iac.state.reader import check_one_owner, fold_events
from descript_iac.state.store import StateStore

RESTORE_FROM = "a copy saved with `descript-iac state pull`"

# The document and its journal, in one statement (one row even when there is no state yet).
READ = """
SELECT (SELECT max(version) FROM {s}.schema_version),
       st.document_text, j.journal_id, j.lineage, j.base_serial,
       (SELECT coalesce(json_agg(json_build_array(e.seq, e.event) ORDER BY e.seq), '[]')
          FROM {s}.journal_events e WHERE e.state_id = st.id)
  FROM (SELECT 1) AS one
  LEFT JOIN {s}.states st ON st.name = %s
  LEFT JOIN {s}.journals j ON j.state_id = st.id
"""


def _stored(doc: StateDocument) -> str:
    """The text of `doc` to store: the local store's bytes (scrubbed, checked, encoded by
    msgspec), from which PostgreSQL generates the jsonb (issue #29: `Jsonb(scrub(doc.to_json()))`
    built dicts of the whole document and walked them in Python, about 2 s at 10,000)."""
    return codec.encode_document(doc).decode()


class PostgresStateStore(StateStore):
    backend = "postgresql"

    def __init__(self, database: Database, name: str, found_by: str = "") -> None:
        self.database = database
        self.found_by = found_by
        self.name = name
        self._state_id: int | None = None
        self._holding: LockInfo | None = None
        self._session = 0  # pg_backend_pid() of the session holding the lock
        self._journal_id: str | None = None  # the journal this run began
        self._seq = 0
        self._created = False  # begin() stored the first document (discard takes it back)
        self._lock = AdvisoryLock(database, self.location(), found_by)

    def location(self) -> str:
        schema = self.database.schema
        schema = "" if schema == DEFAULT_SCHEMA else f" (schema {schema})"
        return f"postgresql state '{self.name}'{schema} on {self.database.where}"

    def _journal_where(self) -> str:
        return f"the journal of {self.location()}"

    # --- reading -----------------------------------------------------------------------

    def _fetch(self) -> tuple[Any, ...] | None:
        """(document, journal header, journal rows) in one statement; None: no schema yet."""
        try:
            row = self.database.fetch_one(READ, [self.name])
        except SchemaMissing:
            return None
        check_version(row[0], self.database.schema, self.database.where)
        return tuple(row[1:])

    def _document(self, text: str | None) -> StateDocument:
        """The stored document (as the tool wrote it): msgspec's typed decoder reads a valid one
        in one pass; anything else is read the careful way, which says what is wrong."""
        if text is None:
            return StateDocument()
        doc = codec.read_stored(text.encode())
        if doc is None:
            doc = document_from_json(json.loads(text), self.location(), RESTORE_FROM)
        check_one_owner(
            self.location(), doc, f"Correct it with {RESTORE_FROM}; it was not changed."
        )
        return doc

    def _load(self, tolerant: bool = False) -> tuple[StateDocument, Journal | None]:
        row = self._fetch()
        if row is None:
            return StateDocument(), None
        document, journal_id, lineage, base_serial, rows = row
        doc = self._document(document)
        if journal_id is None:
            return doc, None
        header = JournalHeader(journal_id=journal_id, lineage=lineage, base_serial=base_serial)
        return doc, self._journal(header, rows, tolerant)

    def _journal(self, header: JournalHeader, rows: list[Any], tolerant: bool) -> Journal:
        events: list[Event] = []
        skipped: list[str] = []
        where = self._journal_where()
        for seq, record in rows:
            try:
                events.append(parse_event(record, self.found_by))
            except StateError as exc:
                if not tolerant:
                    raise StateError(
                        f"{where}, row {seq}: {exc}. It was not folded; run `descript-iac state "
                        "recover` to fold what can be proven from it."
                    ) from None
                skipped.append(f"{where}, row {seq}: {exc}")
        return Journal(header, events, skipped)

    def exists(self) -> bool:
        try:
            row = self.database.fetch_one(
                "SELECT document IS NOT NULL FROM {s}.states WHERE name = %s", [self.name]
            )
        except SchemaMissing:
            return False
        return bool(row and row[0])

    def read(self) -> StateDocument:
        doc, journal = self._load()
        if journal is None or journal.header is None:
            return doc
        if check_header(journal.header, doc, self._journal_where(), self.found_by) == "fold":
            fold_events(doc, journal.events, self._journal_where(), self.found_by)
        return doc

    def read_document(self) -> StateDocument:
        return self._load(tolerant=True)[0]

    def leftover_journal(self) -> Journal | None:
        return self._load(tolerant=True)[1]

    # --- writing (under the lock) ------------------------------------------------------

    def _locked_id(self) -> int:
        if self._holding is None or self._state_id is None:
            raise RuntimeError(f"{self.location()}: written without holding its lock")
        return self._state_id

    def recover(self) -> StateDocument:
        self._locked_id()
        doc, journal = self._load()
        if journal is None or journal.header is None:
            return doc
        if check_header(journal.header, doc, self._journal_where(), self.found_by) == "folded":
            self._delete_journal()  # cannot happen with the one-transaction fold; kept for safety
            return doc
        fold_events(doc, journal.events, self._journal_where(), self.found_by)
        doc.folded_journal = journal.header.journal_id
        self.commit(doc)
        return doc

    def retire_journal(self, doc: StateDocument) -> None:
        journal = self.leftover_journal()
        if journal is not None and journal.header is not None:
            doc.folded_journal = journal.header.journal_id
        self.commit(doc)

    def begin(self, doc: StateDocument) -> None:
        state_id = self._locked_id()
        journal_id = str(uuid.uuid4())
        with self.database.transaction() as conn:
            # A journal needs a document to belong to: one is stored only when there is none
            # (the whole document is encoded and sent only then, not on every apply).
            missing = conn.execute(
                self.database.query(
                    "SELECT document IS NULL FROM {s}.states WHERE id = %s FOR UPDATE"
                ),
                [state_id],
            ).fetchone()
            created = bool(missing and missing[0])
            if created:
                conn.execute(
                    self.database.query(
                        "UPDATE {s}.states SET document_text = %s, lineage = %s, serial = %s, "
                        "updated_at = now() WHERE id = %s"
                    ),
                    [_stored(doc), doc.lineage, doc.serial, state_id],
                )
            started = conn.execute(
                self.database.query(
                    "INSERT INTO {s}.journals (state_id, journal_id, lineage, base_serial) "
                    "VALUES (%s, %s, %s, %s) ON CONFLICT (state_id) DO NOTHING"
                ),
                [state_id, journal_id, doc.lineage, doc.serial],
            ).rowcount
        if not started:
            raise StateError(
                f"{self.location()}: a journal is already there; run "
                f"`descript-iac state recover{self.found_by}`"
            )
        self._journal_id, self._seq = journal_id, 0
        self._created = bool(created)

    def append(self, event: Event) -> None:
        if self._journal_id is None:
            raise RuntimeError("append() before begin()")
        state_id = self._locked_id()
        self._seq += 1
        # Autocommit: the row is committed when this returns, before the POST it announces. It
        # is written only by the session that holds the lock: behind a transaction pool another
        # session may answer, and the lock would not be ours any more.
        written = self.database.execute(
            "INSERT INTO {s}.journal_events (state_id, seq, event) "
            "SELECT %s, %s, %s WHERE pg_backend_pid() = %s",
            [state_id, self._seq, Jsonb(scrub(event.to_json())), self._session],
        )
        if not written:
            raise LockLost(
                f"{self.location()}: the database session that holds the lock is not the one "
                "answering any more (a transaction-pooling proxy such as PgBouncer in transaction "
                "mode?); nothing more is sent. Connect directly or in session mode, then run "
                "again: what was recorded is kept"
            )

    def commit(self, doc: StateDocument) -> None:
        state_id = self._locked_id()
        failpoint("before_fold")
        if self._journal_id is not None:
            doc.folded_journal = self._journal_id
        doc.serial += 1
        self._write(state_id, doc, retire=True)
        failpoint("after_fold_write")
        self._journal_id, self._created = None, False

    def overwrite(self, doc: StateDocument) -> None:
        self._write(self._locked_id(), doc, retire=False)

    def _write(self, state_id: int, doc: StateDocument, retire: bool) -> None:
        with self.database.transaction() as conn:  # the document and the journal: both or none
            conn.execute(
                self.database.query(
                    "UPDATE {s}.states SET document_text = %s, lineage = %s, serial = %s, "
                    "updated_at = now() WHERE id = %s"
                ),
                [_stored(doc), doc.lineage, doc.serial, state_id],
            )
            if retire:
                conn.execute(
                    self.database.query("DELETE FROM {s}.journals WHERE state_id = %s"),
                    [state_id],
                )

    def discard(self) -> None:
        state_id = self._locked_id()
        with self.database.transaction() as conn:
            conn.execute(
                self.database.query("DELETE FROM {s}.journals WHERE state_id = %s"), [state_id]
            )
            if self._created:
                # begin() stored an empty document for the journal to belong to: nothing was
                # recorded, so leave no state behind (a saved plan for a new state stays usable).
                conn.execute(
                    self.database.query(
                        "UPDATE {s}.states SET document_text = NULL, lineage = NULL, "
                        "serial = NULL "
                        "WHERE id = %s"
                    ),
                    [state_id],
                )
        self._journal_id, self._created = None, False

    def _delete_journal(self) -> None:
        self.database.execute("DELETE FROM {s}.journals WHERE state_id = %s", [self._locked_id()])

    # --- the lock ----------------------------------------------------------------------

    def _row_id(self, create: bool) -> int | None:
        if self._state_id is None:
            self.database.migrate()
            if create:
                self.database.execute(
                    "INSERT INTO {s}.states (name) VALUES (%s) ON CONFLICT (name) DO NOTHING",
                    [self.name],
                )
            row = self.database.fetch_one("SELECT id FROM {s}.states WHERE name = %s", [self.name])
            self._state_id = int(row[0]) if row else None
        return self._state_id

    def lock(
        self, command: str, timeout: float = 0.0
    ) -> contextlib.AbstractContextManager[LockInfo]:
        return self._locked(command, timeout)

    @contextlib.contextmanager
    def _locked(self, command: str, timeout: float) -> Iterator[LockInfo]:
        state_id = self._row_id(create=True)
        assert state_id is not None
        info = self._lock.acquire(state_id, command, timeout)
        # The server session that holds the lock: each journal row is written only by it.
        self._session = int(self.database.fetch_one("SELECT pg_backend_pid()")[0])
        self._holding = info
        try:
            yield info
        finally:
            self._holding = None
            self._journal_id, self._created = None, False
            with contextlib.suppress(StateError):  # a lost connection took the lock with it
                self._lock.release(state_id, info)

    def force_unlock(self, lock_id: str) -> str:
        state_id = self._row_id(create=False)
        if state_id is None:
            raise LockError(f"{self.location()}: no such state")
        return self._lock.force_unlock(state_id, lock_id)
