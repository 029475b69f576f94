"""Every request example of the Descript docs, replayed against the emulator over HTTP."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.builders import TOKEN, start_emulator, wait_for_job

AUTH = {"Authorization": f"Bearer {TOKEN}"}
SEED_IMPORT = {
    "project_name": "My First Video",
    "add_media": {"demo.mp4": {"url": "https://test-files.descriptapi.com/demo_video.mp4"}},
    "add_compositions": [{"name": "Demo Video", "clips": [{"media": "demo.mp4"}]}],
}
SEED_MARKETING = {
    "project_name": "Marketing Video",
    "add_media": {
        "Misc/intro.mp4": {"url": "https://cdn.example.com/intro.mp4"},
        "demo.mp4": {"url": "https://test-files.descriptapi.com/demo_video.mp4"},
        "Misc/outro.mp4": {"url": "https://cdn.example.com/outro.mp4"},
    },
    "add_compositions": [
        {
            "name": "Rough Cut",
            "clips": [
                {"media": "Misc/intro.mp4"},
                {"media": "demo.mp4"},
                {"media": "Misc/outro.mp4"},
            ],
        }
    ],
}
CREATED_KEYS = {"job_id": str, "drive_id": str, "project_id": str, "project_url": str}


def _types(body: dict[str, Any], spec: dict[str, type]) -> None:
    for key, kind in spec.items():
        assert key in body, f"missing {key} in {body}"
        assert isinstance(body[key], kind), f"{key} is {type(body[key])}"


@pytest.fixture
def api():  # type: ignore[no-untyped-def]
    running = start_emulator(job_seconds=0.05)
    with httpx.Client(base_url=running.base_url, headers=AUTH) as client:
        yield client
    running.stop()


@pytest.mark.parametrize("request_body", [SEED_IMPORT, SEED_MARKETING], ids=["demo", "marketing"])
def test_import_example(api: httpx.Client, request_body: dict[str, Any]) -> None:
    reply = api.post("/jobs/import/project_media", json=request_body)
    assert reply.status_code == 201
    created = reply.json()
    _types(created, CREATED_KEYS)
    assert created["project_url"].endswith(created["project_id"])
    job = wait_for_job(api, created["job_id"])
    _types(
        job,
        {
            "job_id": str,
            "job_type": str,
            "job_state": str,
            "project_id": str,
            "project_url": str,
            "created_at": str,
            "stopped_at": str,
            "drive_id": str,
            "result": dict,
        },
    )
    assert job["job_type"] == "import/project_media"
    result = job["result"]
    _types(result, {"status": str, "media_status": dict, "created_compositions": list})
    assert set(result["media_status"]) == set(request_body["add_media"])
    for status in result["media_status"].values():
        assert status["status"] == "success" and isinstance(status["duration_seconds"], float)
    assert result["created_compositions"][0]["name"] == request_body["add_compositions"][0]["name"]
    assert isinstance(result["media_seconds_used"], int)
    total = sum(s["duration_seconds"] for s in result["media_status"].values())
    assert result["media_seconds_used"] == int(-(-total // 1))  # seconds, rounded up


def test_demo_video_duration_matches_the_docs(api: httpx.Client) -> None:
    job = wait_for_job(
        api, api.post("/jobs/import/project_media", json=SEED_IMPORT).json()["job_id"]
    )
    assert job["result"]["media_status"]["demo.mp4"]["duration_seconds"] == 69.477006


def test_agent_examples(api: httpx.Client) -> None:
    project = api.post("/jobs/import/project_media", json=SEED_IMPORT).json()
    reply = api.post(
        "/jobs/agent",
        json={"project_id": project["project_id"], "prompt": "Add studio sound and captions"},
    )
    assert reply.status_code == 201
    _types(reply.json(), CREATED_KEYS)
    job = wait_for_job(api, reply.json()["job_id"])
    assert job["job_type"] == "agent"
    _types(
        job["result"],
        {
            "status": str,
            "agent_response": str,
            "project_changed": bool,
            "media_seconds_used": int,
            "ai_credits_used": int,
        },
    )
    assert "Studio Sound" in job["result"]["agent_response"]
    assert "captions" in job["result"]["agent_response"]
    # The cooking example: project_name creates a new project.
    new = api.post(
        "/jobs/agent",
        json={
            "project_name": "Cooking Tips Video",
            "prompt": "create a 30-second video about cooking tips with background music",
        },
    )
    assert new.status_code == 201
    assert new.json()["project_id"] != project["project_id"]


def test_list_example_shapes_and_running_progress(api: httpx.Client) -> None:
    running = start_emulator(job_seconds=30)
    try:
        with httpx.Client(base_url=running.base_url, headers=AUTH) as slow:
            slow.post("/jobs/import/project_media", json=SEED_IMPORT)
            time.sleep(0.05)
            body = slow.get("/jobs", params={"type": "import/project_media"}).json()
    finally:
        running.stop()
    assert set(body) == {"data", "pagination"}
    assert body["pagination"] == {}  # one page: next_cursor is absent, as documented
    [job] = body["data"]
    assert job["job_state"] == "running"
    _types(job["progress"], {"label": str, "last_update_at": str, "percent": int})
    assert "result" not in job and "stopped_at" not in job


def test_status_example(api: httpx.Client) -> None:
    assert api.get("/status").json() == {"status": "ok"}
    bad = httpx.get(
        str(api.base_url).rstrip("/") + "/status", headers={"Authorization": "Bearer nope"}
    )
    assert bad.status_code == 401 and bad.json()["error"] == "unauthorized"
    missing = httpx.get(str(api.base_url).rstrip("/") + "/status")
    assert missing.status_code == 401


def test_edit_in_descript_examples(api: httpx.Client) -> None:
    drive = api.post("/jobs/import/project_media", json=SEED_IMPORT).json()["drive_id"]
    smallest = {
        "partner_drive_id": drive,
        "project_schema": {
            "schema_version": "1.0.0",
            "files": [{"uri": "https://descriptusercontent.com/jane.wav?signature=d182bca6"}],
        },
    }
    reply = api.post("/edit_in_descript/schema", json=smallest)
    assert reply.status_code == 201 and reply.json()["url"].startswith("https://")
    full = {
        "partner_drive_id": drive,
        "project_schema": {
            "schema_version": "1.0.0",
            "source_id": "06b3f5bb-68a2-468a-a5d9-df155c1e3588",
            "files": [
                {
                    "uri": "https://descriptusercontent.com/jane.wav",
                    "name": "Jane's studio recording",
                    "start_offset": {"seconds": 10},
                }
            ],
        },
    }
    assert api.post("/edit_in_descript/schema", json=full).status_code == 201
    other = {**smallest, "partner_drive_id": "aa3b2d8d-e5ca-41c2-8801-683328293fb9"}
    denied = api.post("/edit_in_descript/schema", json=other)
    assert denied.status_code == 403 and denied.json()["error"] == "forbidden"


def test_published_project_example(api: httpx.Client) -> None:
    created = api.post("/jobs/import/project_media", json=SEED_IMPORT).json()
    wait_for_job(api, created["job_id"])
    root = str(api.base_url).rstrip("/").removesuffix("/v1")
    slug = httpx.post(f"{root}/_emulator/projects/{created['project_id']}/publish").json()["slug"]
    body = api.get(f"/published_projects/{slug}").json()
    _types(body, {"project_id": str, "publish_type": str, "privacy": str, "metadata": dict})
    meta = body["metadata"]
    _types(
        meta,
        {
            "title": str,
            "duration_seconds": float,
            "duration_formatted": str,
            "published_at": str,
            "published_by": dict,
        },
    )
    assert meta["title"] == "My First Video" and meta["duration_formatted"] == "00:01:09"
    assert body["subtitles"].startswith("WEBVTT\n\n00:00:00.000 --> 00:01:09.477\ndemo.mp4")
    assert api.get("/published_projects/nope").status_code == 404


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("/jobs/agent", {"prompt": "x"}, 400, "invalid_input"),
        (
            "/jobs/agent",
            {"project_id": "a", "project_name": "b", "prompt": "x"},
            400,
            "invalid_input",
        ),
        ("/jobs/agent", {"project_name": "b"}, 400, "invalid_input"),
        (
            "/jobs/agent",
            {"project_id": "00000000-0000-0000-0000-000000000000", "prompt": "x"},
            404,
            "not_found",
        ),
        ("/jobs/import/project_media", {"team_access": "owner"}, 400, "invalid_input"),
        (
            "/jobs/import/project_media",
            {"add_media": {"a.mp4": {"url": "ftp://x/a.mp4"}}},
            400,
            "invalid_input",
        ),
        (
            "/jobs/import/project_media",
            {"add_media": {}, "add_compositions": [{"name": "c", "clips": [{"media": "zz"}]}]},
            400,
            "invalid_input",
        ),
    ],
)
def test_documented_errors(
    api: httpx.Client, path: str, body: dict[str, Any], status: int, code: str
) -> None:
    reply = api.post(path, json=body)
    assert reply.status_code == status
    assert reply.json()["error"] == code and reply.json()["message"]


def test_list_filters_validate_inputs(api: httpx.Client) -> None:
    assert api.get("/jobs", params={"limit": 0}).status_code == 400
    assert api.get("/jobs", params={"limit": 101}).status_code == 400
    assert api.get("/jobs", params={"type": "export"}).status_code == 400
    old = "2020-01-01T00:00:00Z"
    too_far = api.get("/jobs", params={"created_after": old})
    assert too_far.status_code == 400 and "30 days" in too_far.json()["message"]
    assert api.get("/jobs/nope").status_code == 404
