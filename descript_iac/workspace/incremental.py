"""An incremental plan: the work of a plan follows what changed, not the workspace's size.

After a plan, the workspace cache (config/cache.py) keeps, for each workspace file:
- its summary, under the digest of its path and bytes (and of the code that reads files): the
  addresses it defines and the environment variables it uses;
- its result, when every project of the file is up to date: its part of the config digest
  (plan/digests.py: a digest of its projects' entries). The key is everything that result
  depends on: the file's summary key, the values of its environment variables (salted digest),
  the plan's options, the state's salt, the bytes of the files that may hold `defaults:` or
  `budget:`, and the digest of the state entry of each of its addresses (state/index.py);
- the index of the state it read (each project's line and digest), and what its recorded steps
  cost (a forecast's samples, counted by model and credits), under the state file's identity.

A later plan reads every file's bytes (to know what changed) and, when the state file is the
one indexed, reuses the results that still hold: it loads and diffs only the other files (and
the projects the state holds that no file defines), reading only their state entries. The plan
is the full plan's, byte for byte (a differential test checks it on random edits). Anything
outside this knowledge takes a cold plan (workspace/streaming.py, which falls back to the full
plan in turn): a state not indexed (written since, by apply or by hand), a leftover journal, a
state backend other than a local file, a `state:` or `moved:` block, `--target` or
`--replace`, or a project defined twice.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from descript_iac.config import Workspace, load_workspace
from descript_iac.config.cache import WorkspaceCache
from descript_iac.config.files import display, workspace_files
from descript_iac.plan import ActionKind, Plan, PlanOptions
from descript_iac.plan.diff import plan_and_digests
from descript_iac.plan.digests import digest_of_files
from descript_iac.plan.samples import StepSample, step_samples
from descript_iac.state.document import StateDocument
from descript_iac.state.index import StateIndex, identity, scan
from descript_iac.state.store import LocalStateStore, StateStore

FORMAT = 4  # of the summaries and results kept in the cache
# A line at column 0 is a top-level key (or a comment, or an item of a top-level key's list).
_TOP = re.compile(rb"\n(?:[^ \t\n#-]|-[^ \t\n])")
# A top-level key that speaks for the whole workspace (or a top level written so that its keys
# cannot be seen line by line: flow style, anchors, tags, complex keys, a document marker):
# such a file is always loaded, and its bytes key every result.
_SPECIAL = re.compile(rb"[\"']?(?:defaults|budget)[\"']?[ \t]*:|<<|[-{\[?&*!%|>\x80-\xff]")
# The environment variables a file uses, found in its bytes: a superset of what interpolation
# reads (`$${env:X}`, an escaped reference, counts too), unless an escape of a double-quoted
# string spells the reference: such a file is special (always loaded).
_ENV = re.compile(rb"\$\{env:([A-Za-z_][A-Za-z0-9_]*)")
_ESCAPE = re.compile(rb"\\[xuUN]")
_NOT_INCREMENTAL = re.compile(rb"[\"']?(?:state|moved)[\"']?[ \t]*:")


def _top_level(raw: bytes) -> tuple[bool, bool]:
    """Whether a file's top level may hold `defaults:` or `budget:` (special), and `state:` or
    `moved:` (not incremental): its lines at column 0 (a few per file) are looked at."""
    special = b"\\" in raw and _ESCAPE.search(raw) is not None
    incremental = False
    text = b"\n" + raw
    for match in _TOP.finditer(text):
        start = match.start() + 1
        line = text[start : start + 64]
        special = special or _SPECIAL.match(line) is not None
        incremental = incremental or _NOT_INCREMENTAL.match(line) is not None
    return special, incremental


# A file written less than this before a plan started is not remembered by it (it may have been
# written between the plan's two reads of it), and its status is not trusted.
_SETTLED = 2_000_000_000

Parts = dict[str, str]  # file (as displayed) -> its part of the config digest


class SeenFile(msgspec.Struct):
    path: Path
    raw: bytes  # read only when the cache does not know the file (else b"")
    key: str  # of its path and bytes
    summary: dict[str, Any] | None
    written_ns: int  # its last write (modification or change time)


class Incremental(msgspec.Struct):
    workspace: Workspace
    plan: Plan
    read_doc: Callable[[], StateDocument]
    creates: list[str]
    samples: list[StepSample] | None = None  # (see PlanOutcome.samples)
    header: StateDocument | None = None  # (see PlanOutcome.header)


def plan_incrementally(
    root: Path, store: Callable[[], StateStore], options: PlanOptions, cache_dir: Path | None
) -> Incremental | None:
    """The plan from what the cache knows and the files that changed; None when the full plan
    is needed (see the module's docstring)."""
    if cache_dir is None or options.targets or options.replace or root.is_file():
        return None
    started = time.time_ns()
    cache = WorkspaceCache(cache_dir)
    try:
        return _plan(root, store, options, cache, started)
    finally:
        cache.close()


def read_files(root: Path, cache: WorkspaceCache) -> list[SeenFile] | None:
    """Every workspace file's key and summary. A file whose status (device, inode, size,
    modification and change times) is the one seen when its key was last computed is not read
    again, as git trusts its index; only a status seen when the file had been left alone for
    2 s is trusted (a write within the clock's tick would leave it unchanged)."""
    stats_key = "stats:" + _digest(cache.code, str(root.resolve()))
    known = cache.lookup(stats_key)
    known = known if isinstance(known, dict) else {}
    seen: dict[str, tuple[tuple[int, ...], str]] = {}
    now = time.time_ns()
    found = []
    for path in workspace_files(root):
        name = display(path)
        try:
            st = os.stat(path)
            stamp = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
            raw, summary = b"", None
            hit = known.get(name)
            if hit is not None and tuple(hit[0]) == stamp:
                key = hit[1]
                summary = _summary(cache.lookup(key))
            if summary is None:
                raw = path.read_bytes()
        except OSError:
            return None  # the full load says what is wrong
        if summary is None:
            key = "sum:" + _digest(cache.code, name, raw)
            summary = _summary(cache.lookup(key))
            # Only a file new to the cache is searched.
            if summary is None and _top_level(raw)[1]:
                return None
        if now - max(st.st_mtime_ns, st.st_ctime_ns) > _SETTLED:
            seen[name] = (stamp, key)
        found.append(SeenFile(path, raw, key, summary, max(st.st_mtime_ns, st.st_ctime_ns)))
    if seen != known:
        cache.keep(stats_key, seen)
    return found


def _summary(found: Any) -> dict[str, Any] | None:
    return found if isinstance(found, dict) and found.get("format") == FORMAT else None


def may_set_defaults(file: SeenFile) -> bool:
    if file.summary is not None:
        return bool(file.summary["special"])
    return _top_level(file.raw)[0]


def results_context(files: list[SeenFile], options: PlanOptions, salt: str) -> str:
    special = sorted(f.key for f in files if may_set_defaults(f))
    return _digest(str(FORMAT), msgspec.json.encode(options), salt, *special)


def _result_key(
    cache: WorkspaceCache, context: str, file: SeenFile, addresses: list[str], idx: StateIndex
) -> str:
    assert file.summary is not None
    env = cache.env_digest(file.summary["env"], os.environ)
    parts = [context, file.key, env]
    if addresses:  # a part per address, joined: the same bytes (a NUL after each), one update
        parts.append(idx.digests_text(addresses))
    return "res:" + _digest(*parts)


def _plan(
    root: Path,
    store_of: Callable[[], StateStore],
    options: PlanOptions,
    cache: WorkspaceCache,
    started: int,
) -> Incremental | None:
    store = store_of()  # (no file declares `state:`: see read_files)
    if not isinstance(store, LocalStateStore) or store.journal.exists():
        return None
    ident = identity(store.path)
    if ident is None:
        return None
    idx = cache.lookup("state:" + ident)
    if not isinstance(idx, StateIndex) or idx.serial == 0:
        return None  # the full plan reads the state, and indexes it
    files = read_files(root, cache)
    if files is None:
        return None
    context = results_context(files, options, idx.salt)
    known: set[str] = set()  # the addresses of the files whose results are reused
    parts: list[str] = []  # their parts of the config digest
    load: list[SeenFile] = []
    for file in files:
        result = None
        if file.summary is not None and not file.summary["special"]:
            key = _result_key(cache, context, file, file.summary["addresses"], idx)
            result = cache.lookup(key)
        if isinstance(result, dict) and file.summary is not None:
            known.update(file.summary["addresses"])
            if result["part"] is not None:
                parts.append(result["part"])
        else:
            load.append(file)
    workspace = load_workspace(root, only=[f.path for f in load], cache=cache)
    if workspace.moves or workspace.state is not None:
        return None
    if known & set(workspace.projects):
        return None  # a project defined twice: the full load says where
    state_only = set(idx.entries) - known - set(workspace.projects)
    records = idx.read(store.path, set(workspace.projects) | state_only, ident)
    if records is None:
        return None  # the state was written since (an apply)
    doc = StateDocument(lineage=idx.lineage, serial=idx.serial, salt=idx.salt, projects=records)
    samples = kept_samples(cache, ident)
    partial, loaded = plan_and_digests(workspace.projects, doc, options)
    plan = Plan(
        lineage=partial.lineage,
        serial=partial.serial,
        config_digest=digest_of_files(idx.salt, [*parts, *loaded.values()]),
        options=options,
        projects=partial.projects,
        up_to_date=tuple(sorted([*partial.up_to_date, *known])),
        needs=partial.needs,
    )
    with cache.batch():
        _remember(cache, load, workspace, plan, loaded, idx, context, started)
    full = Workspace(
        root=workspace.root,
        projects=workspace.projects,
        files=tuple(display(f.path) for f in files),
        state=workspace.state,
        budget=workspace.budget,
        moves=workspace.moves,
        warnings=workspace.warnings,
    )
    creates = new_creates(plan, idx)
    header = StateDocument(lineage=idx.lineage, serial=idx.serial, salt=idx.salt)
    return Incremental(full, plan, store.read, creates, samples, header)


def new_creates(plan: Plan, idx: StateIndex) -> list[str]:
    """The projects the plan creates that the state holds no entry for."""
    return [
        p.address
        for p in plan.projects
        if p.address not in idx.entries and any(a.kind is ActionKind.CREATE for a in p.actions)
    ]


def state_identity(store: StateStore) -> str | None:
    """The identity of a local state file, taken before a full plan reads it: `remember_full`
    indexes the file only if it is still that one."""
    return identity(store.path) if isinstance(store, LocalStateStore) else None


def remember_full(
    cache_dir: Path | None,
    store: StateStore,
    workspace: Workspace,
    doc: StateDocument,
    plan: Plan,
    parts: Parts,
    started: int,
    seen: str | None,
) -> None:
    """After a full plan (begun at `started`, ns since the epoch, reading the state file of
    identity `seen`): index the state it read and keep each file's summary and result."""
    if cache_dir is None or not isinstance(store, LocalStateStore) or store.journal.exists():
        return
    if workspace.moves or workspace.state is not None or plan.options.targets:
        return
    if plan.options.replace or workspace.root.is_file():
        return
    scanned = scan(store.path)
    if scanned is None or scanned.ident != seen:
        return  # written since the plan read it (or not in the current format)
    idx, ident = scanned.index, scanned.ident
    if (idx.lineage, idx.serial, idx.salt) != (doc.lineage, doc.serial, doc.salt) or (
        idx.entries.keys() != doc.projects.keys()
    ):
        return  # not the document this plan read: the next plan is a full one again
    cache = WorkspaceCache(cache_dir)
    try:
        files = read_files(workspace.root, cache)
        if files is None:
            return
        cache.keep("state:" + ident, idx)
        keep_samples(cache, ident, step_samples(doc))
        context = results_context(files, plan.options, idx.salt)
        with cache.batch():
            _remember(cache, files, workspace, plan, parts, idx, context, started)
    finally:
        cache.close()


def _remember(
    cache: WorkspaceCache,
    files: list[SeenFile],
    workspace: Workspace,
    plan: Plan,
    parts: Parts,
    idx: StateIndex,
    context: str,
    started: int,
) -> None:
    by_file: dict[str, list[str]] = {}
    for address, project in workspace.projects.items():
        by_file.setdefault(project.file, []).append(address)
    warned = {w.path for w in workspace.warnings}
    changed = {p.address for p in plan.projects}
    for file in files:
        name = display(file.path)
        if name not in warned:  # (a file with warnings is loaded every time: they are shown)
            addresses = by_file.get(name, [])
            part = parts.get(name)
            remember_file(cache, file, addresses, changed, part, idx, context, started)


def remember_file(
    cache: WorkspaceCache,
    file: SeenFile,
    addresses: list[str],
    changed: set[str],
    part: str | None,
    idx: StateIndex,
    context: str,
    started: int,
) -> None:
    """Keep a file's summary and, when every project of it is up to date, its result (`part`:
    the file's part of the config digest, None for a file without projects)."""
    if file.written_ns > started - _SETTLED:
        return  # it may have changed between the load and the read of its bytes
    addresses = sorted(addresses)
    if file.summary is None:
        file.summary = {
            "format": FORMAT,
            "addresses": addresses,
            "env": sorted({n.decode() for n in _ENV.findall(file.raw)}),
            "special": _top_level(file.raw)[0],
        }
        cache.keep(file.key, file.summary)
    if file.summary["special"] or any(a in changed for a in addresses):
        return
    result = {"part": part}
    cache.keep(_result_key(cache, context, file, addresses, idx), result)


def keep_samples(cache: WorkspaceCache, ident: str, samples: list[StepSample]) -> None:
    """Keep what the steps of the state of identity `ident` cost, counted (a few distinct
    values, for hundreds of thousands of steps): a later forecast reads them, not the state."""
    counted = Counter((s.model, s.credits) for s in samples)
    cache.keep("samples:" + ident, sorted([m, c, n] for (m, c), n in counted.items()))


def kept_samples(cache: WorkspaceCache, ident: str) -> list[StepSample] | None:
    """The samples `keep_samples` kept for the state of identity `ident` (None: not known)."""
    found = cache.lookup("samples:" + ident)
    if not isinstance(found, list):
        return None
    samples: list[StepSample] = []
    for model, credits, count in found:
        samples += [StepSample(model, credits)] * count
    return samples


def _digest(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\x00")
    return h.hexdigest()
