"""`${env:NAME}` interpolation in string values.

Values that come from the environment are secrets: they are registered with `redact` so that
nothing prints them, and their paths are returned so that the caller can keep them out of
plans and state. `$${` writes a literal `${`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from descript_iac.config.source import Path_, Source
    from descript_iac.errors import Problem
from descript_iac.redact import register_secret

_TOKEN = re.compile(r"\$\$\{|\$\{([^}]*)\}")
_ENV_NAME = re.compile(r"^env:([A-Za-z_][A-Za-z0-9_]*)$")


def interpolate(
    source: Source, environ: Mapping[str, str] | None = None
) -> tuple[Any, set[Path_], list[Problem]]:
    """Return (data with variables substituted, paths of secret values, problems).

    The substitution is made in `source.data`, which is returned.
    """
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

    # Only strings holding `${` can change (the reader listed their paths); each is replaced in
    # place, so a 10,000-project workspace is not copied to substitute a handful of values.
    # A path is listed twice, or no longer leads to a string, when a merge key's value was
    # overridden: each is visited once and only where a string stands now.
    data = source.data
    for path in dict.fromkeys(source.templated):
        parent = data
        try:
            for part in path[:-1]:
                parent = parent[part]
            text = parent[path[-1]]
        except (KeyError, IndexError, TypeError):
            continue
        if isinstance(text, str):
            parent[path[-1]] = substitute(text, path)
            if path in secret_paths:
                source.templates[path] = text  # the workspace cache keeps this, not the value
    return data, secret_paths, problems


def expand(text: str, environ: Mapping[str, str]) -> str | None:
    """`text` with its variables substituted (each value registered as a secret), or None
    when one is not set or not an `${env:NAME}`. For values restored from the cache."""
    failed = False

    def one(match: re.Match[str]) -> str:
        nonlocal failed
        if match.group(0) == "$${":
            return "${"
        name = _ENV_NAME.match(match.group(1))
        if not name or name.group(1) not in environ:
            failed = True
            return ""
        value = environ[name.group(1)]
        register_secret(value)
        return value

    result = _TOKEN.sub(one, text)
    return None if failed else result


def env_names(text: str) -> list[str]:
    """The environment variables `text` refers to."""
    names = []
    for match in _TOKEN.finditer(text):
        name = _ENV_NAME.match(match.group(1) or "")
        if name:
            names.append(name.group(1))
    return names
