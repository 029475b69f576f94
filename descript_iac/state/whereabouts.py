"""Where each workspace's state was last written, on this machine.

The default state path is relative to the working directory, so a workspace applied from another
directory would find no state, and apply would create every project again (and run every step
again). Each apply remembers where the state of its workspace directory is; a later run of the
same workspace that would start a new, empty state elsewhere is told where the old one is.
Kept in `$XDG_STATE_HOME/descript-iac/workspaces.json` (default `~/.local/state`); losing the
file loses only these hints.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import msgspec

from descript_iac.errors import DescriptIacError
from descript_iac.state.atomic import write_atomically
from descript_iac.state.store import LocalStateStore, StateStore

MAX_ENTRIES = 1000  # the most recently used workspaces are kept
MAX_LINEAGES = 20  # the lineages a workspace's states had on this machine


class Whereabouts(msgspec.Struct, frozen=True):
    location: str  # the store's location(): a path, or "postgresql state 'x' on host:port/db"
    path: str | None  # a local state's file, to see whether it is still there


def _file() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "descript-iac" / "workspaces.json"


def _read() -> dict[str, dict[str, object]]:
    try:
        data = json.loads(_file().read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _key(root: Path) -> str:
    return str(root.resolve())


def last_state(root: Path) -> Whereabouts | None:
    """Where the state of the workspace at `root` was last written, if it is still there."""
    entry = _read().get(_key(root))
    if not isinstance(entry, dict) or not isinstance(entry.get("location"), str):
        return None
    path = entry.get("path")
    if isinstance(path, str) and not Path(path).exists():
        return None  # moved or deleted since: no hint is better than a wrong one
    return Whereabouts(str(entry["location"]), path if isinstance(path, str) else None)


def applied_here(root: Path) -> bool:
    """Whether the workspace at `root` was applied on this machine before (its state then lost
    if it is not where it was)."""
    return isinstance(_read().get(_key(root)), dict)


def replaced_here(root: Path, lineage: str) -> bool:
    """Whether the workspace at `root` was applied on this machine with a state of another
    lineage than `lineage`: its state was lost and made anew (`--new-state`), so the jobs this
    machine's drive registry recorded may be its own, made before the loss."""
    entry = _read().get(_key(root))
    seen = entry.get("lineages") if isinstance(entry, dict) else None
    return isinstance(seen, list) and any(other != lineage for other in seen)


def remember(root: Path, location: str, path: Path | None, lineage: str | None = None) -> None:
    """Note where the state of the workspace at `root` now is, and the lineages its states had
    here (best effort: a read-only or full disk loses the hint, never the run)."""
    data = _read()
    key = _key(root)
    old = data.get(key)
    seen = old.get("lineages") if isinstance(old, dict) else None
    lineages = [x for x in seen if isinstance(x, str)] if isinstance(seen, list) else []
    if lineage and lineage not in lineages:
        lineages = [*lineages, lineage][-MAX_LINEAGES:]
    entry: dict[str, object] = {
        "location": location,
        "path": str(path.resolve()) if path else None,
    }
    if lineages:
        entry["lineages"] = lineages
    if data.get(key) == entry:
        return
    data.pop(key, None)
    data[key] = entry
    while len(data) > MAX_ENTRIES:
        data.pop(next(iter(data)))
    try:
        write_atomically(_file(), json.dumps(data, indent=1), what="a hint", make_parents=True)
    except (OSError, DescriptIacError):  # a hint; the state itself was written
        return


def _store_path(store: StateStore) -> Path | None:
    return store.path if isinstance(store, LocalStateStore) else None


def elsewhere(root: Path, store: StateStore) -> Whereabouts | None:
    """Where the state of the workspace at `root` was last written, when `store` (about to start
    a new, empty state) is another place."""
    last = last_state(root)
    if last is None:
        return None
    path = _store_path(store)
    if last.path and path:  # two files: the same one whatever the working directory
        return None if Path(last.path) == path.resolve() else last
    return None if last.location == store.location() else last


def new_state_problem(root: Path, store: StateStore, last: Whereabouts) -> str:
    """What to say when `store` would start a new state while `last` holds the workspace's."""
    where = f"--state {last.path}" if last.path else "the same --backend-url"
    return (
        f"{store.location()} holds no state yet, but the workspace {root} was last applied with "
        f"its state at {last.path or last.location}: a new state would create every project "
        f"again. Run from the directory you applied it from, pass {where}, or declare it in the "
        "workspace "
        "(`state: {backend: local, path: ...}`, relative to the file, works from any directory)"
    )


def remember_store(root: Path, store: StateStore, lineage: str | None = None) -> None:
    remember(root, store.location(), _store_path(store), lineage)
