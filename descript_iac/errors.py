"""The one base error type a user can cause, and its families.

Every error a user can trigger is a `DescriptIacError`; the CLI turns it into a message and an
exit code in exactly one place (`cli/__init__.py`). The core never calls `sys.exit`.
"""

from __future__ import annotations

import errno
import os

import msgspec


class DescriptIacError(Exception):
    """An error with a message meant for the user: where, what is wrong, what to do."""

    exit_code = 1

    def render(self) -> str:
        """The text shown to the user."""
        return f"Error: {self}"


class Problem(msgspec.Struct, frozen=True, order=True):
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


class FileSystemError(DescriptIacError):
    """The machine refused a file operation: a full disk, a read-only file system, a missing
    directory, a closed pipe. The user's environment, not a bug: say what and where."""


# errno -> what it means for the user, and what to do. The one place OSErrors become words.
_OS_ADVICE: dict[int, str] = {
    errno.ENOSPC: "the disk is full; free some space and run again",
    errno.EDQUOT: "the disk quota is exceeded; free some space and run again",
    errno.EROFS: "the file system is read-only; run where it is writable (or give --state or "
    "--out a writable path)",
    errno.EACCES: "permission denied; check the permissions of the file and its directory",
    errno.EPERM: "operation not permitted; check the permissions of the file and its directory",
    errno.ENOTDIR: "a part of the path is not a directory; check the path",
    errno.EISDIR: "it is a directory; give a file path",
    errno.EMFILE: "too many open files; raise the limit (ulimit -n) and run again",
    errno.ENFILE: "too many open files on this machine; close some and run again",
    errno.EIO: "an input/output error (a failing disk or network file system); check the disk",
    errno.ENAMETOOLONG: "the file name is too long; use a shorter path",
    errno.EPIPE: "the output was closed early (the reader, such as `head`, exited); the rest "
    "was not written",
}


def describe_os_error(exc: OSError, path: str | os.PathLike[str] | None = None) -> str:
    """`PATH: what went wrong; what to do` for an OSError (from `path`, else from `exc`)."""
    where = os.fspath(path) if path is not None else exc.filename
    if exc.errno == errno.ENOENT:
        missing = os.path.dirname(os.fspath(where)) if where is not None else ""
        if missing and not os.path.isdir(missing):
            advice = f"the directory {missing} does not exist; create it or give another path"
        else:
            advice = "no such file or directory; check the path"
    else:
        advice = _OS_ADVICE.get(exc.errno or 0) or (
            f"{exc.strerror or type(exc).__name__}; check the path and the disk"
        )
    return f"{os.fsdecode(where)}: {advice}" if where is not None else advice


def file_error(exc: OSError, action: str, path: str | os.PathLike[str]) -> FileSystemError:
    """The error to raise when `action` (e.g. "write the state") on `path` failed."""
    return FileSystemError(f"cannot {action}: {describe_os_error(exc, path)}")
