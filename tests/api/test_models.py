"""Each response example of the Descript docs parses into the client's models."""

from __future__ import annotations

from descript_iac.api.models import (
    AgentResult,
    ImportResult,
    ImportUrl,
    Job,
    JobCreated,
    JobList,
    PublishedProject,
    StatusReply,
)

SEED_CREATED = {
    "job_id": "project-media-import-9d635d5b",
    "drive_id": "c9c5c47e",
    "project_id": "e2f89ce6",
    "project_url": "https://web.descript.com/e2f89ce6",
}
SEED_IMPORT_JOB = {
    "job_id": "project-media-import-9d635d5b",
    "job_type": "import/project_media",
    "job_state": "stopped",
    "project_id": "e2f89ce6",
    "project_url": "https://web.descript.com/e2f89ce6",
    "result": {
        "status": "success",
        "media_status": {"main.mp4": {"status": "success", "duration_seconds": 69.477006}},
        "created_compositions": [
            {"id": "f8e5088a-4d53-4aab-9d4f-c6624b7d7622", "name": "Demo Video"}
        ],
    },
}
SEED_AGENT_JOB = {
    "job_id": "project-agent-edit-e2f89ce6",
    "job_type": "agent",
    "project_id": "YOUR_PROJECT_ID",
    "project_url": "https://web.descript.com/e2f89ce6",
    "job_state": "stopped",
    "created_at": "2026-02-09T05:42:27.554Z",
    "stopped_at": "2026-02-09T05:43:15.296Z",
    "drive_id": "1df135a5-dc4a-4dc3-8f7d-681cfbe961e4",
    "result": {
        "status": "success",
        "agent_response": "Done! I've applied Studio Sound to enhance your audio quality and "
        "added classic karaoke-style captions to your video.",
        "project_changed": True,
        "media_seconds_used": 0,
        "ai_credits_used": 32,
    },
}
SEED_LIST = {
    "data": [
        {
            "job_id": "6dc3f30a-58c2-4174-96a6-dc18cf3c7776",
            "job_type": "import/project_media",
            "job_state": "stopped",
            "created_at": "2025-11-18T10:30:00Z",
            "stopped_at": "2025-11-18T10:35:00Z",
            "drive_id": "c9c5c47e-158a-49f7-846b-4f6ee2a229a2",
            "project_id": "9f36ee32-5a2c-47e7-b1a3-94991d3e3ddb",
            "result": {
                "status": "success",
                "media_status": {"Misc/intro.mp4": {"status": "success", "duration_seconds": 10.5}},
                "media_seconds_used": 11,
            },
        },
        {
            "job_id": "a1b2c3d4-5678-90ab-cdef-1234567890ab",
            "job_type": "agent",
            "job_state": "running",
            "created_at": "2025-11-18T11:00:00Z",
            "drive_id": "c9c5c47e-158a-49f7-846b-4f6ee2a229a2",
            "project_id": "9f36ee32-5a2c-47e7-b1a3-94991d3e3ddb",
            "progress": {
                "label": "Applying Studio Sound to clip 2...",
                "last_update_at": "2025-11-18T11:01:00Z",
            },
        },
    ],
    "pagination": {"next_cursor": "YTFiMmMzZDQtNTY3OC05MGFiLWNkZWYtMTIzNDU2Nzg5MGFi"},
}
SEED_PUBLISHED = {
    "project_id": "12345678-1234-5678-1234-567812345678",
    "publish_type": "video",
    "privacy": "unlisted",
    "metadata": {
        "title": "My Video Project",
        "duration_seconds": 125.456,
        "duration_formatted": "00:02:05",
        "published_at": "2025-01-15T10:30:00.000Z",
        "published_by": {"first_name": "Jane", "last_name": "Doe"},
    },
    "subtitles": "WEBVTT\\n\\n00:00:00.000 --> 00:00:02.000\\nWelcome to my video",
}


def test_created_reply() -> None:
    assert JobCreated.model_validate(SEED_CREATED).project_id == "e2f89ce6"


def test_import_job_result_is_typed() -> None:
    job = Job.model_validate(SEED_IMPORT_JOB)
    assert isinstance(job.result, ImportResult)
    assert job.result.media_status["main.mp4"].duration_seconds == 69.477006
    assert job.result.created_compositions[0].name == "Demo Video"
    assert job.finished


def test_agent_job_result_is_typed() -> None:
    job = Job.model_validate(SEED_AGENT_JOB)
    assert isinstance(job.result, AgentResult)
    assert job.result.ai_credits_used == 32 and job.result.project_changed is True
    assert job.stopped_at is not None and job.created_at is not None
    assert (job.stopped_at - job.created_at).total_seconds() > 47


def test_job_list_with_running_job_and_cursor() -> None:
    page = JobList.model_validate(SEED_LIST)
    assert page.pagination.next_cursor == SEED_LIST["pagination"]["next_cursor"]  # type: ignore[index]
    running = page.data[1]
    assert not running.finished and running.result is None
    assert running.progress is not None and running.progress.label
    assert page.data[0].import_result is not None
    assert page.data[0].import_result.media_seconds_used == 11


def test_status_and_edit_in_descript_and_published() -> None:
    assert StatusReply.model_validate({"status": "ok"}).status == "ok"
    assert ImportUrl.model_validate({"url": "https://web.descript.com/import?x"}).url
    published = PublishedProject.model_validate(SEED_PUBLISHED)
    assert published.metadata is not None and published.metadata.duration_formatted == "00:02:05"
    assert published.metadata.published_by is not None
    assert published.metadata.published_by.first_name == "Jane"


def test_unknown_fields_are_kept_and_unknown_enums_do_not_crash() -> None:
    job = Job.model_validate(
        {
            **SEED_AGENT_JOB,
            "job_type": "export/video",
            "job_state": "paused",
            "priority": 3,
            "result": {"status": "archived", "bytes": 12},
        }
    )
    assert job.job_state == "paused" and not job.finished
    assert job.model_extra == {"priority": 3}
    assert job.result is not None and job.result.status == "archived"
    assert job.result.model_extra == {"bytes": 12}
