"""Publish jobs (`POST /v1/jobs/publish`, 2026 level) and published projects' metadata.

A publish renders one composition of a project. Its share URL is stable per (project,
composition, media type): a republish reuses it, as the 2026 document says. The result's
`download_url` is signed (it carries a query string) and is computed when the job is shown, so
the data directory never holds it. Status codes follow the document, which lists no 404 for
this operation: a project that is not on the token's drive is 403, a composition the project
does not have is 422.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from descript_iac.emulator import validation as v
from descript_iac.emulator.clock import iso
from descript_iac.emulator.exceptions import Forbidden, InvalidInput, Unprocessable
from descript_iac.emulator.faults import ACCESS_LEVELS
from descript_iac.emulator.records import ProjectRecord

if TYPE_CHECKING:
    from descript_iac.emulator.backend import Backend

PUBLISH_JOB = "publish"
FIELDS = (
    *("project_id", "composition_id", "media_type", "resolution", "access_level"),
    "callback_url",
)
MEDIA_TYPES = ("Video", "Audio")
RESOLUTIONS = ("480p", "720p", "1080p", "1440p", "4K")
SHARE_URL = "https://share.descript.com/view/{}"


def create_publish(backend: Backend, token: str, body: Any, at: float) -> dict[str, Any]:
    body = v.require_object(body)
    v.only_keys(body, FIELDS)
    if body.get("project_id") is None:
        raise InvalidInput("project_id is required")
    project_id = str(v.optional_uuid(body, "project_id"))
    composition_id = v.optional_uuid(body, "composition_id")
    media_type = v.choice(body, "media_type", MEDIA_TYPES) or "Video"
    resolution = v.choice(body, "resolution", RESOLUTIONS)
    access = v.choice(body, "access_level", ACCESS_LEVELS)
    callback = v.callback_url(body)
    project = backend.projects.get(project_id)
    if project is None or project.drive_id != backend.drive_id(token):
        raise Forbidden(f"Project {project_id} is not on this token's drive")
    allowed = backend.config.faults.publish_access_levels
    if access is None:
        access = "unlisted" if "unlisted" in allowed else (allowed or ["private"])[0]
    elif access not in allowed:
        raise Forbidden(
            f"access_level {access!r} is not permitted by the drive's publish settings "
            f"(allowed: {', '.join(allowed) or 'none'})"
        )
    composition = _composition(project, composition_id)
    key = f"{composition['id']}:{media_type}"
    entry = project.publishes.setdefault(key, {"slug": secrets.token_hex(6)})
    share_url = SHARE_URL.format(entry["slug"])
    result: dict[str, Any]
    if backend.dice.roll(backend.config.faults.job_failure_rate):
        result = {"status": "error", "error_message": "Export failed during render"}
    else:
        result = {"status": "success", "composition_id": composition["id"], "share_url": share_url}
    effects = {
        "publish": {
            "key": key,
            "media_type": media_type,
            "resolution": resolution,
            "access_level": access,
        }
    }
    label = "Rendering video export" if media_type == "Video" else "Rendering audio export"
    return backend.enqueue(
        project,
        PUBLISH_JOB,
        backend.config.job_seconds,
        result,
        effects,
        callback,
        [label, "Uploading to the share page..."],
        at=at,
        progress_extra={"composition_id": composition["id"], "share_url": share_url},
    )


def _composition(project: ProjectRecord, composition_id: str | None) -> dict[str, Any]:
    if composition_id is None:
        if not project.compositions:
            raise Unprocessable(f"Project {project.project_id} has no composition to publish yet")
        return project.compositions[0]
    for comp in project.compositions:
        if comp["id"] == composition_id:
            return comp
    raise Unprocessable(
        f"composition_id {composition_id} is not a composition of project {project.project_id}"
    )


def finish_publish(project: ProjectRecord, effects: dict[str, Any], at: float) -> None:
    """Record a successful publish on the project (its share page now exists)."""
    publish = effects["publish"]
    entry = project.publishes.setdefault(publish["key"], {"slug": secrets.token_hex(6)})
    entry.update(
        access_level=publish["access_level"], media_type=publish["media_type"], published_at=at
    )


def find_published(project: ProjectRecord, slug: str) -> dict[str, Any] | None:
    """The published page `slug` of `project`, if it has been published."""
    if project.published_slug == slug:
        return {"access_level": "unlisted", "media_type": "Video", "published_at": None}
    for entry in project.publishes.values():
        if entry["slug"] == slug and entry.get("published_at") is not None:
            return entry
    return None


def published_view(project: ProjectRecord, page: dict[str, Any]) -> dict[str, Any]:
    cues = ["WEBVTT", ""]
    position = 0.0
    total = 0.0
    for name, media in project.media.items():
        duration = float(media.get("duration_seconds") or 0.0)
        if "source" not in media or not duration:
            continue
        cues += [f"{_vtt(position)} --> {_vtt(position + duration)}", name, ""]
        position += duration
        total += duration
    whole = int(total)
    return {
        "project_id": project.project_id,
        "publish_type": "audio" if page["media_type"] == "Audio" else "video",
        "privacy": page["access_level"],
        "metadata": {
            "title": project.name,
            "duration_seconds": round(total, 3),
            "duration_formatted": f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}",
            "published_at": iso(page["published_at"] or project.created_at),
            "published_by": {"first_name": "Emulated", "last_name": "User"},
        },
        "subtitles": "\n".join(cues),
    }


def _vtt(seconds: float) -> str:
    millis = round(seconds * 1000)
    h, rest = divmod(millis, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"
