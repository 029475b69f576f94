"""One-off commands (`import-media`, `agent`): live progress, the job's result, --json,
--no-wait, exactly once (a lost reply is looked up; a run killed after sending is resolved by the
next one-off), capability checks before anything is sent."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from descript_iac.state.store import LocalStateStore
from descript_iac.workspace.oneoff import oneoff_state_path
from tests.builders import advance_clock, cli_env, emulator_jobs, inspect, run_cli, serving

MEDIA = ["--media", "host.wav=https://cdn.example.com/show/host.wav"]


@pytest.fixture
def seed():  # type: ignore[no-untyped-def]
    with serving() as (running, _api):
        yield running


@pytest.fixture
def api2026():  # type: ignore[no-untyped-def]
    with serving(api_level="2026") as (running, _api):
        yield running


def oneoff(running, *args: str):  # type: ignore[no-untyped-def]
    return run_cli(*args, "--poll-interval", "0.05", env=cli_env(running))


def recorded() -> dict:
    """The one-off state, with a journal a killed run left folded in (in memory)."""
    return LocalStateStore(oneoff_state_path()).read().to_json()["projects"]


def job_types(running) -> Counter[str]:  # type: ignore[no-untyped-def]
    return Counter(j["job_type"] for j in emulator_jobs(running))


def test_import_media_shows_each_media_status_and_how_to_manage_the_project(seed) -> None:
    result = oneoff(
        seed,
        "import-media",
        "--name",
        "My Show",
        *MEDIA,
        "--media",
        "https://cdn.example.com/show/guest.mp4",
        "--media",
        "notes=https://cdn.example.com/show/notes",
        "--composition",
        "Full=host.wav,guest.mp4",
    )
    assert result.exit_code == 1, result.output  # partial: one media failed
    project = recorded()["my-show"]
    project_id = project["project_id"]
    assert f"Project my-show: {project_id}" in result.output
    assert "  import: partial" in result.output
    assert (
        "  media host.wav: success" in result.output
        and "  media guest.mp4: success" in result.output
    )
    assert "  media notes: failed: Unsupported file type" in result.output
    full = project["import"]["compositions"][0]
    assert f"  composition Full: {full['id']}" in result.output
    assert f"descript-iac import my-show {project_id}" in result.output
    assert job_types(seed) == Counter({"import/project_media": 1})


def test_agent_new_and_agent_on_the_project_report_reply_and_credits(seed) -> None:
    made = oneoff(
        seed, "agent", "--new", "--name", "Coffee", "--prompt", "Write a script about coffee"
    )
    assert made.exit_code == 0, made.output
    assert "  response: Done!" in made.output and "  AI credits used: " in made.output
    project_id = recorded()["coffee"]["project_id"]
    edited = oneoff(
        seed, "agent", "--project-id", project_id, "--prompt", "Remove filler words", "--json"
    )
    assert edited.exit_code == 0, edited.output
    events = [json.loads(line) for line in edited.output.splitlines()]
    assert [e["event"] for e in events] == ["job_submitted", "job_stopped", "result"]
    result = events[-1]
    assert result["project_id"] == project_id and result["ok"] is True
    assert result["agent"]["status"] == "success" and result["agent"]["ai_credits_used"] > 0
    assert result["agent"]["agent_response"].startswith("Done!")
    prompts = [j["prompt"] for j in emulator_jobs(seed)]
    assert prompts == ["Write a script about coffee", "Remove filler words"]


def test_no_wait_submits_and_the_next_one_off_records_the_result() -> None:
    with serving(manual_clock=True) as (running, _api):
        result = oneoff(running, "import-media", "--name", "Later", *MEDIA, "--no-wait")
        assert result.exit_code == 0, result.output
        job_id = recorded()["later"]["import"]["job_id"]
        assert f"Submitted job {job_id} without waiting" in result.output
        assert recorded()["later"]["import"]["status"] is None
        advance_clock(running, 60)  # the import stops
        oneoff(running, "agent", "--new", "--name", "Other", "--prompt", "Haiku", "--no-wait")
        assert recorded()["later"]["import"]["status"] == "success"


def test_a_lost_reply_is_found_in_the_history_not_sent_again(tmp_path: Path) -> None:
    with serving(next_posts=["lose"]) as (running, _api):
        result = oneoff(running, "import-media", "--name", "Lost", *MEDIA)
        assert result.exit_code == 0, result.output
        assert ": found in the job history" in result.output
        assert job_types(running) == Counter({"import/project_media": 1})
        assert recorded()["lost"]["import"]["status"] == "success"


def test_a_one_off_killed_after_sending_is_resolved_by_the_next_one(tmp_path: Path) -> None:
    with serving(manual_clock=True) as (running, _api):
        env = {**os.environ, **cli_env(running), "DESCRIPT_IAC_FAILPOINT": "after_post:1"}
        killed = subprocess.run(
            [sys.executable, "-m", "descript_iac", "import-media", "--name", "Killed", *MEDIA],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert killed.returncode == -9
        assert recorded()["killed"]["intents"]  # the job exists; only the journal knows of it
        advance_clock(running, 30)  # past the intent's evidence window; the import stops
        result = oneoff(
            running, "agent", "--new", "--name", "Next", "--prompt", "Haiku", "--no-wait"
        )
        assert result.exit_code == 0, result.output
        assert "killed: the create job is " in result.output
        assert "found in the job history; adopted" in result.output
        project = recorded()["killed"]
        assert project["intents"] == [] and project["import"]["status"] == "success"
        assert job_types(running) == Counter({"import/project_media": 1, "agent": 1})


def test_running_the_same_command_again_after_a_crash_makes_no_second_job(
    tmp_path: Path,
) -> None:
    # --no-wait: the emulator's clock stands still, so a second job would never stop.
    command = ["import-media", "--name", "Again", *MEDIA, "--no-wait"]
    with serving(manual_clock=True) as (running, _api):
        env = {**os.environ, **cli_env(running), "DESCRIPT_IAC_FAILPOINT": "after_post:1"}
        killed = subprocess.run(
            [sys.executable, "-m", "descript_iac", *command],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert killed.returncode == -9
        advance_clock(running, 30)
        again = oneoff(running, *command)
        assert again.exit_code == 0, again.output
        assert "again: the same request was left in doubt by an earlier run" in again.output
        assert "  import: success" in again.output
        assert list(recorded()) == ["again"]
        assert job_types(running) == Counter({"import/project_media": 1})
        third = oneoff(running, *command)  # asked a third time: a new job
        assert third.exit_code == 0 and "again-2" in recorded()
        assert job_types(running) == Counter({"import/project_media": 2})


def test_seed_level_api_refuses_folder_and_composition_before_sending(seed) -> None:
    folder = oneoff(seed, "import-media", "--name", "F", *MEDIA, "--folder", "Clients/Acme")
    assert folder.exit_code == 1
    assert "--folder (folder_name on imports) is not supported by this API (level seed)" in (
        folder.output
    )
    target = oneoff(seed, "agent", "--project-id", "p", "--prompt", "x", "--composition", "Full")
    assert target.exit_code == 1 and "is not supported by this API" in target.output
    assert emulator_jobs(seed) == []


def test_folder_and_composition_by_name_on_the_2026_api(api2026) -> None:
    made = oneoff(
        api2026,
        "import-media",
        "--name",
        "Acme",
        *MEDIA,
        "--composition",
        "Full",
        "--folder",
        "Clients/Acme",
    )
    assert made.exit_code == 0, made.output
    project_id = recorded()["acme"]["project_id"]
    edited = oneoff(
        api2026,
        "agent",
        "--project-id",
        project_id,
        "--prompt",
        "Add captions",
        "--composition",
        "Full",
    )
    assert edited.exit_code == 0, edited.output
    project = inspect(api2026, "projects").json()["projects"][0]
    assert project["folder_path"] == "Clients/Acme"
    full = project["compositions"][0]["id"]
    assert {e["composition_id"] for e in project["edits"]} == {full}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["agent", "--prompt", "x"], "give --project-id ID, or --new --name NAME"),
        (["agent", "--new", "--prompt", "x"], "give --name NAME"),
        (
            ["agent", "--new", "--name", "N", "--prompt", "x", "--composition", "C"],
            "needs an existing project",
        ),
        (
            ["import-media", "--name", "N", "--media", "a.wav=ftp://x/a.wav"],
            "must be an http:// or https:// URL",
        ),
        (
            ["import-media", "--name", "N", "--media", "../a.wav=https://x.com/a.wav"],
            "must not contain '..'",
        ),
        (["import-media", "--name", "N", *MEDIA, "--composition", "C=nope"], "no media named nope"),
    ],
)
def test_bad_options_are_refused_before_any_request(args: list[str], message: str) -> None:
    result = run_cli(*args)  # no token, no API: refused before either is needed
    assert result.exit_code != 0
    assert message in result.output
