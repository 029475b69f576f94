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


def test_first_interrupt_stops_submitting_and_records_what_runs(
    served: Served, tmp_path: Path
) -> None:
    served.faults()  # no faults; jobs take 0.15 s each, polls every 0.5 s
    root = tmp_path / "ws"
    root.mkdir()
    (root / "main.yaml").write_text(WORKSPACE)
    args = [
        sys.executable,
        "-m",
        "descript_iac",
        "apply",
        str(root),
        "--auto-approve",
        "--poll-interval",
        "0.5",
    ]
    proc = subprocess.Popen(
        args,
        cwd=tmp_path,
        env={**os.environ, **served.env()},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if "create (step one): submitted job" in line:
            proc.send_signal(signal.SIGINT)
            break
    rest, _ = proc.communicate(timeout=60)
    output = "".join(lines) + rest
    assert proc.returncode == 1, output
    assert "Interrupted: no new jobs will be sent" in output
    assert "create (step one): done" in output and "step two: submitted" not in output
    assert "Stopped early: interrupted." in output
    state = LocalStateStore(tmp_path / "state" / "ws.json").read()
    assert [(s.id, s.status) for s in state.projects["ep"].steps] == [("one", "success")]
    time.sleep(0.1)
    rerun = cli(
        "apply",
        str(root),
        "--auto-approve",
        "--poll-interval",
        "0.05",
        env=served.env(),
        cwd=tmp_path,
    )
    assert rerun.returncode == 0 and "1 job(s) issued" in rerun.stdout
