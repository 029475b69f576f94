"""Salted digests of the desired state: what the state stores instead of the values.

A pre-signed URL's query string is not part of a media item's identity (it rotates); the
identity is scheme, host and path, plus the user's `revision` and the transcription language.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

import msgspec

from descript_iac.config.desired import DesiredProject
from descript_iac.config.model import AgentStep, Composition, SequenceMedia, UrlMedia
from descript_iac.plan.shown import PLAIN_URL, shown_facets
from descript_iac.redact import salted_digest
from descript_iac.state import salting
from descript_iac.state.document import ImportFacets


def _encoder(sort_keys: bool) -> Callable[[Any], str]:
    """The digests' canonical text of a value: what `json.dumps(value, sort_keys=...)` documents
    (ASCII, `", "` and `": "` separators), through the public encoder class, made once.

    This text is version 1 of the digests' encoding; the digests are stored in every state, so
    the version goes with the state's `format_version` (4): a new encoding needs a new format
    and a migration that re-digests what the state recorded, never a plan full of replaces.
    `tests/plan/test_digests.py` pins known digests."""
    return json.JSONEncoder(sort_keys=sort_keys, check_circular=False).encode


_canonical = _encoder(sort_keys=True)
_dumps = _encoder(sort_keys=False)


def _url_identity(url: str) -> tuple[str, str, str]:
    """(scheme, host[:port], path) of `url`, as urlsplit gives them."""
    match = PLAIN_URL.match(url)
    if match is not None and (match.group(3) is None or int(match.group(3)) <= 65535):
        scheme, host, port, path = match.groups()
        number = int(port) if port else 0
        return scheme, host.lower() + (f":{number}" if number else ""), path or ""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower() + (f":{parts.port}" if parts.port else "")
    return parts.scheme.lower(), host, parts.path


@functools.lru_cache(maxsize=4096)
def _url_media_identity(salt: str, url: str, revision: str, language: str) -> str:
    scheme, host, path = _url_identity(url)
    return salted_digest(salt, "url", scheme, host, path, revision, language)


def media_identity(salt: str, item: UrlMedia | SequenceMedia) -> str:
    if isinstance(item, SequenceMedia):
        tracks = [[t.media, t.offset or 0.0] for t in item.tracks]
        return salted_digest(salt, "tracks", _dumps(tracks))
    revision = "" if item.revision is None else str(item.revision)
    return _url_media_identity(salt, item.url, revision, item.language or "")


def composition_digest(salt: str, composition: Composition) -> str:
    # `publish` is not an import-time input: publishing again never changes the project.
    data = composition.model_dump(mode="json", exclude={"publish"})
    canonical = _canonical(data)
    return salted_digest(salt, "composition", canonical)


def name_digest(salt: str, name: str) -> str:
    """A project name's digest (the resolver compares the API's project names with it)."""
    return salting.name_digest(salt, name)


def import_facets(salt: str, project: DesiredProject) -> ImportFacets:
    return ImportFacets(
        name=name_digest(salt, project.name),
        team_access=salting.team_access_digest(salt, project.team_access),
        media={n: media_identity(salt, m) for n, m in sorted(project.spec.media.items())},
        compositions={c.name: composition_digest(salt, c) for c in project.spec.compositions},
        folder=salted_digest(salt, "folder", project.spec.folder) if project.spec.folder else None,
    )


def recorded_facets(salt: str, project: DesiredProject) -> ImportFacets:
    """The facets the state records: the digests, and the values a reviewer may see later."""
    return msgspec.structs.replace(import_facets(salt, project), shown=shown_facets(project))


def facets_digest(salt: str, facets: ImportFacets) -> str:
    # The shown values are for reviewers; the digests alone say what the project is. Facets
    # added later (folder) count only when set, so earlier digests stay the same.
    data = {k: v for k, v in facets.to_json().items() if k != "shown" and v is not None}
    return salted_digest(salt, "facets", _canonical(data))


def step_digest(salt: str, project: DesiredProject, step: AgentStep) -> str:
    # A step's composition target counts only when set, so earlier digests stay the same.
    return salting.step_digest_of(
        salt, step.prompt, project.step_model(step) or "", step.composition
    )


class Wanted(msgspec.Struct, frozen=True):
    """The digests of one desired project, computed once per plan."""

    facets: ImportFacets
    facets_digest: str
    steps: dict[str, str]  # step id -> step digest


def wanted(salt: str, project: DesiredProject) -> Wanted:
    facets = import_facets(salt, project)
    steps = {s.id: step_digest(salt, project, s) for s in project.spec.steps}
    return Wanted(facets, facets_digest(salt, facets), steps)


def config_digest(salt: str, projects: dict[str, DesiredProject], wanted: dict[str, Wanted]) -> str:
    """One digest of everything a plan depends on in the config (`wanted`: per address)."""
    return digest_of_files(salt, file_digests(projects, config_entries(projects, wanted)).values())


def config_entries(
    projects: dict[str, DesiredProject], wanted: dict[str, Wanted]
) -> dict[str, str]:
    """What `config_digest` holds of each project, as its canonical text (`"address": {...}`)."""
    return {
        address: _canonical(address)
        + ": "
        + _canonical(
            {
                "facets": wanted[address].facets_digest,
                "steps": [[s.id, wanted[address].steps[s.id]] for s in p.spec.steps],
                "on_change": p.on_change,
                **_publishes(p),
            }
        )
        for address, p in projects.items()
    }


def file_digests(
    projects: Mapping[str, DesiredProject], entries: Mapping[str, str]
) -> dict[str, str]:
    """Each file's part of the config digest (file -> a digest), from the entries of its
    projects: SHA-256 of the canonical text of the mapping of its addresses to their entries
    (sorted keys, `", "` and `": "`). An incremental plan keeps it per file."""
    by_file: dict[str, list[str]] = {}
    for address in entries:
        by_file.setdefault(projects[address].file, []).append(address)
    found: dict[str, str] = {}
    for file, addresses in by_file.items():
        addresses.sort()
        text = "{" + ", ".join([entries[a] for a in addresses]) + "}"
        found[file] = hashlib.sha256(text.encode()).hexdigest()
    return found


def digest_of_files(salt: str, parts: Iterable[str]) -> str:
    """The config digest from each file's part, sorted (no two are equal: each holds its
    addresses). A file's part is computed once and kept, so a plan after a one-file change
    digests that file alone. Which projects share a file counts (moving a project to another
    file changes the digest); what a file is named does not."""
    return salted_digest(salt, "config", *sorted(parts))


def _publishes(project: DesiredProject) -> dict[str, object]:
    """Publish settings, for the config digest (absent when nothing is published)."""
    found = {
        c.name: c.publish.model_dump(mode="json")
        for c in project.spec.compositions
        if c.publish is not None
    }
    return {"publish": found} if found else {}
