"""Where a stored value breaks the state's schema, said the way a person finds it in the file.

msgspec says what is wrong and where, but names a map's entry `[...]`
(`$.projects[...].steps[0].attempts`): the entry is found here by checking the map's entries
one at a time (only when a value was refused, so the cost does not matter), and the place is
written as a dotted path (`projects.ep.steps.0.attempts`).
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

_SPLIT = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)
_STEP = re.compile(r"\.([^.\[]+)|\[(\d+)\]|\[\.\.\.\]")
_FIELD = re.compile(r"^Object (missing required|contains unknown) field `(?P<name>[^`]*)`$")
# The words of the messages this release printed before (pydantic's): tests and people search
# for them.
_WORDS = {
    "missing required": "Field required",
    "contains unknown": "Extra inputs are not permitted",
}


def located(data: Any, kind: Any, error: msgspec.ValidationError) -> tuple[str, str]:
    """(dotted path, message) of the value of `data` that `error` (from converting `data` to
    `kind`) refused."""
    found = _SPLIT.match(str(error))
    assert found is not None  # the pattern matches any text
    message, path = found["message"], found["path"] or ""
    steps = _resolved(data, kind, path, str(error))
    field = _FIELD.match(message)
    if field is not None:
        steps.append(field["name"])
        message = _WORDS[field.group(1)]
    return ".".join(str(s) for s in steps), message


def _resolved(data: Any, kind: Any, path: str, error: str) -> list[str | int]:
    """The steps of msgspec's `path` into `data`, each `[...]` replaced by the map's key whose
    entry holds the refused value."""
    steps: list[str | int] = []
    node = data
    for name, index in (m.groups() for m in _STEP.finditer(path)):
        if name is not None:
            step: str | int = name
        elif index is not None:
            step = int(index)
        else:
            step = _culprit(data, kind, steps, node, error)
            if step != "...":  # look further into that entry alone
                data = _narrowed(data, steps, step)
        steps.append(step)
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            break
    return steps


def _culprit(data: Any, kind: Any, steps: list[str | int], entries: Any, error: str) -> str:
    """The key of the map at `steps` whose entry alone fails with the same `error` (else the
    first entry that fails at all; `...` if none does)."""
    if not isinstance(entries, dict):
        return "..."
    failing = []
    for key in entries:
        try:
            msgspec.convert(_narrowed(data, steps, key), kind)
        except msgspec.ValidationError as exc:
            if str(exc) == error:
                return str(key)
            failing.append(str(key))
    return failing[0] if failing else "..."


def _narrowed(node: Any, steps: list[str | int], key: Any) -> Any:
    """A copy of `node` in which the map at `steps` holds only its entry `key`."""
    if not steps:
        return {key: node[key]}
    copy = dict(node) if isinstance(node, dict) else list(node)
    copy[steps[0]] = _narrowed(node[steps[0]], steps[1:], key)  # type: ignore[index]
    return copy
