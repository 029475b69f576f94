"""`descript-iac schema`: print the JSON Schema of the workspace format."""

from __future__ import annotations

import click

from descript_iac.config.schema import render_schema


@click.command()
@click.option("--plan", "of_plan", is_flag=True, help="The schema of `plan --format json` instead.")
def schema(of_plan: bool) -> None:
    """Print the JSON Schema (2020-12) of workspace files.

    The same schema is checked in as schemas/descript-iac.schema.json; point your editor's
    YAML language server at it for completion and inline errors. With --plan, print the schema
    of `plan --format json` (checked in as schemas/plan.schema.json).
    """
    if of_plan:
        from descript_iac.plan.report import render_plan_schema

        click.echo(render_plan_schema(), nl=False)
        return
    click.echo(render_schema(), nl=False)
