"""The OpenAPI document of the emulated API at the level it serves (served at /openapi.json).

Written from the Descript docs, by hand, for the emulator; property-based tests (schemathesis)
drive the emulator from it, and from Descript's own 2026 document.
"""

from __future__ import annotations

from typing import Any

from descript_iac.emulator.openapi_schemas import STR, TIME, UUID, ref, schemas

COMMON = (400, 401, 429, 500)


def _errors(*codes: int) -> dict[str, Any]:
    return {
        str(c): {"description": "Error", "content": {"application/json": {"schema": ref("Error")}}}
        for c in codes
    }


def _ok(code: int, schema: str) -> dict[str, Any]:
    return {
        str(code): {"description": "OK", "content": {"application/json": {"schema": ref(schema)}}}
    }


def _body(schema: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": ref(schema)}}}


def _query(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema}


def _path(name: str, schema: dict[str, Any] = STR) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema}


LIMIT = {"type": "integer", "minimum": 1, "maximum": 100}


def _paths(level: str) -> dict[str, Any]:
    modern = level == "2026"
    job_types = ["import/project_media", "agent", *(["publish"] if modern else [])]
    job: dict[str, Any] = {
        "get": {
            "operationId": "getJob",
            "parameters": [_path("job_id", UUID)],
            "responses": {**_ok(200, "Job"), **_errors(*COMMON, 404)},
        }
    }
    if modern:
        job["delete"] = {
            "operationId": "cancelJob",
            "parameters": [_path("job_id", UUID)],
            "responses": {"204": {"description": "Cancelled"}, **_errors(*COMMON, 404, 409)},
        }
    paths: dict[str, Any] = {
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
                "responses": {**_ok(201, "JobCreated"), **_errors(*COMMON, 402, 404, 502, 503)},
            }
        },
        "/jobs/agent": {
            "post": {
                "operationId": "agentEdit",
                "requestBody": _body("AgentRequest"),
                "responses": {**_ok(201, "JobCreated"), **_errors(*COMMON, 402, 404, 502, 503)},
            }
        },
        "/jobs": {
            "get": {
                "operationId": "listJobs",
                "parameters": [
                    _query("project_id", STR),
                    _query("type", {"type": "string", "enum": job_types}),
                    _query("cursor", STR),
                    _query("limit", LIMIT),
                    _query("created_after", TIME),
                    _query("created_before", TIME),
                ],
                "responses": {**_ok(200, "JobList"), **_errors(*COMMON)},
            }
        },
        "/jobs/{job_id}": job,
        "/edit_in_descript/schema": {
            "post": {
                "operationId": "editInDescriptSchema",
                "requestBody": _body("EditInDescriptRequest"),
                "responses": {**_ok(201, "ImportUrl"), **_errors(*COMMON, 403)},
            }
        },
        "/published_projects/{publishedProjectSlug}": {
            "get": {
                "operationId": "getPublishedProject",
                "parameters": [_path("publishedProjectSlug")],
                "responses": {**_ok(200, "PublishedProject"), **_errors(*COMMON, 404)},
            }
        },
    }
    if modern:
        paths.update(_paths_2026())
    return paths


def _paths_2026() -> dict[str, Any]:
    sorts = ["name", "created_at", "updated_at", "last_viewed_at"]
    return {
        "/jobs/publish": {
            "post": {
                "operationId": "publishJob",
                "requestBody": _body("PublishRequest"),
                "responses": {**_ok(201, "JobCreated"), **_errors(*COMMON, 403, 422, 502, 503)},
            }
        },
        "/projects": {
            "get": {
                "operationId": "listProjects",
                "parameters": [
                    _query("name", STR),
                    _query("folder_path", STR),
                    _query("created_by", STR),
                    *(_query(k, TIME) for k in ("created_after", "created_before")),
                    *(_query(k, TIME) for k in ("updated_after", "updated_before")),
                    _query("sort", {"type": "string", "enum": sorts}),
                    _query("direction", {"type": "string", "enum": ["asc", "desc"]}),
                    _query("cursor", STR),
                    _query("limit", LIMIT),
                ],
                "responses": {**_ok(200, "ProjectList"), **_errors(*COMMON)},
            }
        },
        "/projects/{project_id}": {
            "get": {
                "operationId": "getProject",
                "parameters": [_path("project_id", UUID)],
                "responses": {**_ok(200, "Project"), **_errors(*COMMON, 404)},
            }
        },
    }


def openapi_document(level: str = "seed") -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": f"Descript API (descript-iac emulator, {level} level)", "version": "v1"},
        "servers": [{"url": "/v1"}],
        "components": {
            "schemas": schemas(level),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": _paths(level),
    }
