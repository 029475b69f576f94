"""State operations against `descript-iac emulator serve` (seed-level API): import, state mv and
moved blocks, state rebuild, status before anything, global options after the verb, a failed
import's root cause."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.builders import run_cli, wait_for_job, write_workspace
from tests.e2e.conftest import Served

pytestmark = pytest.mark.e2e

WORKSPACE = """
version: 1
projects:
  ep:
    name: Episode 1
    media:
      host.wav: {url: "https://cdn.example.com/ep1/host.wav"}
    compositions:
      - name: Full
        clips: [{media: host.wav}]
    steps:
      - id: clean
        prompt: Remove filler words
      - id: caps
        prompt: Add captions
  trailer:
    media:
      cut.mp4: {url: "https://cdn.example.com/trailer/cut.mp4"}
    steps:
      - id: music
        prompt: Add music
  script:
    name: Coffee script
    steps:
      - id: write
        prompt: Write a script about coffee
"""
APPLY = ("--auto-approve", "--poll-interval", "0.05")


def _api(served: Served) -> httpx.Client:
    headers = {"Authorization": f"Bearer {served.token}"}
    return httpx.Client(base_url=served.base_url + "/", headers=headers)


def _job_ids(state: dict[str, Any]) -> dict[str, set[str]]:
    out = {}
    for address, project in state["projects"].items():
        ids = {s["job_id"] for s in project["steps"]}
        if project.get("import"):
            ids.add(project["import"]["job_id"])
        out[address] = ids
    return out


def _jobs_made(served: Served) -> int:
    return sum(len(p["jobs"]) for p in served.projects())


def _state(name: str = "ws") -> dict[str, Any]:
    return json.loads(Path(f"state/{name}.json").read_text())


def test_import_of_a_project_made_with_a_raw_api_call_then_a_plan_with_no_create(
    served: Served, tmp_path: Path
) -> None:
    ws = write_workspace(tmp_path / "ws", {"main.yaml": WORKSPACE})
    with _api(served) as api:
        made = api.post(
            "jobs/import/project_media",
            json={
                "project_name": "Episode 1",
                "add_media": {"host.wav": {"url": "https://cdn.example.com/ep1/host.wav"}},
                "add_compositions": [{"name": "Full", "clips": [{"media": "host.wav"}]}],
            },
        ).json()
        wait_for_job(api, made["job_id"])
        project_id = made["project_id"]
        edit = api.post(
            "jobs/agent", json={"project_id": project_id, "prompt": "Remove filler words"}
        )
        wait_for_job(api, edit.json()["job_id"])
    before = _jobs_made(served)

    imported = run_cli(
        "import",
        "ep",
        project_id,
        "--mark-applied",
        "clean",
        "--workspace",
        str(ws),
        env=served.env(),
    )
    assert imported.exit_code == 0, imported.output
    assert f"Imported project {project_id} as ep." in imported.output
    assert "media found (the job history): host.wav" in imported.output
    assert f"step clean: marked applied (job {edit.json()['job_id']})" in imported.output

    plan = run_cli("plan", str(ws), "--target", "ep", "--format", "json", env=served.env())
    actions = [(a["action"], a["step_id"]) for a in json.loads(plan.output)["actions"]]
    assert actions == [("run", "caps")]  # no create: what is missing, nothing twice
    applied = run_cli("apply", str(ws), "--target", "ep", *APPLY, env=served.env())
    assert applied.exit_code == 0 and "1 job(s) issued" in applied.output
    assert _jobs_made(served) == before + 1
    again = run_cli("plan", str(ws), "--target", "ep", "--detailed-exitcode", env=served.env())
    assert again.exit_code == 0, again.output

    # The project is managed once: a second import of it is refused, naming its address.
    twice = run_cli("import", "trailer", project_id, "--workspace", str(ws), env=served.env())
    assert twice.exit_code == 1
    assert f"project {project_id} is already managed as ep" in twice.output


def test_state_mv_and_moved_blocks_keep_every_job_id(served: Served, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", {"main.yaml": WORKSPACE})
    assert run_cli("apply", str(ws), *APPLY, env=served.env()).exit_code == 0
    ids = _job_ids(_state())
    jobs = _jobs_made(served)

    # state mv, with the config renamed by hand
    moved = run_cli("state", "mv", "ep", "episode-1", "--workspace", str(ws), env=served.env())
    assert moved.exit_code == 0 and "Moved ep to episode-1" in moved.output
    main = ws / "main.yaml"
    main.write_text(main.read_text().replace("\n  ep:\n", "\n  episode-1:\n"))
    clean = run_cli("plan", str(ws), "--detailed-exitcode", env=served.env())
    assert clean.exit_code == 0, clean.output
    assert _job_ids(_state())["episode-1"] == ids["ep"]

    # a moved block, reviewed like any change: the plan shows the move, apply records it
    main.write_text(
        main.read_text().replace("\n  trailer:\n", "\n  teaser:\n")
        + "moved:\n  - {from: trailer, to: teaser}\n"
    )
    # trailer had no name: (its Descript name was its address): the plan says so
    named = run_cli("plan", str(ws), env=served.env())
    assert named.exit_code == 1 and "name: trailer -> teaser" in named.output
    assert "set `name: trailer` to keep the name it has" in named.output
    main.write_text(main.read_text().replace("\n  teaser:\n", "\n  teaser:\n    name: trailer\n"))
    plan = run_cli("plan", str(ws), "--detailed-exitcode", env=served.env())
    assert plan.exit_code == 2, plan.output
    assert "=> move from trailer  renamed from trailer (moved block at" in plan.output
    assert "1 to move" in plan.output and "to create" in plan.output
    assert "0 projects to create, 0 steps to run" in plan.output
    assert run_cli("apply", str(ws), *APPLY, env=served.env()).exit_code == 0
    after = _job_ids(_state())
    assert after == {"episode-1": ids["ep"], "teaser": ids["trailer"], "script": ids["script"]}
    assert _jobs_made(served) == jobs  # renaming sent nothing
    # the block stays in the config and does nothing more
    assert run_cli("plan", str(ws), "--detailed-exitcode", env=served.env()).exit_code == 0


def test_state_rm_stops_managing_and_import_takes_the_project_back(
    served: Served, tmp_path: Path
) -> None:
    ws = write_workspace(tmp_path / "ws", {"main.yaml": WORKSPACE})
    assert run_cli("apply", str(ws), "--target", "trailer", *APPLY, env=served.env()).exit_code == 0
    before = _state()["projects"]["trailer"]
    removed = run_cli("state", "rm", "trailer", "--workspace", str(ws))
    assert removed.exit_code == 0
    assert f"project {before['project_id']} stays in Descript" in removed.output
    listed = run_cli("state", "list", str(ws)).output.split()
    assert "trailer" not in listed
    assert "+ trailer" in run_cli("plan", str(ws), "--target", "trailer").output  # a new one
    back = run_cli(
        "import",
        "trailer",
        before["project_id"],
        "--mark-applied",
        "music",
        "--workspace",
        str(ws),
        env=served.env(),
    )
    assert back.exit_code == 0, back.output
    assert _state()["forgotten"] == {}  # managed again, recorded once
    assert _job_ids(_state())["trailer"] == _job_ids({"projects": {"trailer": before}})["trailer"]
    plan = run_cli("plan", str(ws), "--target", "trailer", "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output


def test_state_rebuild_after_losing_the_state_gives_a_plan_with_no_changes(
    served: Served, tmp_path: Path
) -> None:
    ws = write_workspace(tmp_path / "ws", {"main.yaml": WORKSPACE})
    assert run_cli("apply", str(ws), *APPLY, env=served.env()).exit_code == 0
    lost = _state()
    for leftover in Path("state").glob("ws.json*"):
        leftover.unlink()
    jobs = _jobs_made(served)

    refused = run_cli("state", "rebuild", str(ws), env=served.env())  # no terminal, no approval
    assert refused.exit_code == 1 and "refusing to write the state without confirmation" in (
        refused.output
    )
    assert not Path("state/ws.json").exists()

    rebuilt = run_cli("state", "rebuild", str(ws), "--auto-approve", env=served.env())
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "Matched (2):" in rebuilt.output and "Missing (1):" in rebuilt.output
    assert "script: prompt-only: without the projects API nothing" in rebuilt.output
    script_id = lost["projects"]["script"]["project_id"]
    imported = run_cli(
        "import",
        "script",
        script_id,
        "--mark-applied",
        "write",
        "--workspace",
        str(ws),
        env=served.env(),
    )
    assert imported.exit_code == 0, imported.output

    plan = run_cli("plan", str(ws), "--detailed-exitcode", env=served.env())
    assert plan.exit_code == 0, plan.output
    assert "No changes. 3 projects are up to date." in plan.output
    assert _job_ids(_state()) == _job_ids(lost)  # every job id recovered
    assert _jobs_made(served) == jobs  # nothing sent
    shown = run_cli("state", "show", "ep", "--workspace", str(ws)).output
    assert "step clean: success" in shown and "recovered by state rebuild" in shown
    assert "prompt: Remove filler words" in shown


def test_rebuild_reports_two_look_alike_projects_as_ambiguous_and_records_neither(
    served: Served, tmp_path: Path
) -> None:
    ws = write_workspace(tmp_path / "ws", {"main.yaml": WORKSPACE})
    body = {
        "add_media": {"cut.mp4": {"url": "https://cdn.example.com/other/cut.mp4"}},
    }
    with _api(served) as api:
        for name in ("Trailer A", "Trailer B"):
            made = api.post("jobs/import/project_media", json={**body, "project_name": name})
            wait_for_job(api, made.json()["job_id"])
    rebuilt = run_cli("state", "rebuild", str(ws), "--auto-approve", env=served.env())
    assert rebuilt.exit_code == 1  # ambiguity stops a pipeline
    assert "Ambiguous (1):" in rebuilt.output
    assert "trailer: 2 project(s) match" in rebuilt.output
    assert "nothing the API shows tells them apart" in rebuilt.output
    assert not Path("state/ws.json").exists() or "trailer" not in _state()["projects"]


def test_a_wrong_token_is_caught_by_one_status_call_before_anything(
    served: Served, tmp_path: Path
) -> None:
    ws = write_workspace(tmp_path / "ws", {"main.yaml": WORKSPACE})
    targets = ("--target", "ep", "--target", "trailer")
    assert run_cli("apply", str(ws), *targets, *APPLY, env=served.env()).exit_code == 0
    wrong = served.env(DESCRIPT_API_TOKEN="not-the-token")
    for command in (
        ("plan", str(ws), "--refresh"),
        ("apply", str(ws), "--auto-approve"),
        ("import", "script", "some-project", "--workspace", str(ws)),
        ("state", "rebuild", str(ws)),
    ):
        before = httpx.get(f"{served.root}/_emulator/stats").json()
        result = run_cli(*command, env=wrong)
        after = httpx.get(f"{served.root}/_emulator/stats").json()
        assert result.exit_code == 1, command
        assert "GET /status: 401" in result.output and "descript-iac will perform" not in (
            result.output
        )
        assert after["requests"] - before["requests"] == 1, command  # one call, then stop
        assert after.get("status:401", 0) - before.get("status:401", 0) == 1


def test_global_options_work_after_the_verb(served: Served, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", {"main.yaml": WORKSPACE})
    env = {"DESCRIPT_API_TOKEN": served.token, "DESCRIPT_IAC_COMMIT_SPAN": "1"}
    result = run_cli(
        "apply",
        str(ws),
        *APPLY,
        "--api-url",
        served.base_url,
        "-v",
        "--state",
        "other.json",
        "--lock-timeout",
        "1",
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert Path("other.json").exists() and not Path("state/ws.json").exists()
    plan = run_cli(
        "plan",
        str(ws),
        "--refresh",
        "--api-url",
        served.base_url,
        "--verbose",
        "--state",
        "other.json",
        "--no-color",
        env=env,
    )
    assert plan.exit_code == 0 and "No changes. 3 projects are up to date." in plan.output
    assert "GET /status -> 200" in plan.output  # -v after the verb logs requests


def test_a_failed_import_names_its_root_cause(served: Served, tmp_path: Path) -> None:
    ws = write_workspace(
        tmp_path / "ws",
        {
            "main.yaml": """
            version: 1
            projects:
              page:
                media:
                  talk: {url: "https://cdn.example.com/watch?v=talk"}
            """
        },
    )
    checked = run_cli("validate", str(ws))
    assert checked.exit_code == 0
    assert "main.yaml:5:" in checked.output and "warning: the URL of media 'talk' has no file" in (
        checked.output
    )
    applied = run_cli("apply", str(ws), *APPLY, env=served.env())
    assert applied.exit_code == 1
    assert "talk (Unsupported file type" in applied.output
    plan = run_cli("plan", str(ws), env=served.env())
    assert "tainted, the import failed" in plan.output
    assert "talk: Unsupported file type" in plan.output


def test_import_refuses_a_project_id_the_api_shows_nothing_of(
    served: Served, tmp_path: Path
) -> None:
    ws = write_workspace(tmp_path / "ws", {"main.yaml": WORKSPACE})
    refused = run_cli(
        "import", "trailer", "nonexistent-id", "--workspace", str(ws), env=served.env()
    )
    assert refused.exit_code == 1
    assert "trailer: project nonexistent-id is not shown by the API" in refused.output
    assert "the job history (30 days) has no job on it" in refused.output
    assert "no projects API" in refused.output and "--force" in refused.output
    assert "Nothing was imported" in refused.output
    assert not Path("state/ws.json").exists() or "trailer" not in _state()["projects"]
    forced = run_cli(
        "import", "trailer", "nonexistent-id", "--force", "--workspace", str(ws), env=served.env()
    )
    assert forced.exit_code == 0, forced.output
    assert _state()["projects"]["trailer"]["project_id"] == "nonexistent-id"
