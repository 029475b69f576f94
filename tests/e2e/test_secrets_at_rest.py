"""No secret at rest, and none printed: every command runs against an emulator that echoes
secrets back, and every output and every file written is searched for them.

The sentinels: the API token; a pre-signed media URL and a prompt value from `${env:}`; the
emulator's agent echoes the prompt (with its secret) in `agent_response`; a media import fails
with a message quoting its URL without a scheme and the token as `Bearer ...`; a `jobs get` error
quotes an upper-case `HTTPS://...?sig=` URL and the token; a callback URL carries a query string.
A run is SIGKILLed before it folds its journal, so the journal is searched too.

Not covered here: the emulator's own `--data-dir` (its own issue).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from descript_iac.emulator import EmulatorConfig
from descript_iac.emulator import backend as emulator_backend
from descript_iac.emulator import imports as emulator_imports
from descript_iac.emulator.exceptions import NotFound
from descript_iac.emulator.server import make_backend, start_background
from tests.builders import run_cli, write_workspace
from tests.e2e.conftest import cli

pytestmark = pytest.mark.e2e

TOKEN = "SENTINEL-tok-77aa31c9e0"
SIGNED = "https://bucket.example.com/ep/host.wav?X-Amz-Signature=SIGSECRET-4471"
FAILING = "HTTPS://cdn.example.com/fail/b.wav?sig=UPPERSIG-5521"
TITLE = "PROMPTSECRET-90ab12"
SECRETS = (TOKEN, "SIGSECRET", "UPPERSIG", "PROMPTSECRET", "CBSECRET", "ERRSIG", "bucket.example")

WORKSPACE = """
version: 1
projects:
  ep:
    media:
      host.wav: {url: "${env:HOST_URL}"}
    steps:
      - {id: title, prompt: "Add a title card saying ${env:TITLE_SECRET}"}
    callback_url: "http://127.0.0.1:9/hook?token=CBSECRET-1234"
  broken:
    media:
      b.wav: {url: "${env:FAILING_URL}"}
"""


@pytest.fixture
def echoing_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    def probe_quoting(url: str, pattern: str | None) -> tuple[float | None, str | None]:
        if "/fail/" in url:
            shown = url.split("://", 1)[1]
            return None, f"Failed to download {shown}: 403 (sent Authorization: Bearer {TOKEN})"
        return 42.0, None

    original_get = emulator_backend.Backend.get_job

    def get_job(self: Any, token: str, job_id: str) -> dict[str, Any]:
        if job_id == "missing-job":
            raise NotFound(f"Job {job_id} not found; see HTTPS://err.example.com/x?sig=ERRSIG-6612 "
                           f"(request had Bearer {TOKEN})")  # fmt: skip
        return original_get(self, token, job_id)

    # The emulator's agent quotes the prompt in agent_response by itself, as Descript's does.
    monkeypatch.setattr(emulator_imports, "probe", probe_quoting)
    monkeypatch.setattr(emulator_backend.Backend, "get_job", get_job)
    running = start_background(make_backend(EmulatorConfig(tokens=(TOKEN,), job_seconds=0.05)))
    yield running
    running.stop()


def _leaks(text: str | bytes) -> list[str]:
    data = text.encode() if isinstance(text, str) else text
    return [s for s in SECRETS if s.encode() in data]


def test_no_secret_in_any_output_or_file(echoing_api: Any, tmp_path: Path) -> None:
    ws = str(write_workspace(tmp_path / "ws", {"main.yaml": WORKSPACE}))
    env = {
        "DESCRIPT_API_TOKEN": TOKEN,
        "DESCRIPT_API_URL": echoing_api.base_url,
        "HOST_URL": SIGNED,
        "FAILING_URL": FAILING,
        "TITLE_SECRET": TITLE,
        "DESCRIPT_IAC_INTENT_GRACE": "1",
    }
    saved = str(tmp_path / "saved.plan")
    outputs: dict[str, str] = {}

    def run(*args: str, code: int = 0) -> str:
        result = run_cli("--verbose", *args, env=env)
        assert result.exit_code == code, (args, result.output)
        outputs[" ".join(args)] = result.output
        return result.output

    run("validate", ws)
    run("plan", ws)
    run("plan", ws, "--format", "json")
    run("plan", ws, "--format", "markdown", "--out", saved)
    run("apply", saved, "--poll-interval", "0.05", code=1)  # the broken import fails
    state_path = Path(json.loads(Path(saved).read_text())["state"])
    doc = json.loads(state_path.read_text())
    step = doc["projects"]["ep"]["steps"][0]
    assert '("Add a title card saying ***")' in step["agent_response"]  # echoed, masked
    failed = doc["projects"]["broken"]["import"]["media"]["b.wav"]["error_message"]
    assert "Failed to download cdn.example.com/fail/b.wav?***" in failed
    run("plan", ws, "--refresh")  # the failed import is a replacement now
    run("status")
    listed = run("jobs", "list")
    run("jobs", "list", "--json")
    job_id = next(line.split()[0] for line in listed.splitlines() if " agent " in line)
    run("jobs", "get", job_id)
    run("jobs", "wait", job_id, "--interval", "0.05")
    assert "ERRSIG" not in run("jobs", "get", "missing-job", code=1)
    run("state", "show", "--workspace", ws)
    run("state", "show", "--workspace", ws, "--json")
    # A second step, applied by a run killed just before it folds its journal.
    text = (
        Path(ws, "main.yaml")
        .read_text()
        .replace(
            '      - {id: title, prompt: "Add a title card saying ${env:TITLE_SECRET}"}\n',
            '      - {id: title, prompt: "Add a title card saying ${env:TITLE_SECRET}"}\n'
            '      - {id: again, prompt: "Say ${env:TITLE_SECRET} again"}\n',
        )
    )
    Path(ws, "main.yaml").write_text(text)
    killed = cli(
        "--state", str(state_path), "apply", ws, "--auto-approve", "--target", "ep",
        "--poll-interval", "0.05",
        env={**env, "DESCRIPT_IAC_FAILPOINT": "before_fold:1"}, cwd=tmp_path,
    )  # fmt: skip
    assert killed.returncode == -9, killed.stderr
    journal = state_path.with_name(state_path.name + ".journal")
    assert journal.exists() and '(\\"Say *** again\\")' in journal.read_text()  # echo, masked
    outputs["killed apply"] = killed.stdout + killed.stderr
    everything = {f"output of {k}": v for k, v in outputs.items()}
    for file in tmp_path.rglob("*"):
        # Not the workspace (the user wrote it) nor the token's own file.
        if file.is_file() and file.name != "config.json" and "ws" not in file.parts:
            everything[str(file.relative_to(tmp_path))] = file.read_bytes()  # type: ignore[assignment]
    assert any(".cache" in name for name in everything)  # the job cache was searched too
    assert any(name.endswith(".backup") for name in everything)
    leaks = {name: _leaks(data) for name, data in everything.items() if _leaks(data)}
    assert leaks == {}
    # The next run folds the journal; still nothing.
    run("--state", str(state_path), "apply", ws, "--auto-approve", "--target", "ep")
    assert _leaks(state_path.read_bytes()) == []
