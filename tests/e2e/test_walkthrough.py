"""The docs' walkthrough, with plain HTTP, against `descript-iac emulator serve` on a socket."""

from __future__ import annotations

import httpx
import pytest

from tests.builders import wait_for_job
from tests.e2e.conftest import Served

pytestmark = pytest.mark.e2e


def test_seed_walkthrough_over_a_real_socket(served: Served) -> None:
    base, token = served.base_url, served.token
    with httpx.Client(base_url=base + "/", headers={"Authorization": f"Bearer {token}"}) as api:
        assert api.get("status").json() == {"status": "ok"}
        created = api.post(
            "jobs/import/project_media",
            json={
                "project_name": "My First Video",
                "add_media": {
                    "demo.mp4": {"url": "https://test-files.descriptapi.com/demo_video.mp4"}
                },
                "add_compositions": [{"name": "Demo Video", "clips": [{"media": "demo.mp4"}]}],
            },
        )
        assert created.status_code == 201
        project_id = created.json()["project_id"]
        imported = wait_for_job(api, created.json()["job_id"])
        assert imported["result"]["status"] == "success"  # type: ignore[index]
        edit = api.post(
            "jobs/agent", json={"project_id": project_id, "prompt": "Add studio sound and captions"}
        )
        assert edit.status_code == 201 and edit.json()["project_id"] == project_id
        edited = wait_for_job(api, edit.json()["job_id"])
        assert edited["result"]["project_changed"] is True  # type: ignore[index]
        first = api.get("jobs", params={"project_id": project_id, "limit": 1}).json()
        assert first["data"][0]["job_type"] == "agent"
        cursor = first["pagination"]["next_cursor"]
        assert cursor
        second = api.get("jobs", params={"project_id": project_id, "limit": 1, "cursor": cursor})
        assert second.json()["data"][0]["job_type"] == "import/project_media"
        assert "next_cursor" not in second.json()["pagination"]  # absent on the last page
