"""A cold plan, file by file: its memory follows one file, not the workspace (issue #26).

The full plan holds every project's models and the whole state at once (1.27 GB at 50,000
projects). This one reads the state a line at a time, keeping only its index (state/index.py:
each project's offset and digest), then for each workspace file in turn: loads it, decodes the
state entries of its projects, diffs them, keeps the plan's result for them (the changed
projects' plans, the up-to-date addresses, each project's entry in the config digest) and
keeps the file's summary and result in the workspace cache as a full plan does
(workspace/incremental.py), and drops the rest. What the workspace's checks need across files
is kept small: each address's `file:line` (a project defined twice), the job ids of the state
(one job under two projects), the `defaults:` and `budget:` blocks (loaded first, from the
files that may hold them).

The plan is the full plan's, byte for byte. Whatever this does not know how to stream takes the
full plan, which also says what is wrong: any problem in a file (the full load reports every
problem of every file together), a project defined twice, a job id recorded twice, a state that
is not a current-format local file (or holds no project yet), a leftover journal, a `state:` or
`moved:` block, `--target` or `--replace`.
"""

from __future__ import annotations

import os
from pathlib import Path

import msgspec

from descript_iac.collector import paused
from descript_iac.config.cache import WorkspaceCache
from descript_iac.config.desired import DesiredProject, Workspace
from descript_iac.config.files import display
from descript_iac.config.loader import projects_of
from descript_iac.config.model import BudgetBlock, Defaults
from descript_iac.config.validation.pipeline import CheckedFile, check_file
from descript_iac.errors import Problem
from descript_iac.plan import Plan, PlanOptions, ProjectPlan
from descript_iac.plan.diff import plan_and_digests
from descript_iac.plan.digests import digest_of_files
from descript_iac.plan.samples import StepSample, step_samples
from descript_iac.state.document import StateDocument
from descript_iac.state.index import Scanned, identity, scan
from descript_iac.state.store import LocalStateStore, StateStore
from descript_iac.workspace.incremental import (
    Incremental,
    SeenFile,
    keep_samples,
    may_set_defaults,
    new_creates,
    read_files,
    remember_file,
    results_context,
)


def plan_streaming(
    root: Path, store: StateStore, options: PlanOptions, cache_dir: Path, started: int
) -> Incremental | None:
    """The full plan of the workspace at `root` against `store`, a file at a time; None when
    the full plan must be taken instead (see the module's docstring)."""
    if options.targets or options.replace or root.is_file():
        return None
    if not isinstance(store, LocalStateStore) or store.journal.exists():
        return None
    if store.path.is_symlink() or not store.path.is_file():
        return None  # (the full read refuses a link; a new state is the full plan's)
    cache = WorkspaceCache(cache_dir)
    try:
        with paused():  # (as the full load: many objects, no cycles)
            return _plan(root, store, options, cache, started)
    finally:
        cache.close()


