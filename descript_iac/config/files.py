"""Which files make up a workspace: the `*.yaml` and `*.yml` files of a directory, sorted."""

from __future__ import annotations

import functools
import os
from pathlib import Path

from descript_iac.errors import DescriptIacError

# A larger file is refused unread (config/yamlsource.py says so).
MAX_FILE_BYTES = 10 * 1024 * 1024
# Bytes a file's document may take once read, aliases counted each time they are used: a
# scalar counts its length, every node NODE_BYTES more. Sized from the file limit, so a file
# without aliases (at most a few nodes per line) always fits and an alias bomb stops within the
# budget however few values it has (one 1 MB prompt used by 3,000 aliases is 3 GB expanded).
NODE_BYTES = 16
MAX_EXPANDED_BYTES = 4 * MAX_FILE_BYTES


def workspace_files(root: Path) -> list[Path]:
    if not root.exists():
        raise DescriptIacError(f"{root}: no such directory; give the workspace directory")
    if root.is_file():
        return [root]
    # Any case of the suffix (b.YAML is a workspace file too). A broken symbolic link is kept,
    # so that reading it reports it; editors' lock files (.#name.yaml) are not workspace files.
    files = sorted(
        p
        for p in root.iterdir()
        if p.suffix.lower() in (".yaml", ".yml")
        and not p.name.startswith(".#")
        and (p.is_file() or (p.is_symlink() and not p.exists()))
    )
    if not files:
        raise DescriptIacError(
            f"{root}: no *.yaml or *.yml files here; a workspace is a directory of YAML files"
        )
    return files


def display(path: Path) -> str:
    """How a file is named in messages: relative to the working directory when it can be."""
    return _relative(str(path), os.getcwd())


@functools.lru_cache(maxsize=4096)
def _relative(path: str, cwd: str) -> str:
    # A plan names each file several times: relpath (two abspaths and a walk) runs once a name.
    try:
        return os.path.relpath(path, cwd)
    except ValueError:
        return path
