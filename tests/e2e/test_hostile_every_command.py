"""Every command of the CLI against the emulator's hostile mode (issue #21): agent replies, job
and media error messages, progress labels and every error reply carry escape sequences (window
title, clipboard, cleared screen, OSC 8 link), a carriage return, a right-to-left override and a
newline that would forge a line. Each command runs piped and on a pseudo-terminal rendered by pyte:
no escape byte from the API reaches the output, no forged line is on the screen, and the text is
still shown, visibly escaped.

`test_every_command_is_walked` walks the CLI as the secrets-at-rest test does: a new command fails
it until it is run here (or named, with its reason, in NO_API_TEXT)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.builders import (
    cli_env,
    run_cli,
    run_in_terminal,
    start_emulator,
    terminal_lines,
    write_workspace,
)
from tests.e2e.test_secrets_at_rest import cli_commands, command_of

pytestmark = pytest.mark.e2e

WORKSPACE = """
version: 1
state: {backend: local, path: state/ws.json}
projects:
  ep:
    name: Episode
    media:
      host.wav: {url: "https://cdn.example.com/ep/host.wav"}
    steps:
      - {id: a, prompt: "Add captions"}
  broken:
    media:
      b.wav: {url: "https://cdn.example.com/fail/b.wav"}
"""

# What the emulator's hostile text would do on a terminal if it got through.
FORGED = ("FORGED LINE", "FAKE SUCCESS")

# Commands not run on the pseudo-terminal, and why (each still runs piped, or is the server).
NO_TERMINAL = {
    ("config", "set", "api-key"): "asks for the token at a hidden prompt on a terminal",
    ("emulator", "serve"): "is the API itself: it prints its own address, no API text",
}

# Each command with its arguments; {ws}, {job}, {project}, {slug}, {tmp}, {n} are filled in.
RUNS: list[tuple[str, ...]] = [
    ("init", "{tmp}/fresh-{n}"),
    ("schema",),
    ("validate", "{ws}"),
    ("fmt", "{ws}", "--check"),
    ("plan", "{ws}", "--forecast", "off"),
    ("apply", "{ws}", "--auto-approve", "--poll-interval", "0.05"),
    ("plan", "{ws}", "--refresh", "--forecast", "off"),
    ("plan", "{ws}", "--refresh", "--format", "markdown", "--forecast", "off"),
    ("show", "{ws}"),
    ("costs", "{ws}"),
    ("status",),
    ("doctor", "--workspace", "{ws}"),
    ("jobs", "list"),
    ("jobs", "get", "{job}"),
    ("jobs", "get", "no-such-job"),
    ("jobs", "wait", "{job}", "--interval", "0.05"),
    ("jobs", "cancel", "{job}"),
    ("agent", "--project-id", "{project}", "--prompt", "Tidy it", "--poll-interval", "0.05"),
    (
        "import-media",
        "--name",
        "One-off",
        "--media",
        "b.wav=https://cdn.example.com/fail/b.wav",
        "--poll-interval",
        "0.05",
    ),
    ("edit-link", "--file", "https://cdn.example.com/ep/host.wav", "--name", "host"),
    ("published", "{slug}"),
    ("published", "no-such-slug"),
    ("import", "ep", "{project}", "--workspace", "{ws}"),
    ("state", "list", "{ws}"),
    ("state", "show", "ep", "--workspace", "{ws}"),
    ("state", "adopt", "ep", "{job}", "--workspace", "{ws}"),
    ("state", "drop-intent", "ep", "--workspace", "{ws}"),
    ("state", "drop-job", "nosuch", "{job}", "--workspace", "{ws}"),
    ("state", "mv", "nosuch", "other", "--workspace", "{ws}"),
    ("state", "rm", "nosuch", "--workspace", "{ws}"),
    ("state", "recover", "--workspace", "{ws}"),
    ("state", "rebuild", "{ws}", "--auto-approve", "--state", "{tmp}/rebuilt-{n}.json"),
    ("state", "pull", "{tmp}/pulled-{n}.json", "--workspace", "{ws}"),
    ("state", "push", "{tmp}/pulled-{n}.json", "--workspace", "{ws}"),
    ("force-unlock", "no-such-lock", "--workspace", "{ws}"),
    ("config", "set", "api-key"),
    # the controller's refusals; its pages are checked by tests/controller
    ("serve", "{tmp}/no-such-controller-{n}.yaml"),
    ("approve", "no-such-run", "--url", "http://127.0.0.1:9"),
]


@dataclass
class Hostile:
    running: Any
    env: dict[str, str]
    values: dict[str, str]

    def argv(self, run: tuple[str, ...], n: int) -> list[str]:
        return [word.format(**self.values, n=n) for word in run]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    tmp = tmp_path_factory.mktemp("hostile")
    running = start_emulator(
        hostile_text=True, api_level="2026", fail_media_pattern="/fail/", job_seconds=0.05
    )
    home = tmp / "home"
    env = cli_env(
        running,
        HOME=str(home),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_STATE_HOME=str(home / ".state"),
        DESCRIPT_IAC_POLL_INTERVAL="0.05",
    )
    root = write_workspace(tmp / "ws", {"main.yaml": WORKSPACE})
    first = run_cli("apply", str(root), "--auto-approve", "--poll-interval", "0.05", env=env)
    assert "Traceback" not in first.output
    project = json.loads(run_cli("show", str(root), "--json", env=env).stdout)["projects"]
    project_id = next(p["project_id"] for p in project if p["address"] == "ep")
    views = httpx.get(f"{running.root_url}/_emulator/projects").json()["projects"]
    job_id = next(
        j["job_id"]
        for p in views
        if p["project_id"] == project_id
        for j in p["jobs"]
        if j["job_type"] == "agent"
    )
    slug = httpx.post(f"{running.root_url}/_emulator/projects/{project_id}/publish", json={})
    values = {
        "ws": str(root),
        "tmp": str(tmp),
        "job": job_id,
        "project": project_id,
        "slug": slug.json()["slug"],
    }
    try:
        yield Hostile(running, env, values)
    finally:
        running.stop()


def test_every_command_is_walked() -> None:
    walked = {command_of(run) for run in RUNS} | {("emulator", "serve")}
    assert cli_commands() - walked == set(), "run each new command in RUNS"


def _api_text_shown(text: str) -> bool:
    """The hostile text reached the output, as text: its escapes shown visibly."""
    return "PWNED-TITLE" in text


def _no_api_control(text: str) -> None:
    assert "\x1b" not in text and "\x07" not in text and "\r" not in text, repr(text[-400:])
    assert "\u202e" not in text
    assert not any(line.startswith(FORGED) for line in text.splitlines()), text


def test_piped_no_command_lets_the_apis_control_text_through(hostile: Hostile) -> None:
    shown = []
    for n, run in enumerate(RUNS):
        result = run_cli(
            *hostile.argv(run, n),
            env=hostile.env,
            input="test-token-0123456789\n",
        )
        text = result.output
        assert "Traceback" not in text and "This is a bug" not in text, (run, text)
        _no_api_control(text)
        if _api_text_shown(text):
            shown.append(command_of(run))
    # The test is not vacuous: the API's text reached these commands' output, made safe.
    expected = {
        ("apply",), ("plan",), ("jobs", "get"), ("agent",), ("import-media",), ("show",),
        ("state", "show"),
    }  # fmt: skip
    assert expected <= set(shown), sorted(expected - set(shown))


@pytest.mark.parametrize(
    "run",
    [r for r in RUNS if command_of(r) not in NO_TERMINAL],
    ids=lambda r: " ".join(r[:3]),
)
def test_on_a_terminal_no_command_lets_the_apis_control_text_through(
    hostile: Hostile, run: tuple[str, ...], tmp_path: Path
) -> None:
    n = 1000 + RUNS.index(run)
    code, raw = run_in_terminal(hostile.argv(run, n), hostile.env, tmp_path, 100, 40, timeout=60)
    text = raw.decode(errors="replace")
    assert code in (0, 1), text  # done, or refused with a message
    assert "Traceback" not in text and "This is a bug" not in text, text
    # no OSC (title, clipboard, link), no BEL, no screen clear, no bidi override from the API;
    # the tool's own colours and live display are its only control sequences
    assert b"\x1b]" not in raw and b"\x07" not in raw and b"\x1b[2J" not in raw, raw[-600:]
    assert "\u202e" not in text
    lines = terminal_lines(raw, 100, 40)
    assert not any(line.lstrip().startswith(FORGED) for line in lines), lines
