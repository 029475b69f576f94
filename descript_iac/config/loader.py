"""Load a workspace directory: read, interpolate, validate and merge every file.

All problems of all files are collected and raised together as one `ConfigError`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from descript_iac.collector import paused
from descript_iac.config.cache import WorkspaceCache
from descript_iac.config.desired import DesiredProject, Move, Workspace
from descript_iac.config.files import display, workspace_files
from descript_iac.config.interpolate import interpolate
from descript_iac.config.model import Defaults, WorkspaceFile
from descript_iac.config.source import Path_, Pos, Source
from descript_iac.config.statesetting import STATE_KEY, Declared, StateSetting, collect_state
from descript_iac.config.validation.moves import check_moves
from descript_iac.config.validation.pipeline import check_file
from descript_iac.config.validation.types import translate
from descript_iac.config.yamlsource import read_source
from descript_iac.errors import ConfigError, Problem

_UNRESOLVED = Defaults()


_display = display


def load_workspace(
    root: Path,
    environ: Mapping[str, str] | None = None,
    cache_dir: Path | None = None,
    only: list[Path] | None = None,
    cache: WorkspaceCache | None = None,
) -> Workspace:
    """Load and validate the workspace at `root`; raise `ConfigError` listing every problem.

    With `cache_dir`, files read before with the same bytes (and the same values of the
    environment variables they use) come from the workspace cache there (config/cache.py);
    `cache`, one already open, is used instead (and left open).
    With `only`, just those of the workspace's files are read (an incremental plan: the
    workspace's other files are known from the cache; workspace/incremental.py).
    """
    if cache is not None:
        with paused():
            return _load(root, environ, cache, only)
    opened = WorkspaceCache(cache_dir) if cache_dir is not None else None
    try:
        # Hundreds of thousands of values, no cycles: the collector would only slow the build.
        with paused():
            return _load(root, environ, opened, only)
    finally:
        if opened is not None:
            opened.close()


def _load(
    root: Path,
    environ: Mapping[str, str] | None,
    cache: WorkspaceCache | None,
    only: list[Path] | None = None,
) -> Workspace:
    env = os.environ if environ is None else environ
    problems: list[Problem] = []
    projects: dict[str, DesiredProject] = {}
    loaded: list[tuple[Source, WorkspaceFile, set[Path_]]] = []
    declared: list[Declared] = []
    skipped: list[Problem] = []  # the one note of each file that is not a workspace file
    files = workspace_files(root)
    for file in files if only is None else only:
        checked = check_file(file, env, cache, models=True)
        problems.extend(checked.problems)
        source, parsed, secret = checked.source, checked.parsed, checked.secret
        if checked.skipped:
            skipped.extend(source.warnings)
            continue
        if parsed is not None:
            loaded.append((source, parsed, secret))
            if parsed.state is not None:
                declared.append((file, source, source.data["state"], secret))
    state, found = collect_state(declared, root)
    problems.extend(found)
    defaults = _one_block(loaded, "defaults", problems)
    budget = _one_block(loaded, "budget", problems)
    first_seen: dict[str, str] = {}
    for source, parsed, secret in loaded:
        for project, pos in projects_of(source, parsed, secret, _UNRESOLVED):
            address = project.address
            if address in first_seen:
                problems.append(
                    Problem(
                        source.path,
                        pos.line,
                        pos.column,
                        f"project '{address}' is also defined at {first_seen[address]}; "
                        "define each project once",
                    )
                )
                continue
            first_seen[address] = project.where
            projects[address] = project  # defaults filled below, once every file's are known
    moves: list[Move] = []
    warnings: list[Problem] = list(skipped)
    for source, parsed, _secret in loaded:
        for index, block in enumerate(parsed.moved):
            pos = source.pos(("moved", index))
            moves.append(Move(block.from_, block.to, source.path, pos.line, pos.column))
        warnings.extend(source.warnings)
    problems.extend(check_moves(moves, projects))
    if problems:
        raise ConfigError(problems)
    resolved = defaults or Defaults()
    final = {
        a: DesiredProject(p.address, p.spec, resolved, p.file, p.line, p.secret_paths)
        for a, p in sorted(projects.items())
    }
    return Workspace(
        root=root,
        projects=final,
        files=tuple(_display(f) for f in files),
        state=state,
        budget=budget,
        moves=tuple(moves),
        warnings=tuple(sorted(warnings)),
    )


def projects_of(
    source: Source, parsed: WorkspaceFile, secret: set[Path_], defaults: Defaults
) -> Iterator[tuple[DesiredProject, Pos]]:
    """The desired projects of one valid file, in its order, each with the position of its key
    (a project defined twice is the caller's to find)."""
    # Each file's secret paths grouped by project once: linear in projects per file.
    by_project: dict[str | int, set[Path_]] = {}
    for p in secret:
        if len(p) >= 2 and p[0] == "projects":
            by_project.setdefault(p[1], set()).add(p[2:])
    for address, spec in parsed.projects.items():
        pos = source.pos(("projects", address), key=True)
        rel = frozenset(by_project.get(address, ()))
        yield DesiredProject(address, spec, defaults, source.path, pos.line, rel), pos


_ALREADY = {"defaults": "defaults are", "budget": "the budget is"}


def _one_block(
    loaded: list[tuple[Source, WorkspaceFile, set[Path_]]], key: str, problems: list[Problem]
) -> Any:
    """The workspace's one `key:` block (`defaults`, `budget`), from whichever file sets it; a
    second one is a problem naming the first."""
    found: Any = None
    first = ""
    for source, parsed, _secret in loaded:
        block = getattr(parsed, key)
        if block is None:
            continue
        pos = source.pos((key,), key=True)
        if found is not None:
            problems.append(
                Problem(
                    source.path,
                    pos.line,
                    pos.column,
                    f"{_ALREADY[key]} already set at {first}; keep one '{key}'",
                )
            )
            continue
        found, first = block, f"{source.path}:{pos.line}"
    return found


def read_state_setting(root: Path, environ: Mapping[str, str] | None = None) -> StateSetting | None:
    """The workspace's `state:` block alone, for commands that do not load the whole workspace
    (state show, push, pull, force-unlock). Only files that mention `state:` are parsed, and
    only that block is interpolated and checked."""
    if not root.exists() or (root.is_dir() and not any(_yaml_files(root))):
        return None
    env = os.environ if environ is None else environ
    declared: list[Declared] = []
    problems: list[Problem] = []
    for file in workspace_files(root):
        try:
            text = file.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue  # reported by the commands that load the workspace
        if not STATE_KEY.search(text):
            continue
        source = read_source(file, _display(file))
        if source.problems or not isinstance(source.data, dict) or "state" not in source.data:
            problems.extend(source.problems)
            continue
        only = dataclasses.replace(
            source, data={"state": source.data["state"]}, problems=[], unchecked=set()
        )
        data, secret, found = interpolate(only, env)
        problems.extend(found)
        try:
            parsed = WorkspaceFile.model_validate({"version": 1, "state": data["state"]})
        except ValidationError as exc:
            problems.extend(translate(exc, only, WorkspaceFile, secret))
            continue
        if parsed.state is not None:
            declared.append((file, only, data["state"], secret))
    state, found = collect_state(declared, root)
    problems.extend(found)
    if problems:
        raise ConfigError(problems)
    return state


def _yaml_files(root: Path) -> Iterator[Path]:
    return (p for p in root.iterdir() if p.is_file() and p.suffix in (".yaml", ".yml"))
