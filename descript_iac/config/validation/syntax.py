"""Stage 1, syntax: the file reads as YAML (config/yamlsource.py says where it does not), its
top level is a mapping, it is a workspace file at all, and it declares a version this
descript-iac reads.

A YAML file with none of the workspace's keys at its top (a CI or compose file beside the
workspace's) is skipped with one note, not reported as a dozen unknown keys.
"""

from __future__ import annotations

from typing import Any

from descript_iac.config.source import Source
from descript_iac.errors import Problem

SUPPORTED_VERSIONS = (1,)
WORKSPACE_KEYS = frozenset({"version", "projects", "defaults", "state", "moved", "budget"})


def check_syntax(source: Source) -> list[Problem] | None:
    """The problems that stop the check of `source` here (its YAML's, an empty file, a top level
    that is not a mapping); `None` when it is not a workspace file (its note is added to its
    warnings); `[]` when the next stages can read its data."""
    if source.problems:
        return list(source.problems)
    if source.data is None:
        return [source.problem((), "file is empty; add 'version: 1'")]
    if not isinstance(source.data, dict):
        return [source.problem((), "top level must be a mapping")]
    if not WORKSPACE_KEYS & set(source.data):
        source.warnings.append(
            source.problem(
                (),
                "not a descript-iac file (no version:, projects:, defaults:, state:, moved: or "
                "budget: at its top level): skipped",
            )
        )
        return None
    return []


def check_version(source: Source, data: dict[str, Any]) -> list[Problem]:
    """The `version:` of the interpolated `data`: present, and one this descript-iac reads."""
    if "version" not in data:
        return [source.problem((), "missing required key 'version'; add 'version: 1'")]
    version = data["version"]
    if version not in SUPPORTED_VERSIONS or isinstance(version, bool):
        return [
            source.problem(
                ("version",),
                f"unsupported version {version!r}; this descript-iac reads version 1 "
                "(upgrade descript-iac for newer files)",
            )
        ]
    return []
