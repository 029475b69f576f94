"""Stage 2, schema: whether a file's data conforms to the workspace's JSON Schema, without pydantic.

`validate` of a file new to the workspace cache needs one verdict. Importing pydantic's model
machinery and building the workspace models costs three times the rest of the check (issue
#13), so the verdict comes from the JSON Schema generated from the models (config/schema.py),
shipped beside them (`config/descript-iac.schema.json`; a test fails when it drifts).

The validator is fastjsonschema (it compiles the schema to Python once per process): the
`jsonschema` library says the same and is what the tests use, but takes 9.7 s for 10,000
projects where fastjsonschema takes 0.9 s (issue #22, `benchmarks/validate_scale.py`).

Its yes must always be pydantic's yes, so a `validate` that says "valid" never meets a `plan`
that refuses the same file: a refused file (or one pydantic would coerce) goes to pydantic,
which either accepts it or says what is wrong in its own words (validation/types.py).
fastjsonschema reads the schema by draft 2019-09 and ignores keywords it does not know, so
only the keywords the generated schema uses, which mean the same in every draft, are let
through; any other makes the schema unreadable here (an error the schema test reports), never
silently ignored. Patterns are Python regexes in fastjsonschema, ECMA-262 in JSON Schema and
Rust regexes in pydantic: only patterns that mean the same in all three are read (no escapes,
`$` only at the end, which fastjsonschema reads as the end of the text). A float without a
fraction (an integer to JSON Schema since draft 6), NaN or infinity is left to pydantic.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import marshal
import math
import os
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

SCHEMA_FILE = Path(__file__).parent.parent / "descript-iac.schema.json"

Check = Callable[[Any], bool]

# Words for people and editors: they constrain nothing.
_ANNOTATIONS = frozenset({"title", "description", "default", "$schema", "$id", "$defs"})
_KEYWORDS = frozenset(
    {
        *("type", "$ref", "const", "enum", "anyOf", "oneOf", "required", "propertyNames"),
        *("items", "minItems", "minLength", "pattern", "minimum", "exclusiveMinimum"),
        *("maximum", "properties", "patternProperties", "additionalProperties"),
    }
)
_SCHEMAS_IN = {
    "properties": "map",
    "patternProperties": "map",
    "anyOf": "list",
    "oneOf": "list",
    "items": "one",
    "propertyNames": "one",
    "additionalProperties": "one",
}


class UnreadableSchema(Exception):
    """The schema uses something not read here exactly (a test compiles the shipped one)."""


def _pattern(text: Any) -> None:
    if not isinstance(text, str) or "\\" in text or "$" in text[:-1]:
        raise UnreadableSchema(f"pattern {text!r}")


def _readable(node: Any, defs: dict[str, Any]) -> None:
    """Raise `UnreadableSchema` unless every keyword of `node` (and below) is one read exactly."""
    if isinstance(node, bool):
        return
    if not isinstance(node, dict):
        raise UnreadableSchema(f"schema {node!r}")
    for keyword, arg in node.items():
        if keyword in _ANNOTATIONS:
            continue
        if keyword not in _KEYWORDS:
            raise UnreadableSchema(f"keyword {keyword!r}")
        if keyword == "pattern":
            _pattern(arg)
        elif keyword == "$ref" and not (
            isinstance(arg, str) and arg.startswith("#/$defs/") and arg[8:] in defs
        ):
            raise UnreadableSchema(f"$ref {arg!r}")
        elif keyword == "patternProperties":
            for name in arg:
                _pattern(name)
        kind = _SCHEMAS_IN.get(keyword)
        children = arg.values() if kind == "map" else arg if kind == "list" else [arg]
        for child in children if kind else ():
            _readable(child, defs)


def _validator_code(schema: dict[str, Any]) -> str:
    """fastjsonschema's Python source of a validator of `schema`; its entry is `validate`."""
    defs = schema.get("$defs", {})
    _readable(schema, defs)
    for definition in defs.values():
        _readable(definition, defs)
    import fastjsonschema

    # Without `$id`, references resolve in the document and the entry is named `validate`. No
    # defaults written into the data; no remote references (the check above allows none).
    local = {k: v for k, v in schema.items() if k != "$id"}
    return fastjsonschema.compile_to_code(local, use_default=False, use_formats=False)


def _load(code: types.CodeType) -> Callable[[Any], Any]:
    namespace: dict[str, Any] = {}
    exec(code, namespace)
    validate: Callable[[Any], Any] = namespace["validate"]
    return validate


def _compiled_validator(raw: bytes, keep_in: Path | None) -> Callable[[Any], Any]:
    """The validator of the schema `raw`, compiled by fastjsonschema (~40-70 ms of generating
    and compiling Python, which a `validate` of one changed file would pay at every run), or
    loaded from `keep_in` where an earlier run kept its bytecode (~2 ms). The file's name holds
    what the bytecode depends on: the schema, fastjsonschema's version, Python's bytecode magic."""
    import fastjsonschema

    key = hashlib.sha256(
        b"\0".join([raw, fastjsonschema.VERSION.encode(), importlib.util.MAGIC_NUMBER])
    ).hexdigest()[:32]
    kept = keep_in / f"schema-validator-{key}.marshal" if keep_in is not None else None
    if kept is not None:
        try:
            return _load(marshal.loads(kept.read_bytes()))
        except (OSError, ValueError, EOFError, TypeError, KeyError):
            pass  # not kept yet, or unreadable: compiled again below
    code = compile(_validator_code(msgspec.json.decode(raw)), str(SCHEMA_FILE), "exec")
    if kept is not None:
        with contextlib.suppress(OSError):  # a cache that cannot be written only costs time
            kept.parent.mkdir(parents=True, exist_ok=True)
            temporary = kept.with_name(f"{kept.name}.{os.getpid()}.tmp")
            temporary.write_bytes(marshal.dumps(code))
            os.replace(temporary, kept)
    return _load(code)


def compile_schema(schema: dict[str, Any]) -> Check:
    """A check of data against `schema`; `UnreadableSchema` if it uses what is not read exactly."""
    return _check(_load(compile(_validator_code(schema), "<schema>", "exec")))


def _check(validate: Callable[[Any], Any]) -> Check:
    import fastjsonschema

    invalid = fastjsonschema.JsonSchemaValueException

    def check(data: Any) -> bool:
        if _float_json_reads_apart(data):
            return False
        try:
            validate(data)
        except invalid:
            return False
        return True

    return check


def _float_json_reads_apart(data: Any) -> bool:
    """Whether `data` holds a float JSON Schema reads apart from the models: one without a
    fraction (`1.0`, an integer by JSON Schema since draft 6, which a media `revision` refuses
    so that its digest never changes with the spelling), or `.nan` / `.inf` (not JSON; a bound
    such as `minimum` lets NaN through). Such a file goes to pydantic to decide."""
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, float) and (value.is_integer() or not math.isfinite(value)):
            return True
    return False


_compiled: list[Check] = []


def conforms(data: Any, keep_in: Path | None = None) -> bool:
    """Whether `data` (one file, interpolated) is valid by the shipped workspace schema. The
    validator is compiled once per process, its bytecode kept in `keep_in` (the workspace
    cache's directory) for the next process."""
    if not _compiled:
        _compiled.append(_check(_compiled_validator(SCHEMA_FILE.read_bytes(), keep_in)))
    return _compiled[0](data)
