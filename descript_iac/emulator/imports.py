"""Import jobs (`POST /v1/jobs/import/project_media`): media, sequences and compositions.

The outcome is decided at submission from the inputs (deterministic durations, failing URLs,
the seeded job-failure fault) and shown once the job has stopped.
"""

from __future__ import annotations

import math
import secrets
import uuid
from typing import TYPE_CHECKING, Any

from descript_iac.emulator import validation as v
from descript_iac.emulator.exceptions import InvalidInput
from descript_iac.emulator.hostile import HOSTILE_TEXT
from descript_iac.emulator.media import probe, probe_upload, public_part, read_duration

if TYPE_CHECKING:
    from descript_iac.emulator.backend import Backend
    from descript_iac.emulator.records import ProjectRecord

IMPORT_JOB = "import/project_media"
IMPORT_INTO_EXISTING = "import-into-existing"
IMPORT_LABELS = ["Downloading media...", "Transcribing...", "Creating compositions..."]
SEED_FIELDS = ("project_id", "project_name", "team_access", "add_media", "add_compositions")
FIELDS_2026 = (*SEED_FIELDS, "folder_name")


def create_import(backend: Backend, token: str, body: Any, at: float) -> dict[str, Any]:
    modern = backend.level == "2026"
    body = v.require_object(body)
    v.only_keys(body, (*(FIELDS_2026 if modern else SEED_FIELDS), "callback_url"))
    name = v.optional_str(body, "project_name")
    access = v.team_access(body)
    folder = v.folder_path(body)
    callback = v.callback_url(body)
    project_id = v.optional_uuid(body, "project_id")
    existing: ProjectRecord | None = None
    if project_id and (modern or IMPORT_INTO_EXISTING in backend.config.capabilities):
        existing = backend.project_for(token, project_id)
    # a name is taken once reserved or imported; a failed file left nothing behind
    known = (
        {n for n, m in existing.media.items() if m.get("status") != "failed"} if existing else set()
    )
    media = v.add_media(body, known, uploads=modern)
    conflicts = sorted(known & set(media))
    if conflicts:
        raise InvalidInput(f"media filenames conflict with existing files: {conflicts}")
    comps = v.add_compositions(body, set(media) | known)
    result, effects, total = _outcome(backend, media, comps, existing)
    project = existing or backend.new_project(token, name, access, folder, at)
    for media_name in media:  # reserved now, so a second import cannot reuse the name
        project.media[media_name] = {"status": "pending"}
    duration = backend.config.job_seconds * (1 + min(total, 3600.0) / 3600.0)
    created = backend.enqueue(
        project, IMPORT_JOB, duration, result, effects, callback, IMPORT_LABELS, at=at
    )
    uploads = {
        n: {
            "upload_url": f"https://uploads.descript-emulator.test/{uuid.uuid4()}"
            f"?X-Goog-Signature={secrets.token_hex(16)}",
            "asset_id": str(uuid.uuid4()),
            "artifact_id": str(uuid.uuid4()),
        }
        for n, item in media.items()
        if "content_type" in item
    }
    return {**created, "upload_urls": uploads} if uploads else created


def _outcome(
    backend: Backend,
    media: dict[str, dict[str, Any]],
    comps: list[dict[str, Any]],
    existing: ProjectRecord | None,
) -> tuple[dict[str, Any], dict[str, Any], float]:
    faults = backend.config.faults
    statuses: dict[str, dict[str, Any]] = {}
    stored: dict[str, dict[str, Any]] = {}
    durations: dict[str, float | None] = {}
    if existing:
        durations.update({n: m.get("duration_seconds") for n, m in existing.media.items()})
    for name, item in media.items():
        if "tracks" in item:
            continue
        if "url" in item:
            if faults.read_media:
                duration, error = read_duration(item["url"])
            else:
                duration, error = probe(item["url"], faults.fail_media_pattern)
            origin = {"source": public_part(item["url"])}
        else:
            duration, error = probe_upload(name, item["content_type"], item["file_size"])
            origin = {"content_type": item["content_type"]}
        durations[name] = duration
        entry: dict[str, Any] = {"status": "success" if error is None else "failed"}
        if duration is not None:
            entry["duration_seconds"] = duration
        if error:
            entry["error_message"] = error + (HOSTILE_TEXT if faults.hostile_text else "")
        statuses[name] = entry
        stored[name] = {**origin, **entry}
    for name, item in media.items():
        if "tracks" not in item:
            continue
        ends = [durations.get(t["media"]) for t in item["tracks"]]
        if all(d is not None for d in ends):
            length = max(
                (d or 0.0) + t["offset"] for d, t in zip(ends, item["tracks"], strict=True)
            )
            entry = {"status": "success", "duration_seconds": round(max(length, 0.0), 6)}
        else:
            entry = {"status": "failed", "error_message": "A track of the sequence failed"}
        statuses[name] = entry
        stored[name] = {"tracks": item["tracks"], **entry}
    ok = [s for s in statuses.values() if s["status"] == "success"]
    used = sum(
        statuses[n].get("duration_seconds", 0.0)
        for n, item in media.items()
        if "tracks" not in item and statuses[n]["status"] == "success"
    )
    if statuses and not ok:
        status = "error"
    elif len(ok) < len(statuses):
        status = "partial"
    else:
        status = "success"
    if backend.dice.roll(faults.job_failure_rate):
        status = "error"
    result: dict[str, Any] = {
        "status": status,
        "media_status": statuses,
        "media_seconds_used": math.ceil(used) if status != "error" else 0,
    }
    created = []
    if status == "error":
        result["error_message"] = "Import failed: no media could be imported" + (
            HOSTILE_TEXT if faults.hostile_text else ""
        )
    else:
        created = [{"id": str(uuid.uuid4()), "name": c["name"]} for c in comps]
    result["created_compositions"] = created
    layouts = [{**c, "id": made["id"]} for c, made in zip(comps, created, strict=False)]
    effects = {
        "media": {} if status == "error" else stored,
        "compositions": layouts,
        "reserved": list(media),  # names released when the job stops without importing them
    }
    return result, effects, used
