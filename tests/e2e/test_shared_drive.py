"""Two descript-iac processes, two workspaces, one Descript drive, lost replies and 5xx, and
media and composition names that look alike in both: exactly one job per intent for each."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.e2e.conftest import Served

pytestmark = pytest.mark.e2e

SHOW = """
version: 1
projects:
{projects}
"""
PROJECT = """
  {name}:
    media:
      host.wav: {{url: "https://cdn.example.com/{name}/host.wav"}}
      guest.wav: {{url: "https://cdn.example.com/{name}/guest.wav"}}
    compositions:
      - name: Full episode
        clips: [{{media: host.wav}}, {{media: guest.wav}}]
    steps:
      - {{id: clean, prompt: Remove filler words}}
      - {{id: caps, prompt: Add captions}}
"""


def _workspace(root: Path, names: list[str]) -> Path:
    root.mkdir(parents=True)
    body = "".join(PROJECT.format(name=n) for n in names)
    (root / "show.yaml").write_text(SHOW.format(projects=body))
    return root


def test_two_workspaces_of_one_drive_never_take_each_others_jobs(
    served: Served, tmp_path: Path
) -> None:
    served.faults(lose_response_rate=0.3, error_rate=0.1)
    shows = {
        "alpha": _workspace(tmp_path / "alpha", [f"alpha-{i}" for i in range(3)]),
        "beta": _workspace(tmp_path / "beta", [f"beta-{i}" for i in range(3)]),
    }
    env = {**os.environ, **served.env()}
    args = ("apply", "--auto-approve", "--poll-interval", "0.05")
    for _ in range(4):
        runs = {
            name: subprocess.Popen(
                [sys.executable, "-m", "descript_iac", *args, str(root)],
                env=env,
                cwd=tmp_path,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for name, root in shows.items()
        }
        outputs = {name: run.communicate(timeout=300)[0] for name, run in runs.items()}
        codes = {name: run.returncode for name, run in runs.items()}
        if all(code == 0 for code in codes.values()):
            break
        # A 5xx on a poll that was retried too often may fail a run; a re-run must converge.
        assert "quarantined" not in "".join(outputs.values()), outputs
    else:
        pytest.fail(f"no convergence after 4 runs: {outputs}")
    served.faults(lose_response_rate=0, error_rate=0)
    jobs: dict[str, Counter[str]] = {}
    for project in served.projects():
        jobs.setdefault(project["name"], Counter()).update(
            j["prompt"] or j["job_type"] for j in project["jobs"]
        )
    expected = Counter({"import/project_media": 1, "Remove filler words": 1, "Add captions": 1})
    names = [f"{show}-{i}" for show in shows for i in range(3)]
    assert sorted(jobs) == sorted(names)  # one project per address, no duplicate project
    assert all(jobs[name] == expected for name in names), jobs
    for name, root in shows.items():
        again = subprocess.run(
            [sys.executable, "-m", "descript_iac", "plan", str(root)],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
        )
        assert "No changes. 3 projects are up to date." in again.stdout, (name, again.stdout)
