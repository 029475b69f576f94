"""The validation pipeline of one file: read, interpolated and checked stage by stage, or served
from the workspace cache. The stages and their order are in validation/__init__.py.

Its shape is checked in one of two ways. `load_workspace` builds the pydantic models from the
data (pydantic checks while it builds, and plan needs the models). `validate` needs only the
verdict: it asks the JSON Schema generated from those models (validation/schema.py), so a
valid file costs no model; pydantic sees only data the schema refused, and then either accepts
it or says what is wrong. The messages are pydantic's, translated, either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from descript_iac.config.cache import WorkspaceCache
from descript_iac.config.files import MAX_FILE_BYTES, display
from descript_iac.config.interpolate import interpolate
from descript_iac.config.source import SHALLOW, Path_, Pos, Source
from descript_iac.config.validation.lifecycle import check_lifecycle
from descript_iac.config.validation.references import (
    check_defaults,
    check_project,
    media_url_warnings,
)
from descript_iac.config.validation.schema import conforms
from descript_iac.config.validation.syntax import check_syntax, check_version
from descript_iac.errors import Problem

if TYPE_CHECKING:
    from descript_iac.config.model import WorkspaceFile


class CheckedFile(msgspec.Struct):
    """A file and every problem of it alone (none: it is valid by itself)."""

    source: Source  # its data (interpolated), the positions known, its warnings
    secret: set[Path_]  # paths of the values from the environment
    problems: list[Problem]
    parsed: WorkspaceFile | None = None  # the models, when asked for and valid
    skipped: bool = False  # not a workspace file: its one warning says so


def check_file(
    file: Path, environ: Mapping[str, str], cache: WorkspaceCache | None, *, models: bool
) -> CheckedFile:
    """Read and check `file`; with `models`, build its `WorkspaceFile` too (else `parsed` stays
    None, unless pydantic had to decide). A valid file without warnings is kept in `cache`."""
    name = display(file)
    key = None
    if cache is not None:
        key, content = _cache_key(file, cache)
        hit = cache.get(key, environ) if key else None
        if hit is not None:
            at = {path: Pos(*where) for path, where in hit.keys.items()}
            of = {path: Pos(*where) for path, where in hit.values.items()}
            # Stored by the fast path (keys only): other positions come from the same text.
            text = None if of else content.decode("utf-8")
            cached = Source(name, data=hit.data, keys=at, values=of, text=text)
            return CheckedFile(cached, hit.secret, [], _validated(hit.data) if models else None)
    from descript_iac.config.yamlsource import read_source  # a file served above needs no yaml

    source = read_source(file, name)
    try:
        checked = _check(source, environ, models, cache.directory if cache else None)
        if not checked.problems and not checked.skipped:  # placed while the graph is there
            source.warnings = media_url_warnings(source, source.data, checked.secret)
    finally:
        source.release()  # the node graph: deeper positions are only needed to place problems
    # A file with warnings is not cached: a cached file is read without its node graph.
    if cache is not None and key and not checked.problems and not source.warnings:
        keys = {p: (k.line, k.column) for p, k in source.keys.items() if len(p) <= SHALLOW}
        values = {p: (v.line, v.column) for p, v in source.values.items() if len(p) <= SHALLOW}
        cache.put(key, source.data, source.templates, keys, values, environ)
    return checked


def _cache_key(file: Path, cache: WorkspaceCache) -> tuple[str | None, bytes]:
    try:
        if file.stat().st_size > MAX_FILE_BYTES:
            return None, b""
        content = file.read_bytes()
        return cache.key(content), content
    except OSError:
        return None, b""  # read_source says what is wrong


def _validated(data: dict[str, Any]) -> WorkspaceFile | None:
    from pydantic import ValidationError

    from descript_iac.config.model import WorkspaceFile

    try:
        return WorkspaceFile.model_validate(data)
    except ValidationError:  # pragma: no cover - it validated when it was stored
        return None


def _check(
    source: Source, environ: Mapping[str, str], models: bool, keep_in: Path | None
) -> CheckedFile:
    """The stages in their order; each reports every problem it finds, and a file that fails
    the syntax stage goes no further (there is no data to check)."""
    stopped = check_syntax(source)  # 1. syntax
    if stopped is None:
        source.data = None
        return CheckedFile(source, set(), [], skipped=True)
    if stopped:
        return CheckedFile(source, set(), stopped)
    data, secret, interpolation_problems = interpolate(source, environ)
    problems = list(interpolation_problems)
    version_problems = check_version(source, data)
    problems.extend(version_problems)
    parsed, found = _typed(source, data, secret, models, keep_in)  # 2. schema, 3. types
    if version_problems:
        found = [p for p in found if "'version'" not in p.message]
    problems.extend(found)
    # 4. cross-references (and the value rules a schema cannot say), 5. lifecycle; on the raw
    # data, so that they report even where the types stage found problems elsewhere.
    problems.extend(check_defaults(source, data.get("defaults")))
    projects = data.get("projects")
    if isinstance(projects, dict):
        for address, project in projects.items():
            problems.extend(check_project(source, address, project))
            problems.extend(check_lifecycle(source, address, project))
    return CheckedFile(source, secret, problems, None if problems else parsed)


def _typed(
    source: Source, data: dict[str, Any], secret: set[Path_], models: bool, keep_in: Path | None
) -> tuple[WorkspaceFile | None, list[Problem]]:
    """The file's models (built when `models`, or when the schema alone cannot tell) and the
    problems of its shape."""
    if not models and conforms(data, keep_in):
        return None, []
    from pydantic import ValidationError

    from descript_iac.config.model import WorkspaceFile
    from descript_iac.config.validation.types import translate

    try:
        return WorkspaceFile.model_validate(data), []
    except ValidationError as exc:
        return None, translate(exc, source, WorkspaceFile, secret)
