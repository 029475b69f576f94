"""`descript-iac show`: a saved plan exactly as it will apply, or what the state manages."""

from __future__ import annotations

import json
from pathlib import Path

import click

from descript_iac.cli.context import echo, get_globals, use_color
from descript_iac.cli.planning import _settings
from descript_iac.cli.workspace_option import workspace_option
from descript_iac.plan.render import render_text
from descript_iac.plan.report import render_json
from descript_iac.redact import scrub
from descript_iac.terminal_text import one_line
from descript_iac.workspace import load_saved_plan, show_state
from descript_iac.workspace.showing import ProjectView, StateView


def spent_text(media_seconds: float, ai_credits: float, unknown: int) -> str:
    """`12 media seconds, 8 AI credits`, and the jobs whose spend is unknown (a number from the
    API that was not sane: recorded as unknown, never as 0)."""
    text = f"{media_seconds:.0f} media seconds, {ai_credits:.0f} AI credits"
    if unknown:
        text += f", and unknown for {unknown} job(s) (the API's number was not sane)"
    return text


def project_lines(view: ProjectView) -> list[str]:
    """One managed project, as `show` and `state show ADDRESS` print it."""
    lines = [f"{view.address}: {view.name or '(name not recorded)'}"]
    lines.append(f"  project: {view.project_id or '(not created yet)'}  {view.project_url or ''}")
    if view.import_job_id:
        lines.append(f"  import: job {view.import_job_id}, {view.import_status}")
    for media in view.media:
        duration = f"{media.duration_seconds:.1f}s" if media.duration_seconds is not None else "-"
        failed = f" ({one_line(media.error_message)})" if media.error_message else ""
        lines.append(
            f"  media {media.name}: {media.status or 'not imported by descript-iac'}, "
            f"{duration}{failed}  {media.source or ''}".rstrip()
        )
    for name in view.compositions:
        lines.append(f"  composition: {name}")
    for step in view.steps:
        job = step.job_id or "no job recorded"
        retries = f", {step.attempts} attempts" if step.attempts > 1 else ""
        how = {"import": ", marked by import", "rebuild": ", recovered by state rebuild"}.get(
            step.origin, ""
        )
        unknown = ", AI credits unknown" if step.ai_credits_used is None else ""
        lines.append(
            f"  step {step.id}: {step.status or step.job_state} (job {job}{retries}{how}{unknown})"
        )
        if step.prompt:
            lines.append(f"    prompt: {step.prompt}")
        if step.agent_response:
            lines.append(f"    response: {one_line(step.agent_response)}")
    lines.append(f"  used: {spent_text(view.media_seconds, view.ai_credits, view.unknown)}")
    if view.tainted:
        lines.append(f"  tainted: {view.tainted}")
    if view.quarantine:
        lines.append(f"  quarantined: {view.quarantine}")
    lines += [f"  open intent: {i}" for i in view.open_intents]
    lines += [f"  orphaned: {o}" for o in view.orphans]
    lines += [f"  external job: {j}" for j in view.external_jobs]
    # One record per line: a newline inside a value (a prompt, or the server's words in a
    # response or an error) reads `\n` and forges no line.
    return [one_line(line) for line in lines]


def state_lines(view: StateView) -> list[str]:
    lines = [f"State {view.location}: serial {view.serial}, lineage {view.lineage}", ""]
    for project in view.projects:
        lines += [*project_lines(project), ""]
    for address, ids in view.forgotten.items():
        lines.append(f"{address}: forgotten (no longer managed): {', '.join(ids)}")
    count = len(view.projects)
    spent = spent_text(view.media_seconds, view.ai_credits, view.unknown)
    lines.append(f"{count} managed project(s); used {spent} in all.")
    return lines


@click.command()
@click.argument("source", default=".", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="JSON (a plan: its plan-JSON form).")
@click.pass_context
@workspace_option("source")
def show(ctx: click.Context, source: Path, as_json: bool) -> None:
    """Show SOURCE: a saved plan (`plan --out FILE`) exactly as `apply FILE` will run it, or,
    for a workspace directory (default: .), every project its state manages: Descript URL,
    media with durations, compositions, applied steps with their prompts, agent responses and
    job ids, costs, orphaned and forgotten projects, open intents and quarantines. No API
    call is made.
    """
    g = get_globals(ctx)
    if source.is_file() and source.suffix not in (".yaml", ".yml"):
        saved = load_saved_plan(source)
        if as_json:
            click.echo(render_json(saved.plan), nl=False)
            return
        echo(f"Saved plan {source}: workspace {saved.workspace}, state {saved.state}")
        click.echo(render_text(saved.plan, color=use_color(g)), nl=False)
        return
    view = show_state(_settings(g, source, False, ()))
    if as_json:
        echo(json.dumps(scrub(view.model_dump(mode="json")), indent=2, sort_keys=True))
        return
    for line in state_lines(view):
        echo(line)
