"""`state recover` after the state was replaced under a run that died: what the journal proves is
folded in, what it cannot place is kept aside, and the teammate's records are never displaced."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from descript_iac.state.store import LocalStateStore
from tests.builders import ONE_IMPORT
from tests.e2e.conftest import Served, cli

pytestmark = pytest.mark.e2e

MEDIA = ONE_IMPORT
WITH_STEP = (
    MEDIA
    + """    steps:
      - {id: clean, prompt: Remove filler words}
"""
)
APPLY = ("apply", "ws", "--auto-approve", "--poll-interval", "0.05")


def _workspace(root: Path, text: str) -> Path:
    (root / "ws").mkdir(parents=True)
    (root / "ws" / "main.yaml").write_text(text)
    return root


def _jobs(served: Served) -> dict[str, list[str]]:
    return {p["project_id"]: [j["job_id"] for j in p["jobs"]] for p in served.projects()}


def test_recover_keeps_aside_a_create_and_everything_done_on_its_project(
    served: Served, tmp_path: Path
) -> None:
    team = _workspace(tmp_path / "team", MEDIA)
    assert cli(*APPLY, env=served.env(), cwd=team).returncode == 0
    team_state = team / "state" / "ws.json"
    (p1,) = _jobs(served)
    me = _workspace(tmp_path / "me", WITH_STEP)
    # Killed right after the step's job was recorded (the import is the first job). The
    # teammate's project looks like the one this workspace declares: --new-state says to make
    # this workspace's own anyway (without it, apply stops: "may already exist").
    killed = cli(
        *APPLY, "--new-state", env=served.env(DESCRIPT_IAC_FAILPOINT="after_job_recorded:2"),
        cwd=me,
    )  # fmt: skip
    assert killed.returncode == -9, killed.stdout + killed.stderr
    (p2,) = set(_jobs(served)) - {p1}
    mine = _jobs(served)[p2]
    assert len(mine) == 2  # its import and step clean
    shutil.copy(team_state, me / "state" / "ws.json")  # the teammate's state pulled from git
    blocked = cli(*APPLY, env=served.env(), cwd=me)
    assert (
        blocked.returncode == 1 and "`descript-iac state recover --workspace ws`" in blocked.stderr
    )
    recovered = cli("state", "recover", "--workspace", "ws", env=served.env(), cwd=me)
    assert recovered.returncode == 0, recovered.stdout + recovered.stderr
    state = LocalStateStore(me / "state" / "ws.json").read()
    ep = state.projects["ep"]
    assert ep.project_id == p1 and ep.steps == [] and not ep.intents
    assert ep.import_ is not None and ep.import_.job_id == _jobs(served)[p1][0]
    assert [(o.project_id, sorted(o.job_ids)) for o in ep.orphans] == [(p2, sorted(mine))]
    plan = cli("plan", "ws", env=served.env(), cwd=me)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "> step clean  new step" in plan.stdout and "changed" not in plan.stdout
    done = cli(*APPLY, env=served.env(), cwd=me)
    assert done.returncode == 0, done.stdout + done.stderr
    after = _jobs(served)
    assert after[p2] == mine and len(after[p1]) == 2  # clean ran once on the teammate's project


def _mine_on_the_teams_project(served: Served, tmp_path: Path, text: str) -> tuple[Path, str]:
    """The teammate applied MEDIA; I imported their project into my own state (another salt)
    and applied `text`, killed right after the first job was recorded; then their state was
    copied over mine."""
    team = _workspace(tmp_path / "team", MEDIA)
    assert cli(*APPLY, env=served.env(), cwd=team).returncode == 0
    (p1,) = _jobs(served)
    me = _workspace(tmp_path / "me", text)
    imported = cli("import", "ep", p1, "--workspace", "ws", env=served.env(), cwd=me)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    killed = cli(*APPLY, env=served.env(DESCRIPT_IAC_FAILPOINT="after_job_recorded:1"), cwd=me)
    assert killed.returncode == -9, killed.stdout + killed.stderr
    shutil.copy(team / "state" / "ws.json", me / "state" / "ws.json")
    return me, p1


def test_recover_recomputes_a_step_digest_for_the_other_states_salt(
    served: Served, tmp_path: Path
) -> None:
    me, p1 = _mine_on_the_teams_project(served, tmp_path, WITH_STEP)
    recovered = cli("state", "recover", "--workspace", "ws", env=served.env(), cwd=me)
    assert recovered.returncode == 0, recovered.stdout + recovered.stderr
    ep = LocalStateStore(me / "state" / "ws.json").read().projects["ep"]
    assert ep.project_id == p1 and [s.id for s in ep.steps] == ["clean"]
    done = cli(*APPLY, env=served.env(), cwd=me)  # waits for the step; sends nothing
    assert done.returncode == 0, done.stdout + done.stderr
    assert (
        "No changes. 1 project is up to date." in cli("plan", "ws", env=served.env(), cwd=me).stdout
    )
    assert len(_jobs(served)[p1]) == 2


def test_recover_refuses_digests_it_cannot_recompute(served: Served, tmp_path: Path) -> None:
    text = MEDIA + "  script:\n    steps:\n      - {id: write, prompt: Write a script}\n"
    me, _ = _mine_on_the_teams_project(served, tmp_path, text)
    before = (me / "state" / "ws.json").read_bytes()
    refused = cli("state", "recover", "--workspace", "ws", env=served.env(), cwd=me)
    assert refused.returncode == 1
    assert "script: the write job of the journal" in refused.stderr
    assert "Nothing was changed and the journal is kept" in refused.stderr
    assert "Put back the state the journal was written for" in refused.stderr
    assert (me / "state" / "ws.json").read_bytes() == before
    assert (me / "state" / "ws.json.journal").exists()
