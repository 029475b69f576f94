"""Callbacks: a stopped job's status is POSTed to its callback_url (loopback only by default),
and apply passes the workspace's callback_url through."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import httpx
import pytest

from descript_iac.emulator.callbacks import allowed
from tests.builders import TOKEN, run_cli, start_emulator, write_workspace


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()


def _wait_for(received: list[dict[str, Any]], count: int) -> None:
    deadline = time.monotonic() + 10
    while len(received) < count and time.monotonic() < deadline:
        time.sleep(0.05)


def test_stopped_job_is_posted_to_its_callback(receiver) -> None:  # type: ignore[no-untyped-def]
    url, received = receiver
    running = start_emulator(job_seconds=0.1)
    try:
        reply = httpx.post(
            f"{running.base_url}/jobs/agent",
            json={"project_name": "P", "prompt": "add captions", "callback_url": url},
            headers={"Authorization": f"Bearer {TOKEN}"},
        ).json()
        _wait_for(received, 1)
    finally:
        running.stop()
    assert [r["job_id"] for r in received] == [reply["job_id"]]
    assert received[0]["job_state"] == "stopped" and received[0]["result"]["status"] == "success"


def test_only_loopback_callbacks_unless_allowed() -> None:
    assert allowed("http://127.0.0.1:9/x", ())
    assert allowed("http://localhost/x", ())
    assert not allowed("http://10.1.2.3/x", ())
    assert allowed("http://hooks.internal/x", ("hooks.internal",))


def test_apply_passes_the_callback_url_through(receiver, tmp_path) -> None:  # type: ignore[no-untyped-def]
    url, received = receiver
    running = start_emulator(job_seconds=0.05)
    root = write_workspace(
        tmp_path / "ws",
        {
            "main.yaml": f"""
            version: 1
            defaults:
              callback_url: "{url}"
            projects:
              ep:
                media:
                  a.wav: {{url: "https://cdn.example.com/a.wav"}}
                steps:
                  - {{id: caps, prompt: Add captions}}
            """
        },
    )
    try:
        env = {"DESCRIPT_API_URL": running.base_url, "DESCRIPT_API_TOKEN": TOKEN}
        result = run_cli("apply", str(root), "--auto-approve", "--poll-interval", "0.05", env=env)
        assert result.exit_code == 0, result.output
        _wait_for(received, 2)
    finally:
        running.stop()
    assert sorted(r["job_type"] for r in received) == ["agent", "import/project_media"]
