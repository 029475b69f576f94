"""Where the token comes from, how it is stored, and the status/jobs commands."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import httpx
import pytest

from descript_iac.api.credentials import config_path, resolve, resolve_token
from descript_iac.errors import DescriptIacError
from tests.builders import TOKEN, run_cli, start_emulator


def test_token_from_either_env_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESCRIPT_API_KEY", "from-key")
    assert resolve_token().reveal() == "from-key"
    monkeypatch.setenv("DESCRIPT_API_TOKEN", "from-token")
    assert resolve_token().reveal() == "from-token"


def test_no_token_names_the_three_ways() -> None:
    with pytest.raises(DescriptIacError) as info:
        resolve_token()
    text = str(info.value)
    assert "DESCRIPT_API_TOKEN" in text and "DESCRIPT_API_KEY" in text
    assert "descript-iac config set api-key" in text


def test_config_set_api_key_from_stdin_writes_mode_0600() -> None:
    result = run_cli("config", "set", "api-key", input="saved-token\n")
    assert result.exit_code == 0, result.output
    path = config_path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {"api_key": "saved-token"}
    assert "saved-token" not in result.output
    assert resolve_token().reveal() == "saved-token"


def test_group_readable_token_file_is_refused_with_the_fix() -> None:
    run_cli("config", "set", "api-key", input="saved-token\n")
    path = config_path()
    os.chmod(path, 0o644)
    with pytest.raises(DescriptIacError, match=r"chmod 600"):
        resolve_token()


def test_base_url_option_beats_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESCRIPT_API_TOKEN", "t")
    monkeypatch.setenv("DESCRIPT_API_URL", "https://env.example/v1/")
    assert resolve(None).base_url == "https://env.example/v1"
    assert resolve("https://opt.example/v1").base_url == "https://opt.example/v1"
    monkeypatch.delenv("DESCRIPT_API_URL")
    assert resolve(None).base_url == "https://descriptapi.com/v1"


@pytest.fixture
def served():  # type: ignore[no-untyped-def]
    running = start_emulator(job_seconds=0.2)
    yield running
    running.stop()


def test_status_command_ok_and_bad_token(served) -> None:  # type: ignore[no-untyped-def]
    env = {"DESCRIPT_API_TOKEN": TOKEN, "DESCRIPT_API_URL": served.base_url}
    ok = run_cli("status", env=env)
    assert ok.exit_code == 0
    assert f"API: {served.base_url}" in ok.output and "Token: valid" in ok.output
    assert "Round trip:" in ok.output
    bad = run_cli("status", env={**env, "DESCRIPT_API_TOKEN": "wrong-token-xyz"})
    assert bad.exit_code == 1
    assert "401 unauthorized" in bad.output and "wrong-token-xyz" not in bad.output


def test_unreachable_api_is_a_clear_error(tmp_path: Path) -> None:
    env = {"DESCRIPT_API_TOKEN": "t", "DESCRIPT_API_URL": "http://127.0.0.1:9/v1"}
    result = run_cli("status", env=env)
    assert result.exit_code == 1 and "cannot reach http://127.0.0.1:9/v1" in result.output


def test_jobs_list_get_wait(served) -> None:  # type: ignore[no-untyped-def]
    env = {"DESCRIPT_API_TOKEN": TOKEN, "DESCRIPT_API_URL": served.base_url}
    headers = {"Authorization": f"Bearer {TOKEN}"}
    body = {"project_name": "x", "add_media": {"a.wav": {"url": "https://cdn.example.com/a.wav"}}}
    job_id = httpx.post(
        f"{served.base_url}/jobs/import/project_media", json=body, headers=headers
    ).json()["job_id"]
    waited = run_cli("jobs", "wait", job_id, "--interval", "0.05", env=env)
    assert waited.exit_code == 0 and f"{job_id}: stopped, success" in waited.output
    listed = run_cli("jobs", "list", "--json", env=env)
    assert json.loads(listed.output.splitlines()[0])["job_id"] == job_id
    text = run_cli("jobs", "list", "--type", "agent", env=env)
    assert job_id not in text.output and "0 job(s)." in text.output
    got = run_cli("jobs", "get", job_id, env=env)
    assert json.loads(got.output)["result"]["status"] == "success"
    missing = run_cli("jobs", "get", "nope", env=env)
    assert missing.exit_code == 1 and "404 not_found" in missing.output


def test_bad_api_url_is_a_clear_error() -> None:
    result = run_cli("--api-url", "descriptapi.com", "status", env={"DESCRIPT_API_TOKEN": "t"})
    assert result.exit_code == 1
    assert "API URL 'descriptapi.com' is not an http(s) URL" in result.output
    assert "Traceback" not in result.output
