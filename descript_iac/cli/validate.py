"""`descript-iac validate`: report every problem of a workspace at once."""

from __future__ import annotations

from pathlib import Path

import click

from descript_iac.cli.context import echo
from descript_iac.cli.workspace_option import workspace_option
from descript_iac.config.summary import check_workspace
from descript_iac.userdirs import cache_root


@click.command()
@click.argument("directory", default=".", type=click.Path(path_type=Path))
@workspace_option()
def validate(directory: Path) -> None:
    """Check the workspace in DIRECTORY (default: .) and list every problem.

    Each problem is printed as FILE:LINE:COL: message. Exits 0 when the workspace is
    valid, 1 when it is not. Warnings (e.g. a media URL that names no audio or video file) are
    printed the same way, prefixed with "warning:", and do not change the exit code. No API
    call is made.
    """
    count, files, warnings = check_workspace(directory, cache_root() / "workspaces")
    for warning in warnings:
        echo(str(warning), err=True)
    noun = "project" if count == 1 else "projects"
    echo(f"{directory}: valid ({count} {noun} in {files} file(s)).")
