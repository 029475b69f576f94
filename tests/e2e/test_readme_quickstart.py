"""The README's quickstart command, run as written, twice, in a fresh directory."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.builders import REPO

pytestmark = pytest.mark.e2e


def readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    block = text.split("## Quickstart", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line and not line.startswith("#")]


def test_readme_has_exactly_two_commands_and_ci_runs_the_second() -> None:
    install_and_run, tests = readme_commands()
    assert "descript-iac apply examples/quickstart --emulator --auto-approve" in install_and_run
    test_command = tests.split("&& ", 1)[1]  # after activating the venv
    assert test_command in (REPO / ".ci" / "run").read_text()


def test_readme_first_screen_example_is_a_valid_workspace_that_plans(tmp_path: Path) -> None:
    """The workspace a newcomer reads first validates and plans as shown, free (emulator)."""
    text = (REPO / "README.md").read_text()
    first_screen = text.split("## Quickstart", 1)[0]
    example = first_screen.split("```yaml\n", 1)[1].split("```", 1)[0]
    assert len(example.splitlines()) <= 12
    assert "spends money" in first_screen and "--emulator" in first_screen
    (tmp_path / "shows").mkdir()
    (tmp_path / "shows" / "episodes.yaml").write_text(example)
    args = [sys.executable, "-m", "descript_iac", "plan", "shows", "--emulator"]
    run = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "+ episode-042  (shows/episodes.yaml:" in run.stdout
    assert "prompt: Add captions" in run.stdout


def test_readme_links_to_docs_resolve() -> None:
    """Every relative link of the README and of docs/*.md names a file that exists."""
    pages = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    for page in pages:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
            if "://" in target:
                continue
            assert (page.parent / target).exists(), f"{page.name}: broken link {target}"


def test_quickstart_main_job_runs_and_converges(tmp_path: Path) -> None:
    install_and_run = readme_commands()[0]
    main_job = re.search(r"descript-iac (apply .*)$", install_and_run)
    assert main_job is not None
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    args = [sys.executable, "-m", "descript_iac", *main_job.group(1).split()]
    first = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Plan: 1 project to create, 2 steps to run" in first.stdout
    assert "Apply complete: 3 job(s) issued, 1 project(s) created" in first.stdout
    assert "step captions: done (3/3)" in first.stdout
    second = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0
    assert second.stdout.strip() == "No changes. 1 project is up to date."
    assert (tmp_path / "state" / "quickstart.json").exists()
