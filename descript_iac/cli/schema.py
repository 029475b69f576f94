"""`descript-iac schema`: print the JSON Schema of the workspace format."""

from __future__ import annotations

import click

from descript_iac.config.schema import render_schema


@click.command()
def schema() -> None:
    """Print the JSON Schema (2020-12) of workspace files.

    The same schema is checked in as schemas/descript-iac.schema.json; point your editor's
    YAML language server at it for completion and inline errors.
    """
    click.echo(render_schema(), nl=False)
