"""Another client of the same drive: its look-alike jobs appear at the configured rate, cannot
be told from ours in the job view, and can be told apart by project name in the projects API."""

from __future__ import annotations

from typing import Any

from tests.builders import advance_clock, inspect, serving

PODCAST = {
    "project_name": "Episode 42",
    "add_media": {
        "host.wav": {"url": "https://cdn.example.com/ep42/host.wav"},
        "guest.wav": {"url": "https://cdn.example.com/ep42/guest.wav"},
    },
    "add_compositions": [
        {"name": "Full episode", "clips": [{"media": "host.wav"}, {"media": "guest.wav"}]}
    ],
}


def _shape(value: Any) -> Any:
    """The keys and value types of a job view, without the values."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return type(value).__name__


def test_foreign_jobs_appear_at_the_configured_rate() -> None:
    with serving(manual_clock=True, foreign_client=3, seed=5) as (running, api):
        advance_clock(running, 59)
        early = api.get("/jobs").json()["data"]
        advance_clock(running, 1)
        one_minute = api.get("/jobs").json()["data"]
        advance_clock(running, 120)
        three_minutes = api.get("/jobs", params={"limit": 100}).json()["data"]
        stats = inspect(running, "stats").json()
    assert (len(early), len(one_minute), len(three_minutes)) == (2, 3, 9)
    made = sum(v for k, v in stats.items() if k.startswith("foreign:") and ":refused" not in k)
    assert made == 9


def test_the_other_client_is_repeatable_with_the_same_seed() -> None:
    runs = []
    for _ in range(2):
        with serving(manual_clock=True, foreign_client=6, seed=11) as (running, api):
            advance_clock(running, 60)
            jobs = api.get("/jobs", params={"limit": 100}).json()["data"]
            projects = [p["name"] for p in inspect(running, "projects").json()["projects"]]
            runs.append(([j["job_type"] for j in reversed(jobs)], projects))
    assert runs[0] == runs[1] and len(runs[0][0]) == 6


def test_a_foreign_look_alike_matches_ours_in_the_job_view_but_not_by_project_name() -> None:
    with serving(manual_clock=True, api_level="2026") as (running, api):
        ours = api.post("/jobs/import/project_media", json=PODCAST).json()
        theirs = inspect(
            running,
            "foreign",
            {
                "kind": "import",
                "media": ["host.wav", "guest.wav"],
                "compositions": ["Full episode"],
            },
        )
        advance_clock(running, 5)
        mine = api.get(f"/jobs/{ours['job_id']}").json()
        other = api.get(f"/jobs/{theirs.json()['job_id']}").json()
        listed = {j["job_id"] for j in api.get("/jobs").json()["data"]}
        projects = {p["id"]: p["name"] for p in api.get("/projects").json()["data"]}
        details = [api.get(f"/projects/{j['project_id']}").json() for j in (mine, other)]
    assert theirs.status_code == 201 and theirs.json()["job_id"] == other["job_id"]
    assert listed == {mine["job_id"], other["job_id"]}
    assert other["drive_id"] == mine["drive_id"]
    assert _shape(other) == _shape(mine)  # same fields, same types: indistinguishable
    assert set(other["result"]["media_status"]) == set(mine["result"]["media_status"])
    assert [c["name"] for c in other["result"]["created_compositions"]] == ["Full episode"]
    assert projects == {mine["project_id"]: "Episode 42", other["project_id"]: "Foreign project 1"}
    assert set(details[0]["media_files"]) == set(details[1]["media_files"])


def test_foreign_prompt_creates_and_agent_jobs_on_a_project_of_ours() -> None:
    with serving(manual_clock=True, api_level="2026") as (running, api):
        ours = api.post("/jobs/import/project_media", json=PODCAST).json()
        create = inspect(running, "foreign", {"kind": "prompt_create", "prompt": "Make a trailer"})
        named = inspect(
            running, "foreign", {"kind": "prompt_create", "project_name": "Episode 42"}
        ).json()
        on_ours = inspect(
            running, "foreign", {"kind": "agent", "project_id": ours["project_id"]}
        ).json()
        on_theirs = inspect(running, "foreign", {"kind": "agent"}).json()
        advance_clock(running, 5)
        reply = api.get(f"/jobs/{create.json()['job_id']}").json()["result"]["agent_response"]
        names = sorted(p["name"] for p in api.get("/projects").json()["data"])
        bad = inspect(running, "foreign", {"kind": "export"})
    assert create.json()["job_type"] == "agent" and '("Make a trailer")' in reply
    assert on_ours["project_id"] == ours["project_id"]
    assert on_theirs["project_id"] in {create.json()["project_id"], named["project_id"]}
    assert names == ["Episode 42", "Episode 42", "Foreign project 1"]  # a name alone can clash
    assert bad.status_code == 400


def test_foreign_media_and_composition_names_are_settings() -> None:
    with serving(
        manual_clock=True,
        api_level="2026",
        foreign_media="intro.mp4,talk.mp4",
        foreign_composition=["Cut A", "Cut B"],
    ) as (running, api):
        job = inspect(running, "foreign", {"kind": "import"}).json()
        advance_clock(running, 5)
        project = api.get(f"/projects/{job['project_id']}").json()
    assert sorted(project["media_files"]) == ["intro.mp4", "talk.mp4"]
    assert [c["name"] for c in project["compositions"]] == ["Cut A", "Cut B"]


def test_the_other_client_can_be_another_user() -> None:
    with serving(manual_clock=True, api_level="2026", foreign_same_user=False) as (running, api):
        api.post("/jobs/agent", json={"project_name": "Mine", "prompt": "Write a script"})
        theirs = inspect(running, "foreign", {"kind": "prompt_create"}).json()["project_id"]
        mine = api.get("/projects", params={"created_by": "me"}).json()["data"]
        every = api.get("/projects").json()["data"]
        # The spec: projects "accessible to the authenticated user"; another user's project
        # without team access is not listed, and is 403 by id.
        by_id = api.get(f"/projects/{theirs}")
        # Its job is still in the drive's job history, like every job on the drive.
        assert theirs in {j["project_id"] for j in api.get("/jobs").json()["data"]}
    assert [p["name"] for p in mine] == ["Mine"] and [p["name"] for p in every] == ["Mine"]
    assert by_id.status_code == 403 and by_id.json()["error"] == "forbidden"
