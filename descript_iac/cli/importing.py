"""`descript-iac import ADDRESS PROJECT_ID`: manage a project made outside descript-iac."""

from __future__ import annotations

from pathlib import Path

import click

from descript_iac.cli.context import echo
from descript_iac.cli.state import _settings, emulator_option, workspace_argument
from descript_iac.workspace import import_project


@click.command("import")
@click.argument("address")
@click.argument("project_id")
@click.option(
    "--mark-applied",
    "mark_applied",
    multiple=True,
    metavar="STEP_ID",
    help="A declared step that already ran on the project (repeatable; the first steps, in "
    "order). Unmarked steps run on the next apply.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Import a project the API shows nothing of (no projects API, and no job of it in the "
    "30-day history): for a project whose jobs are older than 30 days.",
)
@workspace_argument
@emulator_option
@click.pass_context
def import_command(
    ctx: click.Context,
    address: str,
    project_id: str,
    mark_applied: tuple[str, ...],
    force: bool,
    directory: Path,
    emulator: bool,
) -> None:
    """Adopt PROJECT_ID (made in Descript, by a script, or by another tool) as ADDRESS.

    Records only what the API proves: with the projects API its name, media files and
    compositions; otherwise what its jobs in the history (30 days) show. Declared steps are
    marked applied only where asked. The next plan shows what is still missing, never a
    second project. The token is checked first (GET /status). An id the API shows nothing of
    (no projects API, and no job of it in the 30-day history) is refused unless --force.
    """
    for line in import_project(
        _settings(ctx, directory, emulator), address, project_id, mark_applied, force
    ):
        echo(line)
