"""`descript-iac fmt`: rewrite workspace files in the canonical layout, keeping comments."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from descript_iac.cli.context import echo
from descript_iac.cli.workspace_option import workspace_option
from descript_iac.config.layout import format_files, write
from descript_iac.config.loader import workspace_files
from descript_iac.terminal_text import visible


@click.command()
@click.argument("directory", default=".", type=click.Path(path_type=Path))
@click.option("--check", is_flag=True, help="Write nothing; exit 1 naming files not formatted.")
@click.option("--diff", "show_diff", is_flag=True, help="Print the changes as a unified diff.")
@workspace_option()
def fmt(directory: Path, check: bool, show_diff: bool) -> None:
    """Rewrite the workspace files in DIRECTORY (default: .) in the canonical layout.

    Comments, key order, quoting and the `# yaml-language-server: $schema=` header are kept;
    indentation is made uniform. Running it twice changes nothing. With --check nothing is
    written and the exit code is 1 when a file would change (for CI).
    """
    results = format_files(workspace_files(directory))
    changed = [r for r in results if r.changed]
    for result in changed:
        if show_diff:
            click.echo(visible(result.diff()), nl=False)
        if check:
            echo(f"would reformat {result.path}", err=True)
        else:
            write(result)
            echo(f"reformatted {result.path}", err=True)
    verb = "would be reformatted" if check else "reformatted"
    echo(
        f"{len(changed)} file(s) {verb}, {len(results) - len(changed)} already formatted.", err=True
    )
    if check and changed:
        sys.exit(1)
