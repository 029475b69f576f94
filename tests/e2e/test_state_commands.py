"""Resolving what an interrupted apply left in doubt by hand: quarantine, adopt, drop-intent."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import httpx
import pytest

from descript_iac.state.store import LocalStateStore
from tests.builders import ONE_IMPORT, run_cli
from tests.e2e.conftest import Served, cli, ticking

pytestmark = pytest.mark.e2e

WORKSPACE = ONE_IMPORT
APPLY = ("apply", "ws", "--auto-approve", "--poll-interval", "0.05")


def _setup(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "main.yaml").write_text(WORKSPACE)
    return root


def _import_jobs(served: Served) -> list[str]:
    return [j["job_id"] for p in served.projects() for j in p["jobs"] if j["job_type"] != "agent"]


def test_ambiguous_history_quarantines_and_adopt_resolves(served: Served, tmp_path: Path) -> None:
    _setup(tmp_path)
    killed = cli(*APPLY, env=served.env(DESCRIPT_IAC_FAILPOINT="after_post:1"), cwd=tmp_path)
    assert killed.returncode == -9
    # Someone else imports the same media and composition names in the same minute.
    body = {
        "project_name": "Other",
        "add_media": {"host.wav": {"url": "https://cdn.example.com/other/host.wav"}},
        "add_compositions": [{"name": "Full", "clips": [{"media": "host.wav"}]}],
    }
    httpx.post(
        f"{served.base_url}/jobs/import/project_media",
        json=body,
        headers={"Authorization": f"Bearer {served.token}"},
    ).raise_for_status()
    first, _other = _import_jobs(served)
    blocked = cli(*APPLY, env=served.env(), cwd=tmp_path)
    assert blocked.returncode == 1
    assert (
        "quarantined: 2 jobs in the history could be the one this intent sent"
        in blocked.stdout + blocked.stderr
    )
    assert "descript-iac state adopt ep JOB_ID" in blocked.stdout + blocked.stderr
    adopted = run_cli(
        "state", "adopt", "ep", first, "--workspace", str(tmp_path / "ws"), env=served.env()
    )
    assert adopted.exit_code == 0, adopted.output
    assert f"ep: adopted job {first}" in adopted.output
    done = cli(*APPLY, env=served.env(), cwd=tmp_path)
    assert done.returncode == 0 and "No changes. 1 project is up to date." in done.stdout
    assert len(_import_jobs(served)) == 2  # nothing re-sent
    state = LocalStateStore(tmp_path / "state" / "ws.json").read()
    assert state.projects["ep"].import_ is not None and state.projects["ep"].import_.job_id == first


def test_drop_intent_resends_at_once(served: Served, tmp_path: Path) -> None:
    _setup(tmp_path)
    killed = cli(*APPLY, env=served.env(DESCRIPT_IAC_FAILPOINT="after_intent:1"), cwd=tmp_path)
    assert killed.returncode == -9 and _import_jobs(served) == []
    plan = run_cli("plan", str(tmp_path / "ws"), env=served.env())
    assert "? resolve" in plan.output
    assert "an earlier apply stopped while sending the create job" in plan.output
    dropped = run_cli("state", "drop-intent", "ep", "--workspace", str(tmp_path / "ws"))
    assert dropped.exit_code == 0 and "open intent dropped" in dropped.output
    shown = run_cli("state", "show", "--workspace", str(tmp_path / "ws"))
    assert "open intent" not in shown.output
    done = cli(*APPLY, env=served.env(DESCRIPT_IAC_COMMIT_SPAN="3600"), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(_import_jobs(served)) == 1


def test_adopt_refuses_a_job_of_the_wrong_type(served: Served, tmp_path: Path) -> None:
    _setup(tmp_path)
    cli(*APPLY, env=served.env(DESCRIPT_IAC_FAILPOINT="after_intent:1"), cwd=tmp_path)
    agent = httpx.post(
        f"{served.base_url}/jobs/agent",
        json={"project_name": "x", "prompt": "y"},
        headers={"Authorization": f"Bearer {served.token}"},
    ).json()
    result = run_cli(
        "state",
        "adopt",
        "ep",
        agent["job_id"],
        "--workspace",
        str(tmp_path / "ws"),
        env=served.env(),
    )
    assert result.exit_code == 1
    assert "is a agent job; the open intent of ep sent a import/project_media job" in result.output


def test_apply_while_another_run_holds_the_lock(served: Served, tmp_path: Path) -> None:
    from descript_iac.state.lock import FileLock

    root = _setup(tmp_path)
    (tmp_path / "state").mkdir()
    holder = FileLock(tmp_path / "state" / "ws.json.lock").acquire("apply shows/")
    try:
        result = run_cli("apply", str(root), "--auto-approve", env=served.env())
        assert result.exit_code == 1
        assert (
            f"the state is locked by {holder.user}@{holder.host} pid {holder.pid}" in result.output
        )
        assert f"descript-iac force-unlock {holder.lock_id}" in result.output
        waited = run_cli(
            "--lock-timeout", "0.3", "apply", str(root), "--auto-approve", env=served.env()
        )
        assert waited.exit_code == 1 and "--lock-timeout" in waited.output
    finally:
        unlocked = run_cli("force-unlock", holder.lock_id, "--workspace", str(root))
        assert unlocked.exit_code == 0 and "Removed the lock held by" in unlocked.output
    assert served.projects() == []


def _suggested(output: str, verb: str) -> list[str]:
    """The command a message suggests (between backquotes), as words."""
    start = output.index(f"`descript-iac {verb}")
    return shlex.split(output[start + 1 : output.index("`", start + 1)])[1:]


def test_suggested_commands_find_the_state_that_suggested_them(
    served: Served, tmp_path: Path
) -> None:
    from descript_iac.state.lock import FileLock

    _setup(tmp_path)  # run from the workspace's parent: the state is state/ws.json here
    (tmp_path / "state").mkdir()
    holder = FileLock(tmp_path / "state" / "ws.json.lock").acquire("apply ws")
    locked = cli(*APPLY, env=served.env(), cwd=tmp_path)
    assert locked.returncode == 1
    unlock = _suggested(locked.stderr, "force-unlock")
    assert unlock == ["force-unlock", holder.lock_id, "--workspace", "ws"]
    unlocked = cli(*unlock, env=served.env(), cwd=tmp_path)
    assert unlocked.returncode == 0 and "Removed the lock held by" in unlocked.stdout
    # A journal left beside a state that was replaced: the suggested recover finds both.
    killed = cli(
        *APPLY, env=served.env(DESCRIPT_IAC_FAILPOINT="after_job_recorded:1"), cwd=tmp_path
    )
    assert killed.returncode == -9
    state = LocalStateStore(tmp_path / "state" / "ws.json")
    restored = state.read_document()  # a backup of the same state, one serial on
    restored.serial += 1
    state.overwrite(restored)
    mismatch = cli(*APPLY, env=served.env(), cwd=tmp_path)
    recover = _suggested(mismatch.stderr, "state recover")
    assert recover == ["state", "recover", "--workspace", "ws"]
    recovered = cli(*recover, env=served.env(), cwd=tmp_path)
    assert recovered.returncode == 0 and "recorded job" in recovered.stdout
    assert state.read().projects["ep"].import_ is not None


def test_recover_says_where_it_looked_when_there_is_nothing(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    result = run_cli("state", "recover", "--workspace", str(tmp_path / "elsewhere"))
    assert result.exit_code == 1
    assert "state/elsewhere.json: no state and no journal here; nothing was recovered" in (
        result.output
    )


def test_suggestions_name_a_database_by_its_variable_never_its_url(tmp_path: Path) -> None:
    from descript_iac.workspace.settings import RunSettings

    url = "postgresql://iac:s3cret-pw@db.example.com/iac"
    settings = RunSettings.for_workspace(tmp_path / "ws", backend_url=url)
    found = settings.found_by()
    assert "s3cret" not in found and "db.example.com" not in found
    assert found == f' --workspace {tmp_path / "ws"} --backend-url "$DESCRIPT_IAC_BACKEND_URL"'


SCRIPT = """
version: 1
projects:
  script:
    steps:
      - {id: write, prompt: Write a script about tea}
