"""State operations against the emulator's 2026 API level (the projects endpoints): a lost state
rebuilt by project name (episodes with the same media names, a prompt-only project), an import
that reads the project's name, media and compositions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.builders import TOKEN, run_cli, start_emulator, wait_for_job

pytestmark = pytest.mark.e2e
APPLY = ("--auto-approve", "--poll-interval", "0.05")


@pytest.fixture
def api_2026() -> Iterator[Any]:
    running = start_emulator(job_seconds=0.05, api_level="2026")
    yield running
    running.stop()


def _env(running: Any) -> dict[str, str]:
    return {
        "DESCRIPT_API_URL": running.base_url,
        "DESCRIPT_API_TOKEN": TOKEN,
        "DESCRIPT_IAC_COMMIT_SPAN": "1",
        "DESCRIPT_IAC_HISTORY_LAG": "0",
    }


def _job_ids(path: Path) -> dict[str, set[str]]:
    state = json.loads(path.read_text())
    out = {}
    for address, project in state["projects"].items():
        ids = {s["job_id"] for s in project["steps"]}
        if project.get("import"):
            ids.add(project["import"]["job_id"])
        out[address] = ids
    return out


def test_rebuild_tells_look_alike_episodes_apart_by_name(api_2026: Any, workspace: Path) -> None:
    # two podcast episodes with the same media and composition names, and a prompt-only script
    ws = workspace
    env = _env(api_2026)
    applied = run_cli("apply", str(ws), *APPLY, env=env)
    assert applied.exit_code == 0, applied.output
    state = Path("state/show.json")
    before = _job_ids(state)
    for leftover in Path("state").glob("show.json*"):
        leftover.unlink()

    rebuilt = run_cli("state", "rebuild", str(ws), "--auto-approve", env=env)
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "Matched (3):" in rebuilt.output
    plan = run_cli("plan", str(ws), "--refresh", "--detailed-exitcode", env=env)
    assert plan.exit_code == 0, plan.output
    assert _job_ids(state) == before


def test_import_reads_the_project_from_the_projects_api(api_2026: Any, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "main.yaml").write_text(
        "version: 1\nprojects:\n  ep:\n    name: Episode 9\n    media:\n"
        '      a.wav: {url: "https://cdn.example.com/a.wav"}\n'
        '      b.wav: {url: "https://cdn.example.com/b.wav"}\n'
    )
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=api_2026.base_url + "/", headers=headers) as api:
        made = api.post(
            "jobs/import/project_media",
            json={
                "project_name": "Episode 9 (draft)",
                "add_media": {"a.wav": {"url": "https://cdn.example.com/a.wav"}},
            },
        ).json()
        wait_for_job(api, made["job_id"])
    result = run_cli("import", "ep", made["project_id"], "--workspace", str(ws), env=_env(api_2026))
    assert result.exit_code == 0, result.output
    assert "name: Episode 9 (draft) (read from the projects API)" in result.output
    assert "media found (the projects API): a.wav" in result.output
    assert "media missing: b.wav" in result.output
    plan = run_cli("plan", str(ws), env=_env(api_2026))
    assert 'name: "Episode 9 (draft)" -> "Episode 9"' in plan.output
    assert "media b.wav: (none) -> https://cdn.example.com/b.wav" in plan.output
    assert "+ create" not in plan.output
