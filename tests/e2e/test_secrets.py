"""No secret ever reaches an output, a log line, a plan file or the state: the API token (a
sentinel here), and values from the environment such as pre-signed URLs."""

from __future__ import annotations

from pathlib import Path

import pytest

from descript_iac.emulator import EmulatorConfig
from descript_iac.emulator.server import make_backend, start_background
from tests.builders import run_cli, write_workspace

pytestmark = pytest.mark.e2e
SENTINEL = "SENTINEL-tok-9c1e77f2a4"
SIGNED = "https://bucket.example.com/ep/host.wav?X-Amz-Signature=SIGSECRET-31337"


@pytest.fixture
def sentinel_api():  # type: ignore[no-untyped-def]
    backend = make_backend(EmulatorConfig(tokens=(SENTINEL,), job_seconds=0.05))
    running = start_background(backend)
    yield running
    running.stop()


def test_sentinel_token_and_signed_url_never_appear(sentinel_api, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = write_workspace(
        tmp_path / "ws",
        {
            "main.yaml": """
            version: 1
            projects:
              ep:
                media:
                  host.wav: {url: "${env:HOST_URL}"}
                steps:
                  - {id: clean, prompt: Remove filler words}
            """
        },
    )
    env = {
        "DESCRIPT_API_TOKEN": SENTINEL,
        "DESCRIPT_API_URL": sentinel_api.base_url,
        "HOST_URL": SIGNED,
    }
    ws = str(root)
    plan_file = str(tmp_path / "saved.plan")
    outputs = []
    commands = [
        ("validate", ws),
        ("plan", ws),
        ("plan", ws, "--format", "json"),
        ("plan", ws, "--format", "markdown", "--out", plan_file),
        ("apply", plan_file, "--poll-interval", "0.05"),
        ("plan", ws, "--refresh"),
        ("apply", ws, "--auto-approve", "--json"),
        ("status",),
        ("jobs", "list"),
        ("jobs", "list", "--json"),
        ("state", "show", "--workspace", ws),
        ("state", "show", "--workspace", ws, "--json"),
    ]
    for command in commands:
        result = run_cli("--verbose", *command, env=env)
        assert result.exit_code == 0, (command, result.output)
        outputs.append(result.output)
    job_id = next(line.split()[0] for line in outputs[8].splitlines() if "agent" in line)
    for command in (("jobs", "get", job_id), ("jobs", "wait", job_id, "--interval", "0.05")):
        result = run_cli("--verbose", *command, env=env)
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
    failures = [
        run_cli("--verbose", "status", env={**env, "DESCRIPT_API_TOKEN": SENTINEL + "x"}),
        run_cli("--verbose", "jobs", "get", "nope", env=env),
    ]
    assert all(r.exit_code == 1 for r in failures)
    outputs += [r.output for r in failures]
    saved = run_cli("config", "set", "api-key", input=SENTINEL + "\n")
    outputs.append(saved.output)
    everything = "\n".join(outputs)
    assert "GET /status -> 200" in everything  # --verbose did log requests
    assert "POST /jobs/import/project_media -> 201" in everything
    for secret in (SENTINEL, "SIGSECRET", "bucket.example.com"):
        assert secret not in everything, secret
    for file in tmp_path.rglob("*"):
        if file.is_file() and "home" not in file.parts:
            data = file.read_bytes()
            assert SENTINEL.encode() not in data and b"SIGSECRET" not in data, file
