"""Read one YAML file into plain data plus the line and column of every key and value.

We compose the node graph with ruamel.yaml and build values ourselves, so that:
- every key and value keeps its position (for `file:line:col` messages),
- duplicate keys are reported (all of them), not silently overwritten,
- aliases are expanded under a budget: a "billion laughs" file is refused, not expanded,
- tabs used for indentation get a message that says how to fix them.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from descript_iac.errors import Problem

MAX_FILE_BYTES = 10 * 1024 * 1024
# Expanded nodes allowed per file (aliases count each time they are used).
MAX_NODES = 200_000

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Pos:
    line: int  # 1-based
    column: int  # 1-based


@dataclass
class Source:
    """A parsed file: its data and where each part of it stands."""

    path: str
    data: Any = None
    values: dict[Path_, Pos] = field(default_factory=dict)
    keys: dict[Path_, Pos] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    # Values whose interpolation failed: later checks skip them instead of piling on.
    unchecked: set[Path_] = field(default_factory=set)

    def pos(self, path: Path_, *, key: bool = False) -> Pos:
        """The position of `path` (its key if asked and known), else its nearest ancestor."""
        probe = path
        while True:
            if key and probe in self.keys:
                return self.keys[probe]
            if probe in self.values:
                return self.values[probe]
            if probe in self.keys:
                return self.keys[probe]
            if not probe:
                return Pos(1, 1)
            probe = probe[:-1]

    def problem(self, path: Path_, message: str, *, key: bool = False) -> Problem:
        p = self.pos(path, key=key)
        return Problem(self.path, p.line, p.column, message)


class _TooLarge(Exception):
    pass


def _mark(node: Node) -> Pos:
    return Pos(node.start_mark.line + 1, node.start_mark.column + 1)


def _scalar(node: ScalarNode) -> Any:
    tag = str(getattr(node.tag, "value", node.tag))
    value: str = node.value
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


class _Builder:
    def __init__(self, source: Source) -> None:
        self.source = source
        self.count = 0

    def build(self, node: Node, path: Path_) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooLarge
        self.source.values.setdefault(path, _mark(node))
        if isinstance(node, ScalarNode):
            return _scalar(node)
        if isinstance(node, SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        return None

    def _mapping(self, node: MappingNode, path: Path_) -> dict[str, Any]:
        result: dict[str, Any] = {}
        seen: dict[str, Pos] = {}
        merged: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and str(key_node.tag).endswith(":merge"):
                merged.update(self._merge_source(value_node, path))
                continue
            if not isinstance(key_node, ScalarNode):
                pos = _mark(key_node)
                self.source.problems.append(
                    Problem(
                        self.source.path, pos.line, pos.column, "mapping keys must be plain strings"
                    )
                )
                continue
            key = str(_scalar(key_node)) if key_node.value != "" else ""
            key_pos = _mark(key_node)
            if key in seen:
                first = seen[key]
                self.source.problems.append(
                    Problem(
                        self.source.path,
                        key_pos.line,
                        key_pos.column,
                        f"duplicate key '{key}' (first defined at line {first.line}); "
                        "remove one of them",
                    )
                )
                continue
            seen[key] = key_pos
            key_path: Path_ = (*path, key)
            self.source.keys[key_path] = key_pos
            result[key] = self.build(value_node, (*path, key))
        for key, value in merged.items():
            result.setdefault(key, value)
        return result

    def _merge_source(self, node: Node, path: Path_) -> dict[str, Any]:
        nodes = node.value if isinstance(node, SequenceNode) else [node]
        out: dict[str, Any] = {}
        for item in nodes:
            value = self.build(item, path)
            if not isinstance(value, dict):
                pos = _mark(item)
                self.source.problems.append(
                    Problem(
                        self.source.path,
                        pos.line,
                        pos.column,
                        "a merge key '<<' takes a mapping (an alias such as *defaults) or a list "
                        "of them",
                    )
                )
                continue
            for k, v in value.items():
                out.setdefault(k, v)
        return out


def _tab_problems(path: str, text: str) -> list[Problem]:
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.lstrip(" ")
        if stripped.startswith("\t"):
            column = len(line) - len(stripped) + 1
            problems.append(
                Problem(path, number, column, "tab character in indentation; indent with spaces")
            )
    return problems


def read_source(file: Path, display: str) -> Source:
    """Parse `file`; problems are collected in the result rather than raised."""
    source = Source(display)
    if file.is_symlink() and not file.exists():
        target = os.readlink(file)
        message = f"broken symbolic link (to {target}, which does not exist); fix it or remove it"
        source.problems.append(Problem(display, 1, 1, message))
        return source
    try:
        size = file.stat().st_size
    except OSError as exc:
        source.problems.append(Problem(display, 1, 1, f"cannot read file: {exc.strerror}"))
        return source
    if size > MAX_FILE_BYTES:
        mb = MAX_FILE_BYTES // (1024 * 1024)
        source.problems.append(
            Problem(display, 1, 1, f"file is {size} bytes, over the {mb} MB limit; split it")
        )
        return source
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        source.problems.append(Problem(display, 1, 1, f"file is not UTF-8 text ({exc.reason})"))
        return source
    tabs = _tab_problems(display, text)
    if tabs:
        source.problems.extend(tabs)
        return source
    # The libyaml-based parser (ruamel.yaml.clib) when installed: ~8x faster than the pure one,
    # with the same marks. `fmt` will use the round-trip loader to keep comments.
    yaml = YAML(typ="safe", pure=False)
    try:
        node = yaml.compose(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = exc.problem or exc.context or "invalid YAML"
        source.problems.append(Problem(display, line, col, f"YAML syntax error: {what}"))
        return source
    except YAMLError as exc:
        source.problems.append(Problem(display, 1, 1, f"YAML syntax error: {exc}"))
        return source
    if node is None:
        source.data = None
        return source
    builder = _Builder(source)
    try:
        source.data = builder.build(node, ())
    except _TooLarge:
        source.problems.append(
            Problem(
                display,
                1,
                1,
                f"document expands to more than {MAX_NODES} values through anchors and "
                "aliases; refusing to expand it",
            )
        )
        source.data = None
    except RecursionError:
        source.problems.append(Problem(display, 1, 1, "document is nested too deeply"))
        source.data = None
    return source
