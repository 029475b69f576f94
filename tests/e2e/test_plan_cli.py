"""`descript-iac plan`: exit codes, saved plans, no API call without --refresh, drift."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.builders import run_cli
from tests.e2e.conftest import Served

pytestmark = pytest.mark.e2e


def test_plan_without_refresh_makes_no_api_call(workspace: Path) -> None:
    # No token and an address where nothing listens: any API call would fail.
    result = run_cli("plan", str(workspace), env={"DESCRIPT_API_URL": "http://127.0.0.1:9/v1"})
    assert result.exit_code == 0, result.output
    assert "Plan: 3 projects to create, 6 steps to run, 0 to replace, 0 to forget." in result.output


def test_detailed_exitcode(served: Served, workspace: Path) -> None:
    changes = run_cli("plan", str(workspace), "--detailed-exitcode", env=served.env())
    assert changes.exit_code == 2
    run_cli("apply", str(workspace), "--auto-approve", "--poll-interval", "0.05", env=served.env())
    clean = run_cli("plan", str(workspace), "--detailed-exitcode", env=served.env())
    assert clean.exit_code == 0 and "No changes. 3 projects are up to date." in clean.output


def test_blocked_plan_exits_1_listing_every_blocked_item(served: Served, workspace: Path) -> None:
    run_cli("apply", str(workspace), "--auto-approve", "--poll-interval", "0.05", env=served.env())
    episodes = workspace / "episodes.yaml"
    episodes.write_text(
        episodes.read_text()
        .replace("Add karaoke-style captions", "Add captions")
        .replace('name: "Episode 43: Tea time"', 'name: "Episode 43: Tea"')
    )
    result = run_cli("plan", str(workspace), "--detailed-exitcode", env=served.env())
    assert result.exit_code == 1
    assert "The plan is blocked: 2 action(s) cannot be applied:" in result.output
    assert "! episode-042 step captions:" in result.output
    assert "! episode-043: import-time inputs changed (name changed)" in result.output


def test_saved_plan_applies_once_and_is_then_stale(
    served: Served, workspace: Path, tmp_path: Path
) -> None:
    saved = tmp_path / "release.plan"
    made = run_cli("plan", str(workspace), "--out", str(saved), env=served.env())
    assert made.exit_code == 0 and saved.exists()
    assert "SECRET" not in saved.read_text()
    applied = run_cli("apply", str(saved), "--poll-interval", "0.05", env=served.env())
    assert applied.exit_code == 0, applied.output
    assert "8 job(s) issued" in applied.output
    stale = run_cli("apply", str(saved), env=served.env())
    assert stale.exit_code == 1 and "the saved plan is stale" in stale.output


def test_saved_plan_refused_when_config_changed(
    served: Served, workspace: Path, tmp_path: Path
) -> None:
    saved = tmp_path / "release.plan"
    run_cli("plan", str(workspace), "--out", str(saved), env=served.env())
    scripts = workspace / "scripts.yaml"
    original = scripts.read_text()
    scripts.write_text(original.replace("title card", "logo"))
    result = run_cli("apply", str(saved), env=served.env())
    assert (
        result.exit_code == 1
        and "the configuration changed since the plan was saved" in result.output
    )
    assert served.projects() == []
    # The refusal wrote no state (none existed), so the saved plan is not refused for good.
    state = json.loads(saved.read_text())["state"]
    assert not Path(state).exists() and list(Path(state).parent.glob("*")) == []
    scripts.write_text(original)
    again = run_cli("apply", str(saved), "--poll-interval", "0.05", env=served.env())
    assert again.exit_code == 0, again.output


def test_json_and_markdown_formats(workspace: Path) -> None:
    data = json.loads(run_cli("plan", str(workspace), "--format", "json").output)
    assert data["summary"]["create"] == 3 and data["estimated_jobs"] == 8
    markdown = run_cli("plan", str(workspace), "--format", "markdown").output
    assert markdown.startswith("### descript-iac plan")
    assert "#### `+` `episode-042`" in markdown and "`+` **create**:" in markdown


def test_refresh_reports_drift_and_unrecorded_jobs(served: Served, workspace: Path) -> None:
    run_cli("apply", str(workspace), "--auto-approve", "--poll-interval", "0.05", env=served.env())
    state = json.loads(Path("state/show.json").read_text())
    project_id = state["projects"]["episode-042"]["project_id"]
    httpx.post(
        f"{served.base_url}/jobs/agent",
        json={"project_id": project_id, "prompt": "Add a title card"},
        headers={"Authorization": f"Bearer {served.token}"},
    ).raise_for_status()
    known = {s["job_id"] for s in state["projects"]["episode-042"]["steps"]}
    job_id = next(
        j["job_id"]
        for p in served.projects()
        if p["project_id"] == project_id
        for j in p["jobs"]
        if j["job_type"] == "agent" and j["job_id"] not in known
    )
    plain = run_cli("plan", str(workspace), "--refresh", env=served.env())
    assert plain.exit_code == 0  # drift is no error...
    assert "Drift: 1 change(s) made outside descript-iac" in plain.output
    # ... and the headline above it does not say that all is as it should be
    assert "No changes" not in plain.output and "3 projects are up to date" not in plain.output
    assert (
        "No jobs to send, but Descript differs from the state: 1 change(s) made outside "
        "descript-iac on 1 project(s) (Drift, below). 2 projects are up to date." in plain.output
    )
    assert f"~ episode-042: agent job {job_id}" in plain.output
    assert "it was run outside descript-iac" in plain.output
    # ... but it is a change for CI, in every format
    exit_code = run_cli(
        "plan", str(workspace), "--refresh", "--detailed-exitcode", env=served.env()
    )
    assert exit_code.exit_code == 2
    as_json = run_cli("plan", str(workspace), "--refresh", "--format", "json", env=served.env())
    drift = json.loads(as_json.output)["drift"]
    assert [(d["address"], d["kind"], d["job_id"]) for d in drift] == [
        ("episode-042", "job", job_id)
    ]
    markdown = run_cli(
        "plan", str(workspace), "--refresh", "--format", "markdown", env=served.env()
    )
    assert f"\n~ episode-042: agent job {job_id}" in markdown.output  # in the drift's code block
    assert "No jobs to send, but Descript differs from the state" in markdown.output.replace(
        "\\", ""
    )
    # apply --refresh shows it and, once approved, records it: no drift, no job sent
    accepted = run_cli("apply", str(workspace), "--refresh", "--auto-approve", env=served.env())
    assert accepted.exit_code == 0 and "episode-042: drift accepted" in accepted.output
    assert "No changes. 3 projects are up to date." in accepted.output  # recorded: in sync
    after = run_cli("plan", str(workspace), "--refresh", "--detailed-exitcode", env=served.env())
    assert after.exit_code == 0 and "Drift" not in after.output
    state = json.loads(Path("state/show.json").read_text())
    external = state["projects"]["episode-042"]["external_jobs"]
    assert [j["job_id"] for j in external] == [job_id]


def _invalid_workspace(workspace: Path) -> Path:
    broken = workspace.parent / "broken"
    broken.mkdir()
    (broken / "show.yaml").write_text("projects:\n  ep:\n    nmae: typo\n")
    return broken


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("usage error", 1),  # a typo in a CI script must not read as "changes present"
        ("validation error", 1),
        ("no changes", 0),
        ("changes", 2),
    ],
)
def test_detailed_exitcode_table(served: Served, workspace: Path, case: str, expected: int) -> None:
    """2 means "changes present" and nothing else; every usage or input error exits 1."""
    args = ["plan", str(workspace), "--detailed-exitcode"]
    if case == "usage error":
        args += ["--taget", "x"]
    elif case == "validation error":
        args[1] = str(_invalid_workspace(workspace))
    elif case == "no changes":
        run_cli(
            "apply", str(workspace), "--auto-approve", "--poll-interval", "0.05", env=served.env()
        )
    result = run_cli(*args, env=served.env())
    assert result.exit_code == expected, result.output
