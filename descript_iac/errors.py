"""The one base error type a user can cause, and its families.

Every error a user can trigger is a `DescriptIacError`; the CLI turns it into a message and an
exit code in exactly one place (`cli/__init__.py`). The core never calls `sys.exit`.
"""

from __future__ import annotations

from dataclasses import dataclass


class DescriptIacError(Exception):
    """An error with a message meant for the user: where, what is wrong, what to do."""

    exit_code = 1

    def render(self) -> str:
        """The text shown to the user."""
        return f"Error: {self}"


@dataclass(frozen=True, order=True)
class Problem:
    """One problem in a workspace file, pointing at a line and column (1-based)."""

    path: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


class ConfigError(DescriptIacError):
    """The workspace has problems; all of them are listed."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        lines = [str(p) for p in self.problems]
        super().__init__("\n".join([*lines, f"{count} {noun} found."]))

    def render(self) -> str:
        # One problem per line, FILE:LINE:COL first, so editors and CI annotate them.
        return str(self)


class StateError(DescriptIacError):
    """The state document or its journal cannot be used as it is."""


class LockError(DescriptIacError):
    """Another run holds the state lock."""


class LockLost(StateError):
    """The state lock is gone while a run held it (its database connection was ended): nothing
    more may be written or sent; what was journaled before is the record."""


class PlanError(DescriptIacError):
    """A plan cannot be computed or applied (blocked actions, stale saved plan)."""
