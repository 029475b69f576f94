"""Every command answers --help, and the top level answers --version."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from descript_iac import __version__
from descript_iac.cli import main
from tests.builders import run_cli


def _paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        out.append((*prefix, name))
        if isinstance(command, click.Group):
            out += _paths(command, (*prefix, name))
    return out


COMMANDS = _paths(main)


def test_the_commands_users_rely_on_exist() -> None:
    names = {" ".join(c) for c in COMMANDS}
    for expected in (
        "validate",
        "plan",
        "apply",
        "state adopt",
        "state drop-intent",
        "force-unlock",
        "status",
        "jobs list",
        "jobs get",
        "jobs wait",
        "config set api-key",
        "emulator serve",
        "schema",
        "import-media",
        "agent",
        "jobs cancel",
        "edit-link",
        "published",
        "doctor",
    ):
        assert expected in names


@pytest.mark.parametrize("path", COMMANDS, ids=[" ".join(c) for c in COMMANDS])
def test_help(path: tuple[str, ...]) -> None:
    result = run_cli(*path, "--help")
    assert result.exit_code == 0
    assert result.output.startswith("Usage: ") and f"{path[-1]}" in result.output.splitlines()[0]


def test_version() -> None:
    assert run_cli("--version").output.strip() == f"descript-iac, version {__version__}"


def test_the_command_table_summaries_match_each_command_docstring() -> None:
    """`--help` lists the summaries from `COMMANDS` without importing the commands' modules."""
    from descript_iac.cli import COMMANDS as TABLE

    ctx = click.Context(main)
    for name, entry in TABLE.items():
        assert isinstance(entry, tuple), f"{name}: give its summary in COMMANDS"
        command = main.get_command(ctx, name)
        assert command is not None
        assert entry[1] == command.get_short_help_str(limit=1000), name


def test_top_level_help_imports_no_command_module() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from descript_iac.cli import main\n"
        "try: main(['--help'])\n"
        "except SystemExit: pass\n"
        "heavy = [m for m in sys.modules if m.startswith(('descript_iac.cli.', 'httpx', "
        "'uvicorn', 'starlette', 'descript_iac.config', 'descript_iac.api'))]\n"
        "core = {'descript_iac.cli.context', 'descript_iac.cli.global_options',"
        " 'descript_iac.cli.durations'}\n"
        "print('HEAVY', sorted(m for m in heavy if m not in core))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in out.stdout
    assert "Check the workspace in DIRECTORY" in out.stdout


def test_plan_without_refresh_does_not_load_the_network_stack(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "a.yaml").write_text("version: 1\nprojects:\n  ep:\n    steps: [{id: a, prompt: p}]\n")
    code = (
        "import sys; from descript_iac.cli import main\n"
        f"try: main(['--state', {str(tmp_path / 's.json')!r}, 'plan', {str(ws)!r}])\n"
        "except SystemExit: pass\n"
        "print('NET', sorted(m for m in sys.modules if m.split('.')[0] in "
        "('httpx', 'httpcore', 'uvicorn', 'starlette', 'anyio')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "NET []" in out.stdout and "1 project to create" in out.stdout


@pytest.mark.parametrize("how", ["option", "env"])
def test_a_poll_interval_below_the_floor_is_a_usage_error_before_anything_is_sent(
    how: str, tmp_path: Path
) -> None:
    """A negative interval crashed after the first POST ("sleep length must be non-negative");
    zero polled in a tight loop. Both are refused before anything is read or sent."""
    args = ["apply", str(tmp_path), "--auto-approve"]
    env = {"DESCRIPT_API_URL": "http://127.0.0.1:9/v1", "DESCRIPT_API_TOKEN": "t"}
    if how == "option":
        args += ["--poll-interval", "-1"]
    else:
        env["DESCRIPT_IAC_POLL_INTERVAL"] = "0"
    result = run_cli(*args, env=env)
    assert result.exit_code == 1  # a usage error: 1, as every error (2 means changes)
    assert "Invalid value for '--poll-interval'" in result.output
    assert "Traceback" not in result.output and "This is a bug" not in result.output
