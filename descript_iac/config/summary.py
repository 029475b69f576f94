"""What `validate` reports: the size of a valid workspace, from the cache when it can be.

When every file of the workspace is in the workspace cache with the same bytes and the same
values of the environment variables it uses, each was found valid by this very code, so the
answer needs no parsing and no model: a `validate` of unchanged files starts in the time of
its imports. Otherwise the workspace is loaded, which reports every problem.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from descript_iac.config.cache import WorkspaceCache
from descript_iac.errors import Problem


def check_workspace(
    root: Path, cache_dir: Path | None = None, environ: Mapping[str, str] | None = None
) -> tuple[int, int, tuple[Problem, ...]]:
    """(projects, files, warnings) of the valid workspace at `root`; `ConfigError` lists its
    problems."""
    env = os.environ if environ is None else environ
    if cache_dir is not None:
        cache = WorkspaceCache(cache_dir)
        try:
            found = cache.summary(root, env)
        finally:
            cache.close()
        if found is not None:
            return (*found, ())
    from descript_iac.config.loader import load_workspace

    workspace = load_workspace(root, env, cache_dir=cache_dir)
    return len(workspace.projects), len(workspace.files), workspace.warnings
