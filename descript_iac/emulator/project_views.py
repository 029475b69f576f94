"""The 2026 projects API: `GET /v1/projects` (filters, sort, cursor pages) and
`GET /v1/projects/{id}` (media files by display path, compositions).

A media file appears once the import that brought it has stopped; a project created by another
client of the drive appears like any other (its name tells it apart). The list can lag behind
creation (`projects_lag`); a project read by id does not, as a job read by id does not.
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

from descript_iac.emulator import validation as v
from descript_iac.emulator.clock import iso
from descript_iac.emulator.exceptions import InvalidInput
from descript_iac.emulator.media import media_kind
from descript_iac.emulator.records import ProjectRecord

if TYPE_CHECKING:
    from descript_iac.emulator.backend import Backend

SORTS = ("name", "created_at", "updated_at", "last_viewed_at")
DIRECTIONS = ("asc", "desc")


def summary(project: ProjectRecord) -> dict[str, Any]:
    body = {
        "id": project.project_id,
        "name": project.name,
        "created_at": iso(project.created_at),
        "updated_at": iso(project.updated_at or project.created_at),
    }
    if project.folder_path:
        body["folder_path"] = project.folder_path
    return body


def detail(project: ProjectRecord) -> dict[str, Any]:
    imported = {n: m for n, m in project.media.items() if m.get("status") == "success"}
    media_files: dict[str, dict[str, Any]] = {}
    for name, entry in imported.items():
        item: dict[str, Any] = {"type": media_kind(entry)}
        if entry.get("duration_seconds") is not None:
            item["duration"] = entry["duration_seconds"]
        media_files[name] = item
    compositions = []
    for comp in project.compositions:
        clips = [imported.get(c["media"]) for c in comp.get("clips", [])]
        kinds = {media_kind(c) for c in clips if c}
        duration = comp.get("duration")
        if duration is None:
            duration = round(sum(float(c.get("duration_seconds") or 0) for c in clips if c), 6)
        media_type = comp.get("media_type") or (
            "video" if "video" in kinds or "sequence" in kinds else "audio"
        )
        compositions.append(
            {"id": comp["id"], "name": comp["name"], "duration": duration, "media_type": media_type}
        )
    body = summary(project)
    body["drive_id"] = project.drive_id
    body["media_files"] = media_files
    body["compositions"] = compositions
    return body


def _sort_key(project: ProjectRecord, sort: str) -> Any:
    if sort == "name":
        return project.name.casefold()
    if sort == "created_at":
        return project.created_at
    return project.updated_at or project.created_at  # last_viewed_at: the emulator has no views


def accessible(project: ProjectRecord, user: str) -> bool:
    """Whether `user` may see the project: their own, or shared with the drive's members (a
    project made with `team_access: none` by someone else is not listed, and is 403 by id)."""
    return project.created_by == user or project.team_access != "none"


def list_projects(backend: Backend, token: str, params: dict[str, str]) -> dict[str, Any]:
    now = backend.clock.now()
    limit = v.list_limit(params.get("limit"))
    sort = v.query_choice(params, "sort", SORTS) or "created_at"
    direction = v.query_choice(params, "direction", DIRECTIONS) or "desc"
    bounds = {key: v.query_time(params, key) for key in _TIME_FILTERS}
    name = params.get("name", "").casefold()
    folder = params.get("folder_path")
    folder = "/".join(p for p in folder.split("/") if p) if folder is not None else None
    creator = params.get("created_by")
    if creator == "me":
        creator = backend.user_id(token)
    drive = backend.drive_id(token)
    user = backend.user_id(token)
    lag = backend.config.faults.projects_lag
    rows = [
        p
        for p in backend.projects.values()
        if p.drive_id == drive
        and accessible(p, user)
        and p.created_at + lag <= now
        and name in p.name.casefold()
        and (folder is None or (p.folder_path or "") == folder)
        and (creator is None or p.created_by == creator)
        and _within(p, bounds)
    ]
    rows.sort(key=lambda p: (_sort_key(p, sort), p.project_id), reverse=direction == "desc")
    after = _decode(params.get("cursor"), sort, direction)
    if after is not None:
        if direction == "desc":
            rows = [p for p in rows if (_sort_key(p, sort), p.project_id) < after]
        else:
            rows = [p for p in rows if (_sort_key(p, sort), p.project_id) > after]
    page = rows[:limit]
    pagination: dict[str, str] = {}
    if len(rows) > limit:
        last = page[-1]
        pagination["next_cursor"] = _encode(sort, direction, _sort_key(last, sort), last.project_id)
    return {"data": [summary(p) for p in page], "pagination": pagination}


_TIME_FILTERS = ("created_after", "created_before", "updated_after", "updated_before")


def _within(project: ProjectRecord, bounds: dict[str, float | None]) -> bool:
    created, updated = project.created_at, project.updated_at or project.created_at
    checks = (
        (bounds["created_after"], created, 1),
        (bounds["created_before"], created, -1),
        (bounds["updated_after"], updated, 1),
        (bounds["updated_before"], updated, -1),
    )
    return all(bound is None or (value - bound) * sign >= 0 for bound, value, sign in checks)


def _encode(sort: str, direction: str, key: Any, project_id: str) -> str:
    raw = json.dumps([sort, direction, key, project_id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str | None, sort: str, direction: str) -> tuple[Any, str] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        was_sort, was_direction, key, project_id = json.loads(raw)
    except (ValueError, TypeError, UnicodeDecodeError):
        raise InvalidInput("cursor is not valid; use pagination.next_cursor as given") from None
    if (was_sort, was_direction) != (sort, direction):
        raise InvalidInput("cursor belongs to another sort order; keep sort and direction")
    if not isinstance(project_id, str) or isinstance(key, str) != (sort == "name"):
        raise InvalidInput("cursor is not valid; use pagination.next_cursor as given")
    if not isinstance(key, (str, int, float)):
        raise InvalidInput("cursor is not valid; use pagination.next_cursor as given")
    return key, project_id