def _plan(
    root: Path, store: LocalStateStore, options: PlanOptions, cache: WorkspaceCache, started: int
) -> Incremental | None:
    files = read_files(root, cache)  # (None for a `state:` or `moved:` block)
    scanned = scan(store.path)
    if files is None or scanned is None or scanned.index.serial == 0:
        return None
    idx = scanned.index
    # The files that may hold `defaults:` or `budget:`, first: every project needs them.
    first = {
        f.path: check_file(f.path, os.environ, cache, models=True)
        for f in files
        if may_set_defaults(f)
    }
    if any(c.problems for c in first.values()):
        return None
    found = _blocks([c for c in first.values() if not c.skipped])
    if found is None:
        return None
    defaults, budget = found
    across = _Across(scanned)
    if not across.ok:
        return None
    context = results_context(files, options, idx.salt)
    where: set[str] = set()  # every address defined so far
    kept: dict[str, DesiredProject] = {}  # the projects a forecast or a budget reads
    warnings: list[Problem] = []
    planned: list[ProjectPlan] = []
    up_to_date: list[str] = []
    needs: set[str] = set()
    parts: list[str] = []  # each file's part of the config digest
    for file in files:
        checked = first.pop(file.path, None) or check_file(
            file.path, os.environ, cache, models=True
        )
        if checked.problems:
            return None
        if checked.skipped:
            warnings.extend(checked.source.warnings)
            continue
        parsed = checked.parsed
        if parsed is None:
            return None
        if parsed.state is not None or parsed.moved:
            return None
        if not may_set_defaults(file) and (
            parsed.defaults is not None or parsed.budget is not None
        ):
            return None  # (not seen by the first pass: cannot be, but the full plan knows)
        desired: dict[str, DesiredProject] = {}
        for project, _pos in projects_of(checked.source, parsed, checked.secret, defaults):
            if project.address in where:
                return None  # defined twice: the full load says where
            where.add(project.address)
            desired[project.address] = project
        warnings.extend(checked.source.warnings)
        del checked, parsed
        partial = _diff(desired, scanned, options, across)
        if partial is None:
            return None
        plan, loaded = partial
        planned += plan.projects
        up_to_date += plan.up_to_date
        needs.update(plan.needs)
        part = loaded.get(display(file.path))
        parts.extend(loaded.values())
        changed = {p.address for p in plan.projects}
        for address, project in desired.items():
            if address in changed or project.spec.budget is not None:
                kept[address] = project
        if not checked_warnings(warnings, file):
            with cache.batch():  # (one commit for the file's summary and result)
                remember_file(cache, file, list(desired), changed, part, idx, context, started)
        file.raw = b""  # (the bytes of a file new to the cache: its summary is kept)
    state_only = {a: None for a in idx.entries if a not in where}
    partial = _diff({}, scanned, options, across, list(state_only))
    if partial is None or not across.ok or identity(store.path) != scanned.ident:
        return None
    planned += partial[0].projects
    up_to_date += partial[0].up_to_date
    needs.update(partial[0].needs)
    cache.keep("state:" + scanned.ident, idx)  # the next plan is an incremental one
    keep_samples(cache, scanned.ident, across.samples)
    plan = Plan(
        lineage=idx.lineage,
        serial=idx.serial,
        config_digest=digest_of_files(idx.salt, parts),
        options=options,
        projects=tuple(sorted(planned, key=lambda p: p.address)),
        up_to_date=tuple(sorted(up_to_date)),
        needs=tuple(sorted(needs)),
    )
    workspace = Workspace(
        root=root,
        projects=dict(sorted(kept.items())),
        files=tuple(display(f.path) for f in files),
        budget=budget,
        warnings=tuple(sorted(warnings)),
    )
    creates = new_creates(plan, idx)
    return Incremental(workspace, plan, store.read, creates, across.samples, scanned.rest)


def checked_warnings(warnings: list[Problem], file: SeenFile) -> bool:
    """Whether `file` has warnings (such a file is loaded every time: they are shown)."""
    name = display(file.path)
    return any(w.path == name for w in warnings)


def _blocks(checked: list[CheckedFile]) -> tuple[Defaults, BudgetBlock | None] | None:
    """The workspace's `defaults:` and `budget:` (None: set twice, or a `state:` or `moved:`
    block, which the full plan handles)."""
    defaults: Defaults | None = None
    budget: BudgetBlock | None = None
    for c in checked:
        parsed = c.parsed
        if parsed is None or parsed.state is not None or parsed.moved:
            return None
        if parsed.defaults is not None:
            if defaults is not None:
                return None
            defaults = parsed.defaults
        if parsed.budget is not None:
            if budget is not None:
                return None
            budget = parsed.budget
    return defaults or Defaults(), budget


class _Across:
    """What the workspace's checks and a forecast need of the whole state, kept small: whether
    any job id is recorded twice (`reader.check_one_owner`), from the hashes of the ids seen (a
    repeated hash, even by chance, takes the full read, which says which job and where); and
    what the recorded steps cost (`plan.forecast.step_samples`), one object per distinct sample."""

    def __init__(self, scanned: Scanned) -> None:
        self.seen: set[int] = set()
        self.ok = True
        self.samples: list[StepSample] = []
        self._shared: dict[StepSample, StepSample] = {}
        for history in scanned.rest.forgotten.values():
            for project in history:
                self._ids(project.job_ids())

    def record(self, doc: StateDocument) -> None:
        for project in doc.projects.values():
            self._ids(project.job_ids())
        for sample in step_samples(doc):
            self.samples.append(self._shared.setdefault(sample, sample))

    def _ids(self, ids: set[str]) -> None:
        for job_id in ids:
            h = hash(job_id)
            if h in self.seen:
                self.ok = False
            self.seen.add(h)


def _diff(
    desired: dict[str, DesiredProject],
    scanned: Scanned,
    options: PlanOptions,
    across: _Across,
    more: list[str] | None = None,
) -> tuple[Plan, dict[str, str]] | None:
    """The plan of `desired` (and of the addresses `more`, the state's alone) against their
    state entries; None when the state cannot be read so (the full read says why)."""
    idx = scanned.index
    try:
        records = idx.read(scanned.path, {*desired, *(more or ())}, scanned.ident)
    except (msgspec.ValidationError, msgspec.DecodeError, OSError):
        return None
    if records is None:
        return None
    doc = StateDocument(lineage=idx.lineage, serial=idx.serial, salt=idx.salt, projects=records)
    across.record(doc)
    return plan_and_digests(desired, doc, options)
