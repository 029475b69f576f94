"""`descript-iac state show|adopt|drop-intent|drop-job|recover|push|pull` and `force-unlock`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from descript_iac.cli.context import echo, get_globals
from descript_iac.cli.state_transfer import pull, push
from descript_iac.redact import scrub
from descript_iac.workspace import RunSettings, adopt_job, drop_intent, drop_job, recover_state

workspace_argument = click.option(
    "--workspace",
    "directory",
    default=".",
    type=click.Path(path_type=Path),
    show_default=True,
    help="Workspace directory (its `state:` block, or its name, says where the state is).",
)


def _settings(ctx: click.Context, directory: Path, emulator: bool = False) -> RunSettings:
    return get_globals(ctx).settings(directory, emulator)


@click.group()
def state() -> None:
    """Inspect the state, and resolve what an interrupted apply left in doubt."""


@state.command("show")
@workspace_argument
@click.option("--json", "as_json", is_flag=True, help="The whole document as JSON.")
@click.pass_context
def show(ctx: click.Context, directory: Path, as_json: bool) -> None:
    """Summarize each project in the state (ids, steps, totals, open intents)."""
    store = _settings(ctx, directory).store()
    doc = store.read()
    if as_json:
        echo(json.dumps(scrub(doc.to_json()), indent=2, sort_keys=True))
        return
    echo(f"State {store.location()}: serial {doc.serial}, lineage {doc.lineage}")
    for address, project in sorted(doc.projects.items()):
        steps = ", ".join(f"{s.id}={s.status or s.job_state}" for s in project.steps) or "none"
        echo(f"{address}: project {project.project_id or '-'} {project.project_url or ''}")
        imported = project.import_.status or project.import_.job_state if project.import_ else "-"
        echo(f"  import: {imported}; steps: {steps}")
        echo(
            f"  used: {project.totals.media_seconds:.0f} media seconds, "
            f"{project.totals.ai_credits:.0f} AI credits"
        )
        if project.tainted:
            echo(f"  tainted: {project.tainted}")
        for orphan in project.orphans:
            echo(f"  orphaned: {orphan.project_id} ({orphan.reason})")
        for intent in project.intents:
            echo(f"  open intent: {intent.action} {intent.step_id or ''} ({intent.outcome})")
        if project.quarantine:
            echo(f"  quarantined: {project.quarantine.reason}")
    for address, history in sorted(doc.forgotten.items()):
        echo(f"{address}: forgotten ({len(history)} project(s) kept in history)")


@state.command("adopt")
@click.argument("address")
@click.argument("job_id")
@workspace_argument
@click.option("--emulator", is_flag=True, help="Read the job from the embedded emulator.")
@click.pass_context
def adopt(ctx: click.Context, address: str, job_id: str, directory: Path, emulator: bool) -> None:
    """Record JOB_ID as the job that ADDRESS's open intent created."""
    echo(adopt_job(_settings(ctx, directory, emulator), address, job_id))


@state.command("drop-intent")
@click.argument("address")
@workspace_argument
@click.pass_context
def drop(ctx: click.Context, address: str, directory: Path) -> None:
    """Close ADDRESS's open intent, so that the next apply sends its job again."""
    echo(drop_intent(_settings(ctx, directory), address))


@state.command("drop-job")
@click.argument("address")
@click.argument("job_id")
@workspace_argument
@click.pass_context
def drop_job_command(ctx: click.Context, address: str, job_id: str, directory: Path) -> None:
    """Record JOB_ID of ADDRESS as done with an unknown result (its outcome can no longer be
    read: the API keeps 30 days of jobs). It is not sent again."""
    echo(drop_job(_settings(ctx, directory), address, job_id))


@state.command("recover")
@workspace_argument
@click.pass_context
def recover(ctx: click.Context, directory: Path) -> None:
    """Fold into the state what a journal left by a run proves, when the journal does not
    belong to the state any more (a state pulled from git or restored from a backup while a run
    had unrecorded jobs). Jobs it names are never sent again."""
    for line in recover_state(_settings(ctx, directory)):
        echo(line)


@click.command("force-unlock")
@click.argument("lock_id")
@workspace_argument
@click.pass_context
def force_unlock(ctx: click.Context, lock_id: str, directory: Path) -> None:
    """End the state lock LOCK_ID of a run that is gone or hangs (on PostgreSQL: end its
    database session; a run that died never holds a lock there)."""
    echo(_settings(ctx, directory).store().force_unlock(lock_id))


state.add_command(push)
state.add_command(pull)
