"""A `descript-iac serve` process against an emulator, over real sockets, on a git repository
the test makes."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.builders import TOKEN, start_emulator

CONTROLLER_TOKEN = "controller-token-SENTINEL-4b1d"
HOOK_SECRET = "hook-secret-SENTINEL-9f3e"
DEADLINE = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}  # fmt: skip
    done = subprocess.run(
        ["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@dataclass
class Served:
    """A running `serve` (its HTTP address and process), the repository it watches and the
    emulator it sends to."""

    url: str
    repo: Path
    emulator: Any
    process: subprocess.Popen[bytes]
    log: Path
    config: Path | None = None

    def commit(self, files: dict[str, str], message: str) -> str:
        for name, text in files.items():
            path = self.repo / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        git(self.repo, "add", "-A")
        git(self.repo, "commit", "-q", "-m", message)
        return git(self.repo, "rev-parse", "HEAD")

    def push_hook(self, secret: str = HOOK_SECRET) -> httpx.Response:
        body = json.dumps(
            {"ref": "refs/heads/main", "repository": {"clone_url": f"file://{self.repo}"}}
        ).encode()
        signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        headers = {"X-Hub-Signature-256": signature, "Content-Type": "application/json"}
        return httpx.post(f"{self.url}/hooks/github", content=body, headers=headers)

    def push_gitlab(self, token: str = HOOK_SECRET) -> httpx.Response:
        body = {
            "object_kind": "push",
            "ref": "refs/heads/main",
            "project": {"git_http_url": f"file://{self.repo}.git"},
        }
        return httpx.post(f"{self.url}/hooks/gitlab", json=body, headers={"X-Gitlab-Token": token})

    def up(self) -> bool:
        try:
            return httpx.get(f"{self.url}/healthz").status_code == 200
        except httpx.TransportError:
            return False

    def runs(self) -> list[dict[str, Any]]:
        return list(httpx.get(f"{self.url}/api/runs").json()["runs"])

    def wait_for(self, what: str, test: Callable[[], Any]) -> Any:
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"serve exited:\n{self.log.read_text()}")
            found = test()
            if found:
                return found
            time.sleep(0.05)
        pytest.fail(f"timed out waiting for {what}: {self.runs()}\n{self.log.read_text()}")

    def run_for(self, revision: str, status: str) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            for run in self.runs():
                if run["revision"] == revision and run["status"] == status:
                    return run
            return None

        return dict(self.wait_for(f"a {status} run of {revision[:8]}", found))

    def jobs(self) -> list[tuple[str, str, str, str | None]]:
        """(project id, project name, job type, prompt) of every job the emulator ran."""
        projects = httpx.get(f"{self.emulator.root_url}/_emulator/projects").json()["projects"]
        return [
            (p["project_id"], p["name"], j["job_type"], j["prompt"])
            for p in projects
            for j in p["jobs"]
        ]


@pytest.fixture
def serve_git(tmp_path: Path) -> Iterator[Callable[..., Served]]:
    emulators: list[Any] = []
    processes: list[subprocess.Popen[bytes]] = []

    def start(
        first: dict[str, str],
        local: bool = False,
        job_seconds: float = 0.05,
        extra: str = "",
        serve_args: tuple[str, ...] = (),
        **emulator_options: Any,
    ) -> Served:
        emulator = start_emulator(job_seconds=job_seconds, api_level="2026", **emulator_options)
        emulators.append(emulator)
        repo = tmp_path / "repo"
        repo.mkdir()
        git(repo, "init", "-q", "-b", "main")
        port = free_port()
        config = tmp_path / "controller.yaml"
        if local:  # the directory itself, checked often
            source = f"    dir: {repo / 'ws'}\n"
            interval = 0.2
        else:  # only the start and webhooks fetch
            source = f"    git: file://{repo}\n    branch: main\n    path: ws\n"
            interval = 3600
        config.write_text(
            f"listen: 127.0.0.1:{port}\n"
            "data_dir: data\n"
            f"fetch_interval: {interval}\n"
            "poll_interval: 5\n"  # longer than a job: callbacks wake the polls
            f"{extra}"
            "workspaces:\n"
            "  shows:\n"
            f"{source}"
            "    policy: {max_credits: 1000}\n"
        )
        log = tmp_path / "serve.log"
        env = serve_env(emulator)
        served = Served(f"http://127.0.0.1:{port}", repo, emulator, None, log)  # type: ignore[arg-type]
        served.commit(first, "first")
        served.config = config
        served.process = launch(config, env, log, tmp_path, *serve_args)
        processes.append(served.process)
        served.wait_for("serve to listen", served.up)
        return served

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    for emulator in emulators:
        emulator.stop()


def serve_env(emulator: Any, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DESCRIPT_API_URL": emulator.base_url,
        "DESCRIPT_API_TOKEN": TOKEN,
        "DESCRIPT_IAC_CONTROLLER_TOKEN": CONTROLLER_TOKEN,
        "DESCRIPT_IAC_WEBHOOK_SECRET": HOOK_SECRET,
        "DESCRIPT_IAC_COMMIT_SPAN": "1",
        "DESCRIPT_IAC_HISTORY_LAG": "0",
        **extra,
    }


def launch(
    config: Path, env: dict[str, str], log: Path, cwd: Path, *args: str
) -> subprocess.Popen[bytes]:
    """`descript-iac serve CONFIG [ARGS]` in a process of its own, its output in `log`."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "descript_iac", "serve", str(config), "--grace", "10", *args],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
