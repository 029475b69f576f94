"""The OpenAPI document of the emulated API (served at /openapi.json).

Written from the Descript docs, by hand, for the emulator; property-based tests (schemathesis)
drive the emulator from it.
"""

from __future__ import annotations

from typing import Any

_STR = {"type": "string"}
_NUM = {"type": "number"}
_TEAM = {"type": "string", "enum": ["edit", "comment", "view", "none"]}


def _obj(props: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": props, **extra}
    if required:
        schema["required"] = required
    return schema


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _errors(*codes: int) -> dict[str, Any]:
    return {
        str(c): {
            "description": "Error",
            "content": {"application/json": {"schema": _ref("Error")}},
        }
        for c in codes
    }


def _ok(code: int, schema: str) -> dict[str, Any]:
    return {
        str(code): {"description": "OK", "content": {"application/json": {"schema": _ref(schema)}}}
    }


def _body(schema: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(schema)}}}


SCHEMAS: dict[str, Any] = {
    "Error": _obj({"error": _STR, "message": _STR}, ["error", "message"]),
    "UrlMedia": _obj(
        {"url": {"type": "string", "format": "uri"}, "language": _STR},
        ["url"],
        additionalProperties=False,
    ),
    "Track": _obj({"media": _STR, "offset": {"type": "number", "minimum": 0}}, ["media"]),
    "Sequence": _obj(
        {"tracks": {"type": "array", "items": _ref("Track"), "minItems": 1}},
        ["tracks"],
        additionalProperties=False,
    ),
    "Composition": _obj(
        {
            "name": _STR,
            "clips": {"type": "array", "items": _obj({"media": _STR}, ["media"])},
            "width": {"type": "integer", "minimum": 1},
            "height": {"type": "integer", "minimum": 1},
            "fps": {"type": "number", "minimum": 0, "exclusiveMinimum": True},
        }
    ),
    "ImportRequest": _obj(
        {
            "project_id": _STR,
            "project_name": _STR,
            "team_access": _TEAM,
            "add_media": {
                "type": "object",
                "additionalProperties": {"oneOf": [_ref("UrlMedia"), _ref("Sequence")]},
            },
            "add_compositions": {"type": "array", "items": _ref("Composition")},
            "callback_url": {"type": "string", "format": "uri"},
        }
    ),
    "AgentRequest": _obj(
        {
            "project_id": _STR,
            "project_name": _STR,
            "composition_id": _STR,
            "model": _STR,
            "prompt": {"type": "string", "minLength": 1},
            "team_access": _TEAM,
            "callback_url": {"type": "string", "format": "uri"},
        },
        ["prompt"],
    ),
    "JobCreated": _obj(
        {"job_id": _STR, "drive_id": _STR, "project_id": _STR, "project_url": _STR},
        ["job_id", "drive_id", "project_id", "project_url"],
    ),
    "Job": _obj(
        {
            "job_id": _STR,
            "job_type": {"type": "string", "enum": ["import/project_media", "agent"]},
            "job_state": {"type": "string", "enum": ["queued", "running", "stopped", "cancelled"]},
            "created_at": {"type": "string", "format": "date-time"},
            "stopped_at": {"type": "string", "format": "date-time"},
            "drive_id": _STR,
            "project_id": _STR,
            "project_url": _STR,
            "progress": _obj(
                {
                    "label": _STR,
                    "percent": {"type": "integer"},
                    "last_update_at": {"type": "string", "format": "date-time"},
                }
            ),
            "result": _obj({"status": _STR, "error_message": _STR}, ["status"]),
        },
        ["job_id", "job_type", "job_state", "created_at", "project_id"],
    ),
    "JobList": _obj(
        {
            "data": {"type": "array", "items": _ref("Job")},
            "pagination": _obj({"next_cursor": {"type": "string", "nullable": True}}),
        },
        ["data", "pagination"],
    ),
    "Status": _obj({"status": _STR}, ["status"]),
    "EditInDescriptRequest": _obj(
        {
            "partner_drive_id": _STR,
            "project_schema": _obj(
                {
                    "schema_version": _STR,
                    "source_id": _STR,
                    "files": {
                        "type": "array",
                        "items": _obj(
                            {
                                "uri": {"type": "string", "format": "uri"},
                                "name": _STR,
                                "start_offset": _obj({"seconds": _NUM}),
                            },
                            ["uri"],
                        ),
                    },
                },
                ["schema_version", "files"],
            ),
        },
        ["partner_drive_id", "project_schema"],
    ),
    "ImportUrl": _obj({"url": _STR}, ["url"]),
    "PublishedProject": _obj(
        {
            "project_id": _STR,
            "publish_type": _STR,
            "privacy": _STR,
            "metadata": _obj(
                {
                    "title": _STR,
                    "duration_seconds": _NUM,
                    "duration_formatted": _STR,
                    "published_at": _STR,
                    "published_by": _obj({"first_name": _STR, "last_name": _STR}),
                }
            ),
            "subtitles": _STR,
        },
        ["project_id", "metadata"],
    ),
}


def openapi_document() -> dict[str, Any]:
    common = (400, 401, 429, 500)
    return {
        "openapi": "3.0.3",
        "info": {"title": "Descript API (descript-iac emulator)", "version": "v1"},
        "servers": [{"url": "/v1"}],
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": {
            "/status": {
                "get": {
                    "operationId": "status",
                    "responses": {**_ok(200, "Status"), **_errors(401, 429, 500)},
                }
            },
            "/jobs/import/project_media": {
                "post": {
                    "operationId": "importProjectMedia",
                    "requestBody": _body("ImportRequest"),
                    "responses": {**_ok(201, "JobCreated"), **_errors(*common, 402, 404)},
                }
            },
            "/jobs/agent": {
                "post": {
                    "operationId": "agentEdit",
                    "requestBody": _body("AgentRequest"),
                    "responses": {**_ok(201, "JobCreated"), **_errors(*common, 402, 404)},
                }
            },
            "/jobs": {
                "get": {
                    "operationId": "listJobs",
                    "parameters": [
                        {"name": "project_id", "in": "query", "schema": _STR},
                        {
                            "name": "type",
                            "in": "query",
                            "schema": {"type": "string", "enum": ["import/project_media", "agent"]},
                        },
                        {"name": "cursor", "in": "query", "schema": _STR},
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 100},
                        },
                        {
                            "name": "created_after",
                            "in": "query",
                            "schema": {"type": "string", "format": "date-time"},
                        },
                        {
                            "name": "created_before",
                            "in": "query",
                            "schema": {"type": "string", "format": "date-time"},
                        },
                    ],
                    "responses": {**_ok(200, "JobList"), **_errors(*common)},
                }
            },
            "/jobs/{job_id}": {
                "get": {
                    "operationId": "getJob",
                    "parameters": [
                        {"name": "job_id", "in": "path", "required": True, "schema": _STR}
                    ],
                    "responses": {**_ok(200, "Job"), **_errors(*common, 404)},
                }
            },
            "/edit_in_descript/schema": {
                "post": {
                    "operationId": "editInDescriptSchema",
                    "requestBody": _body("EditInDescriptRequest"),
                    "responses": {**_ok(201, "ImportUrl"), **_errors(*common, 403)},
                }
            },
            "/published_projects/{publishedProjectSlug}": {
                "get": {
                    "operationId": "getPublishedProject",
                    "parameters": [
                        {
                            "name": "publishedProjectSlug",
                            "in": "path",
                            "required": True,
                            "schema": _STR,
                        }
                    ],
                    "responses": {**_ok(200, "PublishedProject"), **_errors(*common, 404)},
                }
            },
        },
    }
