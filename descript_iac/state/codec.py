"""The state document as bytes: canonical, compact JSON with one project per line.

Format 4 (this release writes it; formats 1 to 3, the indented JSON of earlier releases, are
read):

    {"format_version":4,"folded_journal":null,"lineage":"…","salt":"…","serial":7,
    "forgotten":{
    "old-ep":[{…}]
    },
    "projects":{
    "ep-001":{"created_by":"import","facets":{…},…},
    "ep-002":{…}
    }}

Every object has sorted keys (the version comes first) and no spaces; projects (and forgotten
histories) are sorted by address, one per line, so a change to one project is a one-line diff
and the same document is always the same bytes. It is still one JSON document: `jq` and
`json.load` read it.

Reading validates the whole document in one pass of pydantic's JSON parser (no intermediate
dicts) with the garbage collector paused: ~0.4 s for 10,000 projects, where the indented format
through `json.loads` and `model_validate` took 2.2 s. Writing serializes each project with
pydantic's serializer straight to JSON (no intermediate dicts either).
"""

from __future__ import annotations

from typing import Any

import orjson

from descript_iac.collector import paused
from descript_iac.redact import scrub, scrub_needed
from descript_iac.state.document import (
    FORMAT_VERSION,
    REQUIRED_KEYS,
    ProjectState,
    StateDocument,
)

_MAPS = ("forgotten", "projects")  # one entry per line, in this order after the header
_SORTED = orjson.OPT_SORT_KEYS


def encode(data: dict[str, Any]) -> bytes:
    """The canonical bytes (current format) of a document's JSON form (`doc.to_json()`, after
    `scrub`)."""
    with paused():
        rest = {k: v for k, v in data.items() if k not in _MAPS}
        maps = {
            name: {a: orjson.dumps(v, option=_SORTED) for a, v in (data.get(name) or {}).items()}
            for name in _MAPS
        }
        return _assemble(rest, maps)


def _assemble(header: dict[str, Any], maps: dict[str, dict[str, bytes]]) -> bytes:
    """The document from its header values and its maps' entries, each already encoded."""
    # The version first (a reader knows the format from the first bytes), then sorted keys.
    rest = {k: v for k, v in header.items() if k != "format_version"}
    parts = [b'{"format_version":' + str(FORMAT_VERSION).encode()]
    if rest:
        parts.append(b"," + orjson.dumps(rest, option=_SORTED)[1:-1])
    for name in _MAPS:
        parts.append(b',\n"' + name.encode() + b'":')
        _lines(maps[name], parts)
    parts.append(b"}\n")
    return b"".join(parts)  # one copy of the whole document


def encode_document(doc: StateDocument) -> bytes:
    """The bytes to store for `doc`: scrubbed (`redact.scrub`), canonical.

    Each project is written by pydantic's serializer straight to JSON (no intermediate dicts):
    the records declare their fields in sorted order (document.py), so these are the bytes
    `encode` gives for the same document (a project with a map out of order goes through
    orjson). Scrubbing walks every value in Python, so it is done (the slow way, through
    `encode`) only when the bytes hold something it could change."""
    with paused():
        header = doc.model_dump(mode="json", exclude={"projects", "forgotten"})
        projects = {a: _project_json(p) for a, p in doc.projects.items()}
        forgotten = {
            a: b"[" + b",".join(_project_json(p) for p in history) + b"]"
            for a, history in doc.forgotten.items()
        }
        raw = _assemble(header, {"forgotten": forgotten, "projects": projects})
        if scrub_needed(raw):
            raw = encode(scrub(doc.to_json()))
        return raw


def _project_json(project: ProjectState) -> bytes:
    if project.maps_in_order():
        return _PROJECT.to_json(project, by_alias=True)
    return orjson.dumps(project.model_dump(mode="json", by_alias=True), option=_SORTED)


_PROJECT = ProjectState.__pydantic_serializer__


def _lines(entries: dict[str, bytes], parts: list[bytes]) -> None:
    """Append to `parts` the map of `entries`, one per line, sorted by key."""
    if not entries:
        parts.append(b"{}")
        return
    parts.append(b"{\n")
    for address in sorted(entries):
        parts += (orjson.dumps(address), b":", entries[address], b",\n")
    parts[-1] = b"\n}"


def read_current(raw: bytes) -> StateDocument | None:
    """The document in `raw` when it is a valid document of the current format, read in one
    validating pass of pydantic's JSON parser with the collector paused; else None, and the
    caller reads it the careful way (`reader.read_document`), which says what is wrong."""
    if not _is_current(raw):
        return None
    try:
        with paused():
            doc = StateDocument.model_validate_json(raw)
    except ValueError:  # a ValidationError, or bytes that are not UTF-8
        return None
    doc.format_version = FORMAT_VERSION
    return doc


def _is_current(raw: bytes) -> bool:
    """Whether `raw` looks like a complete format-3 document: its header line holds every
    required key with the current version, and the projects map follows."""
    end = raw.find(b"\n")
    if end < 0 or not raw.startswith(b'{"format_version":'):
        return False
    try:
        header = orjson.loads(raw[: end - 1] + b"}") if raw[end - 1 : end] == b"," else None
    except orjson.JSONDecodeError:
        return False
    if not isinstance(header, dict) or header.get("format_version") != FORMAT_VERSION:
        return False
    if type(header["format_version"]) is not int:
        return False
    required = [k for k in REQUIRED_KEYS if k not in _MAPS]
    return all(k in header for k in required) and b'\n"projects":' in raw
