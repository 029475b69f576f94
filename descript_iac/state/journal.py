"""The journal's header: which document a journal belongs to, and whether it was folded.

A journal starts with a header naming the document it extends (lineage and serial) and its own
id. Folding writes the id into the document (`folded_journal`), so a journal left behind by a run
that died after folding is recognised and removed, never folded twice. A journal that belongs to
another document (a teammate's state pulled from git, a restored backup) is never dropped and never
folded blindly: `JournalMismatch` stops the run and names `descript-iac state recover`, which folds
what can be proven from it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from descript_iac.errors import StateError
from descript_iac.state.document import StateDocument
from descript_iac.state.events import Event, parse_event


class JournalMismatch(StateError):
    """A journal left behind does not belong to the state document it sits beside."""


class JournalHeader(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    journal: Literal[1] = 1
    journal_id: str | None = None  # None in journals written before journal ids existed
    lineage: str
    base_serial: int
    # The salt of the document's digests (None in journals written before it was kept): `state
    # recover` checks an intent's plain values against it before recomputing its digests.
    salt: str | None = None

    @classmethod
    def from_json(cls, data: Any, where: str, found_by: str = "") -> JournalHeader:
        try:
            return cls.model_validate(data)
        except ValidationError:
            raise StateError(
                f"{where}:1: the journal has no valid header; it was not folded. Keep it and run "
                f"`descript-iac state recover{found_by}` to fold what can be proven from it."
            ) from None


def check_header(
    header: JournalHeader, doc: StateDocument, where: str, found_by: str = ""
) -> Literal["fold", "folded"]:
    """Whether the journal extends `doc` ("fold") or was already folded into it ("folded").

    `found_by`: the options that find the state (`--workspace DIR`), for the command suggested."""
    if header.journal_id is not None and header.journal_id == doc.folded_journal:
        return "folded"
    if header.lineage == doc.lineage and header.base_serial == doc.serial:
        return "fold"
    raise JournalMismatch(
        f"{where}: this journal was written for state serial {header.base_serial} (lineage "
        f"{header.lineage}), but the state is at serial {doc.serial} (lineage {doc.lineage}): the "
        "state was replaced (a pull from git, a restored backup) while a run had unrecorded "
        f"jobs. Nothing was changed. Run `descript-iac state recover{found_by}` to fold into the "
        "state what "
        "the journal proves (its jobs are never sent again)."
    )


@dataclass
class Journal:
    header: JournalHeader | None  # None: unreadable (only `state recover` reads such a journal)
    events: list[Event]
    skipped: list[str] = field(default_factory=list)  # what `state recover` could not read


def parse_journal(
    lines: list[bytes], where: str, tolerant: bool = False, found_by: str = ""
) -> Journal | None:
    """A journal from its lines (JSON, one record each; the first is the header).

    A torn last line is a write that never happened and is ignored. Anything else unreadable is
    an error, or, when `tolerant` (for `state recover`), skipped and listed."""
    numbered = [(n, raw) for n, raw in enumerate(lines, start=1) if raw.strip()]
    records: list[tuple[int, Any]] = []
    skipped: list[str] = []
    for index, (number, raw) in enumerate(numbered):
        try:
            records.append((number, json.loads(raw)))
        except (ValueError, RecursionError):  # not JSON, or nested too deeply to read
            if index == len(numbered) - 1:
                break  # a torn last line: the write that was cut off never happened
            if not tolerant:
                raise StateError(
                    f"{where}:{number}: the journal is corrupt in the middle; it was not folded. "
                    f"Keep it, and run `descript-iac state recover{found_by}` to fold what can "
                    "be proven "
                    "from it."
                ) from None
            skipped.append(f"{where}:{number}: not JSON")
    if not records:
        return None
    header: JournalHeader | None
    try:
        header = JournalHeader.from_json(records[0][1], where, found_by)
    except StateError:
        if not tolerant:
            raise
        header = None
        skipped.append(f"{where}:{records[0][0]}: not a journal header")
    events: list[Event] = []
    for number, record in records[1:] if header is not None else records:
        try:
            events.append(parse_event(record, found_by))
        except StateError as exc:
            if not tolerant:
                raise StateError(f"{where}:{number}: {exc}") from None
            skipped.append(f"{where}:{number}: {exc}")
    return Journal(header, events, skipped)
