"""The state document as bytes: canonical, compact JSON with one project per line.

Format 3 (this release writes it; formats 1 and 2, the indented JSON of earlier releases, are
read):

    {"format_version":3,"lineage":"…","salt":"…","serial":7,
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
through `json.loads` and `model_validate` took 2.2 s.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from pydantic import ValidationError

from descript_iac.collector import paused
from descript_iac.errors import StateError
from descript_iac.state.document import (
    FORMAT_VERSION,
    REQUIRED_KEYS,
    StateDocument,
    document_from_json,
)

_MAPS = ("forgotten", "projects")  # one entry per line, in this order after the header
_SORTED = orjson.OPT_SORT_KEYS


def encode(doc: StateDocument) -> bytes:
    """The canonical bytes of `doc` (format 2)."""
    with paused():
        data = doc.to_json()
        # The version first (a reader knows the format from the first bytes), then sorted keys.
        rest = {k: v for k, v in data.items() if k not in _MAPS and k != "format_version"}
        parts = [b'{"format_version":' + str(FORMAT_VERSION).encode()]
        if rest:
            parts.append(b"," + orjson.dumps(rest, option=_SORTED)[1:-1])
        for name in _MAPS:
            parts.append(b',\n"' + name.encode() + b'":' + _lines(data.get(name) or {}))
        parts.append(b"}\n")
        return b"".join(parts)


def _lines(entries: dict[str, Any]) -> bytes:
    if not entries:
        return b"{}"
    rows = [
        orjson.dumps(address) + b":" + orjson.dumps(entries[address], option=_SORTED)
        for address in sorted(entries)
    ]
    return b"{\n" + b",\n".join(rows) + b"\n}"


def decode(raw: bytes, where: str, restore: str) -> StateDocument:
    """The document in `raw`, validated; `where` names it in errors and `restore` is the
    backup to point to. Format 3 takes the fast path: its header line is checked, then the
    whole document is validated in one pass of pydantic's JSON parser with the collector
    paused. Anything else (formats 1 and 2, a damaged file) is read as before
    (`document_from_json`), which says exactly what is wrong."""
    if _is_current(raw):
        try:
            with paused():
                doc = StateDocument.model_validate_json(raw)
        except ValidationError:
            pass  # the slow path below names the first problem
        else:
            doc.format_version = FORMAT_VERSION
            return doc
    try:
        with paused():
            data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise StateError(
            f"{where}: the state is corrupt or truncated ({exc}). It was not changed. "
            f"Restore it from {restore} or from version control."
        ) from None
    with paused():
        return document_from_json(data, where, restore)


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
