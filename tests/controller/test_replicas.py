"""Two `serve` replicas on one PostgreSQL server: one reconciles the workspace; SIGKILLed in the
middle of an apply, the other takes the workspace over within the bound and it converges with no
job sent twice."""

from __future__ import annotations

import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.builders import start_emulator
from tests.controller.conftest import Served, free_port, git, launch, serve_env

pytestmark = pytest.mark.e2e
TAKEOVER_BOUND = 5.0  # seconds from the SIGKILL to the other replica owning the workspace
EPISODES = 6


def _workspace() -> str:
    text = (
        'version: 1\nstate: {backend: postgresql, url: "${env:DESCRIPT_IAC_PG_URL}", name: shows}\n'
    )
    text += "projects:\n"
    for n in range(EPISODES):
        text += (
            f"  ep{n}:\n    name: Episode {n}\n    media:\n"
            f'      host.wav: {{url: "https://cdn.example.com/ep{n}/host.wav"}}\n'
            f"    steps:\n      - id: cleanup\n        prompt: Clean up episode {n}\n"
        )
    return text


@pytest.fixture
def emulator() -> Iterator[object]:
    running = start_emulator(job_seconds=1.0, api_level="2026")
    yield running
    running.stop()


def _owned(served: Served) -> bool:
    try:
        workspaces = httpx.get(f"{served.url}/api/workspaces").json()["workspaces"]
    except httpx.TransportError:
        return False
    return bool(workspaces[0]["owned_here"])


def test_a_killed_replica_hands_its_workspace_over_and_it_converges_exactly_once(
    tmp_path: Path, pg_url: str, emulator: object
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    env = serve_env(
        emulator, DESCRIPT_IAC_PG_URL=pg_url, DESCRIPT_IAC_CONTROLLER_DATABASE_URL=pg_url
    )
    replicas = []
    for name in ("a", "b"):
        port = free_port()
        config = tmp_path / f"{name}.yaml"
        config.write_text(
            f"listen: 127.0.0.1:{port}\ndata_dir: data-{name}\nfetch_interval: 3600\n"
            f"poll_interval: 5\nworkspaces:\n  shows:\n    git: file://{repo}\n    path: ws\n"
        )
        log = tmp_path / f"{name}.log"
        served = Served(f"http://127.0.0.1:{port}", repo, emulator, None, log)  # type: ignore[arg-type]
        replicas.append((served, config, log))
    a, b = replicas[0][0], replicas[1][0]
    a.commit({"ws/main.yaml": _workspace()}, "six episodes")
    try:
        a.process = launch(replicas[0][1], env, replicas[0][2], tmp_path)
        a.wait_for("replica a to own the workspace", lambda: _owned(a))
        b.process = launch(replicas[1][1], env, replicas[1][2], tmp_path)
        b.wait_for("replica b to serve", b.up)
        assert not _owned(b)
        # Both show the same runs (they are kept in PostgreSQL).
        a.wait_for("a's apply to send jobs", lambda: a.jobs())
        assert [r["status"] for r in b.runs()] == ["applying"]

        sent_by_a = len(a.jobs())
        a.process.send_signal(signal.SIGKILL)
        a.process.wait(10)
        killed = time.monotonic()
        b.wait_for("replica b to take the workspace", lambda: _owned(b))
        takeover = time.monotonic() - killed
        assert takeover < TAKEOVER_BOUND, takeover

        def converged() -> bool:
            runs = b.runs()
            return runs[0]["status"] == "applied" and runs[0]["jobs"] >= 0

        b.wait_for("the workspace to converge", converged)
        runs = b.runs()
        assert runs[-1]["status"] == "failed" and "stopped" in runs[-1]["message"]
        jobs = Counter((name, kind) for _, name, kind, _ in a.jobs())
        expected = {
            (f"Episode {n}", k) for n in range(EPISODES) for k in ("import/project_media", "agent")
        }
        assert set(jobs) == expected and all(c == 1 for c in jobs.values()), jobs
        assert sent_by_a < len(expected)  # killed mid-apply: b sent the rest
        print(f"takeover after SIGKILL: {takeover:.2f} s; a had sent {sent_by_a} job(s)")
    finally:
        for served, _, _ in replicas:
            if served.process is not None and served.process.poll() is None:
                served.process.kill()
                served.process.wait(10)
