"""A missing, lost or rebuilt state never spends twice (issue #20), over a real socket with the
real CLI, at both API levels: a CI runner without the state file does not make a second project
or run a prompt again; it stops with the way on, and `apply --adopt-existing` (or `import`)
takes the projects back with the steps they already ran. The emulator's job log is the count."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.builders import cli_env, emulator_jobs, run_cli, serving, write_workspace

pytestmark = pytest.mark.e2e

WORKSPACE = """
version: 1
projects:
  episode:
    name: Episode
    media:
      host.wav: {url: "https://cdn.example.com/ep/host.wav"}
    compositions:
      - {name: Full, clips: [{media: host.wav}]}
    steps:
      - {id: clean, prompt: Remove filler words}
      - {id: caps, prompt: Add captions}
  trailer:
    name: Trailer
    steps:
      - {id: write, prompt: Write a script for a trailer}
"""


def _apply(state: Path, root: Path, env: dict[str, str], *extra: str) -> Any:
    return run_cli(
        "--state", str(state), "apply", str(root), "--auto-approve", "--forecast", "off", *extra,
        env=env,
    )  # fmt: skip


def _counts(running: Any) -> Counter[str]:
    jobs = emulator_jobs(running)
    return Counter(j["job_type"] for j in jobs) + Counter(
        {"projects": len({j["project"]["project_id"] for j in jobs})}
    )


@pytest.mark.parametrize("level", ["seed", "2026"])
def test_a_deleted_state_makes_no_second_project_and_runs_no_prompt_twice(
    tmp_path: Path, level: str
) -> None:
    with serving(api_level=level) as (running, _api):
        env = cli_env(running)
        root = write_workspace(tmp_path / "ws", {"main.yaml": WORKSPACE})
        state = tmp_path / "state" / "ws.json"
        first = _apply(state, root, env)
        assert first.exit_code == 0, first.output
        before = _counts(running)
        assert before == Counter({"import/project_media": 1, "agent": 3, "projects": 2})
        state.unlink()  # a CI runner without the state file (and a fresh HOME: each test's)
        for backup in state.parent.glob("ws.json*"):
            backup.unlink()

        planned = run_cli("--state", str(state), "plan", str(root), "--refresh", env=env)
        assert planned.exit_code == 0, planned.output
        assert "Exists in Descript: apply will not create these" in planned.output
        assert "<= episode: exists in Descript" in planned.output
        markdown = run_cli(
            "--state", str(state), "plan", str(root), "--refresh", "--format", "markdown", env=env
        ).stdout  # the pull-request comment says so too, within the plan
        assert markdown.startswith("### descript-iac plan")
        assert "**Exists in Descript: apply will not create these**" in markdown
        assert "\n<= episode: exists in Descript" in markdown
        stopped = _apply(state, root, env)
        assert stopped.exit_code == 1, stopped.output
        assert "may already exist in Descript" in stopped.output
        assert "nothing was sent" in stopped.output
        assert "<= episode: exists in Descript" in stopped.output
        assert f"--workspace {root}" in stopped.output  # the way on, pasteable
        assert _counts(running) == before

        adopted = _apply(state, root, env, "--adopt-existing")
        if level == "2026":  # the projects API names the prompt-only project too
            assert adopted.exit_code == 0, adopted.output
        else:  # the seed level cannot tell whose prompt-only project is whose: a person says
            assert adopted.exit_code == 1, adopted.output
            assert "?  trailer: prompt-only" in adopted.output
            trailer = next(
                j["project"]["project_id"]
                for j in emulator_jobs(running)
                if j["project"]["name"] == "Trailer"
            )
            imported = run_cli(
                "--state", str(state), "import", "trailer", trailer, "--mark-applied", "write",
                "--workspace", str(root), env=env,
            )  # fmt: skip
            assert imported.exit_code == 0, imported.output
        again = _apply(state, root, env)
        assert again.exit_code == 0, again.output
        assert "No changes" in again.output
        assert _counts(running) == before  # 0 duplicate projects, 0 prompts run again


def test_new_state_is_the_explicit_way_to_make_them_again(tmp_path: Path) -> None:
    with serving(api_level="2026") as (running, _api):
        env = cli_env(running)
        root = write_workspace(tmp_path / "ws", {"main.yaml": WORKSPACE})
        state = tmp_path / "state" / "ws.json"
        assert _apply(state, root, env).exit_code == 0
        state.unlink()
        again = _apply(state, root, env, "--new-state")
        assert again.exit_code == 0, again.output
        assert _counts(running)["projects"] == 4  # asked for, made again


def test_a_plan_that_creates_nothing_asks_the_drive_nothing(tmp_path: Path) -> None:
    with serving() as (running, _api):
        env = cli_env(running)
        root = write_workspace(tmp_path / "ws", {"main.yaml": WORKSPACE})
        state = tmp_path / "state" / "ws.json"
        assert _apply(state, root, env).exit_code == 0
        again = _apply(state, root, env, "--verbose")  # logs every request it makes
        assert again.exit_code == 0 and "No changes" in again.output
        assert "GET /status" in again.output  # the log is there...
        assert "GET /jobs" not in again.output  # ...and no history was read
