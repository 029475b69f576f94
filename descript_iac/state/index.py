"""The stored state read by entry: where each project's line is, and a digest of its bytes.

The current format (codec.py) keeps one project per line, so a reader that needs a few
projects' records need not decode the other ten thousand: `scan` finds each project's line (a
line at a time, without decoding it) and `StateIndex.read` decodes only the entries asked for,
from the file, by offset. The digests (SHA-256 of an entry's bytes) let a cache know whether
what it kept for a project still holds.

An index trusts the bytes it was built from: it is only built for a document whose header and
rest are checked (codec.read_current) while it is read, each entry being checked as it is
decoded, and it is kept with the file's identity (device, inode, size, modification time;
every write of the state replaces the file) so that a later reader uses it only for the very
same file.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import BinaryIO

import msgspec

from descript_iac.state.codec import decode_project, read_current
from descript_iac.state.document import ProjectState, StateDocument

_PROJECTS = b'"projects":{\n'  # the line that opens the projects, one a line after it


class StateIndex(msgspec.Struct, frozen=True):
    lineage: str
    serial: int
    salt: str
    # address -> (offset, length, digest) of its entry's bytes in the file
    entries: dict[str, tuple[int, int, str]]

    def digests_text(self, addresses: list[str]) -> str:
        """`address=digest` of each address's entry (`-`: the state has none), NUL-separated:
        what a cache key holds of the state entries of thousands of addresses, in one pass."""
        get = self.entries.get
        return "\x00".join(
            [f"{a}={found[2] if (found := get(a)) is not None else '-'}" for a in addresses]
        )

    def read(self, path: Path, addresses: set[str], ident: str) -> dict[str, ProjectState] | None:
        """The records of `addresses` (those the state holds), decoded from `path` alone; None
        when the file opened is not the one of identity `ident` (replaced since it was seen)."""
        wanted = sorted((self.entries[a], a) for a in addresses if a in self.entries)
        found: dict[str, ProjectState] = {}
        with path.open("rb") as f:
            if _identity(path, os.fstat(f.fileno())) != ident:
                return None
            for (offset, length, _digest), address in wanted:
                f.seek(offset)
                found[address] = decode_project(f.read(length))
        return found


def identity(path: Path) -> str | None:
    """The file's identity: any write of the state (a new file, renamed into place) changes it."""
    try:
        return _identity(path, os.stat(path))
    except OSError:
        return None


def _identity(path: Path, st: os.stat_result) -> str:
    return (
        f"{path.resolve()}:{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"
    )


def entry_digest(entry: bytes) -> str:
    return hashlib.sha256(entry).hexdigest()[:32]  # (SHA-256 is the fastest here: SHA-NI)


class Scanned(msgspec.Struct):
    """A state file read line by line (`scan`): its index, and the document without its
    projects (the header and `forgotten`, checked), for a reader that decodes the projects one
    by one as it goes (workspace/streaming.py), never holding the file's bytes at once."""

    index: StateIndex
    rest: StateDocument  # every key but `projects` (left empty), checked by the typed decoder
    ident: str
    path: Path


def scan(path: Path) -> Scanned | None:
    """The index of the current-format file at `path` (the entries `index` finds, with the
    same offsets and digests), read a line at a time from the file opened (its identity is the
    one of that file, whatever replaces it since); None for anything else, or a file that cannot
    be read (a reader then reads it in full, which says what is wrong). The projects' entries
    are not checked here: a reader checks each as it decodes it (`StateIndex.read`)."""
    try:
        with path.open("rb") as f:
            ident = _identity(path, os.fstat(f.fileno()))
            return _scan(f, ident, path)
    except OSError:
        return None


def _scan(f: BinaryIO, ident: str, path: Path) -> Scanned | None:
    header = f.readline()
    if not header.startswith(b'{"format_version":') or not header.endswith(b",\n"):
        return None
    rest = [header]
    offset = len(header)
    entries: dict[str, tuple[int, int, str]] = {}
    in_projects = False
    for line in f:
        if in_projects and line.startswith(b'"'):
            end = len(line) - 1 if line.endswith(b"\n") else len(line)
            if line[end - 1 : end] == b",":
                end -= 1
            colon = line.find(b'":{')
            if colon < 0 or colon > end:
                return None
            try:
                address = msgspec.json.decode(line[: colon + 1])
            except msgspec.DecodeError:
                return None
            if not isinstance(address, str):
                return None
            start = colon + 2
            entries[address] = (offset + start, end - start, entry_digest(line[start:end]))
        else:
            in_projects = in_projects or line == _PROJECTS
            rest.append(line)
        offset += len(line)
    doc = read_current(b"".join(rest))
    if doc is None or not in_projects:
        return None
    return Scanned(StateIndex(doc.lineage, doc.serial, doc.salt, entries), doc, ident, path)
