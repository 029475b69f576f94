"""`init` and the embedded emulator in a real repository (issue #19): the workspace is a folder of
its own, CI and compose files are never read as workspace files, the .gitignore lines match
what is written, and the emulator's data follows the workspace's state wherever the command
runs from."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.builders import run_cli

GITLAB = "stages: [plan, apply]\nplan:\n  stage: plan\n  script: [descript-iac plan descript]\n"
COMPOSE = "services:\n  db:\n    image: postgres:15\n"


@pytest.fixture
def repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / ".gitlab-ci.yml").write_text(GITLAB)
    (tmp_path / "docker-compose.yml").write_text(COMPOSE)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_init_in_a_repository_root_makes_a_workspace_folder(repository: Path) -> None:
    made = run_cli("init")
    assert made.exit_code == 0, made.output
    assert (repository / "descript" / "descript.yaml").exists()
    checked = run_cli("validate", "descript")
    assert checked.exit_code == 0 and "valid (1 project" in checked.output
    assert "unknown key" not in checked.output


def test_a_stray_yaml_file_in_a_workspace_is_skipped_with_one_note(repository: Path) -> None:
    run_cli("init")
    (repository / "descript" / "docker-compose.yml").write_text(COMPOSE)
    checked = run_cli("validate", "descript")
    assert checked.exit_code == 0, checked.output
    notes = [line for line in checked.output.splitlines() if "docker-compose.yml" in line]
    assert notes == [
        "descript/docker-compose.yml:1:1: not a descript-iac file (no version:, projects:, "
        "defaults:, state:, moved: or budget: at its top level): skipped"
    ]
    # a file of the workspace with a mistake is still an error, not skipped
    (repository / "descript" / "more.yaml").write_text("version: 1\nprojets: {}\n")
    assert run_cli("validate", "descript").exit_code == 1


def test_gitignore_lines_match_what_is_written(repository: Path) -> None:
    run_cli("init", "shows")
    applied = run_cli("apply", "shows", "--emulator", "--auto-approve", "--forecast", "off")
    assert applied.exit_code == 0, applied.output
    assert (repository / "shows" / "state" / "emulator").is_dir()  # beside the state
    subprocess.run(["git", "add", "-A"], cwd=repository, check=True)
    staged = subprocess.run(
        ["git", "diff", "--cached", "--name-only"],
        cwd=repository, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    staged = [f for f in staged if f.startswith("shows/")]  # (the tests' HOME is here too)
    assert "shows/state/shows.json" in staged  # the state is committed
    assert not [f for f in staged if "/emulator/" in f or f.endswith((".lock", ".backup"))]


def test_the_embedded_emulator_follows_the_state_from_any_working_directory(
    repository: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_cli("init", "shows")
    first = run_cli("apply", "shows", "--emulator", "--auto-approve", "--forecast", "off")
    assert first.exit_code == 0, first.output
    assert not (repository / "state").exists()  # not under the working directory
    monkeypatch.chdir(repository / "shows")  # run from inside the workspace
    again = run_cli("plan", ".", "--emulator", "--refresh", "--forecast", "off")
    assert again.exit_code == 0, again.output
    assert "No changes. 1 project is up to date." in again.output
    emulators = [p for p in repository.rglob("emulator") if "home" not in p.parts]
    assert emulators == [repository / "shows" / "state" / "emulator"]  # one, beside the state
