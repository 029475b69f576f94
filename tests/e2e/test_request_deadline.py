"""Every request ends (issue #21): a server that sends its headers and then one byte now and
then is given up at the request deadline, for a GET and for a POST; the POST's job (made, its
reply dripped) is an outcome unknown, looked up in the job history like any lost reply and
never sent again."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from tests.builders import cli_env, emulator_jobs, run_cli, serving, write_workspace

pytestmark = pytest.mark.e2e

DEADLINE = 2.0
WORKSPACE = """version: 1
projects:
  ep:
    name: Ep
    media:
      host.wav: {url: "https://cdn.example.com/ep/host.wav"}
    steps:
      - {id: a, prompt: Hi}
"""


def test_a_dripped_get_ends_at_the_deadline_with_a_message() -> None:
    with serving(drip_seconds=0.3) as (running, _api):
        env = {**cli_env(running), "DESCRIPT_IAC_REQUEST_DEADLINE": str(DEADLINE)}
        started = time.monotonic()
        result = run_cli("status", env=env)
        took = time.monotonic() - started
    assert result.exit_code == 1
    assert "GET /status: no complete reply within 2 s (the request deadline" in result.output
    assert took < DEADLINE + 1.0 + 1.0  # the deadline, a drip's byte, and the CLI's start


def test_a_dripped_post_is_an_unknown_outcome_resolved_next_run_without_a_duplicate(
    tmp_path: Path,
) -> None:
    with serving(next_posts=["drip"]) as (running, _api):  # only the POST drips
        env = {**cli_env(running), "DESCRIPT_IAC_REQUEST_DEADLINE": str(DEADLINE)}
        root = write_workspace(tmp_path / "ws", {"main.yaml": WORKSPACE})
        state = str(tmp_path / "s.json")
        args = ("--state", state, "apply", str(root), "--auto-approve", "--forecast", "off")
        started = time.monotonic()
        first = run_cli(*args, "--poll-interval", "0.05", env=env)
        took = time.monotonic() - started
        assert "reply not complete within the request deadline" in first.output
        assert "found in the job history" in first.output  # the unknown outcome, resolved
        assert first.exit_code == 0, first.output
        assert took < 30  # it ended; the drip alone would take minutes
        second = run_cli(*args, "--poll-interval", "0.05", env=env)
        assert second.exit_code == 0 and "No changes" in second.output, second.output
        jobs = Counter(j["job_type"] for j in emulator_jobs(running))
    # the dripped import's job was found and adopted, not sent again; then the step ran
    assert jobs == Counter({"import/project_media": 1, "agent": 1})
