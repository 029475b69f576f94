"""Reading the state document and its journal from disk, trusting nothing in them.

The state is the only full record of what was made in Descript, and people edit, merge and
truncate it. What cannot be trusted is refused with the place (`file:line:col` for JSON that
does not parse, the field's path for a value that is wrong) and what to do; the file is never
changed. Types are checked strictly (`"9"` is not the number 9), a document must carry its
lineage and salt (a new salt would make every recorded digest look changed), and a job id
recorded under two projects is refused (a job belongs to one project).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from descript_iac.errors import StateError, describe_os_error
from descript_iac.state.document import FORMAT_VERSION, ProjectState, StateDocument
from descript_iac.state.events import HANDLERS, Event, apply_event

REQUIRED = ("format_version", "lineage", "salt")


def _restore(backup: Path) -> str:
    return f"It was not changed. Restore it from {backup.name} or from version control."


def _read_text(path: Path, what: str) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StateError(f"cannot read {what}: {describe_os_error(exc, path)}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StateError(
            f"{path}: {what} is not UTF-8 text (byte {exc.start}); it was not changed. Restore "
            "it from its backup or from version control."
        ) from None


def parse_document(path: Path, text: str, backup: Path) -> StateDocument:
    """The document in `text` (read from `path`), or a `StateError` saying what is wrong."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StateError(
            f"{path}:{exc.lineno}:{exc.colno}: the state is corrupt or truncated ({exc.msg}). "
            f"{_restore(backup)}"
        ) from None
    except (ValueError, RecursionError) as exc:  # numbers too long, nesting too deep
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise StateError(
            f"{path}: the state is corrupt or truncated ({reason}). {_restore(backup)}"
        ) from None
    if not isinstance(data, dict):
        raise StateError(f"{path}: the state must be a JSON object. {_restore(backup)}")
    version = data.get("format_version")
    if version is not None and (
        not isinstance(version, int) or isinstance(version, bool) or version < 1
    ):
        raise StateError(
            f"{path}: format_version must be a whole number from 1 up, not {version!r}. "
            f"{_restore(backup)}"
        )
    if isinstance(version, int) and version > FORMAT_VERSION:
        raise StateError(
            f"{path}: state format {version} is newer than this descript-iac reads "
            f"({FORMAT_VERSION}); upgrade descript-iac. The state was not changed."
        )
    missing = [key for key in REQUIRED if key not in data]
    if missing:
        raise StateError(
            f"{path}: the state has no {', '.join(missing)} (every state written by "
            f"descript-iac has them). {_restore(backup)}"
        )
    try:
        doc = StateDocument.model_validate(data, strict=True)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise StateError(
            f"{path}: the state is not valid ({where}: {first['msg']}). {_restore(backup)}"
        ) from None
    advice = f"Remove the wrong record, or restore from {backup.name} or version control."
    _check_one_owner(path, doc, f"{advice} It was not changed.")
    return doc


def _job_places(prefix: str, project: ProjectState) -> Iterable[tuple[str, str]]:
    if project.import_ is not None:
        yield project.import_.job_id, f"{prefix}.import"
        for old in project.import_.updates:
            yield old, f"{prefix}.import.updates"
    for step in project.steps:
        yield step.job_id, f"{prefix}.steps.{step.id}"
    for number, orphan in enumerate(project.orphans):
        for job_id in orphan.job_ids:
            yield job_id, f"{prefix}.orphans.{number}"


def _check_one_owner(path: Path, doc: StateDocument, advice: str) -> None:
    """A job belongs to one project, once: a job id in two places means a bad merge or edit."""
    seen: dict[str, str] = {}
    places = [(f"projects.{a}", p) for a, p in doc.projects.items()]
    for address, history in doc.forgotten.items():
        places += [(f"forgotten.{address}.{i}", p) for i, p in enumerate(history)]
    for prefix, project in places:
        for job_id, place in _job_places(prefix, project):
            if job_id in seen:
                raise StateError(
                    f"{path}: job {job_id} is recorded twice, at {seen[job_id]} and at {place}; "
                    f"a job belongs to one project (a bad merge or edit?). {advice}"
                )
            seen[job_id] = place


def read_document(path: Path, backup: Path) -> StateDocument:
    """The stored document at `path`; a new, empty one when there is none yet."""
    if not path.exists() and not path.is_symlink():
        return StateDocument()
    return parse_document(path, _read_text(path, "the state"), backup)


# --- the journal ---------------------------------------------------------------------------

MOVE_ASIDE = "Move it aside to continue (its jobs can be found with `descript-iac plan --refresh`)."


def read_journal(journal: Path, doc: StateDocument) -> list[tuple[int, Event]] | None:
    """(line, event) pairs of a journal that belongs to `doc`; None when there is none to fold
    (no journal, an empty one, one already folded or one of another state)."""
    if not journal.exists():
        return None
    text = _read_text(journal, "the journal")
    lines = text.split("\n")
    records: list[tuple[int, Any]] = []
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            records.append((number, json.loads(raw)))
        except (ValueError, RecursionError):
            if all(not rest.strip() for rest in lines[number:]):
                break  # a torn last line: the write that was cut off never happened
            raise StateError(
                f"{journal}:{number}: the journal is corrupt in the middle; it was not "
                f"folded. {MOVE_ASIDE}"
            ) from None
    if not records:
        return None
    for number, record in records:
        if not isinstance(record, dict):
            raise StateError(
                f"{journal}:{number}: not a journal record (a JSON object). {MOVE_ASIDE}"
            )
    header = records[0][1]
    if "journal" not in header:
        raise StateError(f"{journal}:1: the journal has no header line. {MOVE_ASIDE}")
    if header.get("lineage") != doc.lineage or header.get("base_serial") != doc.serial:
        return None  # already folded (the document moved on) or from another state
    for number, event in records[1:]:
        if event.get("type") not in HANDLERS:
            raise StateError(
                f"{journal}:{number}: unknown journal event {event.get('type')!r}; upgrade "
                f"descript-iac, or: {MOVE_ASIDE}"
            )
        if not isinstance(event.get("address"), str):
            raise StateError(
                f"{journal}:{number}: the {event['type']} event names no project address. "
                f"{MOVE_ASIDE}"
            )
    return records[1:]


def fold_journal(doc: StateDocument, journal: Path, events: list[tuple[int, Event]]) -> None:
    """Apply journal events to `doc`; an event that cannot apply names its line."""
    if not events:
        return
    for number, event in events:
        try:
            apply_event(doc, event)
        except StateError as exc:
            raise StateError(f"{journal}:{number}: {exc}. {MOVE_ASIDE}") from None
        except (KeyError, TypeError, ValueError, AttributeError, AssertionError) as exc:
            # The events are folded by plain functions over untrusted data: whatever they trip
            # on is a malformed record (ValidationError is a ValueError).
            reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            raise StateError(
                f"{journal}:{number}: this {event.get('type')} event cannot be applied "
                f"({reason}). {MOVE_ASIDE}"
            ) from None
    _check_one_owner(journal, doc, MOVE_ASIDE)
