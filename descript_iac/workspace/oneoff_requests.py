"""What a one-off command asks for, as the desired project apply would make from YAML.

`import-media` and `agent` build a one-project workspace in memory, so the one-off job goes
through the very code apply uses (plan, intents, gates, resolution, polling). Values from the
command line are checked by the same rules as the YAML format, and errors name the option.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from pydantic import ValidationError

from descript_iac.config.desired import DesiredProject
from descript_iac.config.model import Defaults, Project
from descript_iac.config.validation.lifecycle import folder_problem
from descript_iac.config.validation.references import media_name_problem, url_problem
from descript_iac.errors import DescriptIacError

WHERE = "(command line)"
STEP_ID = "prompt"


@dataclass(frozen=True)
class MediaImport:
    """`import-media`: a new project from media URLs."""

    name: str
    media: tuple[str, ...]  # NAME=URL or URL
    compositions: tuple[str, ...] = ()  # NAME (all media) or NAME=MEDIA,MEDIA
    team_access: str | None = None
    folder: str | None = None
    callback_url: str | None = None


@dataclass(frozen=True)
class AgentPrompt:
    """`agent`: a prompt on an existing project (`project_id`) or on a new one (`name`)."""

    prompt: str
    project_id: str | None = None
    name: str | None = None
    composition: str | None = None
    model: str | None = None
    team_access: str | None = None
    callback_url: str | None = None


def slug(text: str) -> str:
    """An address from a name: lowercase, runs of other characters as '-'."""
    found = re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-._")
    return found[:60].rstrip("-._") or "project"


def media_pairs(values: tuple[str, ...]) -> dict[str, str]:
    """`--media NAME=URL` (or a bare URL, named after its file) as name -> URL."""
    found: dict[str, str] = {}
    for value in values:
        name, sep, url = value.partition("=")
        if not sep or "://" in name:
            name, url = urlsplit(value).path.rstrip("/").rsplit("/", 1)[-1], value
        why = url_problem(url)
        if why:
            raise DescriptIacError(f"--media {_shown(value)}: the URL {why}")
        why = media_name_problem(name)
        if why:
            raise DescriptIacError(f"--media {_shown(value)}: {why}; give NAME=URL")
        if name in found:
            raise DescriptIacError(f"--media: {name} is given twice; name each file once")
        found[name] = url
    if not found:
        raise DescriptIacError("--media: give at least one NAME=URL")
    return found


def _shown(value: str) -> str:
    return value.split("?", 1)[0] + ("?..." if "?" in value else "")


def compositions(values: tuple[str, ...], media: list[str]) -> list[dict[str, object]]:
    """`--composition NAME` (every media in order) or `NAME=MEDIA,MEDIA`."""
    out: list[dict[str, object]] = []
    for value in values:
        name, sep, clips = value.partition("=")
        names = [c.strip() for c in clips.split(",") if c.strip()] if sep else list(media)
        unknown = [c for c in names if c not in media]
        if unknown:
            raise DescriptIacError(
                f"--composition {value}: no media named {', '.join(unknown)} (given: "
                f"{', '.join(media)})"
            )
        out.append({"name": name.strip(), "clips": [{"media": c} for c in names]})
    return out


def _project(address: str, spec: dict[str, object]) -> DesiredProject:
    try:
        project = Project.model_validate({k: v for k, v in spec.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise DescriptIacError(f"{where}: {first['msg']}") from None
    return DesiredProject(address=address, spec=project, defaults=Defaults(), file=WHERE, line=0)


def import_project(address: str, request: MediaImport) -> DesiredProject:
    media = media_pairs(request.media)
    if request.folder is not None and (why := folder_problem(request.folder)):
        raise DescriptIacError(f"--folder {request.folder}: {why}")
    return _project(
        address,
        {
            "name": request.name,
            "team_access": request.team_access,
            "folder": request.folder,
            "callback_url": request.callback_url,
            "media": {n: {"url": u} for n, u in media.items()},
            "compositions": compositions(request.compositions, list(media)),
        },
    )


def agent_project(address: str, request: AgentPrompt) -> DesiredProject:
    step: dict[str, object] = {"id": STEP_ID, "prompt": request.prompt}
    if request.model:
        step["model"] = request.model
    if request.composition:
        step["composition"] = request.composition
    return _project(
        address,
        {
            "name": request.name,
            "team_access": request.team_access,
            "callback_url": request.callback_url,
            "steps": [step],
        },
    )
