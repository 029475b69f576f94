"""The workspace's `state:` block: where its state lives, declared once, in any file of it.

A local path is resolved against the directory of the file that declares it, so the workspace
finds the same state from any working directory. A PostgreSQL URL is interpolated like any value
and is a secret even when written in the file itself.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Union

from descript_iac.config.desired import StateSetting
from descript_iac.config.model import LocalState, PostgresState
from descript_iac.config.yamlsource import Source
from descript_iac.errors import Problem
from descript_iac.redact import register_url_secret

# Files without this text cannot declare a state (read_state_setting skips them unparsed).
STATE_KEY = re.compile(r"""\bstate['"]?\s*:""")
URL_SCHEMES = ("postgresql://", "postgres://")

Block = Union[LocalState, PostgresState]


def workspace_name(root: Path) -> str:
    """The workspace's name: its directory's name (a single-file workspace: the file's stem)."""
    resolved = root.resolve()
    return resolved.stem if resolved.is_file() else resolved.name


def _resolve(
    file: Path, source: Source, block: Block, root: Path, where: str
) -> tuple[StateSetting | None, list[Problem]]:
    if isinstance(block, LocalState):
        path = Path(os.path.normpath(file.absolute().parent / block.path))
        return StateSetting("local", where, path=path), []
    register_url_secret(block.url)
    if not block.url.startswith(URL_SCHEMES):
        return None, [
            source.problem(
                ("state", "url"),
                "'url' must be a postgresql:// URL (postgresql://USER:PASSWORD@HOST:PORT/DBNAME)",
            )
        ]
    name = block.name or workspace_name(root)
    setting = StateSetting("postgresql", where, url=block.url, name=name, schema=block.schema_name)
    return setting, []


def collect_state(
    declared: list[tuple[Path, Source, Block]], root: Path
) -> tuple[StateSetting | None, list[Problem]]:
    """The one `state:` block of a workspace; a second one is a problem naming both places."""
    setting: StateSetting | None = None
    first = ""
    problems: list[Problem] = []
    for file, source, block in declared:
        pos = source.pos(("state",), key=True)
        where = f"{source.path}:{pos.line}"
        if first:
            problems.append(
                Problem(
                    source.path,
                    pos.line,
                    pos.column,
                    f"the state is already declared at {first}; declare it in one file of the "
                    "workspace",
                )
            )
            continue
        first = where
        setting, found = _resolve(file, source, block, root, where)
        problems.extend(found)
    return setting, problems
