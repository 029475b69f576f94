"""YAML 1.2 core schema for libyaml: which plain scalars are null, bool, int or float.

PyYAML's own resolver follows YAML 1.1 (`no` is false, `010` is 8, `1:20` is 80); workspace
files are YAML 1.2. The composer below leaves every untagged node's tag `IMPLICIT` (so libyaml
never calls back into Python while composing) and `scalar` resolves plain scalars with the 1.2
core-schema rules of ruamel.yaml, which read these files before. Timestamps stay strings.
libyaml's C parser is ~2x faster than ruamel.yaml's; the pure-Python parser is the fallback.
"""

from __future__ import annotations

import math
import re
from typing import Any

import yaml

STR = "tag:yaml.org,2002:str"
SEQ = "tag:yaml.org,2002:seq"
MAP = "tag:yaml.org,2002:map"
NULL = "tag:yaml.org,2002:null"
BOOL = "tag:yaml.org,2002:bool"
INT = "tag:yaml.org,2002:int"
FLOAT = "tag:yaml.org,2002:float"
MERGE = "tag:yaml.org,2002:merge"

_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_FLOAT = re.compile(
    r"""^(?:
     [-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
    |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)
_INT = re.compile(
    r"""^(?:[-+]?0b[0-1_]+
    |[-+]?0o?[0-7_]+
    |[-+]?[0-9_]+
    |[-+]?0x[0-9a-fA-F_]+)$""",
    re.X,
)
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_NUMBER_START = frozenset("-+0123456789.")


def resolve_plain(value: str) -> str:
    """The tag of a plain (unquoted) scalar."""
    if not value:
        return NULL
    first = value[0]
    if first in _NUMBER_START:
        if _FLOAT.match(value):
            return FLOAT
        if _INT.match(value):
            return INT
        return STR
    if first in "tTfF":
        return BOOL if _BOOL.match(value) else STR
    if first in "~nN":
        return NULL if _NULL.match(value) else STR
    if value == "<<":
        return MERGE
    return STR


def scalar_value(tag: str, value: str) -> Any:
    """The Python value of a scalar node."""
    if tag == STR:
        return value
    if tag.endswith(":null"):
        return None
    if tag.endswith(":bool"):
        return value.lower() in ("true", "yes", "on")
    if tag.endswith(":int"):
        text = value.replace("_", "")
        try:
            return int(text, 0)
        except ValueError:
            try:
                return int(text)
            except ValueError:
                return value
    if tag.endswith(":float"):
        low = value.lower().replace("_", "")
        if low in (".inf", "+.inf"):
            return math.inf
        if low == "-.inf":
            return -math.inf
        if low == ".nan":
            return math.nan
        try:
            return float(low)
        except ValueError:
            return value
    return value


IMPLICIT = "?"  # the tag the fast composer gives every untagged node: resolved by `tag_of`
RESOLVE_FIRST = frozenset("-+0123456789.tTfF~nN<")


def tag_of(node: Any) -> str:
    """The tag of a scalar node: given in the file, or resolved (YAML 1.2 core schema)."""
    tag: str = node.tag
    if tag != IMPLICIT:
        return tag
    if node.style:  # quoted or block: a string
        return STR
    value = node.value
    if value and value[0] not in RESOLVE_FIRST:
        return STR
    return resolve_plain(value)


def scalar(node: Any) -> Any:
    """The Python value of a scalar node (`scalar_value` of `tag_of`, in one call)."""
    value = node.value
    if node.tag == IMPLICIT:
        if node.style or (value and value[0] not in RESOLVE_FIRST):
            return value
        return scalar_value(resolve_plain(value), value)
    return scalar_value(node.tag, value)


class _Resolve:
    """The resolver of the pure-Python composer: gives every untagged node `IMPLICIT`."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        return IMPLICIT

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        return None

    def ascend_resolver(self) -> None:
        return None


if getattr(yaml, "__with_libyaml__", False):

    class _Fast(yaml.CSafeLoader):
        """libyaml's parser and composer (PyYAML's public `CSafeLoader`, used for its nodes
        only) with no Python call per node: its resolver hooks are replaced by C functions that
        ignore their arguments (`"?".format`), so every untagged node gets `IMPLICIT`, and
        `tag_of` resolves scalars as they are built. A quarter less parsing time. (A
        non-specific `! 12` resolves like a plain `12`, as it did with ruamel.yaml.)"""

        resolve = IMPLICIT.format
        descend_resolver = "".format  # type: ignore[assignment]
        ascend_resolver = "".format  # type: ignore[assignment]

    def composer(text: str) -> Any:
        """A composer for `text` (call `get_single_node()`, then `dispose()`)."""
        return _Fast(text)

else:  # pragma: no cover - PyYAML built without libyaml

    class _Pure(
        _Resolve,
        yaml.reader.Reader,
        yaml.scanner.Scanner,
        yaml.parser.Parser,
        yaml.composer.Composer,
    ):
        def __init__(self, stream: str) -> None:
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            yaml.composer.Composer.__init__(self)

    def composer(text: str) -> Any:
        return _Pure(text)
