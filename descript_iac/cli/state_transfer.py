"""`descript-iac state push` and `descript-iac state pull`."""

from __future__ import annotations

from pathlib import Path

import click

from descript_iac.cli.context import echo, get_globals
from descript_iac.workspace import pull_state, push_state
from descript_iac.workspace.settings import default_state_path

_file = click.argument("file", required=False, type=click.Path(path_type=Path, dir_okay=False))
_workspace = click.option(
    "--workspace",
    "directory",
    default=".",
    type=click.Path(path_type=Path),
    show_default=True,
    help="Workspace directory (its `state:` block, or --backend-url, names the backend).",
)
_force = click.option(
    "--force", is_flag=True, help="Replace another lineage, a newer serial, or a differing copy."
)


def _local(ctx: click.Context, file: Path | None, directory: Path) -> Path:
    return file or get_globals(ctx).state_path or default_state_path(directory)


@click.command("push")
@_file
@_workspace
@_force
@click.pass_context
def push(ctx: click.Context, file: Path | None, directory: Path, force: bool) -> None:
    """Copy the local state FILE (default: --state, else state/<workspace>.json) to the
    workspace's configured backend, as it is (same lineage and serial). Refuses another
    lineage or an older serial than the backend's unless --force."""
    settings = get_globals(ctx).settings(directory)
    echo(push_state(settings, _local(ctx, file, directory), force))


@click.command("pull")
@_file
@_workspace
@_force
@click.pass_context
def pull(ctx: click.Context, file: Path | None, directory: Path, force: bool) -> None:
    """Copy the workspace's configured state to the local file FILE (default: --state, else
    state/<workspace>.json), as it is. Refuses to replace another lineage or a newer serial
    unless --force."""
    settings = get_globals(ctx).settings(directory)
    echo(pull_state(settings, _local(ctx, file, directory), force))
