"""Every broken workspace and state file in `tests/corpus/bad/` through the real CLI.

One case per directory, its expectation beside it in `expect.json`:

    {"command": "validate" | "plan", "exit": 1, "where": "main.yaml:5:20",
     "message": "a fragment of the message", "fix": "a fragment of what to do" (optional),
     "state": "state.json" (state cases), "env": {"NAME": "value"} (optional),
     "secrets": ["parts of the env values that must never be printed"] (optional)}

Workspace cases run `validate` and `plan`; state cases run `plan` and `apply`. Each must exit
with the expected code, name the place, say what is wrong (and what to do), print no traceback,
write nothing (no state, no lock, no journal left) and contact no API: `DESCRIPT_API_URL` points
at a socket this test listens on, and nothing may connect to it.

To add a case, add a directory; write `where` as `file:line:col` as the message prints it.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.builders import run_cli

BAD = Path(__file__).resolve().parent / "bad"
CASES = sorted(p.name for p in BAD.iterdir() if (p / "expect.json").exists())
TOKEN = "corpus-token-d41d8cd98f"


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 150
    assert len([c for c in CASES if c.startswith("state-")]) >= 40


@pytest.fixture(scope="module")
def api_trap() -> Iterator[socket.socket]:
    """A listening socket standing in for the API: any connection to it is a failure."""
    trap = socket.socket()
    trap.bind(("127.0.0.1", 0))
    trap.listen(16)
    trap.setblocking(False)
    yield trap
    trap.close()


def _contacted(trap: socket.socket) -> bool:
    try:
        connection, _ = trap.accept()
    except BlockingIOError:
        return False
    connection.close()
    return True


def _snapshot(root: Path) -> dict[str, bytes | str]:
    files: dict[str, bytes | str] = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        if path.is_symlink():
            files[key] = "-> " + os.readlink(path)
        elif path.is_file():
            files[key] = path.read_bytes()
        else:
            files[key] = "dir"
    return files


def _commands(expect: dict[str, Any]) -> list[list[str]]:
    if "state" in expect:
        state = ["--state", expect["state"]]
        return [[*state, "plan", "."], [*state, "apply", ".", "--auto-approve"]]
    return [["validate", "."], ["plan", "."]]


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_refused_with_place_and_fix(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, api_trap: socket.socket
) -> None:
    work = tmp_path / case
    shutil.copytree(BAD / case, work, symlinks=True)
    expect = json.loads((work / "expect.json").read_text())
    monkeypatch.chdir(work)
    port = api_trap.getsockname()[1]
    env = {
        "DESCRIPT_API_URL": f"http://127.0.0.1:{port}/v1",
        "DESCRIPT_API_TOKEN": TOKEN,
        **expect.get("env", {}),
    }
    before = _snapshot(work)
    for command in _commands(expect):
        result = run_cli(*command, env=env)
        output = result.output
        assert result.exit_code == expect["exit"], (command, output)
        assert f"{expect['where']}:" in output, (command, output)
        assert expect["message"] in output, (command, output)
        assert expect.get("fix", "") in output, (command, output)
        assert "Traceback" not in output and "This is a bug" not in output, output
        for secret in [TOKEN, *expect.get("env", {}).values(), *expect.get("secrets", [])]:
            assert secret not in output, (command, output)
        assert _snapshot(work) == before, f"{command} wrote to the workspace or the state"
        assert not _contacted(api_trap), f"{command} contacted the API"
