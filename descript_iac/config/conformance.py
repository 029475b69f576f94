"""Whether a file's data conforms to the workspace's JSON Schema, answered without pydantic.

`validate` of a file new to the workspace cache needs one verdict. Importing pydantic's model
machinery and building the workspace models costs three times the rest of the check (issue
#13), so the verdict comes from the JSON Schema that is generated from the models
(config/schema.py) and shipped beside this module; a test fails when it drifts from them.

It is read with JSON's rules, which are never looser than the models': a boolean is not a
number, `"5"` is not an integer (pydantic would coerce both), a pattern's `$` is the end of the
text. So data this reader accepts, pydantic accepts too. Anything else (refused, or coerced by
pydantic) goes to pydantic, which either accepts it or says what is wrong in its own words
(config/typing_errors.py): the messages are the models', whichever reader saw the file first.

Only the keywords the generated schema uses are read; any other makes the schema unreadable
here (an error the schema test reports), never silently ignored.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

SCHEMA_FILE = Path(__file__).with_name("descript-iac.schema.json")

Check = Callable[[Any], bool]

_TYPES: dict[str, Check] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}
# Words for people and editors: they constrain nothing.
_ANNOTATIONS = frozenset({"title", "description", "default", "$schema", "$id", "$defs"})
_OBJECT = ("properties", "patternProperties", "additionalProperties")


class UnreadableSchema(Exception):
    """The schema uses something this reader does not know (a test compiles the shipped one)."""


def _anything(value: Any) -> bool:
    return True


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _same(a: Any, b: Any) -> bool:
    """JSON equality of scalars: `true` is not `1`, nor `1.0` an integer's `1` (stricter than
    JSON, which never loosens the verdict)."""
    return type(a) is type(b) and a == b


def _pattern(text: str) -> Callable[[str], object]:
    """A JSON Schema (ECMA-262) pattern as a Python search. Only patterns that mean the same in
    both, and in pydantic's Rust regex: no escapes, `$` only at the end (where Python's would also
    match before a final line break, so it becomes `\\Z`)."""
    if "\\" in text or "$" in text[:-1]:
        raise UnreadableSchema(f"pattern {text!r}")
    body = text[:-1] + r"\Z" if text.endswith("$") else text
    return re.compile(body).search


class _Reader:
    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self.defs: dict[str, Check] = {}

    def compile(self, node: Any) -> Check:
        if not isinstance(node, dict):
            raise UnreadableSchema(f"schema {node!r}")
        checks = [
            self._keyword(k, v)
            for k, v in node.items()
            if k not in _ANNOTATIONS and k not in _OBJECT
        ]
        if any(k in node for k in _OBJECT):
            checks.append(self._object(node))
        if len(checks) == 1:
            return checks[0]
        return lambda v: all(c(v) for c in checks)

    def _keyword(self, keyword: str, arg: Any) -> Check:
        if keyword == "type":
            if arg not in _TYPES:
                raise UnreadableSchema(f"type {arg!r}")
            return _TYPES[arg]
        if keyword == "$ref":
            return self._ref(arg)
        if keyword == "const":
            return lambda v: _same(v, arg)
        if keyword == "enum":
            return lambda v: any(_same(v, choice) for choice in arg)
        if keyword == "anyOf":
            options = [self.compile(n) for n in arg]
            return lambda v: any(o(v) for o in options)
        if keyword == "oneOf":
            options = [self.compile(n) for n in arg]
            return lambda v: sum(1 for o in options if o(v)) == 1
        if keyword == "required":
            return lambda v: not isinstance(v, dict) or all(k in v for k in arg)
        if keyword == "propertyNames":
            names = self.compile(arg)
            return lambda v: not isinstance(v, dict) or all(names(k) for k in v)
        if keyword == "items":
            item = self.compile(arg)
            return lambda v: not isinstance(v, list) or all(item(i) for i in v)
        if keyword == "minItems":
            return lambda v: not isinstance(v, list) or len(v) >= arg
        if keyword == "minLength":
            return lambda v: not isinstance(v, str) or len(v) >= arg
        if keyword == "pattern":
            search = _pattern(arg)
            return lambda v: not isinstance(v, str) or search(v) is not None
        if keyword == "minimum":
            return lambda v: not _number(v) or v >= arg
        if keyword == "exclusiveMinimum":
            return lambda v: not _number(v) or v > arg
        raise UnreadableSchema(f"keyword {keyword!r}")

    def _object(self, node: dict[str, Any]) -> Check:
        properties = {k: self.compile(n) for k, n in node.get("properties", {}).items()}
        patterns = [
            (_pattern(p), self.compile(n)) for p, n in node.get("patternProperties", {}).items()
        ]
        extra = node.get("additionalProperties", True)
        others: Check | None = (
            None if extra is False else ((lambda v: True) if extra is True else self.compile(extra))
        )

        def check(value: Any) -> bool:
            if not isinstance(value, dict):
                return True
            for key, item in value.items():
                applying = [c for search, c in patterns if search(key) is not None]
                if key in properties:
                    applying.append(properties[key])
                if not applying:
                    if others is None:
                        return False
                    applying.append(others)
                if not all(c(item) for c in applying):
                    return False
            return True

        return check

    def _ref(self, ref: str) -> Check:
        prefix = "#/$defs/"
        if not ref.startswith(prefix) or ref[len(prefix) :] not in self.schema.get("$defs", {}):
            raise UnreadableSchema(f"$ref {ref!r}")
        name = ref[len(prefix) :]
        if name not in self.defs:
            self.defs[name] = lambda v: False  # a recursive reference, until compiled
            compiled = self.compile(self.schema["$defs"][name])
            self.defs[name] = compiled
        defs = self.defs
        return lambda v: defs[name](v)


def compile_schema(schema: dict[str, Any]) -> Check:
    """A check of data against `schema`; `UnreadableSchema` if it uses what this cannot read."""
    return _Reader(schema).compile(schema)


_compiled: list[Check] = []


def conforms(data: Any) -> bool:
    """Whether `data` (one file, interpolated) is valid by the shipped workspace schema."""
    if not _compiled:
        _compiled.append(compile_schema(orjson.loads(SCHEMA_FILE.read_bytes())))
    return _compiled[0](data)
