"""YAML 1.2 core schema for libyaml: which plain scalars are null, bool, int or float.

PyYAML's own resolver follows YAML 1.1 (`no` is false, `010` is 8, `1:20` is 80); workspace
files are YAML 1.2, so the composer below resolves plain scalars with the 1.2 core-schema rules
(those of ruamel.yaml, which read these files before) and the values are built by
`scalar_value`. Timestamps stay strings. libyaml's C parser is used when PyYAML has it (it is
~2x faster than ruamel.yaml's); the pure-Python parser otherwise, with the same marks.
"""

from __future__ import annotations

import math
import re
from typing import Any

import yaml
from yaml.nodes import ScalarNode, SequenceNode

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


class _Resolve:
    """The resolver half of a composer: YAML 1.2 core schema, no path resolvers."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is ScalarNode:
            return resolve_plain(value) if implicit[0] else STR
        return SEQ if kind is SequenceNode else MAP

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        return None

    def ascend_resolver(self) -> None:
        return None


if getattr(yaml, "__with_libyaml__", False):
    from yaml._yaml import CParser

    class Composer(_Resolve, CParser):
        """libyaml's parser and composer (C) with the 1.2 resolver."""

else:  # pragma: no cover - PyYAML built without libyaml

    class Composer(  # type: ignore[no-redef]
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
