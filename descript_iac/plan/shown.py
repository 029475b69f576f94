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
from descript_iac.config.model import AgentStep, Composition, SequenceMedia, UrlMedia
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
