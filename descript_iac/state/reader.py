"""Reading the stored state document from disk, trusting nothing in it.

The state is the only full record of what was made in Descript, and people edit, merge and
truncate it. `document_from_json` (document.py) refuses what is incomplete or of another
format; this module adds what reading a file needs: the file's errors said as what and where
(`file:line:col` for JSON that does not parse, the machine's refusal for a file that cannot be
read), and a job id recorded in two places refused (a job belongs to one project, once: two
records mean a bad merge or edit, and would let one job count for two). The file is never
changed by reading it.
"""

from __future__ import annotations

import json
from pathlib import Path

from descript_iac.collector import paused
from descript_iac.errors import StateError, describe_os_error
from descript_iac.state import codec
from descript_iac.state.document import STALE, StateDocument, document_from_json
from descript_iac.state.events import Event, apply_event


def _restore(backup: Path) -> str:
    return f"It was not changed. Restore it from {backup.name} or from version control. {STALE}"


def read_document(path: Path, backup: Path) -> StateDocument:
    """The stored document at `path`; a new, empty one when there is none yet."""
    if not path.exists() and not path.is_symlink():
        return StateDocument()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise StateError(f"cannot read the state: {describe_os_error(exc, path)}") from None
    with paused():  # a million objects, no cycles: the collector would only slow the read
        doc = codec.read_current(raw)  # the fast path: a valid document of the current format
        if doc is None:
            doc = _read_carefully(raw, path, backup)
        advice = f"Remove the wrong record, or restore from {backup.name} or version control."
        check_one_owner(str(path), doc, f"{advice} It was not changed.")
    return doc


def _read_carefully(raw: bytes, path: Path, backup: Path) -> StateDocument:
    """Any format, any damage: says what is wrong and where."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StateError(
            f"{path}: the state is not UTF-8 text (byte {exc.start}). {_restore(backup)}"
        ) from None
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
    return document_from_json(data, str(path), backup.name)


def check_one_owner(where: str, doc: StateDocument, advice: str) -> None:
    """Refuse a document that records one job id under two projects."""
    owners = [(f"projects.{a}", p) for a, p in doc.projects.items()]
    for address, history in doc.forgotten.items():
        owners += [(f"forgotten.{address}.{i}", p) for i, p in enumerate(history)]
    ids = [project.job_ids() for _, project in owners]
    if len(set().union(*ids)) == sum(map(len, ids)):
        return  # no id twice (the common case, in one pass)
    seen: dict[str, str] = {}
    for (owner, _), found in zip(owners, ids, strict=True):
        for job_id in sorted(found):
            first = seen.setdefault(job_id, owner)
            if first != owner:
                raise StateError(
                    f"{where}: job {job_id} is recorded under two projects, {first} and "
                    f"{owner}; a job belongs to one project (a bad merge or edit?). {advice}"
                )


def fold_events(
    doc: StateDocument, events: list[Event], journal: Path | str, found_by: str = ""
) -> None:
    """Apply a journal's events to `doc`: one that cannot apply is a `StateError` naming the
    journal, never a crash. (The events are typed, but a job's body is the API's dict, and a
    hand-edited or damaged journal can hold one that breaks a rule of the document.)"""
    for number, event in enumerate(events, start=1):
        try:
            apply_event(doc, event)
        except StateError as exc:
            raise StateError(
                f"{journal}: its event {number} ({event.type}) cannot be applied: {exc}. It was "
                f"not folded. Keep it, and run `descript-iac state recover{found_by}` to fold "
                "what can be "
                "proven from it."
            ) from None
        except (KeyError, TypeError, ValueError, AttributeError, AssertionError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise StateError(
                f"{journal}: its event {number} ({event.type}) cannot be applied ({reason}); it "
                f"was not folded. Keep it, and run `descript-iac state recover{found_by}` to fold "
                "what can "
                "be proven from it."
            ) from None
