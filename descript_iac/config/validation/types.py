"""Stage 3 of the validation pipeline (validation/__init__.py), types: turn pydantic validation
errors into `file:line:col` problems a person can act on."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from descript_iac.config.source import Path_, Source
from descript_iac.config.validation.references import did_you_mean
from descript_iac.errors import Problem

_TYPE_NAMES = {
    "string_type": "a string",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "bool_type": "true or false",
}


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, (int, float)):
        return "a number"
    return "a string"


def _clean_loc(loc: tuple[Any, ...]) -> Path_:
    """Drop the discriminator tag pydantic puts after a media item's name."""
    path = list(loc)
    if (
        len(path) >= 5
        and path[0] == "projects"
        and path[2] == "media"
        and path[4]
        in (
            "url",
            "tracks",
        )
    ):
        del path[4]
    if len(path) >= 2 and path[0] == "state" and path[1] in ("local", "postgresql"):
        del path[1]  # the state block's backend tag
    return tuple(p for p in path if p != "[key]")


def _model_for(
    path: Path_, root: type[BaseModel], raw: tuple[Any, ...] = ()
) -> type[BaseModel] | None:
    """The model class whose fields live at `path` (for did-you-mean on unknown keys)."""
    from descript_iac.config import model as m

    if path == ("state",):
        return m.PostgresState if raw[1:2] == ("postgresql",) else m.LocalState

    shapes: dict[tuple[str, ...], type[BaseModel]] = {
        (): root,
        ("defaults",): m.Defaults,
        ("projects", "*"): m.Project,
        ("projects", "*", "lifecycle"): m.Lifecycle,
        ("projects", "*", "compositions", "#"): m.Composition,
        ("projects", "*", "compositions", "#", "clips", "#"): m.Clip,
        ("projects", "*", "steps", "#"): m.AgentStep,
        ("projects", "*", "media", "*", "tracks", "#"): m.Track,
        ("moved", "#"): m.MovedBlock,
    }
    shape = tuple(
        "#" if isinstance(p, int) else ("*" if i in (1, 3) and path[0] == "projects" else p)
        for i, p in enumerate(path)
    )
    if shape in shapes:
        return shapes[shape]
    if shape[:2] == ("projects", "*") and len(shape) == 4 and shape[2] == "media":
        return m.UrlMedia
    return None


def translate(
    exc: ValidationError, source: Source, root: type[BaseModel], secret: set[Path_]
) -> list[Problem]:
    problems = []
    for err in exc.errors(include_url=False):
        kind = err["type"]
        raw_loc = tuple(err["loc"])
        path = _clean_loc(raw_loc)
        value = err.get("input")
        # The state's URL is a secret even when written in the file itself.
        hidden = path in secret or path[:2] == ("state", "url")
        shown = "" if hidden else f": got {value!r}"
        if kind == "missing":
            field = path[-1]
            problems.append(
                source.problem(path[:-1], f"missing required key '{field}'", key=bool(path[:-1]))
            )
            continue
        if kind == "extra_forbidden":
            key = str(path[-1])
            model = _model_for(path[:-1], root, raw_loc)
            fields = [f.alias or n for n, f in model.model_fields.items()] if model else []
            hint = did_you_mean(key, fields)
            allowed = ", ".join(fields)
            tail = hint or (f" (allowed: {allowed})" if allowed else "")
            problems.append(source.problem(path, f"unknown key '{key}'{tail}", key=True))
            continue
        field = str(path[-1]) if path else "document"
        if "[key]" in raw_loc:
            message = _key_message(path)
            problems.append(source.problem(path, message, key=True))
            continue
        if kind in _TYPE_NAMES:
            message = f"'{field}' must be {_TYPE_NAMES[kind]}, not {_describe(value)}"
        elif kind == "literal_error":
            expected = err.get("ctx", {}).get("expected", "")
            message = f"'{field}' must be one of {expected}{shown}"
        elif kind == "string_too_short" and field == "model":
            message = "'model' must not be empty; remove the key to use the default model"
        elif kind == "string_too_short":
            message = f"'{field}' must not be empty"
        elif kind == "too_short":
            message = f"'{field}' needs at least one item"
        elif kind == "string_pattern_mismatch" and path == ("state", "schema"):
            message = (
                "'schema' may hold lowercase letters, digits and '_', starting with a letter or "
                f"'_'{shown}"
            )
        elif kind == "string_pattern_mismatch":
            message = (
                f"'{field}' may hold letters, digits, '.', '_' and '-', starting with a letter "
                f"or digit{shown}"
            )
        elif kind in ("greater_than", "greater_than_equal"):
            message = f"'{field}' {err['msg'].lower()}{shown}"
        elif kind == "finite_number":
            message = (
                f"'{field}' must be a finite number, not {_describe_float(value)}; write a plain "
                "number, such as 12.5"
            )
        elif kind in ("less_than", "less_than_equal"):
            limit = err.get("ctx", {}).get("le", err.get("ctx", {}).get("lt", ""))
            message = (
                f"'{field}' is too large{shown}; the most allowed is {limit}: check for a typo "
                "(an extra digit, or milliseconds where seconds are meant)"
            )
        elif kind == "state_backend":
            message = "'backend' of the state must be 'local' or 'postgresql'"
        elif kind == "media_kind" and isinstance(value, dict) and {"url", "tracks"} <= set(value):
            message = (
                f"media item '{field}' has both 'url' and 'tracks'; they are mutually exclusive: "
                "keep 'url' for an import or 'tracks' for a sequence"
            )
        elif kind == "media_kind":
            message = (
                f"media item '{field}' needs either 'url' (an import) or 'tracks' (a sequence)"
            )
        elif kind == "value_error":
            message = f"'{field}' {str(err['msg']).removeprefix('Value error, ')}{shown}"
        else:
            message = f"'{field}': {err['msg']}"
        problems.append(source.problem(path, message))
    return problems


def _describe_float(value: Any) -> str:
    if isinstance(value, float) and value != value:
        return "NaN (.nan)"
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return "infinity (.inf)"
    return repr(value)


def _key_message(path: Path_) -> str:
    if len(path) == 2 and path[0] == "projects":
        return (
            f"project address '{path[1]}' must be a lowercase slug: a-z, 0-9, '.', '_', '-', "
            "starting with a letter or digit"
        )
    return f"invalid key '{path[-1]}'"
