"""The README's Python API example, run as written in a fresh directory: it plans, applies the
quickstart against the embedded emulator with a progress callback, and reads the state."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.builders import REPO


def readme_example() -> str:
    text = (REPO / "docs" / "python-api.md").read_text().split("# Python API", 1)[1]
    return text.split("```python\n", 1)[1].split("```", 1)[0]


def test_the_python_api_example_runs(tmp_path: Path) -> None:
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    (tmp_path / "example.py").write_text(readme_example())
    run = subprocess.run(
        [sys.executable, "example.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(REPO)},
    )
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "Plan: 1 project to create, 2 steps to run, 0 to replace, 0 to forget."
    assert [line.split(": ")[1] for line in lines[1:7]] == [
        "create",
        "create",
        "step polish",
        "step polish",
        "step captions",
        "step captions",
    ]
    assert lines[2].endswith(": done") and lines[6].endswith(": done")
    assert lines[7] == "ok 2"
    address, project_id, steps = lines[8].split(" ", 2)
    assert address == "my-first-video" and len(project_id) == 36
    assert steps == "[('polish', 'success'), ('captions', 'success')]"
    assert (tmp_path / "state" / "quickstart.json").exists()
