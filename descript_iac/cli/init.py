"""`descript-iac init [DIR]`: start a workspace: a commented example, the schema for editors,
.gitignore entries, and the next steps."""

from __future__ import annotations

import os
from pathlib import Path

import click

from descript_iac.cli.context import echo, get_globals
from descript_iac.config.schema import render_schema
from descript_iac.config.statesetting import workspace_name

SCHEMA_FILE = "descript-iac.schema.json"
EXAMPLE = """\
# yaml-language-server: $schema=descript-iac.schema.json
# A descript-iac workspace: every *.yaml file in this directory is read and merged.
# `descript-iac validate`, `descript-iac plan` and `descript-iac apply` take this directory.
version: 1

# defaults:
#   team_access: edit                 # edit | comment | view | none (the default)

projects:
  # The key is the project's address, its identity in the state. To rename it, add a moved
  # block (moved: [{from: OLD, to: NEW}]): a renamed address never makes a second project.
  my-first-video:
    name: My First Video
    media:
      demo.mp4: {url: "https://test-files.descriptapi.com/demo_video.mp4"}
      # Pre-signed URLs come from the environment: never shown, never saved.
      # raw/host.wav: {url: "${env:HOST_WAV_URL}"}
    compositions:
      - name: Demo Video
        clips: [{media: demo.mp4}]
    steps:                            # Underlord prompts, run once each, in order
      - id: polish
        prompt: Remove filler words and add Studio Sound to every clip

# Where the state lives, relative to this file: the same state from any working directory.
# For CI and teams keep it in PostgreSQL instead:
#   state: {backend: postgresql, url: "${env:DESCRIPT_IAC_PG_URL}"}
state: {backend: local, path: state/WORKSPACE.json}
"""
GITIGNORE = [
    "# descript-iac: commit state/*.json (and a *.journal a failed run leaves), not these",
    "**/state/*.backup",
    "**/state/*.lock",
    "**/state/emulator/",
    "*.plan",
]
DEFAULT_DIRECTORY = "descript"


def _gitignore(path: Path) -> list[str]:
    """Add the lines `path` lacks; return them."""
    have = path.read_text().splitlines() if path.exists() else []
    missing = [line for line in GITIGNORE if line not in have]
    if missing:
        prefix = "\n" if have and have[-1].strip() else ""
        with path.open("a") as handle:
            handle.write(prefix + "\n".join(missing) + "\n")
    return missing


@click.command()
@click.argument(
    "directory", default=DEFAULT_DIRECTORY, type=click.Path(path_type=Path, file_okay=False)
)
@click.pass_context
def init(ctx: click.Context, directory: Path) -> None:
    """Start a workspace in DIRECTORY (default: descript/, a folder of its own, so that the CI
    and compose files of a repository's root are never read as workspace files):
    descript.yaml with the schema header, a commented example and a `state:` block (the state
    in DIRECTORY/state/, found from any working directory), the JSON Schema for editors, and
    .gitignore entries in the working directory. Existing files are left as they are."""
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "descript.yaml"
    if config.exists():
        echo(f"{config}: already there; left as it is.")
    else:
        config.write_text(EXAMPLE.replace("WORKSPACE", workspace_name(directory)))
        echo(f"Wrote {config} (a commented example).")
    schema = directory / SCHEMA_FILE
    schema.write_text(render_schema())
    echo(f"Wrote {schema} (editor completion; after an upgrade: descript-iac schema > {schema}).")
    added = _gitignore(Path(".gitignore"))
    echo(f"{'Added to' if added else 'Already in'} .gitignore: {', '.join(GITIGNORE[1:])}")
    state = get_globals(ctx).settings(directory).store().location()
    if Path(state).is_absolute():
        state = os.path.relpath(state)
    echo(
        f"State: {state} (as the state: block of {config} says; commit it with the workspace, "
        "or keep it in PostgreSQL: see the comment there)."
    )
    echo("")
    echo("Next steps:")
    echo(f"  descript-iac validate {directory}")
    echo(f"  descript-iac plan {directory} --emulator  (try it without a token)")
    echo("  export DESCRIPT_API_TOKEN=...  (or: descript-iac config set api-key)")
    echo(f"  descript-iac plan {directory} && descript-iac apply {directory}")
    echo("  CI: examples/ci/github-actions.yml or examples/ci/gitlab-ci.yml (README: GitOps)")
