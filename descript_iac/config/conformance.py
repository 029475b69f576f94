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

import msgspec

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


# Combinators as plain loops: a 10,000-project workspace is a few million calls.
def _all(checks: list[Check]) -> Check:
    if not checks:
        return _anything
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda v: first(v) and second(v)

    def every(value: Any) -> bool:
        for check in checks:  # noqa: SIM110 (no generator per call)
            if not check(value):
                return False
        return True

    return every


def _any(options: list[Check]) -> Check:
    if len(options) == 2:
        first, second = options
        return lambda v: first(v) or second(v)

    def some(value: Any) -> bool:
        for option in options:  # noqa: SIM110 (no generator per call)
            if option(value):
                return True
        return False

    return some


def _one(options: list[Check]) -> Check:
    def exactly_one(value: Any) -> bool:
        return sum(1 for option in options if option(value)) == 1

    return exactly_one


def _items(item: Check) -> Check:
    def each(value: Any) -> bool:
        if isinstance(value, list):
            for element in value:
                if not item(element):
                    return False
        return True

    return each


class _Reader:
    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self.defs: dict[str, Check | None] = {}  # None: being compiled

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
        return _all(checks)

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
            return _any([self.compile(n) for n in arg])
        if keyword == "oneOf":
            return _one([self.compile(n) for n in arg])
        if keyword == "required":
            names = frozenset(arg)
            return lambda v: not isinstance(v, dict) or names <= v.keys()
        if keyword == "propertyNames":
            name = self.compile(arg)
            return lambda v: not isinstance(v, dict) or all(name(k) for k in v)
        if keyword == "items":
            return _items(self.compile(arg))
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
        if keyword == "maximum":
            return lambda v: not _number(v) or v <= arg
        raise UnreadableSchema(f"keyword {keyword!r}")

    def _object(self, node: dict[str, Any]) -> Check:
        """`properties`, `patternProperties` and `additionalProperties` together: a key is
        checked by its property and every pattern it matches, else by `additionalProperties`
        (false: the key is refused)."""
        named = {k: self.compile(n) for k, n in node.get("properties", {}).items()}
        patterns = [
            (_pattern(p), self.compile(n)) for p, n in node.get("patternProperties", {}).items()
        ]
        extra = node.get("additionalProperties", True)
        others: Check | None = None
        if extra is True:
            others = _anything
        elif extra is not False:
            others = self.compile(extra)

        def fields(value: Any) -> bool:
            if not isinstance(value, dict):
                return True
            for key, item in value.items():
                check = named.get(key, others)
                if check is None or not check(item):
                    return False
            return True

        def matched_fields(value: Any) -> bool:
            if not isinstance(value, dict):
                return True
            for key, item in value.items():
                applying = [c for search, c in patterns if search(key) is not None]
                if key in named:
                    applying.append(named[key])
                if not applying and others is not None:
                    applying.append(others)
                if not applying or not all(c(item) for c in applying):
                    return False
            return True

        return matched_fields if patterns else fields

    def _ref(self, ref: str) -> Check:
        prefix = "#/$defs/"
        name = ref[len(prefix) :]
        if not ref.startswith(prefix) or name not in self.schema.get("$defs", {}):
            raise UnreadableSchema(f"$ref {ref!r}")
        if name not in self.defs:
            self.defs[name] = None
            self.defs[name] = self.compile(self.schema["$defs"][name])
        compiled = self.defs[name]
        if compiled is None:  # a reference to a definition from inside it
            defs = self.defs
            return lambda v: defs[name](v)  # type: ignore[misc]
        return compiled


def compile_schema(schema: dict[str, Any]) -> Check:
    """A check of data against `schema`; `UnreadableSchema` if it uses what this cannot read."""
    return _Reader(schema).compile(schema)


_compiled: list[Check] = []


def conforms(data: Any) -> bool:
    """Whether `data` (one file, interpolated) is valid by the shipped workspace schema."""
    if not _compiled:
        _compiled.append(compile_schema(msgspec.json.decode(SCHEMA_FILE.read_bytes())))
    return _compiled[0](data)
