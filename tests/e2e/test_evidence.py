"""Evidence before any create, over a real socket at both API levels: a state deleted, a fresh
HOME, a state restored from its backup, a state from `state rebuild`, a saved plan applied on a
runner with no state. Each ends with no second project and no prompt sent twice (the emulator's
job log counted), and a message naming the way on."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.builders import TOKEN, run_cli, start_emulator, write_workspace
from tests.e2e.conftest import Served

pytestmark = pytest.mark.e2e
APPLY = ("--auto-approve", "--poll-interval", "0.05")

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
  script:
    name: Coffee script
    steps:
      - id: write
        prompt: Write a script about coffee
"""


class Drive:
    """One emulator, at one API level, as the tests see it."""

    def __init__(self, base_url: str, env: dict[str, str]) -> None:
        self.root = base_url.removesuffix("/v1")
        self.env = env

    def projects(self) -> list[dict[str, Any]]:
        return httpx.get(f"{self.root}/_emulator/projects").json()["projects"]

    def counts(self) -> tuple[int, int]:
        """(projects, agent jobs) in the emulator's log."""
        projects = self.projects()
        prompts = sum(1 for p in projects for j in p["jobs"] if j["job_type"] == "agent")
        return len(projects), prompts


@pytest.fixture(params=["seed", "2026"])
def drive(request: pytest.FixtureRequest, served: Served) -> Iterator[Drive]:
    if request.param == "seed":
        yield Drive(served.base_url, served.env())
        return
    running = start_emulator(job_seconds=0.05, api_level="2026")
    env = {
        "DESCRIPT_API_URL": running.base_url,
        "DESCRIPT_API_TOKEN": TOKEN,
        "DESCRIPT_IAC_COMMIT_SPAN": "1",
        "DESCRIPT_IAC_HISTORY_LAG": "0",
    }
    try:
        yield Drive(running.base_url, env)
    finally:
        running.stop()


def _applied(drive: Drive, tmp_path: Path, *args: str) -> Path:
    ws = write_workspace(tmp_path / "ws", {"main.yaml": WORKSPACE})
    first = run_cli("apply", str(ws), *APPLY, *args, env=drive.env)
    assert first.exit_code == 0, first.output
    return ws


def _lose_state() -> None:
    for leftover in Path("state").glob("ws.json*"):
        leftover.unlink()


def _refused(output: str) -> None:
    """The way on is named: import the project the drive shows (or --new-state)."""
    assert "may already exist in Descript" in output and "nothing was sent" in output, output
    assert "descript-iac import ep " in output, output
    assert "descript-iac import script" in output, output
    assert "--new-state" in output, output


