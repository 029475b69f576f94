"""What a reviewer may see of the desired state: the values behind the digests, never a secret.

A plan shows the prompt of every step that will run, what an import will send, and old -> new
for what changed; the state keeps these values too (format 3), so the next plan can show the old
side. A value from the environment (`${env:NAME}`) is never shown nor stored: it is masked. A
URL is shown without its query string (pre-signed URLs carry their signature there).
"""

from __future__ import annotations

import functools
import re
from urllib.parse import urlsplit, urlunsplit

from descript_iac.config.desired import DesiredProject
from descript_iac.config.model import (
    AgentStep,
    Composition,
    Export,
    Publish,
    SequenceMedia,
    UrlMedia,
)
from descript_iac.plan.model import Setting
from descript_iac.redact import MASK, redact
from descript_iac.state.document import ShownFacets

# An http(s) URL with a plain host, an optional port, no whitespace or control characters:
# split by this regex exactly as urlsplit would, at a fraction of the cost. Anything else
# goes through urlsplit.
PLAIN_URL = re.compile(
    r"(https?)://([A-Za-z0-9.-]+)(?::([0-9]{1,5}))?(/[^?#\x00-\x20\x7f]*)?(?:[?#][^\x00-\x20\x7f]*)?\Z"
)


@functools.lru_cache(maxsize=8192)
def without_query(url: str) -> str:
    """scheme://host/path of a URL: its query string and fragment may hold a signature.
    (What urlsplit and urlunsplit give; a plain URL is split by `PLAIN_URL`, 20x faster.)"""
    match = PLAIN_URL.match(url)
    if match is not None:
        scheme, host, port, path = match.groups()
        return f"{scheme}://{host}{'' if port is None else ':' + port}{path or ''}"
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


def media_source(item: UrlMedia | SequenceMedia) -> str:
    if isinstance(item, SequenceMedia):
        tracks = [t.media + (f" at +{t.offset:g}s" if t.offset else "") for t in item.tracks]
        return "tracks: " + ", ".join(tracks)
    extras = [f"language {item.language}"] if item.language else []
    if item.revision is not None:
        extras.append(f"revision {item.revision}")
    suffix = f" ({', '.join(extras)})" if extras else ""
    return redact(without_query(item.url)) + suffix


def composition_summary(composition: Composition) -> str:
    text = "clips: " + ", ".join(c.media for c in composition.clips)
    if composition.width or composition.height:
        text += f"; {composition.width or '?'}x{composition.height or '?'}"
    if composition.fps:
        text += f" at {composition.fps:g} fps"
    return text


def shown_facets(project: DesiredProject) -> ShownFacets:
    media: dict[str, str | None] = {}
    for name, item in sorted(project.spec.media.items()):
        secret = isinstance(item, UrlMedia) and project.is_secret("media", name, "url")
        media[name] = None if secret else media_source(item)
    return ShownFacets(
        name=None if project.is_secret("name") else redact(project.name),
        team_access=project.team_access,
        media=media,
        compositions={c.name: composition_summary(c) for c in project.spec.compositions},
    )


def _export(export: Export) -> str:
    source = f"composition {export.composition}" if export.composition else export.published
    files = [f"{kind} {path}" for kind, path in (("subtitles", export.subtitles),
             ("metadata", export.metadata)) if path]  # fmt: skip
    return f"{source} -> {', '.join(files) or 'nothing'}"


def create_settings(project: DesiredProject, imports: bool) -> tuple[Setting, ...]:
    """What a create sends beyond media and compositions (`imports`: an import job, which
    also takes the folder; a prompt-only project is made by an agent job, which does not), and
    the exports every apply will write."""
    out = [
        Setting(what="name", value=MASK if project.is_secret("name") else redact(project.name)),
        Setting(what="team_access", value=project.team_access),
    ]
    folder = project.spec.folder
    if imports and folder is not None:
        out.append(
            Setting(what="folder", value=MASK if project.is_secret("folder") else redact(folder))
        )
    url = project.callback_url
    if url is not None:
        secret = project.is_secret("callback_url")
        out.append(
            Setting(what="callback_url", value=MASK if secret else redact(without_query(url)))
        )
    out += [Setting(what="export", value=redact(_export(e))) for e in project.spec.exports]
    return tuple(out)


def step_settings(step: AgentStep) -> tuple[Setting, ...]:
    """The composition an agent step works on (`composition_id`), when it names one."""
    if step.composition is None:
        return ()
    return (Setting(what="composition", value=redact(step.composition)),)


def publish_settings(publish: Publish) -> tuple[Setting, ...]:
    """What a publish job sends: media type, resolution, access level (unset: the API's)."""
    return tuple(
        Setting(what=name, value=value or "default (the API's)")
        for name, value in (
            ("media_type", publish.media_type),
            ("resolution", publish.resolution),
            ("access_level", publish.access_level),
        )
    )


def step_index(project: DesiredProject, step: AgentStep) -> int:
    return next(i for i, s in enumerate(project.spec.steps) if s.id == step.id)


def step_prompt(project: DesiredProject, step: AgentStep) -> str | None:
    """The prompt as a reviewer may see it; None when it comes from the environment."""
    if project.is_secret("steps", step_index(project, step), "prompt"):
        return None
    return redact(step.prompt)


def step_model(project: DesiredProject, step: AgentStep) -> str | None:
    model = project.step_model(step)
    if model is None:
        return None
    if step.model is not None and project.is_secret("steps", step_index(project, step), "model"):
        return MASK
    return redact(model)


def shown(value: str | None) -> str:
    """A stored shown value for display: a secret (None) is masked."""
    return MASK if value is None else value
