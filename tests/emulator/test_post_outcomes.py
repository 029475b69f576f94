"""Scripted outcomes of job-creating POSTs (`next_posts`), and 5xx replies after commit: for
each, what the client saw and whether the job exists afterwards."""

from __future__ import annotations

import httpx
import pytest

from tests.builders import inspect, serving, set_faults

IMPORT = {"project_name": "Ep", "add_media": {"a.wav": {"url": "https://cdn.example.com/a.wav"}}}
AGENT = {"project_name": "Script", "prompt": "Write a script about coffee"}


def _post(api: httpx.Client, path: str = "/jobs/import/project_media") -> str | int:
    """The status the client saw, or "lost" when the connection dropped."""
    try:
        return api.post(path, json=IMPORT if "import" in path else AGENT).status_code
    except httpx.RemoteProtocolError:
        return "lost"


def _jobs(api: httpx.Client) -> int:
    return len(api.get("/jobs").json()["data"])


@pytest.mark.parametrize(
    ("outcome", "seen", "exists"),
    [
        ("ok", 201, True),
        ("429", 429, False),
        ("lose", "lost", True),
        ("500-after", 500, True),
        ("502-after", 502, True),
        ("503-after", 503, True),
        ("500-before", 500, False),
        ("503-before", 503, False),
    ],
)
def test_each_scripted_outcome(outcome: str, seen: str | int, exists: bool) -> None:
    with serving() as (running, api):
        set_faults(running, next_posts=[outcome])
        first = _post(api)
        jobs = _jobs(api)
        second = _post(api)  # the script is used up: back to normal
    assert (first, jobs, second) == (seen, 1 if exists else 0, 201)


def test_a_script_is_consumed_in_order_and_counted() -> None:
    script = ["429", "429", "lose", "500-after", "500-before", "ok"]
    with serving(retry_after=60) as (running, api):
        set_faults(running, next_posts=script)
        throttled = api.post("/jobs/import/project_media", json=IMPORT)
        seen = [429, *(_post(api) for _ in script[1:])]
        jobs = _jobs(api)
        stats = inspect(running, "stats").json()
        left = inspect(running, "faults").json()["next_posts"]
    assert seen == [429, 429, "lost", 500, 500, 201]
    assert throttled.headers["Retry-After"] == "60" and throttled.json()["error"] == (
        "rate_limit_exceeded"
    )
    assert jobs == 3  # lose, 500-after and ok committed; 429s and 500-before did not
    assert {k: v for k, v in stats.items() if k.startswith("script:")} == {
        "script:429": 2,
        "script:lose": 1,
        "script:500-after": 1,
        "script:500-before": 1,
        "script:ok": 1,
    }
    assert left == []


def test_scripted_retry_after_and_per_endpoint_scripts() -> None:
    with serving() as (running, api):
        set_faults(running, next_posts={"agent": ["429:120", "500-before"]})
        imported = _post(api)  # another endpoint: not scripted
        waited = api.post("/jobs/agent", json=AGENT)
        failed = _post(api, "/jobs/agent")
        normal = _post(api, "/jobs/agent")
    assert (imported, waited.status_code, failed, normal) == (201, 429, 500, 201)
    assert waited.headers["Retry-After"] == "120"


def test_error_after_commit_rate_commits_the_job_then_answers_5xx() -> None:
    with serving(error_after_commit_rate=1.0, seed=3) as (running, api):
        seen = {_post(api) for _ in range(12)}
        jobs = _jobs(api)
        stats = inspect(running, "stats").json()
        reads = api.get("/jobs").status_code  # only job-creating POSTs are affected
    assert seen == {500, 502, 503} and jobs == 12
    assert stats["errors_after_commit"] == 12 and reads == 200


def test_a_bad_script_entry_is_refused_and_changes_nothing() -> None:
    with serving() as (running, _api):
        bad = inspect(
            running,
            "faults",
            {"history_lag": 5, "next_posts": ["ok", "explode"]},
        )
        now = inspect(running, "faults").json()
    assert bad.status_code == 400 and "explode" in bad.json()["message"]
    assert now["next_posts"] == [] and now["history_lag"] == 0
