"""`${env:NAME}` interpolation in string values.

Values that come from the environment are secrets: they are registered with `redact` so that
nothing prints them, and their paths are returned so that the caller can keep them out of
plans and state. `$${` writes a literal `${`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from descript_iac.config.yamlsource import Path_, Source
from descript_iac.errors import Problem
from descript_iac.redact import register_secret

_TOKEN = re.compile(r"\$\$\{|\$\{([^}]*)\}")
_ENV_NAME = re.compile(r"^env:([A-Za-z_][A-Za-z0-9_]*)$")


def interpolate(
    source: Source, environ: Mapping[str, str] | None = None
) -> tuple[Any, set[Path_], list[Problem]]:
    """Return (data with variables substituted, paths of secret values, problems)."""
    env = os.environ if environ is None else environ
    secret_paths: set[Path_] = set()
    problems: list[Problem] = []

    def substitute(text: str, path: Path_) -> str:
        if "${" not in text:
            return text

        def one(match: re.Match[str]) -> str:
            if match.group(0) == "$${":
                return "${"
            inner = match.group(1)
            name = _ENV_NAME.match(inner)
            if not name:
                source.unchecked.add(path)
                problems.append(
                    source.problem(
                        path,
                        f"cannot interpolate '${{{inner}}}': write ${{env:NAME}} for an "
                        "environment variable, or $${ for a literal '${'",
                    )
                )
                return ""
            var = name.group(1)
            if var not in env:
                source.unchecked.add(path)
                problems.append(
                    source.problem(
                        path,
                        f"environment variable {var} is not set (used as ${{env:{var}}}); "
                        f"export {var} before running",
                    )
                )
                return ""
            value = env[var]
            register_secret(value)
            secret_paths.add(path)
            return value

        return _TOKEN.sub(one, text)

    def walk(value: Any, path: Path_) -> Any:
        if isinstance(value, str):
            return substitute(value, path)
        if isinstance(value, list):
            return [walk(item, (*path, i)) for i, item in enumerate(value)]
        if isinstance(value, dict):
            return {k: walk(v, (*path, k)) for k, v in value.items()}
        return value

    return walk(source.data, ()), secret_paths, problems