"""


def test_adopt_refuses_a_job_the_intent_could_not_have_made(
    served_manual: Served, tmp_path: Path
) -> None:
    served = served_manual
    env = served.env()
    for name in ("team", "me"):
        (tmp_path / name / "ws").mkdir(parents=True)
        (tmp_path / name / "ws" / "main.yaml").write_text(SCRIPT)
    with ticking(served):  # a teammate's workspace on the same drive records its project
        assert cli(*APPLY, env=env, cwd=tmp_path / "team").returncode == 0
    (theirs,) = [j["job_id"] for p in served.projects() for j in p["jobs"]]
    foreign = httpx.post(  # someone else's prompt-only project, before my run
        f"{served.base_url}/jobs/agent",
        json={"project_name": "Other", "prompt": "Write a poem"},
        headers={"Authorization": f"Bearer {served.token}"},
    ).json()["job_id"]
    # (further back than the 10 minutes a run's window allows for the `Date` clock's offset
    # from the job clock before it has measured it)
    httpx.post(f"{served.root}/_emulator/clock/advance", json={"seconds": 1300})
    me = tmp_path / "me"
    # (the teammate's project looks like mine: --new-state makes mine anyway)
    killed = cli(
        *APPLY, "--new-state", env=served.env(DESCRIPT_IAC_FAILPOINT="after_post:1"), cwd=me
    )
    assert killed.returncode == -9, killed.stdout + killed.stderr
    with ticking(served):
        blocked = cli(*APPLY, env=env, cwd=me)
    mine = re.search(r"candidate jobs: ([\w-]+)\)", blocked.stdout + blocked.stderr)
    assert blocked.returncode == 1 and mine, blocked.stdout + blocked.stderr
    adopt = ("state", "adopt", "script", "--workspace", "ws")
    refused = cli(*adopt[:3], foreign, *adopt[3:], env=env, cwd=me)
    assert refused.returncode == 1
    assert f"not among the quarantine's candidates ({mine.group(1)})" in refused.stderr
    assert (
        "outside the intent's window" in refused.stderr and "Nothing was recorded" in refused.stderr
    )
    other = cli(*adopt[:3], theirs, *adopt[3:], env=env, cwd=me)
    assert other.returncode == 1
    assert "another workspace of this drive recorded it as its own" in other.stderr
    state = LocalStateStore(me / "state" / "ws.json")
    assert state.read().projects["script"].quarantine is not None  # nothing recorded
    forced = cli(*adopt[:3], foreign, *adopt[3:], "--force", env=env, cwd=me)
    assert forced.returncode == 0, forced.stdout + forced.stderr
    (project,) = [p["project_id"] for p in served.projects() if p["name"] == "Other"]
    assert f"job {foreign}: project {project}, created " in forced.stdout
    assert "response '" in forced.stdout and "forced past" in forced.stdout
    assert state.read().projects["script"].project_id == project


def test_an_apply_from_another_directory_never_starts_a_second_state(
    served: Served, tmp_path: Path
) -> None:
    """The default state path is relative to the working directory: applying the same workspace
    from inside it would start an empty state and create the project again. It is refused,
    naming where the state is; --state finds it; --new-state is the deliberate way out."""
    root = _setup(tmp_path)
    assert cli(*APPLY, env=served.env(), cwd=tmp_path).returncode == 0
    made = len(served.projects())
    inside = cli(
        "apply", ".", "--auto-approve", "--poll-interval", "0.05", env=served.env(), cwd=root
    )
    assert inside.returncode == 1
    said = inside.stdout + inside.stderr
    assert "state/ws.json holds no state yet, but the workspace" in said
    assert f"--state {tmp_path / 'state' / 'ws.json'}" in said and "Traceback" not in said
    assert len(served.projects()) == made and not (root / "state" / "ws.json").exists()
    plan = cli("plan", ".", env=served.env(), cwd=root)
    assert "was last applied with its state at" in plan.stdout + plan.stderr
    found = cli(
        "apply",
        ".",
        "--auto-approve",
        "--state",
        str(tmp_path / "state" / "ws.json"),
        env=served.env(),
        cwd=root,
    )
    assert found.returncode == 0 and "No changes" in found.stdout
    fresh = cli(
        "apply",
        ".",
        "--auto-approve",
        "--new-state",
        "--poll-interval",
        "0.05",
        env=served.env(),
        cwd=root,
    )
    assert fresh.returncode == 0, fresh.stderr
    assert len(served.projects()) == made + 1
