"""The docs' walkthrough, with plain HTTP, against `descript-iac emulator serve` on a socket."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served() -> Iterator[tuple[str, str]]:
    port = _free_port()
    token = "walkthrough-token"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "descript_iac",
            "emulator",
            "serve",
            "--port",
            str(port),
            "--token",
            token,
            "--job-seconds",
            "0.3",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ},
    )
    base = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 20
    while True:
        try:
            httpx.get(f"{base}/status", timeout=0.5)
            break
        except httpx.TransportError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise AssertionError("emulator did not start") from None
            time.sleep(0.1)
    yield base, token
    proc.terminate()
    out, _ = proc.communicate(timeout=10)
    assert f"export DESCRIPT_API_TOKEN={token}" in out


def _poll(api: httpx.Client, job_id: str) -> dict[str, object]:
    for _ in range(100):
        job = api.get(f"/jobs/{job_id}").json()
        if job["job_state"] == "stopped":
            return job
        time.sleep(0.1)
    raise AssertionError("job never stopped")


def test_seed_walkthrough_over_a_real_socket(served: tuple[str, str]) -> None:
    base, token = served
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
        imported = _poll(api, created.json()["job_id"])
        assert imported["result"]["status"] == "success"  # type: ignore[index]
        edit = api.post(
            "jobs/agent", json={"project_id": project_id, "prompt": "Add studio sound and captions"}
        )
        assert edit.status_code == 201 and edit.json()["project_id"] == project_id
        edited = _poll(api, edit.json()["job_id"])
        assert edited["result"]["project_changed"] is True  # type: ignore[index]
        first = api.get("jobs", params={"project_id": project_id, "limit": 1}).json()
        assert first["data"][0]["job_type"] == "agent"
        cursor = first["pagination"]["next_cursor"]
        assert cursor
        second = api.get("jobs", params={"project_id": project_id, "limit": 1, "cursor": cursor})
        assert second.json()["data"][0]["job_type"] == "import/project_media"
        assert second.json()["pagination"]["next_cursor"] is None
