"""Commands that read no workspace still learn its secrets when run in one (issue #27): an agent
reply in the job history that quotes a `${env:}` prompt value is scrubbed from what `jobs list
--json` prints and from the job cache it writes (~/.cache/descript-iac/jobs/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from descript_iac.redact import forget_secrets
from tests.builders import TOKEN, run_cli, serving, wait_for_job, write_workspace

pytestmark = pytest.mark.e2e
SECRET = "sk-live-PROMPTKEY-7f3a91"
IMPORT = {"project_name": "Ep", "add_media": {"a.wav": {"url": "https://cdn.example.com/a.wav"}}}
WORKSPACE = """
version: 1
projects:
  ep:
    media:
      a.wav: {url: "https://cdn.example.com/a.wav"}
    steps:
      - {id: tag, prompt: "Remove filler words and tag ${env:PROMPT_KEY}"}
"""


def _cache_bytes(home: Path) -> bytes:
    root = home / ".cache" / "descript-iac" / "jobs"
    files = [p for p in root.rglob("*") if p.is_file()] if root.exists() else []
    return b"".join(p.read_bytes() for p in files)


@pytest.mark.parametrize(
    "command",
    [
        ("jobs", "list", "--json"),
        ("jobs", "list"),
        ("jobs", "get", "{job}"),
        ("jobs", "wait", "{job}", "--interval", "0.05"),
    ],
)
def test_a_secret_echoed_by_the_api_is_scrubbed_outside_a_workspace_command(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    with serving(echo_prompt=True) as (running, api):
        created = api.post("/jobs/import/project_media", json=IMPORT).json()
        wait_for_job(api, created["job_id"])
        prompt = f"Remove filler words and tag {SECRET}"
        body = {"project_id": created["project_id"], "prompt": prompt}
        agent = api.post("/jobs/agent", json=body).json()
        job = wait_for_job(api, agent["job_id"])
        assert SECRET in job["result"]["agent_response"]  # the API echoes it
        write_workspace(Path.cwd(), {"descript.yaml": WORKSPACE})  # the working directory
        forget_secrets()  # a new process: nothing known yet
        env = {
            "DESCRIPT_API_URL": running.base_url,
            "DESCRIPT_API_TOKEN": TOKEN,
            "PROMPT_KEY": SECRET,
        }
        args = [part.replace("{job}", agent["job_id"]) for part in command]
        result = run_cli(*args, env=env)
    assert result.exit_code == 0, result.output
    assert agent["job_id"] in result.output or "job(s)" in result.output
    assert SECRET not in result.output
    home = Path.home()
    cached = _cache_bytes(home)
    assert cached, "the job cache was written"
    assert SECRET.encode() not in cached
