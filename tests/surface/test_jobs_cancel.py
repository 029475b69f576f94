"""`jobs cancel`: DELETE /v1/jobs/{id} where the API has it; `jobs list|get|wait` show
`cancelled`; a stopped job cannot be cancelled; the seed-level API gets no request at all."""

from __future__ import annotations

import json

import httpx

from tests.builders import TOKEN, advance_clock, cli_env, inspect, run_cli, serving

IMPORT = {
    "project_name": "Cancel me",
    "add_media": {"a.wav": {"url": "https://cdn.example.com/a.wav"}},
}


def submit(api: httpx.Client) -> str:
    reply = api.post("jobs/import/project_media", json=IMPORT)
    reply.raise_for_status()
    return str(reply.json()["job_id"])


def test_cancel_a_running_job_and_see_it_cancelled_everywhere() -> None:
    with serving(api_level="2026", manual_clock=True) as (running, api):
        job_id = submit(api)
        result = run_cli("jobs", "cancel", job_id, env=cli_env(running))
        assert result.exit_code == 0, result.output
        assert result.output.strip() == f"{job_id}: cancelled (import/project_media)"
        shown = json.loads(run_cli("jobs", "get", job_id, env=cli_env(running)).output)
        assert shown["job_state"] == "cancelled"
        listed = run_cli("jobs", "list", env=cli_env(running)).output
        assert job_id in listed and "cancelled" in listed.split(job_id)[1].splitlines()[0]
        waited = run_cli("jobs", "wait", job_id, env=cli_env(running))
        assert waited.exit_code == 1 and f"{job_id}: cancelled, cancelled" in waited.output
        again = run_cli("jobs", "cancel", job_id, env=cli_env(running))
        assert again.exit_code == 0  # cancelling twice is harmless


def test_cancel_of_a_stopped_job_says_why_it_cannot() -> None:
    with serving(api_level="2026", manual_clock=True) as (running, api):
        job_id = submit(api)
        advance_clock(running, 60)
        result = run_cli("jobs", "cancel", job_id, env=cli_env(running))
        assert result.exit_code == 1
        assert f"job {job_id} already stopped at " in result.output
        assert "(success): a stopped job cannot be cancelled; its result stands" in result.output


def test_cancel_against_the_seed_level_api_sends_nothing() -> None:
    with serving() as (running, api):
        job_id = submit(api)
        before = inspect(running, "stats").json()
        result = run_cli("jobs", "cancel", job_id, env=cli_env(running))
        assert result.exit_code == 1
        assert (
            "Error: cancelling a job (DELETE /v1/jobs/{job_id}) is not supported by this API "
            "(level seed)" in result.output
        )
        after = inspect(running, "stats").json()
        assert after.get("cancelled", 0) == 0
        # Only the capability probe (GET /v1/projects) and nothing else reached the API.
        assert after["requests"] - before["requests"] <= 1


def test_cancel_of_an_unknown_job_is_a_404_with_advice() -> None:
    with serving(api_level="2026") as (running, _api):
        result = run_cli(
            "jobs", "cancel", "6dc3f30a-58c2-4174-96a6-dc18cf3c7776", env=cli_env(running)
        )
        assert result.exit_code == 1 and "404" in result.output
    assert TOKEN not in result.output
