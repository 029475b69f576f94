"""`descript-iac state list|show|mv|rm|rebuild|adopt|drop-intent|drop-job|recover|push|pull`
and `descript-iac force-unlock`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from descript_iac.adoption.rebuild import Outcome, RebuildReport
from descript_iac.cli.context import echo, get_globals
from descript_iac.cli.state_transfer import pull, push
from descript_iac.cli.workspace_option import workspace_option
from descript_iac.errors import DescriptIacError
from descript_iac.redact import scrub
from descript_iac.terminal_text import one_line
from descript_iac.workspace import (
    RunSettings,
    adopt_job,
    drop_intent,
    drop_job,
    move_project,
    rebuild_state,
    recover_state,
    remove_project,
)
from descript_iac.workspace.showing import project_view

directory_argument = click.argument("directory", default=".", type=click.Path(path_type=Path))
emulator_option = click.option(
    "--emulator", is_flag=True, help="Talk to the embedded emulator instead of the real API."
)

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


@state.command("list")
@directory_argument
@click.pass_context
@workspace_option()
def list_addresses(ctx: click.Context, directory: Path) -> None:
    """List the addresses the state of DIRECTORY (default: .) manages, one per line."""
    doc = _settings(ctx, directory).store().read()
    for address in sorted(doc.projects):
        echo(address)


@state.command("show")
@click.argument("address", required=False)
@workspace_argument
@click.option("--json", "as_json", is_flag=True, help="The record (or whole document) as JSON.")
@click.pass_context
def show(ctx: click.Context, address: str | None, directory: Path, as_json: bool) -> None:
    """Show ADDRESS's record in the state (its project, media, steps with their jobs, prompts
    and responses, open intents); without ADDRESS, summarize every project in the state."""
    store = _settings(ctx, directory).store()
    doc = store.read()
    if address is not None:
        project = doc.projects.get(address)
        if project is None:
            known = ", ".join(sorted(doc.projects)) or "none"
            raise DescriptIacError(f"{address}: no such project in the state (known: {known})")
        if as_json:
            record = scrub(project.to_json())
            echo(json.dumps(record, indent=2, sort_keys=True))
            return
        from descript_iac.cli.show import project_lines

        for line in project_lines(project_view(address, project)):
            echo(line)
        return
    if as_json:
        echo(json.dumps(scrub(doc.to_json()), indent=2, sort_keys=True))
        return
    echo(f"State {store.location()}: serial {doc.serial}, lineage {doc.lineage}")
    for address, project in sorted(doc.projects.items()):
        steps = ", ".join(f"{s.id}={s.status or s.job_state}" for s in project.steps) or "none"
        echo(f"{address}: project {project.project_id or '-'} {project.project_url or ''}")
        imported = project.import_.status or project.import_.job_state if project.import_ else "-"
        echo(f"  import: {imported}; steps: {steps}")
        from descript_iac.cli.show import spent_text

        totals = project.totals
        echo(f"  used: {spent_text(totals.media_seconds, totals.ai_credits, totals.unknown)}")
        if project.tainted:
            echo(f"  tainted: {one_line(project.tainted)}")
        for orphan in project.orphans:
            echo(f"  orphaned: {orphan.project_id} ({one_line(orphan.reason)})")
        for intent in project.intents:
            outcome = one_line(intent.outcome)
            echo(f"  open intent: {intent.action} {intent.step_id or ''} ({outcome})")
        if project.quarantine:
            echo(f"  quarantined: {one_line(project.quarantine.reason)}")
    for address, history in sorted(doc.forgotten.items()):
        echo(f"{address}: forgotten ({len(history)} project(s) kept in history)")


@state.command("mv")
@click.argument("old")
@click.argument("new")
@workspace_argument
@click.pass_context
def mv(ctx: click.Context, old: str, new: str, directory: Path) -> None:
    """Manage the project recorded as OLD under the address NEW. Nothing is replaced or sent:
    the project, its applied steps and every job id move with it. Rename it in the config too,
    or use a `moved: [{from: OLD, to: NEW}]` block in the config instead (reviewed in a pull
    request, applied by `apply`)."""
    echo(move_project(_settings(ctx, directory), old, new))


@state.command("rm")
@click.argument("address")
@workspace_argument
@click.pass_context
def rm(ctx: click.Context, address: str, directory: Path) -> None:
    """Stop managing ADDRESS. Its project stays in Descript (the API cannot delete it); its
    record moves to the state's forgotten history, so its jobs are never adopted again."""
    echo(remove_project(_settings(ctx, directory), address))


def report_lines(report: RebuildReport) -> list[str]:
    lines = []
    outcomes: tuple[Outcome, ...] = ("matched", "ambiguous", "missing")
    for outcome in outcomes:
        found = report.of(outcome)
        if found:
            lines.append(f"{outcome.capitalize()} ({len(found)}):")
            lines += [f"  {f.address}: {f.detail}" for f in found]
    return lines or ["Every configured project is already in the state; nothing to rebuild."]


@state.command("rebuild")
@directory_argument
@click.option("--auto-approve", is_flag=True, help="Write what was matched without asking.")
@emulator_option
@click.pass_context
@workspace_option()
def rebuild(ctx: click.Context, directory: Path, auto_approve: bool, emulator: bool) -> None:
    """Recover a lost state from the job history (30 days) and, where the API has it, the
    projects API: each configured project the state lacks is matched to the project it made
    (imports by media and composition names, and by project name with the projects API; agent
    jobs by project and order). Prints what was matched, what is ambiguous and what is missing;
    writes the matched projects only once confirmed (--auto-approve in CI). Ambiguity is never
    resolved by guessing: `import` the right project. Exits 1 when anything is ambiguous."""
    settings = _settings(ctx, directory, emulator)

    def confirm(report: RebuildReport) -> bool:
        for line in report_lines(report):
            echo(line)
        if auto_approve:
            return True
        if not sys.stdin.isatty():
            raise DescriptIacError(
                "refusing to write the state without confirmation: no terminal to ask on. "
                "Review the matches above and pass --auto-approve."
            )
        answer = click.prompt(
            "Write the matched projects to the state? Only 'yes' will be accepted",
            default="",
            show_default=False,
        )
        return str(answer).strip() == "yes"

    outcome = rebuild_state(settings, confirm)
    if not outcome.report.of("matched"):
        for line in report_lines(outcome.report):
            echo(line)
    if outcome.written:
        count = len(outcome.report.of("matched"))
        echo(
            f"Wrote {count} project(s) to {settings.store().location()}. Check with "
            f"`descript-iac plan {directory}`."
        )
    elif outcome.report.of("matched"):
        echo("Nothing was written.")
    if outcome.report.of("ambiguous"):
        sys.exit(1)


@state.command("adopt")
@click.argument("address")
@click.argument("job_id")
@workspace_argument
@click.option("--emulator", is_flag=True, help="Read the job from the embedded emulator.")
@click.option(
    "--force",
    is_flag=True,
    help="Adopt a job that is not among the quarantine's candidates, was created outside the "
    "intent's window or on another project, or that another workspace recorded.",
)
@click.pass_context
def adopt(
    ctx: click.Context, address: str, job_id: str, directory: Path, emulator: bool, force: bool
) -> None:
    """Record JOB_ID as the job that ADDRESS's open intent created (ends a quarantine).

    The job must be one the intent could have made: among the quarantine's candidates, created
    in the intent's window, on its project, and recorded by no other workspace; else it is
    refused unless --force. The job's project, creation time and (for an agent job) the start
    of its response are shown."""
    echo(adopt_job(_settings(ctx, directory, emulator), address, job_id, force))


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
