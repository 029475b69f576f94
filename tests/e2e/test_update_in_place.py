"""With the capability import-into-existing, added media become an in-place update."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from descript_iac.state.store import LocalStateStore
from tests.builders import TOKEN, run_cli, start_emulator, write_workspace

pytestmark = pytest.mark.e2e

BEFORE = """
version: 1
projects:
  ep:
    media:
      host.wav: {url: "https://cdn.example.com/ep/host.wav"}
    steps:
      - {id: clean, prompt: Remove filler words}
"""
AFTER = BEFORE.replace(
    '      host.wav: {url: "https://cdn.example.com/ep/host.wav"}\n',
    '      host.wav: {url: "https://cdn.example.com/ep/host.wav"}\n'
    '      outro.mp4: {url: "https://cdn.example.com/outro.mp4"}\n',
)


def test_added_media_is_imported_into_the_same_project(tmp_path: Path) -> None:
    running = start_emulator(capabilities=frozenset({"import-into-existing"}))
    env = {"DESCRIPT_API_URL": running.base_url, "DESCRIPT_API_TOKEN": TOKEN}
    root = write_workspace(tmp_path / "ws", {"main.yaml": BEFORE})
    apply = (
        "apply",
        str(root),
        "--auto-approve",
        "--poll-interval",
        "0.05",
        "--capability",
        "import-into-existing",
    )
    try:
        assert run_cli(*apply, env=env).exit_code == 0
        (root / "main.yaml").write_text(AFTER)
        plan = run_cli("plan", str(root), "--capability", "import-into-existing", env=env)
        assert "~ update" in plan.output and "media added: outro.mp4" in plan.output
        without = run_cli("plan", str(root), env=env)
        assert without.exit_code == 1 and "import-time inputs changed" in without.output
        result = run_cli(*apply, env=env)
        assert result.exit_code == 0, result.output
        assert "1 updated in place" in result.output
        projects = httpx.get(f"{running.root_url}/_emulator/projects").json()["projects"]
    finally:
        running.stop()
    [project] = projects
    assert set(project["media"]) == {"host.wav", "outro.mp4"}
    assert [j["job_type"] for j in project["jobs"]] == [
        "import/project_media",
        "agent",
        "import/project_media",
    ]
    state = LocalStateStore(Path("state") / "ws.json").read().projects["ep"]
    assert state.project_id == project["project_id"] and not state.orphans
    assert state.import_ is not None and set(state.import_.media) == {"host.wav", "outro.mp4"}
    assert [s.id for s in state.steps] == ["clean"]
    again = run_cli("plan", str(root), "--capability", "import-into-existing", env=env)
    assert "No changes." in again.output
