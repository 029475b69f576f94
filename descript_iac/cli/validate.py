"""`descript-iac validate`: report every problem of a workspace at once."""

from __future__ import annotations

import os
from pathlib import Path

import click

from descript_iac.cli.context import echo
from descript_iac.cli.workspace_option import workspace_option
from descript_iac.config.summary import check_workspace
from descript_iac.errors import StateError
from descript_iac.userdirs import cache_root


@click.command()
@click.argument("directory", default=".", type=click.Path(path_type=Path))
@workspace_option()
@click.option(
    "--require-shared-state",
    is_flag=True,
    help="Fail unless the state is kept where the next run finds it (a PostgreSQL backend): "
    "for CI runners, whose files are gone when the job ends, unless the pipeline commits the "
    "state back.",
)
def validate(directory: Path, require_shared_state: bool) -> None:
    """Check the workspace in DIRECTORY (default: .) and list every problem.

    Each problem is printed as FILE:LINE:COL: message. Exits 0 when the workspace is
    valid, 1 when it is not. Warnings (e.g. a media URL that names no audio or video file) are
    printed the same way, prefixed with "warning:", and do not change the exit code. No API
    call is made.

    With --require-shared-state, a workspace whose state is a local file is an error too: on a
    CI runner that file is thrown away with the runner, and the next run would not know what
    was made.
    """
    count, files, warnings = check_workspace(directory, cache_root() / "workspaces")
    if require_shared_state:
        _require_shared_state(directory)
    for warning in warnings:
        echo(str(warning), err=True)
    noun = "project" if count == 1 else "projects"
    echo(f"{directory}: valid ({count} {noun} in {files} file(s)).")


def _require_shared_state(directory: Path) -> None:
    from descript_iac.config.loader import read_state_setting  # (the models: only when asked)
    from descript_iac.workspace.settings import default_state_path

    setting = read_state_setting(directory)
    if setting is not None and setting.backend != "local":
        return
    where = f"{setting.where}: " if setting is not None else f"{directory}: "
    path = default_state_path(directory)  # where a plain apply would put it
    if setting is not None and setting.path is not None:
        path = Path(os.path.relpath(setting.path))
    raise StateError(
        f"{where}the state is a local file ({path}), which this runner throws away when the "
        "job ends: the next run would not know what this one made. Keep it in PostgreSQL "
        '(state: {backend: postgresql, url: "${env:DESCRIPT_IAC_PG_URL}"}) or commit it back '
        'to git after apply (the CI recipes\' STATE_IN_GIT: "true").'
    )
