"""Read one YAML file into plain data, and say where any part of it stands.

We compose the node graph with libyaml (PyYAML's C parser, with a YAML 1.2 core-schema resolver)
and build values ourselves, so that:
- every key and value can be given its line and column (for `file:line:col` messages),
- duplicate keys are reported (all of them), not silently overwritten,
- aliases are expanded under a budget: a "billion laughs" file is refused, not expanded,
- tabs used for indentation get a message that says how to fix them.

Positions cost more than the values (one object per node, kept until the end of loading), and
a valid file needs only those of its top two levels (`defaults`, each project's key). So the
first build records only those; the first question about a deeper path (a problem to report)
builds the full position maps from the node graph, which is kept while the file is checked and
released with `Source.release()`.

This is the one reader of workspace files (issue #22: a yaml_rs fast path, 240 lines of guards
deciding when it could be trusted, saved 3.6 ms per 100-project file and was dropped). `fmt`
keeps ruamel.yaml for its round trip of comments and layout.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from descript_iac.config.files import MAX_EXPANDED_BYTES, MAX_FILE_BYTES, NODE_BYTES
from descript_iac.config.source import SHALLOW, Path_, Pos, Source
from descript_iac.config.yamlresolve import MERGE, composer, scalar, tag_of
from descript_iac.errors import Problem


class _TooLarge(Exception):
    def __init__(self, node: Node) -> None:
        super().__init__()
        self.node = node


def positions(source: Source, root: Node) -> tuple[dict[Path_, Pos], dict[Path_, Pos]]:
    """(values, keys): the position of every value and key under `root`, `source`'s graph."""
    values: dict[Path_, Pos] = {}
    keys: dict[Path_, Pos] = {}
    _Builder(source, record=math.inf, values=values, keys=keys).build(root, ())
    return values, keys


def compose(text: str) -> Node | None:
    """The node graph of `text`, a file read before without problems (for its positions)."""
    parser = composer(text)
    try:
        node: Node | None = parser.get_single_node()
    finally:
        parser.dispose()
    return node


