"""`descript-iac import-media` and `descript-iac agent`: one-off jobs, shaped like the Descript
CLI's `import`, `agent` and `edit --new`, sent exactly once (workspace/oneoff.py)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from descript_iac.cli.context import echo, get_globals, use_color
from descript_iac.cli.durations import Duration
from descript_iac.cli.progress import Reporter, display
from descript_iac.config.env_secrets import register_env_secrets
from descript_iac.errors import DescriptIacError
from descript_iac.session import ApiTarget
from descript_iac.terminal_text import one_line
from descript_iac.workspace.oneoff import (
    OneOffOutcome,
    OneOffSettings,
)
from descript_iac.workspace.oneoff import (
    agent as run_agent,
)
from descript_iac.workspace.oneoff import (
    import_media as run_import,
)
from descript_iac.workspace.oneoff_requests import AgentPrompt, MediaImport

TEAM_ACCESS = click.Choice(["edit", "comment", "view", "none"])


def _common(f: Callable[..., Any]) -> Callable[..., Any]:
    for decorator in reversed(
        [
            click.option("--callback-url", help="URL the API POSTs the job's status to."),
            click.option("--no-wait", is_flag=True, help="Submit, print the job id, and exit."),
            click.option("--json", "as_json", is_flag=True, help="JSON events, one per line."),
            click.option(
                "--poll-interval",
                default=2.0,
                show_default=True,
                type=Duration(minimum=0.01),
                envvar="DESCRIPT_IAC_POLL_INTERVAL",
                help="Seconds between polls [env DESCRIPT_IAC_POLL_INTERVAL].",
            ),
            click.option("--emulator", is_flag=True, help="Use the embedded emulator."),
        ]
    ):
        f = decorator(f)
    return f


def _settings(ctx: click.Context, emulator: bool, no_wait: bool, poll: float) -> OneOffSettings:
    register_env_secrets(Path("."))  # a reply may quote the working directory's secrets
    g = get_globals(ctx)
    return OneOffSettings(
        api=ApiTarget(api_url=g.api_url, emulator=emulator),
        lock_timeout=g.lock_timeout,
        timing=g.timing(),
        wait=not no_wait,
        poll_interval=poll,
    )


def _reporter(ctx: click.Context, as_json: bool) -> Reporter:
    """One-off runs have one job: no 'Applying N jobs' headline and no apply summary."""
    return display(as_json=as_json, color=use_color(get_globals(ctx)), summary=False)


@click.command("import-media")
@click.option("--name", required=True, help="Name of the new project.")
@click.option(
    "--media",
    "media",
    multiple=True,
    required=True,
    metavar="NAME=URL",
    help="A file to import (repeatable); a bare URL is named after its file.",
)
@click.option(
    "--composition",
    "compositions",
    multiple=True,
    metavar="NAME[=MEDIA,...]",
    help="A composition of every media in order, or of the media named (repeatable).",
)
@click.option("--team-access", type=TEAM_ACCESS, help="Access for drive members [none].")
@click.option("--folder", metavar="PATH", help="Drive folder for the project, e.g. Clients/Acme.")
@_common
@click.pass_context
def import_media(
    ctx: click.Context,
    name: str,
    media: tuple[str, ...],
    compositions: tuple[str, ...],
    team_access: str | None,
    folder: str | None,
    callback_url: str | None,
    no_wait: bool,
    as_json: bool,
    poll_interval: float,
    emulator: bool,
) -> None:
    """Import media into a new project (one job, sent exactly once), with live progress.

    \b
    Example:
      descript-iac import-media --name "My First Project" \\
        --media intro.mp4=https://cdn.example.com/intro.mp4 --composition Full
    """
    request = MediaImport(name, media, compositions, team_access, folder, callback_url)
    with _reporter(ctx, as_json) as reporter:
        outcome = run_import(_settings(ctx, emulator, no_wait, poll_interval), request, reporter)
    _finish(outcome, as_json)


@click.command("agent")
@click.option("--project-id", help="The project to edit.")
@click.option("--new", "new", is_flag=True, help="Let the agent create a new project.")
@click.option("--name", help="Name of the new project (with --new).")
@click.option("--prompt", required=True, help="The Underlord prompt.")
@click.option("--composition", help="Composition to work on: its id or name (with --project-id).")
@click.option("--model", help="AI model.")
@click.option("--team-access", type=TEAM_ACCESS, help="Access for drive members (with --new).")
@_common
@click.pass_context
def agent(
    ctx: click.Context,
    project_id: str | None,
    new: bool,
    name: str | None,
    prompt: str,
    composition: str | None,
    model: str | None,
    team_access: str | None,
    callback_url: str | None,
    no_wait: bool,
    as_json: bool,
    poll_interval: float,
    emulator: bool,
) -> None:
    """Run one Underlord prompt on a project, or on a new one (--new), exactly once.

    \b
    Examples:
      descript-iac agent --project-id ID --prompt "Remove filler words"
      descript-iac agent --new --name Coffee --prompt "Write a script about coffee"
    """
    if bool(project_id) == new:
        raise DescriptIacError("agent: give --project-id ID, or --new --name NAME")
    if new and not name:
        raise DescriptIacError("agent --new: give --name NAME for the new project")
    if project_id and (name or team_access):
        raise DescriptIacError("agent --project-id: --name and --team-access apply to --new")
    if new and composition:
        raise DescriptIacError("agent --new: --composition needs an existing project")
    request = AgentPrompt(
        prompt=prompt,
        project_id=project_id,
        name=name,
        composition=composition,
        model=model,
        team_access=team_access,
        callback_url=callback_url,
    )
    with _reporter(ctx, as_json) as reporter:
        outcome = run_agent(_settings(ctx, emulator, no_wait, poll_interval), request, reporter)
    _finish(outcome, as_json)


def result_document(outcome: OneOffOutcome) -> dict[str, Any]:
    """The one-off's result as JSON: ids, status, media, compositions, the agent's reply."""
    project = outcome.project
    doc: dict[str, Any] = {
        "event": "result",
        "ok": outcome.result.ok,
        "address": outcome.address,
        "project_id": project.project_id,
        "project_url": project.project_url,
        "job_id": outcome.job_id,
        "manage": outcome.manage_hint,
    }
    record = project.import_
    if record is not None:
        doc["import"] = {
            "job_state": record.job_state,
            "status": record.status,
            "error_message": record.error_message,
            "media": {
                name: {
                    "status": m.status,
                    "duration_seconds": m.duration_seconds,
                    "error_message": m.error_message,
                }
                for name, m in record.media.items()
            },
            "compositions": [{"id": c.id, "name": c.name} for c in record.compositions],
            "media_seconds_used": record.media_seconds_used,
        }
    if project.steps:
        step = project.steps[-1]
        doc["agent"] = {
            "job_state": step.job_state,
            "status": step.status,
            "error_message": step.error_message,
            "agent_response": step.agent_response,
            "ai_credits_used": step.ai_credits_used,
            "media_seconds_used": step.media_seconds_used,
        }
    return doc


def _number(value: float | None) -> str:
    return "unknown (the API's number was not sane)" if value is None else f"{value:g}"


def result_lines(outcome: OneOffOutcome) -> list[str]:
    project, result = outcome.project, outcome.result
    lines = [f"Project {outcome.address}: {project.project_id or '?'} {project.project_url or ''}"]
    record = project.import_
    if record is not None and record.status is not None:
        lines.append(
            f"  import: {record.status}"
            + (f" ({record.error_message})" if record.error_message else "")
        )
        for name, media in record.media.items():
            length = f", {media.duration_seconds:g} s" if media.duration_seconds else ""
            error = f": {media.error_message}" if media.error_message else ""
            lines.append(f"  media {name}: {media.status or '?'}{length}{error}")
        for composition in record.compositions:
            lines.append(f"  composition {composition.name}: {composition.id}")
        lines.append(f"  media seconds used: {_number(record.media_seconds_used)}")
    for step in project.steps[-1:]:
        if step.status is None:
            continue
        lines.append(
            f"  agent: {step.status}" + (f" ({step.error_message})" if step.error_message else "")
        )
        if step.agent_response:
            lines.append(f"  response: {one_line(step.agent_response)}")
        lines.append(f"  AI credits used: {_number(step.ai_credits_used)}")
    if result.submitted_only and outcome.job_id:
        lines.append(
            f"Submitted job {outcome.job_id} without waiting; follow it with "
            f"`descript-iac jobs wait {outcome.job_id}`."
        )
    shown = (record is not None and record.status) or any(s.status for s in project.steps)
    if not shown:
        lines += [f"Failed: {failure.message}" for failure in result.failures]
    if result.left_in_doubt:
        lines.append(
            "Its job is in doubt (the reply was lost): the next import-media or agent command "
            "looks it up in the job history before sending anything."
        )
    if outcome.manage_hint:
        address = outcome.made_by or outcome.address
        lines.append(
            f"To manage this project as code, declare it in a workspace as `{address}:` and "
            f"run: {outcome.manage_hint}"
        )
    return lines


def _why(message: str | None) -> str:
    return f" ({message})" if message else ""


def _finish(outcome: OneOffOutcome, as_json: bool) -> None:
    if as_json:
        echo(json.dumps(result_document(outcome), sort_keys=True))
    else:
        for line in result_lines(outcome):
            echo(one_line(line))  # one record per line: the server's words forge none
    if not outcome.result.ok:
        sys.exit(1)
