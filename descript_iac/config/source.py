"""A parsed workspace file: its data, and where each part of it stands (for `file:line:col`).

Read from YAML by config/yamlsource.py, or rebuilt from the workspace cache with the positions
of its top two levels (a file served from the cache was valid, so it needs no deeper one) and
its `text`: any other position is built by the reader from that text when first asked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import msgspec

from descript_iac.errors import Problem

if TYPE_CHECKING:
    from yaml.nodes import Node

# Positions recorded on the first build: the top level and its keys' children.
SHALLOW = 2

Path_ = tuple[str | int, ...]


class Pos(msgspec.Struct, frozen=True):
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
    warnings: list[Problem] = field(default_factory=list)  # valid, but worth a line
    # Values whose interpolation failed: later checks skip them instead of piling on.
    unchecked: set[Path_] = field(default_factory=set)
    # Paths of string values holding `${`: the only ones interpolation needs to look at.
    templated: list[Path_] = field(default_factory=list)
    # Text as written of the values that came from the environment (secrets), by path.
    templates: dict[Path_, str] = field(default_factory=dict)
    # The node graph, until the full positions are built or the file is released.
    root: Node | None = field(default=None, repr=False)
    complete: bool = False  # `values` and `keys` cover every path
    # The file's text, when only `keys` of the top two levels are known (served from the cache).
    text: str | None = field(default=None, repr=False)

    def pos(self, path: Path_, *, key: bool = False) -> Pos:
        """The position of `path` (its key if asked and known), else its nearest ancestor."""
        if self.text is not None:
            if not (key and len(path) <= SHALLOW and path in self.keys):
                self._complete()
        elif len(path) > SHALLOW:
            self._complete()
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

    def _complete(self) -> None:
        if self.complete:
            return
        from descript_iac.config.yamlsource import compose, positions  # a node graph is yaml's

        if self.root is None and self.text is not None:
            self.root = compose(self.text)
        if self.root is None:
            return
        self.values, self.keys = positions(self, self.root)
        self.complete = True
        self.root = None if self.text is not None else self.root

    def release(self) -> None:
        """Drop the node graph: only the top two levels' positions stay known."""
        self.root = None
