"""The workspace's `state:` block: where its state lives, declared once, in any file of it.

A local path is resolved against the directory of the file that declares it, so the workspace
finds the same state from any working directory. A PostgreSQL URL is interpolated like any value
and is a secret; a password written in the file itself is refused (it would be committed).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from descript_iac.config.source import Path_, Source
from descript_iac.errors import Problem
from descript_iac.redact import register_url_secret

# Files without this text cannot declare a state (read_state_setting skips them unparsed).
STATE_KEY = re.compile(r"""\bstate['"]?\s*:""")
URL_SCHEMES = ("postgresql://", "postgres://")

# A declared block: the file, its source, the block's values (interpolated, of a valid shape:
# `LocalState` or `PostgresState` of config/model.py, checked by the models or the schema) and
# the paths of values from `${env:}`. Plain values, so that `validate` needs no model.
Declared = tuple[Path, Source, Mapping[str, Any], set[Path_]]


@dataclass(frozen=True)
class StateSetting:
    """The workspace's `state:` block, resolved: where its state lives."""

    backend: Literal["local", "postgresql"]
    where: str  # file:line of the block
    path: Path | None = None  # local: resolved against the declaring file's directory
    url: str | None = field(default=None, repr=False)  # postgresql: a secret
    name: str | None = None  # postgresql: the state's name (the workspace's name by default)
    schema: str | None = None  # postgresql: None for the default schema
    path_at: str = ""  # local: file:line:col of the block's `path`, for errors about the file


def workspace_name(root: Path) -> str:
    """The workspace's name: its directory's name (a single-file workspace: the file's stem)."""
    resolved = root.resolve()
    return resolved.stem if resolved.is_file() else resolved.name


def _resolve(
    declared: Declared, root: Path, where: str
) -> tuple[StateSetting | None, list[Problem]]:
    file, source, block, from_env = declared
    if block["backend"] == "local":
        path = Path(os.path.normpath(file.absolute().parent / block["path"]))
        at = source.pos(("state", "path"))
        path_at = f"{source.path}:{at.line}:{at.column}"
        why = _local_path_problem(path)
        if why:
            return None, [source.problem(("state", "path"), why)]
        return StateSetting("local", where, path=path, path_at=path_at), []
    url: str = block["url"]
    register_url_secret(url)
    if not url.startswith(URL_SCHEMES):
        return None, [
            source.problem(
                ("state", "url"),
                "'url' must be a postgresql:// URL (postgresql://USER:PASSWORD@HOST:PORT/DBNAME)",
            )
        ]
    try:
        password = urlsplit(url).password
    except ValueError as exc:  # e.g. an unclosed [ in the host
        return None, [source.problem(("state", "url"), f"'url' is not a valid URL ({exc})")]
    if password and ("state", "url") not in from_env:
        return None, [
            source.problem(
                ("state", "url"),
                "the database password is written in the file, and would be committed with it; "
                'write url: "${env:DESCRIPT_IAC_PG_URL}" and set that variable',
            )
        ]
    name = block.get("name") or workspace_name(root)
    setting = StateSetting("postgresql", where, url=url, name=name, schema=block.get("schema"))
    return setting, []


def _local_path_problem(path: Path) -> str | None:
    """What makes `path` unusable as a local state file, seen without reading it."""
    if path.is_symlink():
        return (
            f"the state path {path} is a symbolic link; descript-iac does not follow links for "
            "the state (writing it would replace the link with a plain file). Give the path of "
            "the file it points to, or replace the link with that file"
        )
    if path.is_dir():
        return (
            f"the state path {path} is a directory; give the path of a file, e.g. "
            "state/<workspace>.json"
        )
    if path.exists() and not path.is_file():
        return f"the state path {path} is not a regular file (a device or a pipe); give a file"
    return None


def collect_state(
    declared: list[Declared], root: Path
) -> tuple[StateSetting | None, list[Problem]]:
    """The one `state:` block of a workspace; a second one is a problem naming both places."""
    setting: StateSetting | None = None
    first = ""
    problems: list[Problem] = []
    for item in declared:
        source = item[1]
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
        setting, found = _resolve(item, root, where)
        problems.extend(found)
    return setting, problems
