"""Each injected fault, the manual clock and persistence across restarts."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.builders import TOKEN, advance_clock, start_emulator

AUTH = {"Authorization": f"Bearer {TOKEN}"}
IMPORT = {
    "project_name": "Ep",
    "add_media": {"a.wav": {"url": "https://cdn.example.com/a.wav"}},
}


def test_rate_limit_answers_429_with_headers() -> None:
    running = start_emulator(rate_limit=3, rate_window=30)
    try:
        with httpx.Client(base_url=running.base_url, headers=AUTH) as api:
            replies = [api.get("/status") for _ in range(4)]
    finally:
        running.stop()
    assert [r.status_code for r in replies] == [200, 200, 200, 429]
    assert replies[0].headers["X-RateLimit-Remaining"] == "2"
    assert replies[2].headers["X-RateLimit-Consumed"] == "3"
    limited = replies[3]
    assert limited.json()["error"] == "rate_limit_exceeded"
    assert 1 <= int(limited.headers["Retry-After"]) <= 30
    assert limited.headers["X-RateLimit-Remaining"] == "0"


def test_error_rate_answers_500_and_does_nothing() -> None:
    running = start_emulator(error_rate=1.0)
    try:
        with httpx.Client(base_url=running.base_url, headers=AUTH) as api:
            reply = api.post("/jobs/import/project_media", json=IMPORT)
            running.backend.config.faults.error_rate = 0
            jobs = api.get("/jobs").json()["data"]
    finally:
        running.stop()
    assert reply.status_code == 500 and reply.json()["error"] == "internal_error"
    assert jobs == []


def test_latency_delays_each_request() -> None:
    running = start_emulator(latency=0.3)
    try:
        with httpx.Client(base_url=running.base_url, headers=AUTH) as api:
            start = time.monotonic()
            api.get("/status")
            elapsed = time.monotonic() - start
    finally:
        running.stop()
    assert elapsed >= 0.3


def test_lost_reply_drops_connection_after_the_job_is_created() -> None:
    running = start_emulator(lose_response_rate=1.0)
    try:
        with httpx.Client(base_url=running.base_url, headers=AUTH) as api:
            with pytest.raises(httpx.RemoteProtocolError):
                api.post("/jobs/import/project_media", json=IMPORT)
            jobs = api.get("/jobs").json()["data"]
    finally:
        running.stop()
    assert len(jobs) == 1 and jobs[0]["job_type"] == "import/project_media"


def test_job_failures_and_media_failures() -> None:
    running = start_emulator(
        manual_clock=True, fail_media_pattern=r"broken", fail_prompt_pattern=r"impossible"
    )
    body = {
        "project_name": "Ep",
        "add_media": {
            "ok.wav": {"url": "https://cdn.example.com/ok.wav"},
            "bad.wav": {"url": "https://cdn.example.com/broken.wav"},
            "doc.pdf": {"url": "https://cdn.example.com/notes.pdf"},
        },
    }
    try:
        with httpx.Client(base_url=running.base_url, headers=AUTH) as api:
            created = api.post("/jobs/import/project_media", json=body).json()
            agent = api.post(
                "/jobs/agent",
                json={"project_id": created["project_id"], "prompt": "do the impossible"},
            ).json()
            advance_clock(running, 60)
            imported = api.get(f"/jobs/{created['job_id']}").json()["result"]
            failed_agent = api.get(f"/jobs/{agent['job_id']}").json()["result"]
    finally:
        running.stop()
    assert imported["status"] == "partial"
    assert imported["media_status"]["ok.wav"]["status"] == "success"
    assert imported["media_status"]["bad.wav"]["status"] == "failed"
    assert "Unsupported file type" in imported["media_status"]["doc.pdf"]["error_message"]
    assert failed_agent["status"] == "error" and failed_agent["error_message"]


def test_job_failure_rate_fails_whole_jobs() -> None:
    running = start_emulator(manual_clock=True, job_failure_rate=1.0)
    try:
        with httpx.Client(base_url=running.base_url, headers=AUTH) as api:
            created = api.post("/jobs/import/project_media", json=IMPORT).json()
            advance_clock(running, 60)
            result = api.get(f"/jobs/{created['job_id']}").json()["result"]
    finally:
        running.stop()
    assert result["status"] == "error" and result["created_compositions"] == []


def test_credit_budget_answers_402() -> None:
    running = start_emulator(credit_budget=5)
    try:
        with httpx.Client(base_url=running.base_url, headers=AUTH) as api:
            first = api.post("/jobs/agent", json={"project_name": "A", "prompt": "add captions"})
            second = api.post("/jobs/agent", json={"project_name": "B", "prompt": "add captions"})
    finally:
        running.stop()
    assert first.status_code == 201
    assert second.status_code == 402 and second.json()["error"] == "payment_required"


def test_manual_clock_moves_jobs_only_when_advanced() -> None:
    running = start_emulator(manual_clock=True, job_seconds=10)
    root = running.root_url
    try:
        with httpx.Client(base_url=running.base_url, headers=AUTH) as api:
            first = api.post("/jobs/import/project_media", json=IMPORT).json()
            second = api.post(
                "/jobs/agent", json={"project_id": first["project_id"], "prompt": "add captions"}
            ).json()

            def states() -> tuple[str, str]:
                return (
                    api.get(f"/jobs/{first['job_id']}").json()["job_state"],
                    api.get(f"/jobs/{second['job_id']}").json()["job_state"],
                )

            assert states() == ("running", "queued")  # one job at a time per project
            time.sleep(0.05)
            assert states() == ("running", "queued")  # real time does not move it
            httpx.post(f"{root}/_emulator/clock/advance", json={"seconds": 11})
            assert states() == ("stopped", "running")
            httpx.post(f"{root}/_emulator/clock/advance", json={"seconds": 10})
            assert states() == ("stopped", "stopped")
            edits = httpx.get(f"{root}/_emulator/projects").json()["projects"][0]["edits"]
    finally:
        running.stop()
    assert [e["edit"] for e in edits] == ["captions"]


def test_data_dir_keeps_every_job_across_restart(tmp_path: Path) -> None:
    data = tmp_path / "emu"
    first = start_emulator(data_dir=data)
    try:
        with httpx.Client(base_url=first.base_url, headers=AUTH) as api:
            ids = {
                api.post("/jobs/import/project_media", json=IMPORT).json()["job_id"]
                for _ in range(3)
            }
    finally:
        first.stop()
    second = start_emulator(data_dir=data)
    try:
        with httpx.Client(base_url=second.base_url, headers=AUTH) as api:
            listed = {j["job_id"] for j in api.get("/jobs").json()["data"]}
            one = api.get(f"/jobs/{next(iter(ids))}").json()
    finally:
        second.stop()
    assert listed == ids
    assert one["job_state"] == "stopped"


def test_data_dir_keeps_no_url_query_strings(tmp_path: Path) -> None:
    data = tmp_path / "emu"
    running = start_emulator(manual_clock=True, data_dir=data)
    signed = {
        "add_media": {"a.wav": {"url": "https://b.example.com/a.wav?X-Amz-Signature=SECRET123"}}
    }
    try:
        with httpx.Client(base_url=running.base_url, headers=AUTH) as api:
            api.post("/jobs/import/project_media", json=signed)
            advance_clock(running, 60)
            httpx.get(f"{running.root_url}/_emulator/projects")
    finally:
        running.stop()
    for file in data.rglob("*"):
        if file.is_file():
            assert b"SECRET123" not in file.read_bytes()


def test_pagination_walks_every_job_once() -> None:
    running = start_emulator()
    try:
        with httpx.Client(base_url=running.base_url, headers=AUTH) as api:
            made = [
                api.post("/jobs/import/project_media", json=IMPORT).json()["job_id"]
                for _ in range(7)
            ]
            seen: list[str] = []
            cursor = None
            for _ in range(5):  # bounded: a cursor that never ends must fail, not hang
                params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
                page = api.get("/jobs", params=params).json()
                seen += [j["job_id"] for j in page["data"]]
                cursor = page["pagination"].get("next_cursor")
                if cursor is None:  # the key is absent on the last page, never null
                    assert page["pagination"] == {}
                    break
    finally:
        running.stop()
    assert seen == list(reversed(made))  # newest first, each once


def test_import_into_existing_needs_the_capability() -> None:
    plain = start_emulator()
    capable = start_emulator(capabilities=frozenset({"import-into-existing"}))
    try:
        results = []
        for running in (plain, capable):
            with httpx.Client(base_url=running.base_url, headers=AUTH) as api:
                first = api.post("/jobs/import/project_media", json=IMPORT).json()
                more = {
                    "project_id": first["project_id"],
                    "add_media": {"b.wav": {"url": "https://cdn.example.com/b.wav"}},
                }
                second = api.post("/jobs/import/project_media", json=more).json()
                clash = api.post(
                    "/jobs/import/project_media",
                    json={**more, "add_media": {"a.wav": {"url": "https://x.io/a.wav"}}},
                )
                results.append((first["project_id"], second["project_id"], clash.status_code))
    finally:
        plain.stop()
        capable.stop()
    (p1, p2, _), (c1, c2, clash) = results
    assert p1 != p2  # today: a new project every time
    assert c1 == c2 and clash == 400


def test_reset_never_silently_empties_a_data_dir_store(tmp_path: Path) -> None:
    data = tmp_path / "emu"
    first = start_emulator(data_dir=data)
    try:
        with httpx.Client(base_url=first.base_url, headers=AUTH) as api:
            made = api.post("/jobs/import/project_media", json=IMPORT).json()["job_id"]
        refused = httpx.post(f"{first.root_url}/_emulator/reset")
    finally:
        first.stop()
    assert refused.status_code == 409
    assert "reset?delete_data=true" in refused.json()["message"]
    second = start_emulator(data_dir=data)
    try:
        with httpx.Client(base_url=second.base_url, headers=AUTH) as api:
            kept = [j["job_id"] for j in api.get("/jobs").json()["data"]]
            deleted = httpx.post(f"{second.root_url}/_emulator/reset?delete_data=true")
            after = api.get("/jobs").json()["data"]
    finally:
        second.stop()
    assert kept == [made]
    assert deleted.status_code == 200 and after == []
    third = start_emulator(data_dir=data)
    try:
        with httpx.Client(base_url=third.base_url, headers=AUTH) as api:
            assert api.get("/jobs").json()["data"] == []
    finally:
        third.stop()
