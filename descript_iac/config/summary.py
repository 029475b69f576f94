"""What `validate` reports: the size of a valid workspace, found without building a model.

Each file is checked alone (the validation pipeline, config/validation/): from the workspace
cache when its bytes and the values of the environment variables it uses are unchanged, else
read and checked against the workspace's JSON Schema, which needs no pydantic model. When
every file is valid and they fit together (no project twice, one `defaults` at most), that is
the answer. Otherwise, or when a file declares `moved:` (checked across files on the models),
the workspace is loaded in full, which reports every problem. A `state:` block is checked on
its values (config/statesetting.py), as the full load checks it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from descript_iac.collector import paused
from descript_iac.config.cache import WorkspaceCache
from descript_iac.config.files import workspace_files
from descript_iac.config.statesetting import Declared, collect_state
from descript_iac.config.validation.pipeline import check_file
from descript_iac.errors import Problem

Summary = tuple[int, int, tuple[Problem, ...]]


def check_workspace(
    root: Path, cache_dir: Path | None = None, environ: Mapping[str, str] | None = None
) -> Summary:
    """(projects, files, warnings) of the valid workspace at `root`; `ConfigError` lists its
    problems."""
    env = os.environ if environ is None else environ
    cache = WorkspaceCache(cache_dir) if cache_dir is not None else None
    try:
        with paused():
            found = _without_models(root, env, cache)
    finally:
        if cache is not None:
            cache.close()
    if found is not None:
        return found
    from descript_iac.config.loader import load_workspace

    workspace = load_workspace(root, env, cache_dir=cache_dir)
    return len(workspace.projects), len(workspace.files), workspace.warnings


def _without_models(
    root: Path, environ: Mapping[str, str], cache: WorkspaceCache | None
) -> Summary | None:
    files = workspace_files(root)
    addresses: set[str] = set()
    defaults = budgets = 0
    warnings: list[Problem] = []
    declared: list[Declared] = []
    for file in files:
        checked = check_file(file, environ, cache, models=False)
        data = checked.source.data
        if checked.skipped:
            warnings.extend(checked.source.warnings)
            continue
        if checked.problems or "moved" in data:
            return None
        if data.get("state") is not None:
            declared.append((file, checked.source, data["state"], checked.secret))
        projects = data.get("projects") or {}
        if addresses & projects.keys():
            return None
        addresses |= projects.keys()
        defaults += data.get("defaults") is not None
        budgets += data.get("budget") is not None
        warnings.extend(checked.source.warnings)
    if defaults > 1 or collect_state(declared, root)[1] or budgets > 1:
        return None
    return len(addresses), len(files), tuple(sorted(warnings))
