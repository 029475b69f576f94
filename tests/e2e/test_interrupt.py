"""Ctrl-C during apply: the first stops sending new jobs but keeps recording the running ones."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from descript_iac.state.store import LocalStateStore
from tests.e2e.conftest import Served, cli

pytestmark = pytest.mark.e2e

WORKSPACE = """
version: 1
projects:
  ep:
    steps:
      - {id: one, prompt: Write a script about tea}
      - {id: two, prompt: Add a title card}
"""


def _apply_again(root: Path, served: Served, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The next apply after an interrupted one, run to its end."""
    return cli(
        "apply", str(root), "--auto-approve", "--poll-interval", "0.05", env=served.env(), cwd=cwd
    )


def _interrupted_apply(
    root: Path, cwd: Path, env: dict[str, str], when: str, *options: str
) -> tuple[int, str]:
    """`apply ROOT --auto-approve OPTIONS` in a subprocess, sent SIGINT (Ctrl-C) as soon as a
    line of its output holds `when`; its exit code and whole output."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "descript_iac", "apply", str(root), "--auto-approve", *options],
        cwd=cwd,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if when in line:
            proc.send_signal(signal.SIGINT)
            break
    rest, _ = proc.communicate(timeout=60)
    return proc.returncode, "".join(lines) + rest


def test_first_interrupt_stops_submitting_and_records_what_runs(
    served: Served, tmp_path: Path
) -> None:
    served.faults()  # no faults; jobs take 0.15 s each, polls every 0.5 s
    root = tmp_path / "ws"
    root.mkdir()
    (root / "main.yaml").write_text(WORKSPACE)
    code, output = _interrupted_apply(
        root, tmp_path, served.env(), "create (step one): submitted job", "--poll-interval", "0.5"
    )
    assert code == 1, output
    assert "Interrupted: no new jobs will be sent" in output
    assert "create (step one): done" in output and "step two: submitted" not in output
    assert "Stopped early: interrupted." in output
    state = LocalStateStore(tmp_path / "state" / "ws.json").read()
    assert [(s.id, s.status) for s in state.projects["ep"].steps] == [("one", "success")]
    time.sleep(0.1)
    rerun = _apply_again(root, served, tmp_path)
    assert rerun.returncode == 0 and "1 job(s) issued" in rerun.stdout


def test_an_interrupt_while_a_post_is_in_doubt_keeps_its_gate_closed_until_its_window_ends(
    served: Served, tmp_path: Path
) -> None:
    """Ctrl-C while a create's reply is lost: the run ends, but the gate's record of the window
    in which that job may still appear stays, so another run on the drive sends no look-alike
    create until the window has passed (the record used to be deleted on the way out)."""
    from descript_iac.state.drive import Blocked, LocalDriveRegistry, gate_key

    served.faults(next_posts={"agent": ["lose"]})
    root = tmp_path / "ws"
    root.mkdir()
    (root / "main.yaml").write_text(WORKSPACE)
    _, output = _interrupted_apply(
        root, tmp_path, served.env(DESCRIPT_IAC_COMMIT_SPAN="300"), "waiting for evidence"
    )
    assert "left in doubt" in output, output
    drives = Path(os.environ["XDG_CACHE_HOME"]) / "descript-iac" / "drives"
    # The gates of the token and, once the API named it, of the drive (drive_identity.py).
    kept = [p for p in drives.iterdir() if (p / "gates").is_dir()]
    assert {p.name.split("-")[0] for p in kept} == {"token", "drive"}, kept
    for drive in kept:
        other_run = LocalDriveRegistry(drive)
        now = time.time()
        blocked = other_run.claim(gate_key("agent", None), "another-run", now + 300, now)
        assert isinstance(blocked, Blocked) and blocked.until is not None
        assert blocked.until > now + 200  # the whole window, not a moment
        other_run.close()


def test_an_interrupt_stops_a_retry_waiting_out_a_429(served: Served, tmp_path: Path) -> None:
    """A POST answered 429 waits out its Retry-After; Ctrl-C meanwhile means no new job: the
    retry is not sent (the 429 proved nothing was made), the intent closes, and the next run
    sends the job once."""
    served.faults(next_posts={"agent": ["429:4"]})
    root = tmp_path / "ws"
    root.mkdir()
    (root / "main.yaml").write_text(WORKSPACE)
    _, output = _interrupted_apply(root, tmp_path, served.env(), "429", "-v")
    assert "Interrupted: no new jobs will be sent" in output, output
    assert "submitted job" not in output
    assert [p for p in served.projects() if p["name"] == "ep"] == []
    state = LocalStateStore(tmp_path / "state" / "ws.json").read()
    project = state.projects.get("ep")
    assert project is None or not project.intents  # closed, not left in doubt
    rerun = _apply_again(root, served, tmp_path)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    made = [p for p in served.projects() if p["name"] == "ep"]
    assert len(made) == 1 and len(made[0]["jobs"]) == 2
