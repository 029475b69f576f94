"""The state document as bytes: canonical, compact JSON with one project per line.

Format 5 (this release writes it; 4 is read the same way, and 1 to 3 are read the careful way
(reader.py): 1 and 2 were indented JSON, 3 added the reviewer's values):

    {"format_version":5,"folded_journal":null,"lineage":"…","salt":"…","serial":7,
    "forgotten":{
    "old-ep":[{…}]
    },
    "projects":{
    "ep-001":{"created_by":"import","facets":{…},…},
    "ep-002":{…}
    }}

Every object has sorted keys (the version comes first) and no spaces; projects (and forgotten
histories) are sorted by address, one per line, so a change to one project is a one-line diff
and the same document is always the same bytes. A field of a project's records that holds its
default value (None, an empty list, 0.0, "queued", ...) is left out (format 5; format 4 wrote
every field): the reader fills it in, and the document is a quarter smaller and faster to read.
It is still one JSON document: `jq` and `json.load` read it.

Reading validates the whole document in one pass of pydantic's JSON parser (no intermediate
dicts) with the garbage collector paused; writing serializes each project with pydantic's
serializer straight to JSON (no intermediate dicts either).
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
_SAME_LAYOUT = (4, FORMAT_VERSION)  # formats read in one pass (4 wrote the defaults too)


def stored_json(doc: StateDocument) -> dict[str, Any]:
    """The JSON form of `doc` as it is stored (before `scrub`): the header in full, project
    records without their defaults."""
    data = doc.model_dump(mode="json", exclude={"projects", "forgotten"})
    data["projects"] = {a: _record(p) for a, p in doc.projects.items()}
    data["forgotten"] = {a: [_record(p) for p in h] for a, h in doc.forgotten.items()}
    return data


def _record(project: ProjectState) -> dict[str, Any]:
    return project.model_dump(mode="json", by_alias=True, exclude_defaults=True)


def encode(data: dict[str, Any]) -> bytes:
    """The canonical bytes (current format) of a document's stored form (`stored_json`, after
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
            raw = encode(scrub(stored_json(doc)))
        return raw


def _project_json(project: ProjectState) -> bytes:
    if project.maps_in_order():
        return _PROJECT.to_json(project, by_alias=True, exclude_defaults=True)
    return orjson.dumps(_record(project), option=_SORTED)


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
    """The document in `raw` when it is a valid document of the current format (or of format 4,
    the same layout with every field written), read in one
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
    """Whether `raw` looks like a complete document of the current layout: its header line
    holds every required key with format 4 or the current one, and the projects map follows."""
    end = raw.find(b"\n")
    if end < 0 or not raw.startswith(b'{"format_version":'):
        return False
    try:
        header = orjson.loads(raw[: end - 1] + b"}") if raw[end - 1 : end] == b"," else None
    except orjson.JSONDecodeError:
        return False
    if not isinstance(header, dict) or header.get("format_version") not in _SAME_LAYOUT:
        return False
    if type(header["format_version"]) is not int:
        return False
    required = [k for k in REQUIRED_KEYS if k not in _MAPS]
    return all(k in header for k in required) and b'\n"projects":' in raw
