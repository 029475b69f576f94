"""Running the controller: a local directory watched, `approve` from the command line, health
and metrics, and a graceful stop on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.builders import run_cli
from tests.controller.conftest import CONTROLLER_TOKEN, Served, launch, serve_env
from tests.controller.test_serve import SHOWS, _head

pytestmark = pytest.mark.e2e
STOP_BOUND = 15.0  # seconds from SIGTERM to exit, with --grace 10


def _cli_approve(served: Served, run_id: str, *extra: str, token: str | None = CONTROLLER_TOKEN):
    env = {k: v for k, v in os.environ.items() if k != "DESCRIPT_IAC_CONTROLLER_TOKEN"}
    if token:
        env["DESCRIPT_IAC_CONTROLLER_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "descript_iac", "approve", run_id, "--url", served.url, *extra],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_directory_is_watched_and_a_held_run_rejected_from_the_cli(
    serve_git: Callable[..., Served],
) -> None:
    served = serve_git({"ws/main.yaml": SHOWS}, local=True)
    first = served.wait_for("the first run", lambda: served.runs())[0]
    assert first["revision"].startswith("files:")
    served.run_for(first["revision"], "applied")
    assert httpx.get(f"{served.url}/readyz").text == "ready\n"

    (served.repo / "ws" / "main.yaml").write_text(SHOWS.replace("ep1/host", "ep1/host-v2"))
    held = served.wait_for(
        "a held run", lambda: [r for r in served.runs() if r["status"] == "held"]
    )[0]
    before = served.jobs()
    assert "descript_iac_queue_depth 1" in httpx.get(f"{served.url}/metrics").text

    no_token = _cli_approve(served, held["id"], token=None)
    assert no_token.returncode == 1
    assert "set DESCRIPT_IAC_CONTROLLER_TOKEN" in no_token.stderr
    assert "Traceback" not in no_token.stderr
    wrong = _cli_approve(served, held["id"], token="wrong")
    assert wrong.returncode == 1 and "the controller's token" in wrong.stderr

    rejected = _cli_approve(served, held["id"], "--reject", "--by", "bob")
    assert rejected.returncode == 0, rejected.stderr
    assert rejected.stdout.strip() == f"Run {held['id']}: rejected by bob"
    again = _cli_approve(served, held["id"])
    assert again.returncode == 1 and "is rejected, not held" in again.stderr
    run = httpx.get(f"{served.url}/api/runs/{held['id']}").json()
    assert run["status"] == "rejected" and run["verdicts"][0]["by"] == "bob"
    assert served.jobs() == before  # nothing was sent

    # A newer revision supersedes a held run: approving the old one is refused.
    (served.repo / "ws" / "main.yaml").write_text(SHOWS.replace("ep1/host", "ep1/host-v3"))
    third = served.wait_for(
        "a second held run",
        lambda: [r for r in served.runs() if r["status"] == "held" and r["id"] != held["id"]],
    )[0]
    (served.repo / "ws" / "main.yaml").write_text(SHOWS.replace("ep1/host", "ep1/host-v4"))
    served.wait_for(
        "the run to be superseded",
        lambda: httpx.get(f"{served.url}/api/runs/{third['id']}").json()["status"] == "superseded",
    )
    late = _cli_approve(served, third["id"])
    assert late.returncode == 1 and "is superseded, not held" in late.stderr
    assert served.jobs() == before


def test_sigterm_mid_apply_sends_nothing_new_and_the_next_start_converges(
    serve_git: Callable[..., Served], tmp_path: Path
) -> None:
    served = serve_git({"ws/main.yaml": SHOWS}, job_seconds=2.0)
    served.wait_for("the imports to be sent", lambda: len(served.jobs()) == 2)
    served.process.send_signal(signal.SIGTERM)
    started = time.monotonic()
    code = served.process.wait(STOP_BOUND + 5)
    elapsed = time.monotonic() - started
    assert code == 0, served.log.read_text()
    assert elapsed < STOP_BOUND
    # No new job after the signal: ep1's step waited for its import, and was not sent.
    assert sorted(kind for _, _, kind, _ in served.jobs()) == ["import/project_media"] * 2
    run = json.loads((tmp_path / "data" / "runs.json").read_text())["runs"][-1]
    assert run["status"] == "interrupted", run
    assert "stopped: interrupted" in run["message"]

    # The next start plans again and sends only what is missing.
    assert served.config is not None
    env = serve_env(served.emulator)
    served.process = launch(served.config, env, tmp_path / "again.log", tmp_path)
    try:
        served.wait_for("serve to listen again", served.up)
        served.wait_for(
            "the workspace to converge", lambda: served.runs()[0]["status"] == "applied"
        )
        jobs = Counter(served.jobs())
        assert sorted(kind for _, _, kind, _ in jobs) == [
            "agent", "import/project_media", "import/project_media"
        ]  # fmt: skip
        assert all(n == 1 for n in jobs.values())
    finally:
        served.process.kill()
        served.process.wait(10)


def test_a_controller_file_with_a_mistake_says_where(tmp_path: Path) -> None:
    (tmp_path / "controller.yaml").write_text(
        "workspaces:\n  shows:\n    dir: ws\n    git: https://example.com/x.git\n"
    )
    result = run_cli("serve", str(tmp_path / "controller.yaml"))
    assert result.exit_code == 1
    assert "controller.yaml: workspaces.shows" in result.output
    assert "give either `dir:`" in result.output


def test_an_address_in_use_is_refused_with_a_message(tmp_path: Path) -> None:
    import socket

    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "main.yaml").write_text(SHOWS)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        (tmp_path / "controller.yaml").write_text(
            f"listen: 127.0.0.1:{port}\nworkspaces:\n  shows: {{dir: ws}}\n"
        )
        done = subprocess.run(
            [sys.executable, "-m", "descript_iac", "serve", str(tmp_path / "controller.yaml")],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_run_says_how_long_creates_waited_on_one_in_doubt(
    serve_git: Callable[..., Served],
) -> None:
    """A create answered 5xx holds every create until its evidence is complete: the run's
    outcome says for how long (commit span 1 s + history lag 0 s here)."""
    served = serve_git(
        {"ws/main.yaml": SHOWS}, next_posts_by_type={"import/project_media": ["500-before", "ok"]}
    )
    run = served.run_for(_head(served), "applied")
    assert "Creates waited" in run["message"], run
    assert "on 1 job(s) in doubt (at most commit span 1 s + history lag 0 s each" in run["message"]
    imports = Counter(name for _, name, kind, _ in served.jobs() if kind == "import/project_media")
    assert imports == Counter({"Episode 1": 1, "Episode 2": 1})  # the 5xx made nothing
