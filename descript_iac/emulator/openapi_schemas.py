"""Component schemas of the emulator's OpenAPI document, per API level.

Written from the Descript docs, by hand, for the emulator (not copied from Descript's document:
the emulator is an independent reading of the docs).
"""

from __future__ import annotations

from typing import Any

STR = {"type": "string"}
NUM = {"type": "number"}
UUID = {"type": "string", "format": "uuid"}
URI = {"type": "string", "format": "uri"}
TIME = {"type": "string", "format": "date-time"}
TEAM = {"type": "string", "enum": ["edit", "comment", "view", "none"]}
JOB_STATES = ["queued", "running", "stopped", "cancelled"]


def obj(props: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": props, **extra}
    if required:
        schema["required"] = required
    return schema


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def schemas(level: str) -> dict[str, Any]:
    modern = level == "2026"
    media = [ref("UrlMedia"), ref("Sequence"), *([ref("DirectUpload")] if modern else [])]
    job_types = ["import/project_media", "agent", *(["publish"] if modern else [])]
    import_props: dict[str, Any] = {
        "project_id": UUID,
        "project_name": STR,
        "team_access": TEAM,
        "add_media": {"type": "object", "additionalProperties": {"oneOf": media}},
        "add_compositions": {"type": "array", "items": ref("Composition")},
        "callback_url": URI,
    }
    if modern:
        import_props["folder_name"] = STR
    created: dict[str, Any] = {
        "job_id": UUID,
        "drive_id": UUID,
        "project_id": UUID,
        "project_url": URI,
    }
    if modern:
        created["upload_urls"] = {
            "type": "object",
            "additionalProperties": obj(
                {"upload_url": URI, "asset_id": UUID, "artifact_id": UUID},
                ["upload_url", "asset_id", "artifact_id"],
            ),
        }
    found: dict[str, Any] = {
        "Error": obj({"error": STR, "message": STR}, ["error", "message"]),
        "UrlMedia": obj({"url": URI, "language": STR}, ["url"], additionalProperties=False),
        "Track": obj({"media": STR, "offset": NUM}, ["media"], additionalProperties=False),
        "Sequence": obj(
            {"tracks": {"type": "array", "items": ref("Track"), "minItems": 1}},
            ["tracks"],
            additionalProperties=False,
        ),
        "Composition": obj(
            {
                "name": STR,
                "clips": {
                    "type": "array",
                    "items": obj({"media": STR}, ["media"], additionalProperties=False),
                },
                "width": {"type": "integer", "minimum": 1},
                "height": {"type": "integer", "minimum": 1},
                "fps": NUM,
            },
            ["clips"],
            additionalProperties=False,
        ),
        "ImportRequest": obj(import_props, additionalProperties=False),
        "AgentRequest": obj(
            {
                "project_id": UUID,
                "project_name": STR,
                "composition_id": STR,
                "model": STR,
                "prompt": {"type": "string", "minLength": 1, "pattern": r"\S"},
                "team_access": TEAM,
                "callback_url": URI,
            },
            ["prompt"],
            additionalProperties=False,
        ),
        "JobCreated": obj(created, ["job_id", "drive_id", "project_id", "project_url"]),
        "Job": obj(
            {
                "job_id": UUID,
                "job_type": {"type": "string", "enum": job_types},
                "job_state": {"type": "string", "enum": JOB_STATES},
                "created_at": TIME,
                "stopped_at": TIME,
                "drive_id": UUID,
                "project_id": UUID,
                "project_url": URI,
                "progress": obj(
                    {"label": STR, "percent": {"type": "integer"}, "last_update_at": TIME},
                    ["label"],
                ),
                "result": obj({"status": STR, "error_message": STR}, ["status"]),
            },
            ["job_id", "job_type", "job_state", "created_at", "drive_id", "project_id"],
        ),
        "JobList": obj(
            {
                "data": {"type": "array", "items": ref("Job")},
                "pagination": obj({"next_cursor": STR}),  # absent on the last page
            },
            ["data", "pagination"],
        ),
        "Status": obj({"status": {"type": "string", "enum": ["ok"]}}, ["status"]),
        "EditInDescriptRequest": obj(
            {
                "partner_drive_id": STR,
                "project_schema": obj(
                    {
                        "schema_version": STR,
                        "source_id": STR,
                        "files": {
                            "type": "array",
                            "minItems": 1,
                            "items": obj(
                                {"uri": URI, "name": STR, "start_offset": obj({"seconds": NUM})},
                                ["uri"],
                            ),
                        },
                    },
                    ["schema_version", "files"],
                ),
            },
            ["partner_drive_id", "project_schema"],
        ),
        "ImportUrl": obj({"url": STR}, ["url"]),
        "PublishedProject": obj(
            {
                "project_id": STR,
                "publish_type": STR,
                "privacy": STR,
                "metadata": obj(
                    {
                        "title": STR,
                        "duration_seconds": NUM,
                        "duration_formatted": STR,
                        "published_at": STR,
                        "published_by": obj({"first_name": STR, "last_name": STR}),
                    }
                ),
                "subtitles": STR,
            },
            ["project_id", "metadata"],
        ),
    }
    if modern:
        found.update(_schemas_2026())
    return found


def _schemas_2026() -> dict[str, Any]:
    summary = {"id": UUID, "name": STR, "created_at": TIME, "updated_at": TIME, "folder_path": STR}
    return {
        "DirectUpload": obj(
            {"content_type": STR, "file_size": {"type": "integer"}, "language": STR},
            ["content_type", "file_size"],
            additionalProperties=False,
        ),
        "PublishRequest": obj(
            {
                "project_id": UUID,
                "composition_id": UUID,
                "media_type": {"type": "string", "enum": ["Video", "Audio"]},
                "resolution": {"type": "string", "enum": ["480p", "720p", "1080p", "1440p", "4K"]},
                "callback_url": URI,
                "access_level": {
                    "type": "string",
                    "enum": ["public", "unlisted", "drive", "private"],
                },
            },
            ["project_id"],
            additionalProperties=False,
        ),
        "ProjectSummary": obj(summary, ["id", "name", "created_at", "updated_at"]),
        "ProjectList": obj(
            {
                "data": {"type": "array", "items": ref("ProjectSummary")},
                "pagination": obj({"next_cursor": STR}),  # absent on the last page
            },
            ["data", "pagination"],
        ),
        "Project": obj(
            {
                **summary,
                "drive_id": UUID,
                "media_files": {
                    "type": "object",
                    "additionalProperties": obj(
                        {
                            "type": {
                                "type": "string",
                                "enum": ["audio", "video", "image", "sequence", "other"],
                            },
                            "duration": NUM,
                        },
                        ["type"],
                    ),
                },
                "compositions": {
                    "type": "array",
                    "items": obj(
                        {"id": UUID, "name": STR, "duration": NUM, "media_type": STR},
                        ["id", "name"],
                    ),
                },
            },
            [
                *("id", "name", "drive_id", "created_at", "updated_at"),
                *("media_files", "compositions"),
            ],
        ),
    }
