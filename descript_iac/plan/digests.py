"""Salted digests of the desired state: what the state stores instead of the values.

A pre-signed URL's query string is not part of a media item's identity (it rotates); the
identity is scheme, host and path, plus the user's `revision` and the transcription language.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from descript_iac.config.desired import DesiredProject
from descript_iac.config.model import AgentStep, Composition, SequenceMedia, UrlMedia
from descript_iac.plan.shown import shown_facets
from descript_iac.redact import salted_digest
from descript_iac.state.document import ImportFacets


def media_identity(salt: str, item: UrlMedia | SequenceMedia) -> str:
    if isinstance(item, SequenceMedia):
        tracks = [[t.media, t.offset or 0.0] for t in item.tracks]
        return salted_digest(salt, "tracks", json.dumps(tracks))
    parts = urlsplit(item.url)
    host = (parts.hostname or "").lower() + (f":{parts.port}" if parts.port else "")
    revision = "" if item.revision is None else str(item.revision)
    return salted_digest(
        salt, "url", parts.scheme.lower(), host, parts.path, revision, item.language or ""
    )


def composition_digest(salt: str, composition: Composition) -> str:
    # `publish` is not an import-time input: publishing again never changes the project.
    data = composition.model_dump(mode="json", exclude={"publish"})
    canonical = json.dumps(data, sort_keys=True)
    return salted_digest(salt, "composition", canonical)


def name_digest(salt: str, name: str) -> str:
    """A project name's digest (the resolver compares the API's project names with it)."""
    return salted_digest(salt, "name", name)


def import_facets(salt: str, project: DesiredProject) -> ImportFacets:
    return ImportFacets(
        name=name_digest(salt, project.name),
        team_access=salted_digest(salt, "team_access", project.team_access),
        media={n: media_identity(salt, m) for n, m in sorted(project.spec.media.items())},
        compositions={c.name: composition_digest(salt, c) for c in project.spec.compositions},
        folder=salted_digest(salt, "folder", project.spec.folder) if project.spec.folder else None,
    )


def recorded_facets(salt: str, project: DesiredProject) -> ImportFacets:
    """The facets the state records: the digests, and the values a reviewer may see later."""
    return import_facets(salt, project).model_copy(update={"shown": shown_facets(project)})


def facets_digest(salt: str, facets: ImportFacets) -> str:
    # The shown values are for reviewers; the digests alone say what the project is. Facets
    # added later (folder) count only when set, so earlier digests stay the same.
    data = facets.model_dump(exclude={"shown"}, exclude_none=True)
    return salted_digest(salt, "facets", json.dumps(data, sort_keys=True))


def step_digest(salt: str, project: DesiredProject, step: AgentStep) -> str:
    # A step's composition target counts only when set, so earlier digests stay the same.
    target = (step.composition,) if step.composition else ()
    return salted_digest(salt, "step", step.prompt, project.step_model(step) or "", *target)


def config_digest(
    salt: str, projects: dict[str, DesiredProject], facets: dict[str, ImportFacets]
) -> str:
    """One digest of everything a plan depends on in the config (`facets`: per address)."""
    summary = {
        address: {
            "facets": facets_digest(salt, facets[address]),
            "steps": [[s.id, step_digest(salt, p, s)] for s in p.spec.steps],
            "on_change": p.on_change,
            **_publishes(p),
        }
        for address, p in sorted(projects.items())
    }
    return salted_digest(salt, "config", json.dumps(summary, sort_keys=True))


def _publishes(project: DesiredProject) -> dict[str, object]:
    """Publish settings, for the config digest (absent when nothing is published)."""
    found = {
        c.name: c.publish.model_dump(mode="json")
        for c in project.spec.compositions
        if c.publish is not None
    }
    return {"publish": found} if found else {}
