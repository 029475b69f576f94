"""`descript-iac status`, `jobs list|get|wait|cancel` and `config set api-key`."""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import click

from descript_iac.api.credentials import save_api_key
from descript_iac.api.models import JOB_TYPES, Job
from descript_iac.cli.context import echo, get_globals, use_color
from descript_iac.cli.durations import Duration
from descript_iac.config.env_secrets import register_env_secrets
from descript_iac.errors import DescriptIacError
from descript_iac.session import ApiTarget, describe, open_client
from descript_iac.workspace.jobs import cancel_job, wait_for_job

emulator_option = click.option(
    "--emulator", is_flag=True, help="Talk to the embedded emulator instead of the real API."
)


def _target(ctx: click.Context, emulator: bool) -> ApiTarget:
    register_env_secrets(Path("."))  # a reply may quote the working directory's secrets
    return ApiTarget(api_url=get_globals(ctx).api_url, emulator=emulator)


@click.command()
@emulator_option
@click.pass_context
def status(ctx: click.Context, emulator: bool) -> None:
    """Check that the API is reachable and the token works (GET /v1/status)."""
    target = _target(ctx, emulator)
    with open_client(target) as client:
        started = time.monotonic()
        reply = client.status()
        millis = (time.monotonic() - started) * 1000
    echo(f"API: {describe(target) if emulator else client.base_url}")
    echo(f"Token: valid (status {reply.status})")
    echo(f"Round trip: {millis:.0f} ms")


@click.group()
def jobs() -> None:
    """Read the job history (the API keeps 30 days)."""


def _outcome(job: Job) -> str:
    if job.job_state == "cancelled":
        return "cancelled"
    if job.result is not None:
        return job.result.status
    return job.progress.label or "" if job.progress else ""


def _job_line(job: Job) -> str:
    created = job.created_at.strftime("%Y-%m-%d %H:%M:%S") if job.created_at else "?"
    outcome = _outcome(job)
    return f"{job.job_id}  {job.job_type:<21} {job.job_state:<8} {created}  {outcome or ''}"


@jobs.command("list")
@click.option("--project-id", help="Only jobs of this project.")
@click.option("--type", "job_type", type=click.Choice(JOB_TYPES), help="Only jobs of this type.")
@click.option("--since", type=int, default=7, show_default=True, help="Days back (at most 30).")
@click.option(
    "--limit",
    type=click.IntRange(1),
    default=100,
    show_default=True,
    help="At most this many jobs.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@emulator_option
@click.pass_context
def list_jobs(
    ctx: click.Context,
    project_id: str | None,
    job_type: str | None,
    since: int,
    limit: int,
    as_json: bool,
    emulator: bool,
) -> None:
    """List recent jobs, newest first."""
    if not 1 <= since <= 30:
        raise DescriptIacError(f"--since {since}: the API keeps jobs for 1 to 30 days")
    after = (datetime.now(timezone.utc) - timedelta(days=since)).timestamp() + 60
    with open_client(_target(ctx, emulator)) as client:
        count = 0
        for job in client.iter_jobs(
            project_id=project_id, job_type=job_type, limit=min(limit, 100), created_after=after
        ):
            echo(job.model_dump_json() if as_json else _job_line(job))
            count += 1
            if count >= limit:
                break
    if not as_json:
        echo(f"{count} job(s).", err=True)


@jobs.command("get")
@click.argument("job_id")
@emulator_option
@click.pass_context
def get_job(ctx: click.Context, job_id: str, emulator: bool) -> None:
    """Show one job as JSON."""
    with open_client(_target(ctx, emulator)) as client:
        job = client.get_job(job_id)
    echo(json.dumps(job.model_dump(mode="json", exclude_none=True), indent=2, sort_keys=True))


@jobs.command("wait")
@click.argument("job_id")
@click.option(
    "--interval",
    type=Duration(minimum=0.01),
    default=2.0,
    show_default=True,
    help="Time between polls (2, 2s, 1m).",
)
@click.option(
    "--timeout", type=Duration(), default=3600.0, show_default=True, help="Give up after (1h, 90s)."
)
@emulator_option
@click.pass_context
def wait_job(
    ctx: click.Context, job_id: str, interval: float, timeout: float, emulator: bool
) -> None:
    """Poll a job until it stops, with a live progress line; exit 1 if it failed."""
    from descript_iac.cli.progress import display

    reporter = display(color=use_color(get_globals(ctx)), progress_lines=True, summary=False)
    with reporter:  # the live row is gone before the outcome is printed
        job = wait_for_job(_target(ctx, emulator), job_id, interval, timeout, reporter)
    result = job.result
    echo(f"{job_id}: {job.job_state}, {_outcome(job) or 'no result'}")
    if result and result.error_message:
        echo(f"  {result.error_message}")
    if result is None or result.status == "error":
        raise DescriptIacError(f"job {job_id} did not succeed ({_outcome(job) or job.job_state})")


@jobs.command("cancel")
@click.argument("job_id")
@emulator_option
@click.pass_context
def cancel(ctx: click.Context, job_id: str, emulator: bool) -> None:
    """Cancel a queued or running job (DELETE /v1/jobs/{id}, Descript's 2026 API).

    A stopped job cannot be cancelled; against an API without cancellation nothing is sent.
    """
    job = cancel_job(_target(ctx, emulator), job_id)
    echo(f"{job_id}: {job.job_state} ({job.job_type})")


@click.group()
def config() -> None:
    """User configuration (~/.config/descript-iac/config.json, mode 0600)."""


@config.group("set")
def config_set() -> None:
    """Set a configuration value."""


@config_set.command("api-key")
def set_api_key() -> None:
    """Save the API token: a hidden prompt on a terminal, else read from stdin."""
    if sys.stdin.isatty():
        value = click.prompt("Descript API token", hide_input=True)
    else:
        value = sys.stdin.readline()
    path = save_api_key(value)
    echo(f"Saved the API token to {path} (readable by you only).")