def _mark(node: Node) -> Pos:
    return Pos(node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    """Builds plain values from nodes, recording positions down to `record` levels.

    With `values` and `keys` given, it only records positions (problems and templated paths
    were collected by the first build).
    """

    def __init__(
        self,
        source: Source,
        record: float = SHALLOW,
        values: dict[Path_, Pos] | None = None,
        keys: dict[Path_, Pos] | None = None,
    ) -> None:
        self.source = source
        self.count = 0
        self.record = record
        self.first = values is None
        self.values = source.values if values is None else values
        self.keys = source.keys if keys is None else keys

    def build(self, node: Node, path: Path_) -> Any:
        self.count += NODE_BYTES
        if node.__class__ is ScalarNode:
            self.count += len(node.value)
        if self.count > MAX_EXPANDED_BYTES:
            raise _TooLarge(node)
        if len(path) <= self.record and path not in self.values:
            self.values[path] = _mark(node)
        kind = node.__class__
        if kind is ScalarNode:
            value = scalar(node)
            if self.first and value.__class__ is str and "${" in value:
                self.source.templated.append(path)
            return value
        if kind is SequenceNode:
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        if kind is MappingNode:
            return self._mapping(node, path)  # type: ignore[arg-type]
        return None

    def _mapping(self, node: MappingNode, path: Path_) -> dict[str, Any]:
        result: dict[str, Any] = {}
        merged: dict[str, Any] | None = None
        record = len(path) < self.record
        for key_node, value_node in node.value:
            if key_node.__class__ is not ScalarNode:
                if self.first:
                    pos = _mark(key_node)
                    self.source.problems.append(
                        Problem(
                            self.source.path,
                            pos.line,
                            pos.column,
                            "mapping keys must be plain strings",
                        )
                    )
                continue
            if tag_of(key_node) == MERGE:
                merged = merged if merged is not None else {}
                merged.update(self._merge_source(value_node, path))
                continue
            key = str(scalar(key_node)) if key_node.value != "" else ""
            if key in result:
                if self.first:
                    self.source.problems.append(self._duplicate(node, key, key_node))
                continue
                continue
            key_path: Path_ = (*path, key)
            if record:
                self.keys[key_path] = _mark(key_node)
            if value_node.__class__ is ScalarNode and not record:
                # Inline `build` for the commonest node: a scalar value below the top levels.
                self.count += NODE_BYTES + len(value_node.value)
                if self.count > MAX_EXPANDED_BYTES:
                    raise _TooLarge(value_node)
                value = scalar(value_node)
                if self.first and value.__class__ is str and "${" in value:
                    self.source.templated.append(key_path)
                result[key] = value
            else:
                result[key] = self.build(value_node, key_path)
        if merged:
            for key, value in merged.items():
                result.setdefault(key, value)
        return result

    def _duplicate(self, node: MappingNode, key: str, again: ScalarNode) -> Problem:
        first = next(
            k
            for k, _ in node.value
            if k.__class__ is ScalarNode
            and tag_of(k) != MERGE
            and (str(scalar(k)) if k.value != "" else "") == key
        )
        where, line = _mark(again), _mark(first).line
        return Problem(
            self.source.path,
            where.line,
            where.column,
            f"duplicate key '{key}' (first defined at line {line}); remove one of them",
        )

    def _merge_source(self, node: Node, path: Path_) -> dict[str, Any]:
        nodes = node.value if isinstance(node, SequenceNode) else [node]
        out: dict[str, Any] = {}
        for item in nodes:
            value = self.build(item, path)
            if not isinstance(value, dict):
                if self.first:
                    pos = _mark(item)
                    self.source.problems.append(
                        Problem(
                            self.source.path,
                            pos.line,
                            pos.column,
                            "a merge key '<<' takes a mapping (an alias such as *defaults) or "
                            "a list of them",
                        )
                    )
                continue
            for k, v in value.items():
                out.setdefault(k, v)
        return out


_TAB_INDENT = re.compile(r"^ *\t", re.MULTILINE)


def _tab_problems(path: str, text: str) -> list[Problem]:
    if not _TAB_INDENT.search(text):
        return []
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
    """Parse `file`; problems are collected in the result rather than raised.

    The node graph stays in `root` so that problems found later can be placed; call
    `release()` once the file has been checked.
    """
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
    return read_text(text, display)


# What YAML 1.2 allows in a stream (its `c-printable`); the reader refuses anything else.
_UNPRINTABLE = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _unprintable(display: str, text: str) -> Problem:
    """The first character YAML refuses, at its own line and column (the reader's offset counts
    bytes for libyaml, characters for the pure reader: the character is found again instead)."""
    found = _UNPRINTABLE.search(text)
    at = found.start() if found else 0
    line = text.count("\n", 0, at) + 1
    column = at - (text.rfind("\n", 0, at) + 1) + 1
    code = f"U+{ord(found.group()):04X}" if found else "a control character"
    nul = found is not None and found.group() == "\0"
    name = " (a NUL byte: is this a binary or UTF-16 file?)" if nul else ""
    return Problem(
        display,
        line,
        column,
        f"YAML syntax error: the file holds the control character {code}{name}, which YAML does "
        "not allow; remove it (inside double quotes, an escape such as \\t is allowed)",
    )


def read_text(text: str, display: str) -> Source:
    """Parse `text`, as `read_source` does."""
    source = Source(display)
    tabs = _tab_problems(display, text)
    if tabs:
        source.problems.extend(tabs)
        return source
    parser = composer(text)
    try:
        node = parser.get_single_node()
    except yaml.MarkedYAMLError as exc:
        if exc.problem == "exceeded maximum nesting depth":  # libyaml's limit, as deep as ours
            source.problems.append(Problem(display, 1, 1, "document is nested too deeply"))
            return source
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = exc.problem or exc.context or "invalid YAML"
        source.problems.append(Problem(display, line, col, f"YAML syntax error: {what}"))
        return source
    except yaml.reader.ReaderError:
        source.problems.append(_unprintable(display, text))
        return source
    except yaml.YAMLError as exc:
        source.problems.append(Problem(display, 1, 1, f"YAML syntax error: {exc}"))
        return source
    finally:
        parser.dispose()
    if node is None:
        source.data = None
        return source
    source.root = node
    builder = _Builder(source)
    try:
        source.data = builder.build(node, ())
    except _TooLarge as exc:
        pos = _mark(exc.node)
        source.problems.append(
            Problem(
                display,
                pos.line,
                pos.column,
                f"expanding this value takes the document past its "
                f"{MAX_EXPANDED_BYTES // (1024 * 1024)} MiB budget (aliases count each time "
                "they are used); refusing to expand it: use fewer or smaller aliased values",
            )
        )
        source.data = None
        source.release()
    except RecursionError:
        source.problems.append(Problem(display, 1, 1, "document is nested too deeply"))
        source.data = None
        source.release()
    return source
