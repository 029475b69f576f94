"""`descript-iac edit-link`, `published` and `doctor`: the rest of the Descript surface."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import click

from descript_iac.api.models import PublishedProject
from descript_iac.cli.context import echo, get_globals
from descript_iac.config.env_secrets import register_env_secrets
from descript_iac.session import ApiTarget
from descript_iac.state.store import LocalStateStore, StateStore
from descript_iac.terminal_text import visible
from descript_iac.workspace.doctor import run_doctor
from descript_iac.workspace.edit_link import edit_link as make_link
from descript_iac.workspace.edit_link import expiry_warnings, pair_files
from descript_iac.workspace.oneoff import oneoff_state_path
from descript_iac.workspace.published import read_published

emulator_option = click.option("--emulator", is_flag=True, help="Use the embedded emulator.")


def _target(ctx: click.Context, emulator: bool) -> ApiTarget:
    register_env_secrets(Path("."))  # a reply may quote the working directory's secrets
    return ApiTarget(api_url=get_globals(ctx).api_url, emulator=emulator)


@click.command("edit-link")
@click.option(
    "--file",
    "uris",
    multiple=True,
    required=True,
    metavar="URI",
    help="A file (public or pre-signed URL) for the new project (repeatable, in order).",
)
@click.option(
    "--name",
    "names",
    multiple=True,
    help="Display name of the --file in the same position (repeatable).",
)
@click.option(
    "--start-offset",
    "offsets",
    multiple=True,
    type=float,
    metavar="SECONDS",
    help="Start offset of the --file in the same position (repeatable).",
)
@click.option("--source-id", help="Your id for the source; Descript's export pages show it.")
@click.option(
    "--partner-drive-id",
    metavar="UUID",
    help="The token's drive [default: found from the API and remembered].",
)
@click.option("--json", "as_json", is_flag=True, help="The URL and its expiry as JSON.")
@emulator_option
@click.pass_context
def edit_link(
    ctx: click.Context,
    uris: tuple[str, ...],
    names: tuple[str, ...],
    offsets: tuple[float, ...],
    source_id: str | None,
    partner_drive_id: str | None,
    as_json: bool,
    emulator: bool,
) -> None:
    """Make a one-time Edit in Descript import URL for files (it expires after 3 hours).

    Posts the project schema (schema_version 1.0.0) to /v1/edit_in_descript/schema. Warns when
    a pre-signed file URL expires within 48 hours. The URL is printed only: never saved or
    logged.
    """
    files = pair_files(uris, names, offsets)
    for warning in expiry_warnings(files):
        echo(f"Warning: {warning}", err=True)
    link = make_link(
        _target(ctx, emulator), files, source_id=source_id, partner_drive_id=partner_drive_id
    )
    expires = datetime.fromtimestamp(link.expires_at).astimezone()
    # The URL itself is the output asked for: printed as is (redaction would mask its nonce).
    if as_json:
        data = {
            "url": link.url,
            "expires_at": expires.isoformat(timespec="seconds"),
            "partner_drive_id": link.partner_drive_id,
        }
        click.echo(json.dumps(data, sort_keys=True))
        return
    echo(f"Import URL (one use; expires at {expires:%Y-%m-%d %H:%M %Z}, in 3 hours):", err=True)
    click.echo(visible(link.url))


@click.command()
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True, help="The metadata as JSON.")
@click.option(
    "--subtitles",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the WEBVTT subtitles to this file.",
)
@emulator_option
@click.pass_context
def published(
    ctx: click.Context, slug: str, as_json: bool, subtitles: Path | None, emulator: bool
) -> None:
    """Show a published project (title, duration, publisher, privacy, publish type).

    The API allows 1,000 of these requests an hour; descript-iac counts them on this machine and
    waits (or stops) before the API has to refuse.
    """
    outcome = read_published(_target(ctx, emulator), slug, subtitles)
    if as_json:
        echo(json.dumps(outcome.metadata(), indent=2, sort_keys=True))
    else:
        for line in published_lines(outcome.published):
            echo(line)
    if subtitles is not None:
        echo(f"Wrote the subtitles to {subtitles}.", err=True)


def published_lines(page: PublishedProject) -> list[str]:
    meta = page.metadata
    publisher = meta.published_by if meta else None
    names = (publisher.first_name, publisher.last_name) if publisher else ()
    who = " ".join(n for n in names if n) or "?"
    duration = meta.duration_formatted if meta and meta.duration_formatted else "?"
    seconds = f" ({meta.duration_seconds:g} s)" if meta and meta.duration_seconds else ""
    when = f" on {meta.published_at:%Y-%m-%d}" if meta and meta.published_at else ""
    return [
        f"Title: {meta.title if meta and meta.title else '?'}",
        f"Duration: {duration}{seconds}",
        f"Published by: {who}{when}",
        f"Privacy: {page.privacy or '?'}",
        f"Publish type: {page.publish_type or '?'}",
        f"Project: {page.project_id}",
    ]


@click.command()
@click.option(
    "--workspace",
    "directory",
    type=click.Path(path_type=Path),
    help="Also check this workspace's state (and its lock).",
)
@emulator_option
@click.pass_context
def doctor(ctx: click.Context, directory: Path | None, emulator: bool) -> None:
    """Check the token, the API (round trip, level), the clock, the state and the cache.

    Each line says OK, or what to do. Exit 1 when anything needs fixing.
    """
    g = get_globals(ctx)
    states: list[StateStore] = [LocalStateStore(oneoff_state_path())]
    if directory is not None or g.state_path is not None or g.backend_url is not None:
        states.insert(0, g.settings(directory or Path(".")).store())
    checks = run_doctor(_target(ctx, emulator), states, g.timing())
    for check in checks:
        echo(check.line())
    if not all(c.ok for c in checks):
        sys.exit(1)
