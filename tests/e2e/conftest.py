"""End-to-end fixtures: `descript-iac emulator serve` in a subprocess, on a real socket."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.builders import EXAMPLES

E2E_TOKEN = "e2e-token-5b2f0c"


@dataclass
class Served:
    root: str
    token: str
    process: subprocess.Popen[str]
    output: str = ""  # what `emulator serve` printed, once it stopped

    @property
    def base_url(self) -> str:
        return f"{self.root}/v1"

    def env(self, **extra: str) -> dict[str, str]:
        return {
            "DESCRIPT_API_URL": self.base_url,
            "DESCRIPT_API_TOKEN": self.token,
            "DESCRIPT_IAC_COMMIT_SPAN": "1",
            "DESCRIPT_IAC_HISTORY_LAG": "0",
            **extra,
        }

    def projects(self) -> list[dict[str, Any]]:
        return httpx.get(f"{self.root}/_emulator/projects").json()["projects"]

    def faults(self, **faults: object) -> None:
        httpx.post(f"{self.root}/_emulator/faults", json=faults).raise_for_status()

    def reset(self) -> None:
        httpx.post(f"{self.root}/_emulator/reset").raise_for_status()
        self.faults(
            lose_response_rate=0,
            error_rate=0,
            rate_limit=None,
            credit_budget=None,
            fail_prompt_pattern=None,
            fail_media_pattern=None,
            job_failure_rate=0,
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(*extra: str) -> Iterator[Served]:
    port = _free_port()
    serve = ("emulator", "serve", "--port", str(port), "--token", E2E_TOKEN, "--seed", "11")
    process = subprocess.Popen(
        [sys.executable, "-m", "descript_iac", *serve, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    served = Served(f"http://127.0.0.1:{port}", E2E_TOKEN, process)
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{served.root}/openapi.json", timeout=1)
            break
        except httpx.TransportError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("the emulator did not start") from None
            time.sleep(0.1)
    yield served
    process.terminate()
    out, _ = process.communicate(timeout=10)
    served.output = out
    assert f"export DESCRIPT_API_TOKEN={E2E_TOKEN}" in out  # serve tells users what to export


@pytest.fixture(scope="session")
def _server() -> Iterator[Served]:
    yield from _serve("--job-seconds", "0.15")


@pytest.fixture(scope="session")
def _manual_server() -> Iterator[Served]:
    yield from _serve("--job-seconds", "1", "--manual-clock")


@pytest.fixture
def served_manual(_manual_server: Served) -> Served:
    """An emulator whose time moves only when a test moves it (see `ticking`)."""
    httpx.post(f"{_manual_server.root}/_emulator/reset").raise_for_status()
    return _manual_server


@contextlib.contextmanager
def ticking(served: Served, step: float = 2.0, every: float = 0.01) -> Iterator[None]:
    """Move a manual-clock emulator's time `step` seconds forward every `every` seconds of real
    time while the block runs: minutes of the API's time pass in a second or two."""
    stop = threading.Event()

    def run() -> None:
        with httpx.Client() as client:
            while not stop.is_set():
                client.post(f"{served.root}/_emulator/clock/advance", json={"seconds": step})
                stop.wait(every)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@pytest.fixture
def served(_server: Served) -> Served:
    _server.reset()
    return _server


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A copy of examples/podcast and examples/prompt-only merged into one workspace."""
    root = tmp_path / "show"
    root.mkdir()
    for file in (EXAMPLES / "podcast").glob("*.yaml"):
        shutil.copy(file, root / file.name)
    shutil.copy(EXAMPLES / "prompt-only" / "descript.yaml", root / "scripts.yaml")
    text = (root / "scripts.yaml").read_text().replace("defaults:\n  model: default\n", "")
    (root / "scripts.yaml").write_text(text)
    return root


def cli(
    *args: str, env: dict[str, str], cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """The real command in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "descript_iac", *args],
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
