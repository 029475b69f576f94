"""What the API sends is data, never terminal control (issue #21): against the emulator's
hostile mode (agent replies and error messages full of escape sequences, carriage returns, bidi
overrides and a newline that would forge a line), the commands that print them, piped and on a
terminal (pyte), let no escape byte from the API through and show no forged line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.builders import (
    cli_env,
    run_cli,
    run_in_terminal,
    start_emulator,
    terminal_lines,
    write_workspace,
)

pytestmark = pytest.mark.e2e

WORKSPACE = """
version: 1
projects:
  ep:
    name: Episode
    steps:
      - {id: a, prompt: "Add captions \\e[2J\\e]0;TITLE\\a now"}
"""


def _no_api_escape(text: str) -> None:
    assert "\x1b" not in text and "\r" not in text and "\u202e" not in text
    assert not any(line.startswith(("FORGED LINE", "FAKE SUCCESS")) for line in text.splitlines())


def test_piped_output_carries_no_escape_from_the_api(tmp_path: Path) -> None:
    running = start_emulator(hostile_text=True)
    try:
        env = cli_env(running)
        root = write_workspace(tmp_path / "ws", {"main.yaml": WORKSPACE})
        state = str(tmp_path / "s.json")
        outputs = [
            run_cli("--state", state, "plan", str(root), "--forecast", "off", env=env),
            run_cli("--state", state, "plan", str(root), "--format", "markdown", env=env),
            run_cli("--state", state, "apply", str(root), "--auto-approve", env=env),
            run_cli("--state", state, "show", str(root), env=env),
            run_cli("--state", state, "state", "show", "ep", "--workspace", str(root), env=env),
            run_cli("jobs", "list", env=env),
        ]
        project = run_cli("--state", state, "show", str(root), "--json", env=env)
        import json

        project_id = json.loads(project.output)["projects"][0]["project_id"]
        outputs.append(run_cli("agent", "--project-id", project_id, "--prompt", "hi", env=env))
    finally:
        running.stop()
    for result in outputs:
        assert result.exit_code == 0, result.output
        _no_api_escape(result.output)
    assert "\\x1b]0;PWNED-TITLE" in outputs[-1].output  # shown, visibly
    assert "\\x1b[2J" in outputs[0].output  # the workspace's own value too


def test_on_a_terminal_the_title_clipboard_and_line_are_left_alone(tmp_path: Path) -> None:
    running = start_emulator(hostile_text=True, job_seconds=0.2)
    try:
        root = write_workspace(tmp_path / "ws", {"main.yaml": WORKSPACE})
        args = ["apply", str(root), "--auto-approve", "--poll-interval", "0.1", "--color"]
        code, raw = run_in_terminal(args, cli_env(running), tmp_path, 100, 30)
    finally:
        running.stop()
    assert code == 0, raw.decode(errors="replace")
    # no OSC (title, clipboard, link) and no CR from the API reached the terminal
    assert b"\x1b]" not in raw and b"\x07" not in raw
    assert b"\r\x1b[31mFAKE" not in raw and b"\x1b[2J" not in raw
    lines = terminal_lines(raw, 100, 30)
    assert not any(line.startswith(("FORGED LINE", "FAKE SUCCESS")) for line in lines)
    assert any("\\x1b]0;PWNED-TITLE" in line for line in lines)