def _fresh_home(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "runner-home"
    home.mkdir()
    return {
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
    }


def _deleted(drive: Drive, tmp_path: Path, ws: Path) -> dict[str, str]:
    _lose_state()
    return {}


def _new_home(drive: Drive, tmp_path: Path, ws: Path) -> dict[str, str]:
    _lose_state()
    return _fresh_home(tmp_path)


LOSSES: dict[str, Callable[[Drive, Path, Path], dict[str, str]]] = {
    "state deleted": _deleted,
    "fresh HOME": _new_home,
}


@pytest.mark.parametrize("loss", list(LOSSES))
def test_a_lost_state_never_makes_a_project_twice(drive: Drive, tmp_path: Path, loss: str) -> None:
    ws = _applied(drive, tmp_path)
    before = drive.counts()
    env = {**drive.env, **LOSSES[loss](drive, tmp_path, ws)}

    again = run_cli("apply", str(ws), *APPLY, env=env)
    assert again.exit_code == 1, again.output
    _refused(again.output)
    assert drive.counts() == before  # 0 duplicate projects, 0 re-run prompts

    # The plan a reviewer reads says it too, with the project and the way on.
    shown = run_cli("plan", str(ws), "--refresh", env=env)
    ep_id = next(p["project_id"] for p in drive.projects() if p["name"] == "Episode 1")
    assert f"<= ep: exists in Descript: project {ep_id}" in shown.output, shown.output
    assert f"descript-iac import ep {ep_id}" in shown.output
    assert "may already exist in Descript and will not be created" in shown.output  # headline
    # ... and so do the Markdown a reviewer reads and the JSON a pipeline reads
    markdown = run_cli("plan", str(ws), "--refresh", "--format", "markdown", env=env).output
    assert "**Exists in Descript: apply will not create these**" in markdown, markdown
    assert f"<= ep: exists in Descript: project {ep_id}" in markdown, markdown
    assert f"`descript-iac import ep {ep_id} --workspace " in markdown, markdown
    assert "may already exist in Descript and will not be created" in markdown
    data = json.loads(run_cli("plan", str(ws), "--refresh", "--json", env=env).stdout)
    found = {e["address"]: e for e in data["existing"]}
    assert found["ep"]["verdict"] == "exists" and found["ep"]["project_ids"] == [ep_id]
    assert f"descript-iac import ep {ep_id}" in found["ep"]["way_on"]
    assert "script" in found  # matched by name (2026) or unproven among candidates (seed)
    assert drive.counts() == before


def test_a_saved_plan_applied_on_a_runner_with_no_state(drive: Drive, tmp_path: Path) -> None:
    ws = _applied(drive, tmp_path)
    before = drive.counts()
    _lose_state()
    # The plan saved without --refresh (no API call) proposes creates; apply checks first.
    saved = run_cli("plan", str(ws), "--out", str(tmp_path / "plan.bin"), env=drive.env)
    assert saved.exit_code == 0, saved.output
    env = {**drive.env, **_fresh_home(tmp_path)}
    applied = run_cli("apply", str(tmp_path / "plan.bin"), *APPLY, env=env)
    assert applied.exit_code == 1, applied.output
    _refused(applied.output)
    assert drive.counts() == before


def test_a_state_rebuild_then_apply_never_remakes_the_prompt_only_project(
    drive: Drive, tmp_path: Path
) -> None:
    ws = _applied(drive, tmp_path)
    before = drive.counts()
    _lose_state()
    rebuilt = run_cli("state", "rebuild", str(ws), "--auto-approve", env=drive.env)
    assert rebuilt.exit_code == 0, rebuilt.output

    again = run_cli("apply", str(ws), *APPLY, env=drive.env)
    assert drive.counts() == before, again.output  # 0 duplicate projects, 0 re-run prompts
    if "Matched (2)" in rebuilt.output:  # the 2026 level tells the script by its name
        assert again.exit_code == 0, again.output
        return
    # seed level: the script's create cannot be told from anyone else's: asked, not made
    assert again.exit_code == 1, again.output
    assert "script: prompt-only, and 1 project(s) made by an agent job" in again.output
    assert "descript-iac import script PROJECT_ID" in again.output
    script_id = next(p["project_id"] for p in drive.projects() if p["name"] == "Coffee script")
    assert script_id in again.output


def test_a_state_restored_from_its_backup_never_sends_a_step_again(
    drive: Drive, tmp_path: Path
) -> None:
    ws = _applied(drive, tmp_path, "--target", "ep")
    backup = tmp_path / "ws.json.backup"
    shutil.copy("state/ws.json", backup)
    # the workspace goes on: a new step on ep, and the prompt-only script
    (ws / "main.yaml").write_text(
        (ws / "main.yaml")
        .read_text()
        .replace(
            "        prompt: Remove filler words\n",
            "        prompt: Remove filler words\n      - id: caps\n        prompt: Add captions\n",
        )
    )
    later = run_cli("apply", str(ws), *APPLY, env=drive.env)
    assert later.exit_code == 0, later.output
    before = drive.counts()
    shutil.copy(backup, "state/ws.json")  # restored: it knows neither caps nor the script

    again = run_cli("apply", str(ws), *APPLY, env=drive.env)
    assert again.exit_code == 1, again.output
    assert drive.counts() == before  # 0 duplicate projects, 0 re-run prompts
    # the way on: adopt the script, or merge the newer state that knows caps
    assert "descript-iac import script" in again.output or (
        "descript-iac state recover" in again.output
    ), again.output

    # once the script is adopted, the caps job the restored state lacks still stops the run
    script_id = next(p["project_id"] for p in drive.projects() if p["name"] == "Coffee script")
    imported = run_cli(
        "import",
        "script",
        script_id,
        "--mark-applied",
        "write",
        "--workspace",
        str(ws),
        env=drive.env,
    )
    assert imported.exit_code == 0, imported.output
    stale = run_cli("apply", str(ws), *APPLY, env=drive.env)
    assert stale.exit_code == 1, stale.output
    assert "descript-iac state recover" in stale.output
    assert "ep (project" in stale.output
    assert drive.counts() == before


def test_new_state_for_one_address_makes_only_that_project_again(
    drive: Drive, tmp_path: Path
) -> None:
    """`--new-state --target ADDRESS`: the user's "I know: make it again" for one address; every
    other address is still checked against the drive and never made twice."""
    ws = _applied(drive, tmp_path)
    projects, prompts = drive.counts()
    _lose_state()
    refused = run_cli("apply", str(ws), *APPLY, env=drive.env)
    assert refused.exit_code == 1 and drive.counts() == (projects, prompts), refused.output
    assert "--target" in refused.output  # the per-address way is named

    again = run_cli("apply", str(ws), *APPLY, "--new-state", "--target", "script", env=drive.env)
    assert again.exit_code == 0, again.output
    names = sorted(p["name"] for p in drive.projects())
    assert names.count("Coffee script") == 2 and names.count("Episode 1") == 1, names
    assert drive.counts() == (projects + 1, prompts + 1)  # the script and its one prompt

    rest = run_cli("apply", str(ws), *APPLY, env=drive.env)  # ep: still checked, not made
    assert rest.exit_code == 1 and "descript-iac import ep " in rest.output, rest.output
    assert drive.counts() == (projects + 1, prompts + 1)
