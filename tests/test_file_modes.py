"""What the tool writes is private (issue #27): under a common umask (022), every file and
directory the commands make (state, backup, journal, lock, saved plan, caches, one-off records,
hints) is readable by the user alone."""

from __future__ import annotations

import os
import shlex
import stat
import subprocess
import sys
from pathlib import Path

from tests.builders import REPO, TOKEN, start_emulator

WORKSPACE = """version: 1
projects:
  ep:
    name: Ep
    media:
      host.wav: {url: "https://cdn.example.com/ep/host.wav"}
    steps:
      - {id: a, prompt: Add captions}
"""


def test_every_file_the_commands_write_is_private_under_umask_022(tmp_path: Path) -> None:
    running = start_emulator()
    home = tmp_path / "home"
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "DESCRIPT_API_URL": running.base_url,
        "DESCRIPT_API_TOKEN": TOKEN,
        "DESCRIPT_IAC_COMMIT_SPAN": "1",
        "DESCRIPT_IAC_HISTORY_LAG": "0",
        "PYTHONPATH": str(REPO),
    }
    work = tmp_path / "work"
    (work / "ws").mkdir(parents=True)
    (work / "ws" / "main.yaml").write_text(WORKSPACE)
    commands = [
        ["plan", "ws", "--out", "release.plan"],
        ["apply", "release.plan"],
        ["costs", "ws"],
        ["show", "ws"],
        ["jobs", "list", "--json"],
        ["agent", "--new", "--name", "One-off", "--prompt", "Write a script"],
    ]
    before = {p for p in tmp_path.rglob("*")}
    try:
        for argv in commands:
            words = " ".join(shlex.quote(a) for a in argv)
            script = f"umask 022; exec {sys.executable} -m descript_iac {words}"
            done = subprocess.run(
                ["bash", "-c", script], cwd=work, env=env, capture_output=True, text=True
            )
            assert done.returncode == 0, (argv, done.stdout, done.stderr)
    finally:
        running.stop()
    made = [p for p in tmp_path.rglob("*") if p not in before and not p.is_symlink()]
    assert any(p.name == "ws.json" for p in made) and any(p.suffix == ".plan" for p in made)
    assert any(".cache" in p.parts for p in made)
    shared = [
        f"{p.relative_to(tmp_path)} {stat.S_IMODE(p.stat().st_mode):o}"
        for p in made
        if stat.S_IMODE(p.stat().st_mode) & 0o077
    ]
    assert shared == []
