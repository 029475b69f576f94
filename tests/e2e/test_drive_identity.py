"""One drive under two names: two workspaces reach the same emulator as `127.0.0.1` and as
`localhost` with the same token. They share one job history, so they must share one set of
gates and one list of recorded jobs, or a workspace whose create failed takes the other's
project for its own (issue #25)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.builders import write_workspace
from tests.e2e.conftest import Served, _serve, ticking

pytestmark = pytest.mark.e2e

SHOW = """
version: 1
projects:
  {key}:
    name: {name}
    media:
      host.wav: {{url: "https://cdn.example.com/{key}/host.wav"}}
    compositions:
      - name: Full episode
        clips: [{{media: host.wav}}]
    steps:
      - {{id: clean, prompt: {prompt}}}
"""
WARM = """
version: 1
projects:
  warm:
    name: Warm
    media:
      intro.wav: {url: "https://cdn.example.com/warm/intro.wav"}
    compositions:
      - name: Teaser
        clips: [{media: intro.wav}]
    steps:
      - {id: tidy, prompt: Tidy}
"""
SECOND_TOKEN = "e2e-second-token-of-the-drive"
APPLY = ("apply", "--auto-approve", "--poll-interval", "0.02")


@pytest.fixture(scope="module")
def _two_token_server() -> Iterator[Served]:
    yield from _serve("--job-seconds", "1", "--manual-clock", "--also-token", SECOND_TOKEN)


@pytest.fixture(params=["same token", "the drive's second token"])
def case(request: pytest.FixtureRequest, served_manual: Served) -> tuple[Served, str]:
    """The emulator, and the token of the second workspace."""
    if request.param == "same token":
        return served_manual, served_manual.token
    served: Served = request.getfixturevalue("_two_token_server")
    httpx.post(f"{served.root}/_emulator/reset").raise_for_status()
    return served, SECOND_TOKEN


def _stats(served: Served) -> dict[str, Any]:
    return httpx.get(f"{served.root}/_emulator/stats").json()


def _start(
    root: Path, base_url: str, served: Served, log: Path, token: str
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        **served.env(DESCRIPT_IAC_COMMIT_SPAN="30", DESCRIPT_IAC_HISTORY_LAG="60"),
        "DESCRIPT_API_URL": base_url,
        "DESCRIPT_API_TOKEN": token,
        "PYTHONUNBUFFERED": "1",
    }
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "descript_iac", *APPLY, str(root)],
            env=env,
            cwd=root.parent,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _until(what: str, check: Any, logs: list[Path], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        shown = {log.name: log.read_text() for log in logs}
        assert time.monotonic() < deadline, f"timed out waiting for {what}: {shown}"
        time.sleep(0.02)


def test_two_spellings_of_one_api_share_gates_and_recorded_jobs(
    case: tuple[Served, str], tmp_path: Path
) -> None:
    """The first workspace's import fails with a 500 before anything was made, so it looks in
    the history for its job. The second workspace, on another spelling of the same API, must
    not send its own import meanwhile: at the seed level nothing in the history tells the two
    imports apart, and the first would adopt the second's project (and run its step there).
    The second workspace uses the same token, or the drive's other token."""
    served_manual, beta_token = case
    port = served_manual.root.rsplit(":", 1)[1]
    spellings = {"alpha": f"http://127.0.0.1:{port}/v1", "beta": f"http://localhost:{port}/v1/"}
    # An earlier job on the drive, so both runs learn the drive from the history before sending.
    warm = write_workspace(tmp_path / "warm", {"main.yaml": WARM})
    with ticking(served_manual, step=1.0):
        warmed = _start(
            warm, spellings["alpha"], served_manual, tmp_path / "warm.log", served_manual.token
        )
        assert warmed.wait(timeout=120) == 0, (tmp_path / "warm.log").read_text()
    roots = {
        name: write_workspace(
            tmp_path / name,
            {"main.yaml": SHOW.format(key=name, name=name.title(), prompt=f"Edit {name}")},
        )
        for name in spellings
    }
    logs = {name: tmp_path / f"{name}.log" for name in spellings}
    served_manual.faults(next_posts={"import/project_media": ["500-before"]})
    committed = _stats(served_manual).get("committed:import/project_media", 0)

    alpha = _start(
        roots["alpha"], spellings["alpha"], served_manual, logs["alpha"], served_manual.token
    )
    _until(
        "alpha's failed import",
        lambda: _stats(served_manual).get("script:500-before"),
        [logs["alpha"]],
    )
    # The API's clock stands still: alpha's import is in doubt until its window has passed.
    beta = _start(roots["beta"], spellings["beta"], served_manual, logs["beta"], beta_token)
    _until(
        "beta to send its import or wait for alpha's",
        lambda: (
            _stats(served_manual).get("committed:import/project_media", 0) > committed
            or "waiting:" in logs["beta"].read_text()
        ),
        list(logs.values()),
    )
    with ticking(served_manual, step=1.0):
        codes = {"alpha": alpha.wait(timeout=120), "beta": beta.wait(timeout=120)}
    outputs = {name: log.read_text() for name, log in logs.items()}
    assert codes == {"alpha": 0, "beta": 0}, outputs

    jobs: dict[str, Counter[str]] = {}
    for project in served_manual.projects():
        jobs.setdefault(project["name"], Counter()).update(
            j["prompt"] or j["job_type"] for j in project["jobs"]
        )
    # The emulator's job log: one project per workspace, each with its own import and step
    # and nothing of the other's (0 duplicates, 0 cross-adoptions).
    assert jobs == {
        "Warm": Counter({"import/project_media": 1, "Tidy": 1}),
        "Alpha": Counter({"import/project_media": 1, "Edit alpha": 1}),
        "Beta": Counter({"import/project_media": 1, "Edit beta": 1}),
    }, (jobs, outputs)
    assert "waiting:" in outputs["beta"], outputs["beta"]  # it waited for alpha's gate
