"""Every setting can be changed at run time (`POST /_emulator/faults`), is checked, is restored
by `POST /_emulator/reset`, and `emulator serve` sets and documents it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import fields
from email.utils import formatdate

import httpx
import pytest

from descript_iac.emulator.faults import Faults
from tests.builders import advance_clock, inspect, run_cli, serving, set_faults

RUN_TIME_ONLY = {"throttle_until_at", "throttle_next", "next_posts", "next_posts_by_type"}
RENAMED = {"fail_media_pattern": "--fail-media", "fail_prompt_pattern": "--fail-prompt"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"nonsense": 1}, "unknown fault 'nonsense'"),
        ({"api_level": "2027"}, "api_level must be one of seed, 2026"),
        ({"history_lag": -1}, "history_lag must be >= 0"),
        ({"error_after_commit_rate": 2}, "between 0 and 1"),
        ({"throttle_next": "3"}, "throttle_next must be an integer"),
        ({"publish_access_levels": ["secret"]}, "publish_access_levels must be one of"),
        ({"next_posts": {"export": ["ok"]}}, "keyed by import/project_media, agent, publish"),
        ({"foreign_media": [""]}, "foreign_media must be a list of names"),
    ],
)
def test_a_bad_setting_is_refused(changes: dict[str, object], message: str) -> None:
    with serving() as (running, _api):
        reply = inspect(running, "faults", changes)
    assert reply.status_code == 400 and message in reply.json()["message"]


def test_reset_restores_the_settings_the_emulator_started_with() -> None:
    with serving(manual_clock=True, api_level="2026", history_lag=5) as (running, api):
        set_faults(
            running,
            api_level="seed",
            history_lag=0,
            next_posts=["500-before"],
            throttle_until=600,
            foreign_client=10,
        )
        during = api.get("/status").status_code
        inspect(running, "reset", {})
        after = inspect(running, "faults").json()
        advance_clock(running, 60)
        jobs = api.get("/jobs").json()["data"]
        projects = api.get("/projects").status_code
    assert during == 429
    assert after["api_level"] == "2026" and after["history_lag"] == 5
    assert after["next_posts"] == [] and after["throttle_until_at"] is None
    assert after["foreign_client"] == 0 and jobs == [] and projects == 200


def test_serve_help_documents_every_setting() -> None:
    result = run_cli("emulator", "serve", "--help")
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    for f in fields(Faults):
        if f.name in RUN_TIME_ONLY:
            name = f.name.removesuffix("_at").removesuffix("_by_type")
            assert name in text, f"--help does not mention the run-time setting {name}"
        else:
            option = RENAMED.get(f.name, "--" + f.name.replace("_", "-"))
            if f.name == "foreign_same_user":
                option = "--foreign-user"
            assert option in text, f"--help does not document {option}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_applies_its_options() -> None:
    port = _free_port()
    args = [
        *("--port", str(port), "--token", "t0k", "--manual-clock", "--api-level", "2026"),
        *("--history-lag", "75", "--projects-lag", "5", "--error-after-commit-rate", "0.5"),
        *("--foreign-client", "2", "--foreign-media", "a.wav,b.wav"),
        *("--foreign-composition", "Full episode", "--foreign-user", "other"),
        *("--publish-access-levels", "public,unlisted", "--retry-after", "60"),
    ]
    process = subprocess.Popen(
        [sys.executable, "-m", "descript_iac", "emulator", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ},
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                faults = httpx.get(f"http://127.0.0.1:{port}/_emulator/faults", timeout=1).json()
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and process.poll() is None, "did not start"
                time.sleep(0.1)
        projects = httpx.get(
            f"http://127.0.0.1:{port}/v1/projects", headers={"Authorization": "Bearer t0k"}
        )
        moved = httpx.post(
            f"http://127.0.0.1:{port}/_emulator/clock/advance", json={"seconds": 3 * 86_400}
        ).json()
        dates = httpx.get(f"http://127.0.0.1:{port}/v1/status").headers.get_list("date")
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=10)
    assert "2026 level" in out
    assert dates == [formatdate(int(moved["now"]), usegmt=True)]  # uvicorn's own Date is off
    assert projects.status_code == 200
    assert {k: faults[k] for k in ("api_level", "history_lag", "projects_lag")} == {
        "api_level": "2026",
        "history_lag": 75.0,
        "projects_lag": 5.0,
    }
    assert faults["error_after_commit_rate"] == 0.5 and faults["retry_after"] == 60
    assert faults["foreign_client"] == 2 and faults["foreign_media"] == ["a.wav", "b.wav"]
    assert faults["foreign_composition"] == ["Full episode"]
    assert faults["foreign_same_user"] is False
    assert faults["publish_access_levels"] == ["public", "unlisted"]


def test_serve_refuses_a_bad_option_without_a_traceback() -> None:
    result = run_cli("emulator", "serve", "--foreign-media", ",", "--port", "1")
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "foreign_media" in result.output
