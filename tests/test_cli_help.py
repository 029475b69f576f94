"""Every command answers --help, and the top level answers --version."""

from __future__ import annotations

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
